/**
 * Plugin sets of a profile: decode the user's `plugins`, merge them into the v1 defaults the way upstream's
 * mergePlugins/mergePluginSet does (pkg/scheduler/apis/config/v1/default_plugins.go), then expand multiPoint to the
 * individual extension points and resolve score weights the way the framework does when it is built
 * (pkg/scheduler/framework/runtime/framework.go: updatePluginList, expandMultiPointPlugins, getScoreWeights).
 */
import { DEFAULT_MULTI_POINT, EXTENSION_POINTS, type ExtensionPoint } from '../scheduler/plugins/catalog.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import type { ResolvedPlugin } from './types.js';
import type { Decoder, FieldPath } from './decode.js';
import { suggestionHint } from './errors.js';

export const PLUGIN_SET_KEYS = ['multiPoint', ...EXTENSION_POINTS] as const;
export type PluginSetKey = (typeof PLUGIN_SET_KEYS)[number];

/**
 * Pod-group (workload) scheduling points of recent upstream v1 (feature-gated there). berth accepts the keys so such
 * files decode, but has no plugins for them: enabling anything there is an error.
 */
const WORKLOAD_SET_KEYS = ['placementGenerate', 'placementScore', 'placementFeasible', 'podGroupPostFilter'] as const;

/** Plugins upstream removed from the v1 API: naming them is an error there too. */
const REMOVED_IN_V1: Readonly<Record<string, string>> = {
  AzureDiskLimits: 'NodeVolumeLimits',
  CinderLimits: 'NodeVolumeLimits',
  EBSLimits: 'NodeVolumeLimits',
  GCEPDLimits: 'NodeVolumeLimits',
};

/** A plugin entry, remembering the user's field path (undefined for built-in defaults) for messages. */
export interface PluginEntry {
  name: string;
  weight: number | undefined;
  path: FieldPath | undefined;
}

export interface PluginSet {
  enabled: PluginEntry[];
  disabled: PluginEntry[];
}

export type PluginSets = Record<PluginSetKey, PluginSet>;

function emptySets(): PluginSets {
  const sets = {} as PluginSets;
  for (const key of PLUGIN_SET_KEYS) sets[key] = { enabled: [], disabled: [] };
  return sets;
}

export function defaultPluginSets(): PluginSets {
  const sets = emptySets();
  sets.multiPoint.enabled = DEFAULT_MULTI_POINT.map((p) => ({ name: p.name, weight: p.weight, path: undefined }));
  return sets;
}

/** Checks a plugin name: in the catalog, not removed from v1. Reports and returns false otherwise. */
export function checkPluginName(dec: Decoder, name: string, path: FieldPath, plugins: PluginCatalog): boolean {
  const replacement = REMOVED_IN_V1[name];
  if (replacement !== undefined) {
    dec.error(
      path,
      `plugin "${name}" was removed from kubescheduler.config.k8s.io/v1`,
      `remove it; ${replacement} handles these volume limits for CSI drivers`,
    );
    return false;
  }
  if (!plugins.has(name)) {
    dec.error(path, `unknown plugin "${name}"`, suggestionHint(name, plugins.names, 'Known plugins'));
    return false;
  }
  return true;
}

