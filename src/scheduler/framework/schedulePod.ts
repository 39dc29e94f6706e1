/**
 * One scheduling attempt for one pod, as upstream's schedulePod: PreFilter, a feasible-node search that stops
 * after an adaptive number of nodes starting at a round-robin index, PreScore/Score/NormalizeScore with weights,
 * and selectHost's reservoir-sampled tie-break. Unschedulable outcomes carry upstream's Diagnosis and message;
 * PostFilter (preemption) runs on them.
 */
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { Random } from '../random.js';
import { fitErrorMessage } from './fitError.js';
import type { Framework, PluginLists } from './framework.js';
import { PluginTimer } from './pluginTimer.js';
import {
  Code,
  CODE_NAMES,
  CycleState,
  type Diagnosis,
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  type PostFilterResult,
  PluginError,
  Status,
} from './types.js';

/** Upstream ErrNoNodesAvailable's text, the FailedScheduling message when the cluster has no nodes. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** Upstream's floor on the number of feasible nodes to find, and the adaptive percentage's floor. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** Upstream numFeasibleNodesToFind. `percentage` 0 (or undefined) means adaptive. */
export function numFeasibleNodesToFind(percentage: number | undefined, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage ?? 0;
  if (pct === 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const count = Math.trunc((numAllNodes * pct) / 100);
  return count < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : count;
}

export interface PluginContribution {
  plugin: string;
  weight: number;
  /** Normalized score in [0, 100]. */
  score: number;
  /** score × weight: what the plugin added to the node's total. */
  weighted: number;
}

/** Per-node detail recorded when an explanation is requested. */
export interface NodeExplanation {
  node: string;
  /** 'feasible', or the rejecting plugin's status code name. */
  verdict: string;
  plugin?: string;
  reasons?: readonly string[];
  total?: number;
  scores?: Array<{ plugin: string; weight: number; raw: number; normalized: number; weighted: number }>;
}

export interface ScheduleOptions {
  /** Record per-node filter verdicts and per-plugin raw/normalized/weighted scores. */
  explain?: boolean;
  /** Percentage of nodes to score (global setting); the profile's own value wins when set. */
  percentageOfNodesToScore?: number;
  /**
   * Extension-point timings for metrics: a clock in milliseconds (injected: the core reads no clock of its own) and
   * a sink receiving upstream's extension point name, the status code name and the duration in seconds.
   */
  timing?: {
    now: () => number;
    observe: (extensionPoint: string, status: string, seconds: number) => void;
    /** Set on sampled cycles only: per-plugin execution times (summed per extension point over the cycle). */
    observePlugin?: (plugin: string, extensionPoint: string, status: string, seconds: number) => void;
  };
}

export interface ScheduledResult {
  kind: 'scheduled';
  nodeName: string;
  totalScore: number;
  evaluatedNodes: number;
  feasibleNodes: number;
  /** The chosen node's per-plugin contributions, highest first (empty when only one node was feasible). */
  contributions: PluginContribution[];
  explanation?: NodeExplanation[];
}

export interface UnschedulableResult {
  kind: 'unschedulable';
  /** Upstream's FailedScheduling message, e.g. "0/3 nodes are available: 3 Insufficient cpu. preemption: ...". */
  message: string;
  diagnosis: Diagnosis;
  numAllNodes: number;
  postFilter?: PostFilterResult;
  explanation?: NodeExplanation[];
}

export interface ErrorResult {
  kind: 'error';
  message: string;
  plugin?: string;
}

export type ScheduleResult = ScheduledResult | UnschedulableResult | ErrorResult;


/**
 * Runs scheduling cycles for one profile. Holds the round-robin start index and reusable score buffers, so a
 * cycle over thousands of nodes allocates little beyond its result.
 */
export class PodScheduler {
  private nextStartNodeIndex = 0;
  private feasibleBuffer: NodeInfo[] = [];
  private scoreBuffers: Float64Array[] = [];
  private totalsBuffer = new Float64Array(0);
  /** The plugin lists of the running cycle: the framework's own, or timing wrappers on sampled cycles. */
  private lists: PluginLists;

  constructor(
    readonly framework: Framework,
    private readonly random: Random,
  ) {
    this.lists = framework;
  }

  /** One attempt with `state` as the cycle's state (the binding cycle reads it on). Never throws. */
  schedule(pod: PodInfo, options: ScheduleOptions = {}, state: CycleState = new CycleState()): ScheduleResult {
    try {
      return this.run(pod, options, state);
    } catch (err) {
      if (err instanceof PluginError) return { kind: 'error', message: err.message, plugin: err.plugin };
      return { kind: 'error', message: (err as Error).message ?? String(err) };
    }
  }

  private run(pod: PodInfo, options: ScheduleOptions, state: CycleState): ScheduleResult {
    const fw = this.framework;
    const allNodes = fw.handle.cluster.nodes();
    const numAllNodes = allNodes.length;
    if (numAllNodes === 0) {
      // Upstream ErrNoNodesAvailable: an UnschedulableAndUnresolvable attempt (reason Unschedulable), no PostFilter.
      return {
        kind: 'unschedulable',
        message: NO_NODES_AVAILABLE,
        diagnosis: { nodeToStatus: new Map(), absentNodesStatus: null, unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' },
        numAllNodes: 0,
      };
    }
    const explain = options.explain === true;
    const explanation: NodeExplanation[] | undefined = explain ? [] : undefined;
    const diagnosis: Diagnosis = {
      nodeToStatus: new Map(),
      absentNodesStatus: null,
      unschedulablePlugins: new Set(),
      preFilterMsg: '',
      postFilterMsg: '',
    };

    const timing = options.timing;
    const timed = timing?.observePlugin ? fw.timed(timing.now) : null;
    const pluginTimer = timed?.timer ?? null;
    this.lists = timed?.lists ?? fw;
    try {
      return this.runWith(pod, options, fw, allNodes, numAllNodes, explain, explanation, state, diagnosis);
    } finally {
      if (pluginTimer && timing?.observePlugin) pluginTimer.flush(timing.observePlugin);
      this.lists = fw;
    }
  }

  private runWith(
    pod: PodInfo,
    options: ScheduleOptions,
    fw: Framework,
    allNodes: readonly NodeInfo[],
    numAllNodes: number,
    explain: boolean,
    explanation: NodeExplanation[] | undefined,
    state: CycleState,
    diagnosis: Diagnosis,
  ): ScheduleResult {
    const timing = options.timing;
    let mark = timing ? timing.now() : 0;
    const observe = (point: string, status: string): void => {
      if (!timing) return;
      const now = timing.now();
      timing.observe(point, status, (now - mark) / 1000);
      mark = now;
    };

    // ---- PreFilter ----
    const pre = fw.runPreFilter(state, pod, allNodes, this.lists);
    observe('PreFilter', pre.status ? CODE_NAMES[pre.status.code] : 'Success');
    if (pre.status) {
      if (!pre.status.isRejected) {
        return { kind: 'error', message: `running PreFilter plugin "${pre.plugin}": ${pre.status.message}`, plugin: pre.plugin };
      }
      diagnosis.absentNodesStatus = pre.status;
      diagnosis.preFilterMsg = pre.status.message;
      diagnosis.unschedulablePlugins.add(pre.plugin);
      if (explanation) {
        for (const n of allNodes) {
          explanation.push({ node: n.name, verdict: CODE_NAMES[pre.status.code], plugin: pre.plugin, reasons: pre.status.reasons });
        }
      }
      return this.unschedulable(state, pod, diagnosis, numAllNodes, explanation, observe);
    }

    // ---- Filter ----
    let candidates: readonly NodeInfo[] = allNodes;
    if (pre.nodeNames) {
      const restricted: NodeInfo[] = [];
      for (const name of pre.nodeNames) {
        const n = fw.handle.cluster.getNode(name);
        if (n) restricted.push(n);
      }
      candidates = restricted;
      diagnosis.absentNodesStatus = Status.unresolvable(
        `node(s) didn't satisfy plugin(s) [${[...pre.restrictingPlugins].sort().join(' ')}]`,
      );
      for (const p of pre.restrictingPlugins) diagnosis.unschedulablePlugins.add(p);
    }
    const feasible = this.findFeasible(state, pod, candidates, diagnosis, options, explanation);
    observe('Filter', feasible.length === 0 ? 'Unschedulable' : 'Success');
    if (feasible.length === 0) {
      return this.unschedulable(state, pod, diagnosis, numAllNodes, explanation, observe);
    }
    const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.size;
    if (feasible.length === 1) {
      const only = feasible[0] as NodeInfo;
      return {
        kind: 'scheduled',
        nodeName: only.name,
        totalScore: 0,
        evaluatedNodes,
        feasibleNodes: 1,
        contributions: [],
        ...(explanation ? { explanation } : {}),
      };
    }

    // ---- PreScore / Score / NormalizeScore ----
    const n = feasible.length;
    let skippedScore: Set<string> | null = null;
    for (const plugin of this.lists.preScore) {
      const status = plugin.preScore(state, pod, feasible);
      if (status === null || status.code === Code.Success) continue;
      if (status.code === Code.Skip) {
        (skippedScore ??= new Set()).add(plugin.name);
        continue;
      }
      throw new PluginError(`running PreScore plugin "${plugin.name}": ${status.message}`, plugin.name);
    }
    observe('PreScore', 'Success');
    if (this.totalsBuffer.length < n) this.totalsBuffer = new Float64Array(Math.max(n, this.totalsBuffer.length * 2));
    const totals = this.totalsBuffer.subarray(0, n);
    totals.fill(0);
    if (skippedScore) state.skipScorePlugins = skippedScore;
    const active = skippedScore ? this.lists.score.filter((s) => !skippedScore.has(s.plugin.name)) : this.lists.score;
    const rawCopies: Float64Array[] = [];
    active.forEach(({ plugin, weight, scoreTime }, k) => {
      const scores = this.scoreBuffer(k, n);
      const t0 = scoreTime ? scoreTime.now() : 0;
      for (let i = 0; i < n; i++) scores[i] = plugin.score(state, pod, feasible[i] as NodeInfo);
      if (scoreTime) PluginTimer.add(scoreTime.slot, scoreTime.now() - t0, null);
      if (explain) rawCopies.push(Float64Array.from(scores));
      if (plugin.normalizeScore) {
        const status = plugin.normalizeScore(state, pod, feasible, scores);
        if (status !== null && status.code !== Code.Success) {
          throw new PluginError(`running NormalizeScore plugin "${plugin.name}": ${status.message}`, plugin.name);
        }
      }
      for (let i = 0; i < n; i++) {
        const s = scores[i] as number;
        if (s > MAX_NODE_SCORE || s < MIN_NODE_SCORE) {
          throw new PluginError(
            `plugin "${plugin.name}" returns an invalid score ${s}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`,
            plugin.name,
          );
        }
        totals[i] = (totals[i] as number) + s * weight;
      }
    });

    observe('Score', 'Success');
    const chosen = this.selectHost(totals);
    const chosenNode = feasible[chosen] as NodeInfo;
    const contributions: PluginContribution[] = active.map(({ plugin, weight }, k) => {
      const score = (this.scoreBuffers[k] as Float64Array)[chosen] as number;
      return { plugin: plugin.name, weight, score, weighted: score * weight };
    });
    contributions.sort((a, b) => b.weighted - a.weighted || a.plugin.localeCompare(b.plugin));

    if (explanation) {
      const byNode = new Map(explanation.map((e) => [e.node, e]));
      for (let i = 0; i < n; i++) {
        const node = feasible[i] as NodeInfo;
        const entry = byNode.get(node.name);
        if (!entry) continue;
        entry.total = totals[i] as number;
        entry.scores = active.map(({ plugin, weight }, k) => {
          const normalized = (this.scoreBuffers[k] as Float64Array)[i] as number;
          return { plugin: plugin.name, weight, raw: (rawCopies[k] as Float64Array)[i] as number, normalized, weighted: normalized * weight };
        });
      }
    }
    return {
      kind: 'scheduled',
      nodeName: chosenNode.name,
      totalScore: totals[chosen] as number,
      evaluatedNodes,
      feasibleNodes: n,
      contributions,
      ...(explanation ? { explanation } : {}),
    };
  }

  private scoreBuffer(k: number, n: number): Float64Array {
    let buf = this.scoreBuffers[k];
    if (!buf || buf.length < n) {
      buf = new Float64Array(Math.max(n, (buf?.length ?? 0) * 2, 16));
      this.scoreBuffers[k] = buf;
    }
    return buf.subarray(0, n);
  }

  /**
   * Filters nodes starting at the round-robin index until enough feasible nodes are found (upstream
   * findNodesThatPassFilters, sequential). Records each rejection in the diagnosis.
   */
  private findFeasible(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    diagnosis: Diagnosis,
    options: ScheduleOptions,
    explanation: NodeExplanation[] | undefined,
  ): NodeInfo[] {
    const fw = this.framework;
    const numNodes = nodes.length;
    // Reused across cycles and never shortened: `length = 0` would free its backing store, and the pushes of the next
    // cycle would grow a new one step by step (a quarter of bench:core's allocation at 1 000 nodes). Entries past
    // `found` are last cycles' nodes, never read; a deleted node's NodeInfo stays referenced until overwritten.
    const feasible = this.feasibleBuffer;
    let found = 0;
    if (numNodes === 0) return [];
    const percentage = fw.profile.percentageOfNodesToScore ?? options.percentageOfNodesToScore;
    // Upstream: without score plugins (and extenders) the first feasible node is as good as any.
    const toFind = fw.profile.plugins.score.length === 0 ? 1 : numFeasibleNodesToFind(percentage, numNodes);
    const filters = fw.activeFilters(state, this.lists);
    const start = this.nextStartNodeIndex % numNodes;
    let processed = 0;
    for (let i = 0; i < numNodes; i++) {
      const node = nodes[(start + i) % numNodes] as NodeInfo;
      processed++;
      const rejection = fw.runFilterPluginsWithNominatedPods(state, pod, node, filters);
      if (rejection) {
        const { plugin, status } = rejection;
        if (!status.isRejected) {
          const what = status.plugin === plugin && status.code === Code.Error ? status.message : `running "${plugin}" filter plugin: ${status.message}`;
          throw new PluginError(what, plugin);
        }
        diagnosis.nodeToStatus.set(node.name, rejection);
        diagnosis.unschedulablePlugins.add(plugin);
        explanation?.push({ node: node.name, verdict: CODE_NAMES[status.code], plugin, reasons: status.reasons });
      } else {
        feasible[found++] = node;
        explanation?.push({ node: node.name, verdict: 'feasible' });
        if (found >= toFind) break;
      }
    }
    // Upstream advances the index modulo all nodes, even when a PreFilter restriction shortened the list.
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % fw.handle.cluster.nodeCount;
    return feasible.slice(0, found);
  }

  /** Upstream selectHost: highest total wins; ties broken by reservoir sampling with the injected random source. */
  private selectHost(totals: Float64Array): number {
    let selected = 0;
    let max = totals[0] as number;
    let ties = 1;
    for (let i = 1; i < totals.length; i++) {
      const s = totals[i] as number;
      if (s > max) {
        max = s;
        selected = i;
        ties = 1;
      } else if (s === max) {
        ties++;
        if (this.random.intn(ties) === 0) selected = i;
      }
    }
    return selected;
  }

  private unschedulable(
    state: CycleState,
    pod: PodInfo,
    diagnosis: Diagnosis,
    numAllNodes: number,
    explanation: NodeExplanation[] | undefined,
    observe: (point: string, status: string) => void,
  ): UnschedulableResult {
    // Upstream RunPostFilterPlugins: the first Success or UnschedulableAndUnresolvable wins, an Error stops the
    // chain; otherwise the rejected plugins' reasons are gathered into one Unschedulable status (the last result
    // carrying a nomination is kept).
    let postFilter: PostFilterResult | undefined;
    if (this.lists.postFilter.length > 0) {
      const reasons: string[] = [];
      let kept: PostFilterResult | undefined;
      for (const plugin of this.lists.postFilter) {
        const result = plugin.postFilter(state, pod, diagnosis, numAllNodes);
        const code = result.status.code;
        if (code === Code.Success || code === Code.UnschedulableAndUnresolvable || !result.status.isRejected) {
          postFilter = result;
          break;
        }
        if (result.nominatedNodeName !== undefined || result.victims !== undefined) kept = result;
        reasons.push(...result.status.reasons);
      }
      postFilter ??= { ...(kept ?? {}), status: new Status(Code.Unschedulable, ...reasons) };
      diagnosis.postFilterMsg = postFilter.status.message;
    }
    if (this.framework.postFilter.length > 0) observe('PostFilter', postFilter ? CODE_NAMES[postFilter.status.code] : 'Unschedulable');
    return {
      kind: 'unschedulable',
      message: fitErrorMessage(diagnosis, numAllNodes),
      diagnosis,
      numAllNodes,
      ...(postFilter ? { postFilter } : {}),
      ...(explanation ? { explanation } : {}),
    };
  }
}
