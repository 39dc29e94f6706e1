/**
 * Framework: one profile's plugins instantiated and ordered per extension point, with score weights, and the code
 * that runs each point as upstream's runtime/framework.go does: which statuses stop a chain, what is wrapped as an
 * error naming the plugin, Unreserve in reverse order, Permit's waits, PreBindPreFlight's skips, Bind's Skip chain.
 * A plugin that throws is an Error status naming it, never a crash.
 */
import type { ProfileConfig } from '../../config/types.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { Clock } from '../clock.js';
import type { ExtensionPoint } from '../plugins/catalog.js';
import type { ClusterPort } from '../ports.js';
import type { BackgroundTask } from './background.js';
import type { PluginCatalog } from './pluginCatalog.js';
import { PluginTimer, type PluginTimeSlot } from './pluginTimer.js';
import {
  type BindPlugin,
  Code,
  CODE_NAMES,
  CycleState,
  type Diagnosis,
  type FilterPlugin,
  type FrameworkHandle,
  isBind,
  isFilter,
  isPermit,
  isPostBind,
  isPostFilter,
  isPreBind,
  isPreEnqueue,
  isPreFilter,
  isPreScore,
  isReserve,
  isScore,
  type NodeRejection,
  type PermitPlugin,
  type Plugin,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PreBindPlugin,
  type PreFilterOutcome,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from './types.js';
import { MAX_PERMIT_WAIT_MS, WaitingPods } from './waitingPods.js';

export class FrameworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameworkError';
  }
}

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
  /**
   * On sampled cycles: where the Score calls' time goes. The caller times its whole loop over the nodes once (the
   * timer observes the sum anyway), rather than reading the clock around each call.
   */
  scoreTime?: { readonly slot: PluginTimeSlot; readonly now: () => number };
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
}

/** The plugin lists a cycle runs: the plain ones, or timing wrappers of the same plugins for sampled cycles. */
export interface PluginLists {
  readonly preFilter: readonly PreFilterPlugin[];
  readonly filter: readonly FilterPlugin[];
  readonly postFilter: readonly PostFilterPlugin[];
  readonly preScore: readonly PreScorePlugin[];
  readonly score: readonly WeightedScorePlugin[];
}

/** What a framework needs besides its profile: the cache view, the plugins it may build, time and the object writer. */
export interface FrameworkDeps {
  cluster: ClusterView;
  plugins: PluginCatalog;
  clock: Clock;
  api: ClusterPort;
  /**
   * Per-plugin execution times of the points after Score (Reserve to PostBind), reported for the sampled cycles
   * (state.recordPluginMetrics) as scheduler_plugin_execution_duration_seconds. The scheduling cycle's points are
   * timed by PodScheduler through `timed`.
   */
  pluginTiming?: PluginTiming;
}

export interface PluginTiming {
  /** A monotonic clock in milliseconds. */
  now(): number;
  observe(plugin: string, extensionPoint: string, status: string, seconds: number): void;
}

/** Permit's combined answer: allowed (status null), Wait with each waiting plugin's timeout, or a rejection/error. */
export interface PermitOutcome {
  status: Status | null;
  waits?: Map<string, number>;
}

