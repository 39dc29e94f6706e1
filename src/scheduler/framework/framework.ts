/**
 * Framework: one profile's plugins instantiated and ordered per extension point, with score weights.
 * Built from a resolved ProfileConfig and a registry of plugin factories; runs the extension points.
 */
import type { ProfileConfig } from '../../config/types.js';
import type { ClusterState } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { ExtensionPoint } from '../plugins/catalog.js';
import type { PluginTimer } from './pluginTimer.js';
import {
  Code,
  CycleState,
  type Diagnosis,
  type FilterPlugin,
  type PreFilterOutcome,
  type FrameworkHandle,
  isFilter,
  isPostFilter,
  isPreFilter,
  isPreScore,
  isScore,
  type Plugin,
  type PluginFactory,
  type PostFilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  Status,
} from './types.js';

export class FrameworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameworkError';
  }
}

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

export interface PreFilterRunResult {
  /** null when every plugin succeeded or skipped. */
  status: Status | null;
  /** The plugin that rejected (or errored), when status is set. */
  plugin: string;
  /** Intersection of the node-name restrictions PreFilter plugins returned; null = all nodes. */
  nodeNames: Set<string> | null;
  /** Plugins that returned a node-name restriction (for upstream's "didn't satisfy plugin(s)" message). */
  restrictingPlugins: string[];
  skipped: Set<string>;
}

/** The plugin lists a cycle runs: the plain ones, or timing wrappers of the same plugins for sampled cycles. */
export interface PluginLists {
  readonly preFilter: readonly PreFilterPlugin[];
  readonly filter: readonly FilterPlugin[];
  readonly postFilter: readonly PostFilterPlugin[];
  readonly preScore: readonly PreScorePlugin[];
  readonly score: readonly WeightedScorePlugin[];
}

export class Framework implements PluginLists {
  readonly profile: ProfileConfig;
  readonly handle: FrameworkHandle;
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: WeightedScorePlugin[] = [];
  /** Enabled plugin names that berth accepts but that have no effect in its environment (documented). */
  readonly inert: string[] = [];

  constructor(profile: ProfileConfig, cluster: ClusterState, registry: ReadonlyMap<string, PluginFactory>) {
    this.profile = profile;
    this.handle = { cluster, profile, checkFit: (pod, node) => this.checkFit(pod, node) };
    const instances = new Map<string, Plugin>();
    const instance = (name: string): Plugin | undefined => {
      const existing = instances.get(name);
      if (existing) return existing;
      const factory = registry.get(name);
      if (!factory) return undefined;
      const created = factory(this.handle);
      instances.set(name, created);
      return created;
    };
    const notImplemented = (name: string, point: string): never => {
      throw new FrameworkError(`plugin ${name} is enabled at ${point} but berth has no ${point} implementation for it`);
    };
    // Each point's plugins, in the profile's order; an unknown name is inert, a known plugin lacking the point is an error.
    const collect = <T extends Plugin>(point: ExtensionPoint, is: (p: Plugin) => p is T, add: (p: T, weight: number) => void): void => {
      for (const { name, weight } of profile.plugins[point]) {
        const p = instance(name);
        if (!p) this.inert.push(name);
        else if (is(p)) add(p, weight);
        else notImplemented(name, point);
      }
    };
    collect('preFilter', isPreFilter, (p) => this.preFilter.push(p));
    collect('filter', isFilter, (p) => this.filter.push(p));
    collect('postFilter', isPostFilter, (p) => this.postFilter.push(p));
    collect('preScore', isPreScore, (p) => this.preScore.push(p));
    collect('score', isScore, (p, weight) => this.score.push({ plugin: p, weight }));
  }

  private timer: PluginTimer | null = null;
  private timedLists: PluginLists | null = null;

  /**
   * The same plugins wrapped to report their execution time to `timer` (built once, reused). The wrappers keep
   * reporting to the given timer until the next call; callers use them only for sampled cycles.
   */
  timed(timer: PluginTimer): PluginLists {
    this.timer = timer;
    if (!this.timedLists) this.timedLists = this.buildTimedLists();
    return this.timedLists;
  }

