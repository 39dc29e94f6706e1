/**
 * The scheduling framework's contracts, one small interface per extension point as upstream's framework/interface.go:
 * status codes, cycle state, and PreFilter (with its AddPod/RemovePod extensions), Filter, PostFilter, PreScore,
 * Score with NormalizeScore in the scheduling cycle; Reserve/Unreserve and Permit at its end; PreBind (with its
 * PreBindPreFlight), Bind and PostBind in the binding cycle.
 *
 * Filter returns `null` for success so the hot loop allocates nothing for feasible nodes; plugins keep their
 * rejection statuses as constants where the reason text is fixed. The scheduling-cycle points are synchronous
 * (they only read berth's cache); PreBind and Bind are asynchronous because they write through the ClusterPort.
 */
import type { ProfileConfig } from '../../config/types.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { Clock } from '../clock.js';
import type { ClusterPort } from '../ports.js';

export enum Code {
  Success = 0,
  Error = 1,
  Unschedulable = 2,
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

export const CODE_NAMES: Record<Code, string> = {
  [Code.Success]: 'Success',
  [Code.Error]: 'Error',
  [Code.Unschedulable]: 'Unschedulable',
  [Code.UnschedulableAndUnresolvable]: 'UnschedulableAndUnresolvable',
  [Code.Wait]: 'Wait',
  [Code.Skip]: 'Skip',
  [Code.Pending]: 'Pending',
};

export class Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The plugin that returned this status, when the framework recorded it (upstream Status.Plugin()). */
  plugin = '';

  constructor(code: Code, ...reasons: string[]) {
    this.code = code;
    this.reasons = reasons;
  }

  /** A copy naming the plugin that returned it (statuses are often shared constants, so never set in place). */
  withPlugin(plugin: string): Status {
    const copy = new Status(this.code, ...this.reasons);
    copy.plugin = plugin;
    return copy;
  }

  /** Upstream Status.Message(): reasons joined by ", ". */
  get message(): string {
    return this.reasons.join(', ');
  }

  get isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, ...reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, ...reasons);
  }

  static error(reason: string): Status {
    return new Status(Code.Error, reason);
  }

  static wait(...reasons: string[]): Status {
    return new Status(Code.Wait, ...reasons);
  }
}

/**
 * A plugin's failure raised inside a cycle, where the contract has no status to return it in (a Score that is not
 * a number, an error status out of PreScore): the cycle ends with an Error result naming the plugin.
 */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly plugin: string,
  ) {
    super(message);
    this.name = 'PluginError';
  }
}

/** True for null (the success shorthand) and for a Success status. */
export function isSuccess(status: Status | null | undefined): boolean {
  return status === null || status === undefined || status.code === Code.Success;
}

/** Shared Skip status: a PreFilter/PreScore plugin with nothing to do for this pod. */
export const SKIP = new Status(Code.Skip);

/**
 * Plugin state written in PreFilter/PreScore that changes when pods are added or removed (preemption dry runs, the
 * nominated-pod pass) implements clone(), so a what-if runs on a copy. State without it is shared by clones and must
 * not be changed after it was written.
 */
export interface StateData {
  clone(): StateData;
}

function isStateData(value: unknown): value is StateData {
  return typeof value === 'object' && value !== null && typeof (value as Partial<StateData>).clone === 'function';
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** Per-cycle scratch space shared between a plugin's extension points (upstream CycleState). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Filter plugins whose PreFilter returned Skip: Filter does not run them this cycle. */
  skipFilterPlugins: ReadonlySet<string> = NO_NAMES;
  /** Score plugins whose PreScore returned Skip. */
  skipScorePlugins: ReadonlySet<string> = NO_NAMES;
  /** PreBind plugins whose PreBindPreFlight returned Skip. */
  skipPreBindPlugins: ReadonlySet<string> = NO_NAMES;
  /** This cycle is one of the sampled ones whose plugin execution times are recorded. */
  recordPluginMetrics = false;

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  /** A copy for a what-if: StateData values are cloned, other values shared (upstream CycleState.Clone). */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [key, value] of this.data) copy.data.set(key, isStateData(value) ? value.clone() : value);
    copy.skipFilterPlugins = this.skipFilterPlugins;
    copy.skipScorePlugins = this.skipScorePlugins;
    copy.skipPreBindPlugins = this.skipPreBindPlugins;
    copy.recordPluginMetrics = this.recordPluginMetrics;
    return copy;
  }
}

/** A pod held at Permit (upstream fwk.WaitingPod): other plugins may allow or reject it while it waits. */
export interface WaitingPod {
  readonly pod: PodInfo;
  /** The node it was reserved on. */
  readonly nodeName: string;
  /** Permit plugins that have not allowed it yet. */
  pendingPlugins(): string[];
  /** The plugin allows the pod; once every waiting plugin has, its binding cycle goes on. */
  allow(plugin: string): void;
  /** Rejects the pod (Unschedulable); false when it had already been allowed or rejected. */
  reject(plugin: string, message: string): boolean;
}

