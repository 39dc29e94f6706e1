/**
 * Whether a changed configuration file may replace the running configuration (hot reload). Pure: the caller reads
 * the file and applies the result. Only what the scheduler rebuilds between cycles may change live: the profiles
 * (plugins, weights, args) and percentageOfNodesToScore. Everything else is read once at start (the API client,
 * the Lease, the queue's backoff, the server's addresses), so a change there is refused with a request to restart.
 */
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import { ConfigError } from './errors.js';
import { parseSchedulerConfig } from './load.js';
import type { SchedulerConfig } from './types.js';

/** Top-level fields of the effective configuration that a reload may change. */
const LIVE_FIELDS: ReadonlySet<string> = new Set(['profiles', 'percentageOfNodesToScore']);

export type ReloadDecision =
  /** The new configuration takes over; profile names added, removed and changed (in the order of their config). */
  | { kind: 'apply'; config: SchedulerConfig; added: string[]; removed: string[]; changed: string[] }
  /** Valid, and in effect the same as the running one (comments, layout, defaults spelt out). */
  | { kind: 'unchanged'; config: SchedulerConfig }
  /** Not a valid configuration: `message` is what `berth config check` prints. */
  | { kind: 'invalid'; message: string }
  /** Valid, but changes fields read only at start: `fields` are their paths. */
  | { kind: 'restart-needed'; fields: string[]; message: string };

/** Decides what to do with `text`, the new content of the configuration file `source`. */
export function decideReload(running: SchedulerConfig, text: string, source: string, plugins: PluginCatalog): ReloadDecision {
  let next: SchedulerConfig;
  try {
    next = parseSchedulerConfig(text, source, plugins);
  } catch (err) {
    if (err instanceof ConfigError) return { kind: 'invalid', message: err.format() };
    throw err;
  }
  const fields = startOnlyChanges(running.effective, next.effective);
  if (fields.length > 0) {
    return {
      kind: 'restart-needed',
      fields,
      message:
        `${source}: ${fields.join(', ')} cannot change while berth runs; restart berth to apply ` +
        `${fields.length === 1 ? 'it' : 'them'} (only profiles and percentageOfNodesToScore reload live)`,
    };
  }
  const before = profilesByName(running);
  const after = profilesByName(next);
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...after].filter(([name, rendered]) => before.has(name) && before.get(name) !== rendered).map(([name]) => name);
  const sameTop = running.percentageOfNodesToScore === next.percentageOfNodesToScore;
  if (added.length === 0 && removed.length === 0 && changed.length === 0 && sameTop) {
    return { kind: 'unchanged', config: next };
  }
  return { kind: 'apply', config: next, added, removed, changed };
}

/** Each profile's effective form, serialized, by schedulerName. */
function profilesByName(config: SchedulerConfig): Map<string, string> {
  const rendered = (config.effective['profiles'] ?? []) as unknown[];
  return new Map(config.profiles.map((p, i) => [p.schedulerName, JSON.stringify(rendered[i])]));
}

/** Paths of the start-only fields that differ, e.g. `leaderElection.leaseDuration`; nested objects are descended. */
function startOnlyChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((k) => !LIVE_FIELDS.has(k)));
  return [...keys].flatMap((key) => differingPaths(before[key], after[key], key));
}

function differingPaths(a: unknown, b: unknown, path: string): string[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differingPaths(a[k], b[k], `${path}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