/** Decodes `profiles[i].plugins` strictly. Invalid entries are reported and dropped. */
export function decodeUserPlugins(dec: Decoder, value: unknown, path: FieldPath, plugins: PluginCatalog): PluginSets {
  const sets = emptySets();
  const raw = dec.object(value, path, [...PLUGIN_SET_KEYS, ...WORKLOAD_SET_KEYS], 'plugins');
  if (raw === undefined) return sets;
  for (const key of WORKLOAD_SET_KEYS) {
    const setPath = [...path, key];
    const rawSet = dec.object(raw[key], setPath, ['enabled', 'disabled'], `plugins.${key}`);
    const enabled = dec.array(rawSet?.['enabled'], [...setPath, 'enabled']) ?? [];
    dec.array(rawSet?.['disabled'], [...setPath, 'disabled']);
    if (enabled.length > 0) {
      dec.error(
        [...setPath, 'enabled'],
        `berth does not support the ${key} extension point (pod group scheduling)`,
        `remove plugins.${key}.enabled`,
      );
    }
  }
  for (const key of PLUGIN_SET_KEYS) {
    const setPath = [...path, key];
    const rawSet = dec.object(raw[key], setPath, ['enabled', 'disabled'], `plugins.${key}`);
    if (rawSet === undefined) continue;
    for (const list of ['enabled', 'disabled'] as const) {
      const items = dec.array(rawSet[list], [...setPath, list]) ?? [];
      items.forEach((item, i) => {
        const itemPath = [...setPath, list, i];
        const rawPlugin = dec.object(item, itemPath, ['name', 'weight'], 'a plugin entry');
        if (rawPlugin === undefined) {
          if (item === null || item === undefined) dec.error(itemPath, 'empty plugin entry', 'write "- name: <PluginName>"');
          return;
        }
        const name = dec.string(rawPlugin['name'], [...itemPath, 'name']);
        if (name === undefined || name === '') {
          if (rawPlugin['name'] === undefined || rawPlugin['name'] === null || name === '')
            dec.error([...itemPath, 'name'], 'plugin name is required', 'write "- name: <PluginName>"');
          return;
        }
        const weightPath = [...itemPath, 'weight'];
        const weight = dec.integer(rawPlugin['weight'], weightPath);
        if (weight !== undefined && weight < 0) {
          dec.error(
            weightPath,
            `negative weight ${weight} for plugin "${name}"`,
            'use a positive weight (0 or no weight means the default, 1); to turn a score plugin off, list it under disabled',
          );
        }
        if (list === 'disabled') {
          if (name !== '*' && !checkPluginName(dec, name, [...itemPath, 'name'], plugins)) return;
          sets[key].disabled.push({ name, weight: undefined, path: itemPath });
          return;
        }
        if (name === '*') {
          dec.error([...itemPath, 'name'], '"*" can only be used under disabled', 'list the plugins to enable by name');
          return;
        }
        if (!checkPluginName(dec, name, [...itemPath, 'name'], plugins)) return;
        // As upstream, a weight outside score/multiPoint is accepted and has no effect.
        sets[key].enabled.push({ name, weight: weight !== undefined && weight >= 0 ? weight : undefined, path: itemPath });
      });
    }
  }
  return sets;
}

/** upstream mergePluginSet: disabled names (or "*") drop defaults; a re-enabled default is replaced in place. */
function mergePluginSet(defaults: PluginSet, custom: PluginSet): PluginSet {
  const disabled = [...custom.disabled, ...defaults.disabled];
  const disabledNames = new Set(disabled.map((p) => p.name));
  // The last user entry of a name is the one that replaces a default (a map keyed by name upstream).
  const customIndexByName = new Map<string, number>();
  custom.enabled.forEach((p, i) => customIndexByName.set(p.name, i));
  const replaced = new Set<number>();
  const enabled: PluginEntry[] = [];
  if (!disabledNames.has('*')) {
    for (const def of defaults.enabled) {
      if (disabledNames.has(def.name)) continue;
      const idx = customIndexByName.get(def.name);
      if (idx !== undefined) {
        enabled.push(custom.enabled[idx]!);
        replaced.add(idx);
      } else {
        enabled.push(def);
      }
    }
  }
  custom.enabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p);
  });
  return { enabled, disabled };
}

export function mergePlugins(defaults: PluginSets, custom: PluginSets): PluginSets {
  const merged = emptySets();
  for (const key of PLUGIN_SET_KEYS) merged[key] = mergePluginSet(defaults[key], custom[key]);
  return merged;
}

function entryPath(profilePath: FieldPath, entry: PluginEntry, fallback: PluginSetKey): FieldPath {
  return entry.path ?? [...profilePath, 'plugins', fallback];
}

/** Largest total score upstream allows (math.MaxInt64), and the per-plugin maximum node score. */
const MAX_TOTAL_SCORE = 9223372036854775807n;
const MAX_NODE_SCORE = 100n;

/**
 * Builds the ordered plugin list of every extension point from merged sets, as the framework does, reporting
 * configuration errors the framework would refuse to start with.
 */
