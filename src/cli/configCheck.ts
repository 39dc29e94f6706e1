/**
 * `berth config check <file>`: load and validate a KubeSchedulerConfiguration, then print the effective (defaulted,
 * expanded) configuration as YAML. Exit code 0 when valid, 2 when the configuration has errors.
 */
import { stringify } from 'yaml';
import { ConfigError, loadSchedulerConfig } from '../config/index.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';

/** `plugins`: the in-tree plugins, plus those loaded with --plugins (named in the configuration like any other). */
export function runConfigCheck(
  path: string,
  out: (s: string) => void,
  err: (s: string) => void = (s) => process.stderr.write(s),
  plugins: PluginCatalog = IN_TREE_CATALOG,
): number {
  try {
    const config = loadSchedulerConfig(path, plugins);
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