/** Reads, runs and changes what the framework holds beyond the cluster view (upstream fwk.Handle). */
export interface FrameworkHandle {
  /** Read-only view of berth's cache: only the cache (fed by an adapter, assumed by the core) writes it. */
  readonly cluster: ClusterView;
  /** The profile being run (schedulerName, plugin lists). A plugin's args come to it through its descriptor's create. */
  readonly profile: ProfileConfig;
  /** The injected clock (PreBind waits, timeouts). */
  readonly clock: Clock;
  /**
   * The cluster, to write to: API objects a PreBind plugin must change (volumes, claims), bindings, events, through
   * the adapter (upstream's ClientSet and EventRecorder).
   */
  readonly api: ClusterPort;
  getWaitingPod(uid: string): WaitingPod | undefined;
  iterateWaitingPods(visit: (pod: WaitingPod) => void): void;
  /** Rejects a waiting pod (preemption of a pod that waits at Permit); false when none waits under that uid. */
  rejectWaitingPod(uid: string, plugin: string, message: string): boolean;
  /**
   * Upstream RunFilterPluginsWithNominatedPods: every Filter plugin (those PreFilter did not skip) on `node`, first
   * with its nominated pods of equal or higher priority added (on clones), then as it is. Null when the pod fits.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): NodeRejection | null;
  /** Upstream RunPreFilterExtensionAddPod / RemovePod: tells PreFilter state that `other` joined or left `node`. */
  runPreFilterExtensionAddPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null;
  runPreFilterExtensionRemovePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null;
}

/** The plugin that rejected a node, and how. */
export interface NodeRejection {
  plugin: string;
  status: Status;
}

export interface Plugin {
  readonly name: string;
}

/** A PreFilter outcome: success (null), a status (Skip, rejection, error), or a restriction to these node names. */
export type PreFilterOutcome = Status | null | { nodeNames: ReadonlySet<string> };

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): PreFilterOutcome;
  /**
   * PreFilter extensions (upstream PreFilterExtensions): adjust this plugin's PreFilter state as if `other` were
   * added to / removed from `node` (a clone, in a preemption dry run or the nominated-pod pass). Plugins whose
   * PreFilter state does not depend on other pods leave them out.
   */
  addPod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null;
  removePod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null;
}

export interface FilterPlugin extends Plugin {
  /** Returns null when the pod fits the node, else the rejection status. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
}

export interface PreScorePlugin extends Plugin {
  /** `nodes` are the feasible nodes; return SKIP to leave this plugin's Score out of the cycle. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
}

export interface ScorePlugin extends Plugin {
  /** Raw score of one feasible node (integer). Throw for internal errors. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rewrites `scores` (aligned with `nodes`) into [0, 100]; absent means raw scores are already in range. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): Status | null;
}

/** Why a pod did not fit: upstream's Diagnosis. */
export interface Diagnosis {
  /** Explicit per-node rejections. */
  nodeToStatus: Map<string, NodeRejection>;
  /** Status applied to every node absent from nodeToStatus (PreFilter rejection or restriction). */
  absentNodesStatus: Status | null;
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

export interface PostFilterResult {
  status: Status;
  nominatedNodeName?: string;
  /** Pods that must be evicted for the nomination to hold (preemption victims), as uids. */
  victims?: PodInfo[];
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number): PostFilterResult;
}

/** Reserve/Unreserve: claim what the pod needs on its node in plugin state before binding; undo it on any failure. */
export interface ReservePlugin extends Plugin {
  /** Null on success; a rejection or error status makes the scheduler unreserve every plugin and retry the pod. */
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null;
  /** Must be idempotent and must not fail: called, in reverse order, on every failure after Reserve began. */
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** Permit's answer: allow (null), Wait up to `timeoutMs` (capped at 15 minutes), or reject. */
export interface PermitResult {
  status: Status | null;
  timeoutMs?: number;
}

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

export interface PreBindPlugin extends Plugin {
  /**
   * Whether PreBind has work for this pod: null (success) when it has, SKIP when not (then its PreBind is not
   * called). Anything else is an error. Absent means it always has work.
   */
  preBindPreFlight?(state: CycleState, pod: PodInfo, nodeName: string): Status | null;
  /** Runs before the Binding, in the binding cycle; `signal` aborts when the pod is deleted or berth stops. */
  preBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null>;
}

export interface BindPlugin extends Plugin {
  /** Binds the pod (null on success), or returns SKIP to leave it to the next Bind plugin. */
  bind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null>;
}

export interface PostBindPlugin extends Plugin {
  /** Informational, after a successful binding (cleanup); cannot fail. */
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === 'function';
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function';
}
export function isReserve(p: Plugin): p is ReservePlugin {
  const r = p as Partial<ReservePlugin>;
  return typeof r.reserve === 'function' && typeof r.unreserve === 'function';
}
export function isPermit(p: Plugin): p is PermitPlugin {
  return typeof (p as Partial<PermitPlugin>).permit === 'function';
}
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as Partial<PreBindPlugin>).preBind === 'function';
}
export function isBind(p: Plugin): p is BindPlugin {
  return typeof (p as Partial<BindPlugin>).bind === 'function';
}
export function isPostBind(p: Plugin): p is PostBindPlugin {
  return typeof (p as Partial<PostBindPlugin>).postBind === 'function';
}

/** Upstream MaxNodeScore / MinNodeScore. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;