export function resolvePlugins(
  dec: Decoder,
  merged: PluginSets,
  profilePath: FieldPath,
  schedulerName: string,
  plugins: PluginCatalog,
): Record<ExtensionPoint, ResolvedPlugin[]> {
  const names = {} as Record<ExtensionPoint, string[]>;
  // A duplicate multiPoint entry is reported once (at the first point it collides), not at every point.
  const reportedMultiPoint = new Set<PluginEntry>();

  for (const point of EXTENSION_POINTS) {
    const set = merged[point];
    // updatePluginList: the point's own enabled list must implement the point and name each plugin once.
    const specific: string[] = [];
    for (const entry of set.enabled) {
      const path = entryPath(profilePath, entry, point);
      if (!plugins.implements(entry.name, point)) {
        const points = plugins.pointsOf(entry.name) ?? [];
        dec.error(
          path,
          `plugin "${entry.name}" does not implement the ${point} extension point`,
          `it implements: ${points.join(', ')}; enable it under one of those, or under multiPoint to get all of them`,
        );
        continue;
      }
      if (specific.includes(entry.name)) {
        dec.error(
          path,
          `plugin "${entry.name}" already registered at ${point}`,
          `enable each plugin once per extension point; to change a default plugin's weight, list it under ${point}.enabled once (optionally also under ${point}.disabled)`,
        );
        continue;
      }
      specific.push(entry.name);
    }

    const disabledNames = new Set(set.disabled.map((p) => p.name));
    if (disabledNames.has('*')) {
      names[point] = specific;
      continue;
    }

    // expandMultiPointPlugins.
    const overrides = new Set<string>();
    const multiOnly: string[] = [];
    for (const entry of merged.multiPoint.enabled) {
      if (!plugins.implements(entry.name, point)) continue;
      if (disabledNames.has(entry.name)) continue;
      if (specific.includes(entry.name)) {
        overrides.add(entry.name);
        continue;
      }
      if (multiOnly.includes(entry.name)) {
        if (reportedMultiPoint.has(entry)) continue;
        reportedMultiPoint.add(entry);
        dec.error(
          entryPath(profilePath, entry, 'multiPoint'),
          `plugin "${entry.name}" already registered at ${point}`,
          'enable each plugin once under multiPoint',
        );
        continue;
      }
      multiOnly.push(entry.name);
    }
    names[point] = [
      ...specific.filter((n) => overrides.has(n)),
      ...multiOnly,
      ...specific.filter((n) => !overrides.has(n)),
    ];
  }

  // getScoreWeights: the score point's own entries first, then multiPoint; the first mention of a plugin wins;
  // weight 0 (or none) means 1.
  const weights = new Map<string, number>();
  let total = 0n;
  for (const entry of [...merged.score.enabled, ...merged.multiPoint.enabled]) {
    if (!plugins.implements(entry.name, 'score') || weights.has(entry.name)) continue;
    const weight = entry.weight === undefined || entry.weight === 0 ? 1 : entry.weight;
    weights.set(entry.name, weight);
    const add = BigInt(weight) * MAX_NODE_SCORE;
    if (add > MAX_TOTAL_SCORE - total) {
      dec.error(entryPath(profilePath, entry, 'score'), 'total score of Score plugins could overflow', 'lower the score weights');
    }
    total += add;
  }

  const out = {} as Record<ExtensionPoint, ResolvedPlugin[]>;
  for (const point of EXTENSION_POINTS) {
    out[point] = names[point].map((name) => ({ name, weight: point === 'score' ? (weights.get(name) ?? 1) : 1 }));
  }

  if (out.queueSort.length !== 1) {
    dec.error(
      [...profilePath, 'plugins', 'queueSort'],
      `only one queue sort plugin required for profile with scheduler name "${schedulerName}", but got ${out.queueSort.length}`,
      'keep exactly one queueSort plugin (PrioritySort by default)',
    );
  }
  if (out.bind.length === 0) {
    dec.error(
      [...profilePath, 'plugins', 'bind'],
      `at least one bind plugin is needed for profile with scheduler name "${schedulerName}"`,
      'do not disable DefaultBinder (or enable it under plugins.bind)',
    );
  }
  return out;
}

/** Names enabled anywhere (any point or multiPoint), sorted, as upstream's pluginsNames. */
export function enabledPluginNames(merged: PluginSets): string[] {
  const names = new Set<string>();
  for (const key of PLUGIN_SET_KEYS) for (const p of merged[key].enabled) names.add(p.name);
  return [...names].sort();
}

/** The queueSort set as the user wrote it, for upstream's "same queueSort for all profiles" check. */
export function queueSortSignature(custom: PluginSets): string {
  const qs = custom.queueSort;
  return JSON.stringify({
    enabled: qs.enabled.map((p) => [p.name, p.weight ?? null]),
    disabled: qs.disabled.map((p) => p.name),
  });
}
