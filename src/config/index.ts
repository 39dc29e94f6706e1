/** Public API of berth's scheduler configuration: load, default and validate a KubeSchedulerConfiguration (v1). */
export type * from './types.js';
export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export {
  loadSchedulerConfig,
  unreadableConfigError,
  readConfigText,
  parseSchedulerConfig,
  defaultSchedulerConfig,
  CONFIG_KIND,
  DEFAULT_SCHEDULER_NAME,
  EMBEDDED_DEFAULT_SOURCE,
} from './load.js';
export { CONFIG_API_VERSION } from './args.js';
export { parseGoDuration, formatGoDuration } from '../kube/duration.js';
export { decideReload, type ReloadDecision } from './reload.js';
