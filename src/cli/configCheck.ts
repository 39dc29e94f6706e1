/**
 * `berth config check <file>`: load and validate a KubeSchedulerConfiguration, then print the effective (defaulted,
 * expanded) configuration as YAML. Exit code 0 when valid, 2 when the configuration has errors.
 */
import { stringify } from 'yaml';
import { ConfigError, loadSchedulerConfig } from '../config/index.js';

export function runConfigCheck(path: string, out: (s: string) => void, err: (s: string) => void = (s) => process.stderr.write(s)): number {
  try {
    const config = loadSchedulerConfig(path);
    out(`# Effective configuration of ${config.source} (defaults applied, multiPoint expanded)\n`);
    out(stringify(config.effective, { lineWidth: 0 }));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`${e.format()}\n`);
      return 2;
    }
    throw e;
  }
}
