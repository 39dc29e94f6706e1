/**
 * `--plugins` in the fidelity harness: berth runs with the given plugin modules loaded, upstream cannot (it has no
 * such plugins and would refuse a configuration naming them). So upstream runs the scenario's configuration with
 * every mention of those plugins removed, and the comparison shows, pod by pod, what the plugins change against
 * upstream's defaults — a loaded plugin the configuration does not enable must change nothing.
 */
import { isAbsolute, resolve } from 'node:path';
import { loadPluginModules } from '../../src/cli/pluginModules.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';

export interface UserPlugins {
  /** What berth gets as --plugins: paths made absolute (berth runs in another directory), package names as given. */
  readonly modules: string[];
  /** The descriptors' names, removed from upstream's configuration. */
  readonly names: ReadonlySet<string>;
}

/** Loads and checks the modules as berth will (a bad module fails here, before any control plane starts). */
export async function loadUserPlugins(specs: readonly string[], cwd = process.cwd()): Promise<UserPlugins> {
  const descriptors = await loadPluginModules(specs, IN_TREE_CATALOG, cwd);
  const modules = specs.map((s) => (s.startsWith('.') || isAbsolute(s) ? resolve(cwd, s) : s));
  return { modules, names: new Set(descriptors.map((d) => d.name)) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withoutNamed(list: unknown, names: ReadonlySet<string>): unknown {
  if (!Array.isArray(list)) return list;
  return list.filter((p) => !(isRecord(p) && typeof p['name'] === 'string' && names.has(p['name'])));
}

/** The configuration upstream runs: `config` with the named plugins gone from every plugin set and pluginConfig. */
export function withoutPlugins(config: Record<string, unknown>, names: ReadonlySet<string>): Record<string, unknown> {
  if (names.size === 0) return config;
  const out = structuredClone(config);
  const profiles = Array.isArray(out['profiles']) ? out['profiles'] : [];
  for (const profile of profiles) {
    if (!isRecord(profile)) continue;
    profile['pluginConfig'] = withoutNamed(profile['pluginConfig'], names);
    const sets = profile['plugins'];
    if (!isRecord(sets)) continue;
    for (const set of Object.values(sets)) {
      if (!isRecord(set)) continue;
      for (const key of ['enabled', 'disabled']) if (key in set) set[key] = withoutNamed(set[key], names);
    }
  }
  return out;
}