  private buildTimedLists(): PluginLists {
    const clock = (): number => (this.timer ? this.timer.now() : 0);
    const record = (plugin: string, point: string, started: number, status: Status | null): void => {
      this.timer?.add(plugin, point, clock() - started, status);
    };
    const asStatus = (outcome: PreFilterOutcome): Status | null => (outcome instanceof Status ? outcome : null);
    return {
      preFilter: this.preFilter.map((p) => ({
        name: p.name,
        preFilter: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => {
          const t0 = clock();
          const out = p.preFilter(state, pod, nodes);
          record(p.name, 'PreFilter', t0, asStatus(out));
          return out;
        },
      })),
      filter: this.filter.map((p) => ({
        name: p.name,
        filter: (state: CycleState, pod: PodInfo, node: NodeInfo) => {
          const t0 = clock();
          const out = p.filter(state, pod, node);
          record(p.name, 'Filter', t0, out);
          return out;
        },
      })),
      postFilter: this.postFilter.map((p) => ({
        name: p.name,
        postFilter: (state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number) => {
          const t0 = clock();
          const out = p.postFilter(state, pod, diagnosis, numAllNodes);
          record(p.name, 'PostFilter', t0, out.status);
          return out;
        },
      })),
      preScore: this.preScore.map((p) => ({
        name: p.name,
        preScore: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => {
          const t0 = clock();
          const out = p.preScore(state, pod, nodes);
          record(p.name, 'PreScore', t0, out);
          return out;
        },
      })),
      score: this.score.map(({ plugin: p, weight }) => {
        const normalize = p.normalizeScore?.bind(p);
        const wrapped: ScorePlugin = {
          name: p.name,
          score: (state, pod, node) => {
            const t0 = clock();
            const out = p.score(state, pod, node);
            record(p.name, 'Score', t0, null);
            return out;
          },
          ...(normalize
            ? {
                normalizeScore: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array) => {
                  const t0 = clock();
                  const out = normalize(state, pod, nodes, scores);
                  record(p.name, 'NormalizeScore', t0, out);
                  return out;
                },
              }
            : {}),
        };
        return { plugin: wrapped, weight };
      }),
    };
  }

  /** PreFilter on a fresh state, then every Filter, for one node; null when the pod fits it. */
  checkFit(pod: PodInfo, node: NodeInfo): { plugin: string; status: Status } | null {
    const state = new CycleState();
    const pre = this.runPreFilter(state, pod, this.handle.cluster.nodes());
    if (pre.status) return { plugin: pre.plugin, status: pre.status };
    if (pre.nodeNames && !pre.nodeNames.has(node.name)) {
      return { plugin: pre.restrictingPlugins.join(','), status: Status.unresolvable('node(s) didn\'t satisfy plugin(s)') };
    }
    for (const plugin of this.filter) {
      if (pre.skipped.has(plugin.name)) continue;
      const status = plugin.filter(state, pod, node);
      if (status !== null && status.code !== Code.Success) return { plugin: plugin.name, status };
    }
    return null;
  }

  get schedulerName(): string {
    return this.profile.schedulerName;
  }

  runPreFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], lists: PluginLists = this): PreFilterRunResult {
    const skipped = new Set<string>();
    let nodeNames: Set<string> | null = null;
    const restrictingPlugins: string[] = [];
    for (const plugin of lists.preFilter) {
      const outcome = plugin.preFilter(state, pod, nodes);
      if (outcome === null) continue;
      if (outcome instanceof Status) {
        if (outcome.code === Code.Skip) {
          skipped.add(plugin.name);
          continue;
        }
        if (outcome.code === Code.Success) continue;
        return { status: outcome, plugin: plugin.name, nodeNames, restrictingPlugins, skipped };
      }
      restrictingPlugins.push(plugin.name);
      const restriction: ReadonlySet<string> = outcome.nodeNames;
      const previous: Set<string> | null = nodeNames;
      const next = new Set<string>();
      for (const name of previous ?? restriction) if (restriction.has(name)) next.add(name);
      nodeNames = next;
      if (nodeNames.size === 0) {
        const msg =
          restrictingPlugins.length === 1
            ? `node(s) didn't satisfy plugin ${restrictingPlugins[0]}`
            : `node(s) didn't satisfy plugin(s) [${restrictingPlugins.join(' ')}] simultaneously`;
        return { status: Status.unresolvable(msg), plugin: plugin.name, nodeNames, restrictingPlugins, skipped };
      }
    }
    return { status: null, plugin: '', nodeNames, restrictingPlugins, skipped };
  }
}
