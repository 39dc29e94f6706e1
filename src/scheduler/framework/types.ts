/**
 * The scheduling framework's contracts: status codes, cycle state and the plugin interfaces for the extension
 * points berth runs (PreFilter, Filter, PostFilter, PreScore, Score with NormalizeScore).
 *
 * Filter returns `null` for success so the hot loop allocates nothing for feasible nodes; plugins keep their
 * rejection statuses as constants where the reason text is fixed.
 */
import type { ProfileConfig } from '../../config/types.js';
import type { ClusterState } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';

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

  constructor(code: Code, ...reasons: string[]) {
    this.code = code;
    this.reasons = reasons;
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
}

/** Shared Skip status: a PreFilter/PreScore plugin with nothing to do for this pod. */
export const SKIP = new Status(Code.Skip);

/** Per-cycle scratch space shared between a plugin's extension points (upstream CycleState). */
export class CycleState {
  private readonly data = new Map<string, unknown>();

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
}

/** What every plugin gets: the cluster state (the cycle's snapshot) and its profile (args, weights). */
export interface FrameworkHandle {
  readonly cluster: ClusterState;
  readonly profile: ProfileConfig;
  /**
   * Runs this profile's PreFilter (on a fresh cycle state, against the cluster as it is now) and Filter plugins
   * for one node. Null when the pod fits. Preemption uses it to test a node with candidate victims removed.
   */
  checkFit?(pod: PodInfo, node: NodeInfo): { plugin: string; status: Status } | null;
}

export interface Plugin {
  readonly name: string;
}

/** A PreFilter outcome: success (null), a status (Skip, rejection, error), or a restriction to these node names. */
export type PreFilterOutcome = Status | null | { nodeNames: ReadonlySet<string> };

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): PreFilterOutcome;
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

export interface NodeStatus {
  node: string;
  plugin: string;
  status: Status;
}

/** Why a pod did not fit: upstream's Diagnosis. */
export interface Diagnosis {
  /** Explicit per-node rejections. */
  nodeToStatus: Map<string, { plugin: string; status: Status }>;
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

export type PluginFactory = (handle: FrameworkHandle) => Plugin;

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

/** Upstream MaxNodeScore / MinNodeScore. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;