/** Runs `call`; a throw becomes an Error status naming the plugin and the point (upstream: a plugin's error). */
function guarded<T>(point: string, plugin: string, call: () => T, onThrow: (status: Status) => T): T {
  try {
    return call();
  } catch (err) {
    return onThrow(Status.error(`running ${point} plugin "${plugin}": ${err instanceof Error ? err.message : String(err)}`).withPlugin(plugin));
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Framework implements PluginLists {
  readonly profile: ProfileConfig;
  readonly handle: FrameworkHandle;
  readonly waitingPods: WaitingPods;
  /** PreEnqueue plugins berth runs (names it carries out elsewhere, such as SchedulingGates, are left out). */
  readonly preEnqueue: PreEnqueuePlugin[] = [];
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: WeightedScorePlugin[] = [];
  readonly reserve: ReservePlugin[] = [];
  readonly permit: PermitPlugin[] = [];
  readonly preBind: PreBindPlugin[] = [];
  readonly bind: BindPlugin[] = [];
  readonly postBind: PostBindPlugin[] = [];
  /** Enabled plugin names that berth accepts but that have no effect in its environment (documented). */
  readonly inert: string[] = [];
  /** Work the plugins registered to be run beside the cycles, by the adapter (background.ts). */
  readonly backgroundTasks: BackgroundTask[] = [];
  /** PreFilter plugins with AddPod/RemovePod extensions (the what-if passes run only these). */
  private readonly preFilterExtensions: PreFilterPlugin[] = [];

  private readonly pluginTiming: PluginTiming | undefined;

  constructor(profile: ProfileConfig, deps: FrameworkDeps) {
    this.profile = profile;
    this.pluginTiming = deps.pluginTiming;
    this.waitingPods = new WaitingPods(deps.clock);
    this.handle = this.makeHandle(deps);
    // The config loader gives every plugin that takes args its args; a hand-built profile may leave some out.
    const argsOf = (name: string): unknown =>
      profile.pluginArgs.has(name) ? profile.pluginArgs.get(name) : deps.plugins.argsSpecOf(name)?.defaults();
    const instances = new Map<string, Plugin>();
    const instance = (name: string): Plugin | undefined => {
      const existing = instances.get(name);
      if (existing) return existing;
      const created = deps.plugins.create(name, this.handle, argsOf(name));
      if (created) instances.set(name, created);
      return created;
    };
    // Each point's plugins, in the profile's order. A name the catalog cannot build (unknown, or carried out
    // elsewhere) is inert; a built plugin lacking the point is an error.
    const collect = <T extends Plugin>(point: ExtensionPoint, is: (p: Plugin) => p is T, add: (p: T, weight: number) => void): void => {
      for (const { name, weight } of profile.plugins[point]) {
        const p = instance(name);
        if (!p) this.inert.push(name);
        else if (is(p)) add(p, weight);
        else throw new FrameworkError(`plugin ${name} is enabled at ${point} but berth has no ${point} implementation for it`);
      }
    };
    // PreEnqueue is lenient: the queue carries out SchedulingGates itself, and DefaultPreemption's PreEnqueue (async
    // preemption) has nothing to hold back in berth.
    for (const { name } of profile.plugins.preEnqueue ?? []) {
      const p = instance(name);
      if (p && isPreEnqueue(p)) this.preEnqueue.push(p);
    }
    collect('preFilter', isPreFilter, (p) => this.preFilter.push(p));
    collect('filter', isFilter, (p) => this.filter.push(p));
    collect('postFilter', isPostFilter, (p) => this.postFilter.push(p));
    collect('preScore', isPreScore, (p) => this.preScore.push(p));
    collect('score', isScore, (p, weight) => this.score.push({ plugin: p, weight }));
    collect('reserve', isReserve, (p) => this.reserve.push(p));
    collect('permit', isPermit, (p) => this.permit.push(p));
    collect('preBind', isPreBind, (p) => this.preBind.push(p));
    collect('bind', isBind, (p) => this.bind.push(p));
    collect('postBind', isPostBind, (p) => this.postBind.push(p));
    for (const p of this.preFilter) if (p.addPod || p.removePod) this.preFilterExtensions.push(p);
  }

  private makeHandle(deps: FrameworkDeps): FrameworkHandle {
    const waiting = this.waitingPods;
    return {
      cluster: deps.cluster,
      profile: this.profile,
      clock: deps.clock,
      api: deps.api,
      runInBackground: (task) => this.addBackgroundTask(task),
      getWaitingPod: (uid) => waiting.get(uid),
      iterateWaitingPods: (visit) => waiting.iterate(visit),
      rejectWaitingPod: (uid, plugin, message) => waiting.get(uid)?.reject(plugin, message) ?? false,
      runFilterPluginsWithNominatedPods: (state, pod, node) => this.runFilterPluginsWithNominatedPods(state, pod, node),
      runPreFilterExtensionAddPod: (state, pod, other, node) => this.runPreFilterExtension('addPod', state, pod, other, node),
      runPreFilterExtensionRemovePod: (state, pod, other, node) => this.runPreFilterExtension('removePod', state, pod, other, node),
    };
  }

  private addBackgroundTask(task: BackgroundTask): void {
    if (this.backgroundTasks.some((t) => t.plugin === task.plugin)) {
      throw new FrameworkError(`plugin ${task.plugin} registered a second background task in profile ${this.profile.schedulerName}; one per plugin`);
    }
    this.backgroundTasks.push(task);
  }

  /** Upstream RunPreEnqueuePlugins: the name of the first plugin that holds the pod back, or null. */
  runPreEnqueue(pod: PodInfo): string | null {
    for (const p of this.preEnqueue) {
      let status: Status | null;
      try {
        status = p.preEnqueue(pod);
      } catch {
        // A plugin that throws holds nothing back: the scheduling cycle will report the problem.
        status = null;
      }
      if (status !== null && status.code !== Code.Success) return p.name;
    }
    return null;
  }

  get schedulerName(): string {
    return this.profile.schedulerName;
  }

  private timedPlugins: { lists: PluginLists; timer: PluginTimer } | null = null;

  /**
   * The same plugins wrapped to add their execution time to one PluginTimer (both built once, on the first sampled
   * cycle, with that cycle's clock). Callers use the wrappers only for sampled cycles and flush the timer after each.
   */
  timed(now: () => number): { lists: PluginLists; timer: PluginTimer } {
    if (!this.timedPlugins) {
      const timer = new PluginTimer(now);
      this.timedPlugins = { lists: this.buildTimedLists(timer), timer };
    }
    return this.timedPlugins;
  }

  private buildTimedLists(timer: PluginTimer): PluginLists {
    const clock = timer.now;
    const asStatus = (outcome: PreFilterOutcome): Status | null => (outcome instanceof Status ? outcome : null);
    return {
      preFilter: this.preFilter.map((p) => {
        const slot = timer.slot(p.name, 'PreFilter');
        return {
          name: p.name,
          preFilter: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => {
            const t0 = clock();
            const out = p.preFilter(state, pod, nodes);
            PluginTimer.add(slot, clock() - t0, asStatus(out));
            return out;
          },
        };
      }),
      filter: this.filter.map((p) => {
        const slot = timer.slot(p.name, 'Filter');
        return {
          name: p.name,
          filter: (state: CycleState, pod: PodInfo, node: NodeInfo) => {
            const t0 = clock();
            const out = p.filter(state, pod, node);
            PluginTimer.add(slot, clock() - t0, out);
            return out;
          },
        };
      }),
      postFilter: this.postFilter.map((p) => {
        const slot = timer.slot(p.name, 'PostFilter');
        return {
          name: p.name,
          postFilter: (state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number) => {
            const t0 = clock();
            const out = p.postFilter(state, pod, diagnosis, numAllNodes);
            PluginTimer.add(slot, clock() - t0, out.status);
            return out;
          },
        };
      }),
      preScore: this.preScore.map((p) => {
        const slot = timer.slot(p.name, 'PreScore');
        return {
          name: p.name,
          preScore: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => {
            const t0 = clock();
            const out = p.preScore(state, pod, nodes);
            PluginTimer.add(slot, clock() - t0, out);
            return out;
          },
        };
      }),
      score: this.score.map(({ plugin: p, weight }) => ({
        plugin: this.timedNormalizeScore(timer, p),
        weight,
        scoreTime: { slot: timer.slot(p.name, 'Score'), now: timer.now },
      })),
    };
  }

  /** The plugin with its NormalizeScore timed (its Score calls are timed by the caller's loop: scoreTime). */
  private timedNormalizeScore(timer: PluginTimer, p: ScorePlugin): ScorePlugin {
    const clock = timer.now;
    const normalize = p.normalizeScore?.bind(p);
    const normalizeSlot = normalize ? timer.slot(p.name, 'NormalizeScore') : null;
    if (!normalize || !normalizeSlot) return p;
    return {
      name: p.name,
      score: p.score.bind(p),
      normalizeScore: (state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array) => {
        const t0 = clock();
        const out = normalize(state, pod, nodes, scores);
        PluginTimer.add(normalizeSlot, clock() - t0, out);
        return out;
      },
    };
  }

  // ---------------------------------------------------------------- scheduling cycle: PreFilter and Filter

  /**
   * Runs PreFilter plugins in order; the first rejection or error ends the run. Plugins returning Skip are recorded
   * in state.skipFilterPlugins, so Filter leaves them out.
   */
  runPreFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], lists: PluginLists = this): PreFilterRunResult {
    let skipped: Set<string> | null = null;
    let nodeNames: Set<string> | null = null;
    const restrictingPlugins: string[] = [];
    const done = (status: Status | null, plugin: string): PreFilterRunResult => {
      if (skipped) state.skipFilterPlugins = skipped;
      return { status, plugin, nodeNames, restrictingPlugins };
    };
    for (const plugin of lists.preFilter) {
      const outcome = plugin.preFilter(state, pod, nodes);
      if (outcome === null) continue;
      if (outcome instanceof Status) {
        if (outcome.code === Code.Skip) {
          (skipped ??= new Set()).add(plugin.name);
          continue;
        }
        if (outcome.code === Code.Success) continue;
        return done(outcome, plugin.name);
      }
      restrictingPlugins.push(plugin.name);
      const restriction: ReadonlySet<string> = outcome.nodeNames;
      const next = new Set<string>();
      for (const name of nodeNames ?? restriction) if (restriction.has(name)) next.add(name);
      nodeNames = next;
      if (nodeNames.size === 0) {
        const msg =
          restrictingPlugins.length === 1
            ? `node(s) didn't satisfy plugin ${restrictingPlugins[0]}`
            : `node(s) didn't satisfy plugin(s) [${restrictingPlugins.join(' ')}] simultaneously`;
        return done(Status.unresolvable(msg), plugin.name);
      }
    }
    return done(null, '');
  }

  /** The Filter plugins this cycle runs: those PreFilter did not skip. */
  activeFilters(state: CycleState, lists: PluginLists = this): readonly FilterPlugin[] {
    const skipped = state.skipFilterPlugins;
    return skipped.size === 0 ? lists.filter : lists.filter.filter((f) => !skipped.has(f.name));
  }

  /** Runs the filters in order; the first non-success status (a rejection or an error) ends the run. */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo, filters: readonly FilterPlugin[]): NodeRejection | null {
    for (let f = 0; f < filters.length; f++) {
      const plugin = filters[f]!;
      const status = plugin.filter(state, pod, node);
      if (status !== null && status.code !== Code.Success) return { plugin: plugin.name, status };
    }
    return null;
  }

  /**
   * Upstream RunFilterPluginsWithNominatedPods: with the node's nominated pods of equal or higher priority added
   * (to clones of the node and of the cycle state, through the PreFilter AddPod extensions), then, if that passed,
   * without them, so the pod neither takes room freed for them nor relies on them.
   */
  runFilterPluginsWithNominatedPods(
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    filters: readonly FilterPlugin[] = this.activeFilters(state),
  ): NodeRejection | null {
    const nominated = this.handle.cluster.nominator.size > 0 ? this.handle.cluster.nominator.nominatedPods(node.name) : undefined;
    if (nominated) {
      let withNominated: { state: CycleState; node: NodeInfo } | null = null;
      for (const other of nominated.values()) {
        if (other.uid === pod.uid || other.priority < pod.priority) continue;
        withNominated ??= { state: state.clone(), node: node.clone() };
        const placed = other.assignedTo(node.name);
        withNominated.node.addPod(placed);
        const status = this.runPreFilterExtension('addPod', withNominated.state, pod, placed, withNominated.node);
        if (status) return { plugin: status.plugin, status };
      }
      if (withNominated) {
        const first = this.runFilterPlugins(withNominated.state, pod, withNominated.node, filters);
        if (first) return first;
      }
    }
    return this.runFilterPlugins(state, pod, node, filters);
  }

  /** Calls every PreFilter extension (not skipped) for `other` on `node`; the first error status ends the run. */
  runPreFilterExtension(which: 'addPod' | 'removePod', state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null {
    for (const plugin of this.preFilterExtensions) {
      if (state.skipFilterPlugins.has(plugin.name)) continue;
      const extension = plugin[which];
      if (!extension) continue;
      const status = guarded('PreFilterExtension', plugin.name, () => extension.call(plugin, state, pod, other, node), (s) => s);
      if (status !== null && status.code !== Code.Success) {
        const point = which === 'addPod' ? 'AddPod' : 'RemovePod';
        return Status.error(`running ${point} on PreFilter plugin "${plugin.name}": ${status.message}`).withPlugin(plugin.name);
      }
    }
    return null;
  }

  /** Runs one plugin call, timing it when this cycle is sampled (upstream records these points per plugin too). */
  private timedCall<T>(state: CycleState, plugin: string, point: string, call: () => T, statusOf: (value: T) => Status | null): T {
    const timing = this.pluginTiming;
    if (!timing || !state.recordPluginMetrics) return call();
    const t0 = timing.now();
    const value = call();
    const status = statusOf(value);
    timing.observe(plugin, point, CODE_NAMES[status === null ? Code.Success : status.code], (timing.now() - t0) / 1000);
    return value;
  }

  private async timedAsync(state: CycleState, plugin: string, point: string, call: () => Promise<Status | null>): Promise<Status | null> {
    const timing = this.pluginTiming;
    if (!timing || !state.recordPluginMetrics) return call();
    const t0 = timing.now();
    let status: Status | null = Status.error('threw');
    try {
      status = await call();
      return status;
    } finally {
      timing.observe(plugin, point, CODE_NAMES[status === null ? Code.Success : status.code], (timing.now() - t0) / 1000);
    }
  }

  // ---------------------------------------------------------------- end of the scheduling cycle: Reserve, Permit

  /** Reserve in order; the first failure is returned (rejections as they are, errors wrapped naming the plugin). */
  runReservePluginsReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    for (const plugin of this.reserve) {
      const status = this.timedCall(state, plugin.name, 'Reserve', () => guarded('Reserve', plugin.name, () => plugin.reserve(state, pod, nodeName), (s) => s), (s) => s);
      if (status === null || status.code === Code.Success) continue;
      if (status.isRejected) return status.withPlugin(plugin.name);
      if (status.plugin === plugin.name) return status;
      return Status.error(`running Reserve plugin "${plugin.name}": ${status.message}`).withPlugin(plugin.name);
    }
    return null;
  }

  /**
   * Unreserve in reverse order, every plugin (upstream calls all of them, whichever Reserve failed). Returns the
   * failures of plugins that threw (Unreserve must not fail; the caller logs them).
   */
  runReservePluginsUnreserve(state: CycleState, pod: PodInfo, nodeName: string): string[] {
    const failures: string[] = [];
    for (let i = this.reserve.length - 1; i >= 0; i--) {
      const plugin = this.reserve[i]!;
      try {
        this.timedCall(state, plugin.name, 'Unreserve', () => plugin.unreserve(state, pod, nodeName), () => null);
      } catch (err) {
        failures.push(`running Unreserve plugin "${plugin.name}": ${errorMessage(err)}`);
      }
    }
    return failures;
  }

  /** Permit in order: a rejection or error ends the run; Wait answers are collected with their (capped) timeouts. */
  runPermitPlugins(state: CycleState, pod: PodInfo, nodeName: string): PermitOutcome {
    let waits: Map<string, number> | undefined;
    for (const plugin of this.permit) {
      const result = this.timedCall(
        state,
        plugin.name,
        'Permit',
        () => guarded('Permit', plugin.name, () => plugin.permit(state, pod, nodeName), (status) => ({ status })),
        (r) => r.status,
      );
      const status = result.status;
      if (status === null || status.code === Code.Success) continue;
      if (status.isRejected) return { status: status.withPlugin(plugin.name) };
      if (status.code === Code.Wait) {
        const timeout = Math.min(Math.max(0, result.timeoutMs ?? 0), MAX_PERMIT_WAIT_MS);
        (waits ??= new Map()).set(plugin.name, timeout);
        continue;
      }
      if (status.plugin === plugin.name) return { status };
      return { status: Status.error(`running Permit plugin "${plugin.name}": ${status.message}`).withPlugin(plugin.name) };
    }
    if (waits) return { status: Status.wait('one or more plugins asked to wait and no plugin rejected pod'), waits };
    return { status: null };
  }

  // ---------------------------------------------------------------- binding cycle: PreBind, Bind, PostBind

  /**
   * Upstream RunPreBindPreFlights: null (success) when at least one PreBind plugin has work for the pod, SKIP when
   * none has; an error otherwise. Records the skipped plugins in state.skipPreBindPlugins.
   */
  runPreBindPreFlights(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    let result: Status | null = SKIP;
    let skipped: Set<string> | null = null;
    for (const plugin of this.preBind) {
      const preFlight = plugin.preBindPreFlight;
      const status = preFlight ? guarded('PreBindPreFlight', plugin.name, () => preFlight.call(plugin, state, pod, nodeName), (s) => s) : null;
      if (status === null || status.code === Code.Success) {
        result = null;
      } else if (status.code === Code.Skip) {
        (skipped ??= new Set()).add(plugin.name);
      } else if (status.code === Code.Error) {
        return status.plugin === plugin.name ? status : Status.error(`running PreBindPreFlight "${plugin.name}": ${status.message}`).withPlugin(plugin.name);
      } else {
        const code = status.code === Code.Wait ? 'Wait' : status.isRejected ? 'Unschedulable' : String(status.code);
        return Status.error(
          `PreBindPreFlight ${plugin.name} returned "${code}", which is unsupported. It is supposed to return Success, Skip, or Error status`,
        ).withPlugin(plugin.name);
      }
    }
    state.skipPreBindPlugins = skipped ?? new Set();
    return result;
  }

  /** PreBind in order (skipping those whose PreBindPreFlight skipped); the first failure ends the run. */
  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    for (const plugin of this.preBind) {
      if (state.skipPreBindPlugins.has(plugin.name)) continue;
      let status: Status | null;
      try {
        status = await this.timedAsync(state, plugin.name, 'PreBind', () => plugin.preBind(state, pod, nodeName, signal));
      } catch (err) {
        status = Status.error(errorMessage(err));
      }
      if (status === null || status.code === Code.Success) continue;
      if (status.isRejected) return status.withPlugin(plugin.name);
      return Status.error(`running PreBind plugin "${plugin.name}": ${status.message}`).withPlugin(plugin.name);
    }
    return null;
  }

  /** Bind plugins in order until one does not Skip; SKIP when there is none or all skipped. */
  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    let status: Status | null = SKIP;
    for (const plugin of this.bind) {
      try {
        status = await this.timedAsync(state, plugin.name, 'Bind', () => plugin.bind(state, pod, nodeName, signal));
      } catch (err) {
        status = Status.error(errorMessage(err));
      }
      if (status !== null && status.code === Code.Skip) continue;
      if (status === null || status.code === Code.Success) return null;
      if (status.isRejected) return status.withPlugin(plugin.name);
      return Status.error(`running Bind plugin "${plugin.name}": ${status.message}`).withPlugin(plugin.name);
    }
    return status;
  }

  /** PostBind, informational; returns the messages of plugins that threw (the caller logs them). */
  runPostBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): string[] {
    const failures: string[] = [];
    for (const plugin of this.postBind) {
      try {
        this.timedCall(state, plugin.name, 'PostBind', () => plugin.postBind(state, pod, nodeName), () => null);
      } catch (err) {
        failures.push(`running PostBind plugin "${plugin.name}": ${errorMessage(err)}`);
      }
    }
    return failures;
  }
}

