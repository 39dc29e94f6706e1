/**
 * DefaultPreemption (PostFilter): when no node fits a pod, look for a node where evicting lower-priority pods would
 * make room, as upstream's defaultpreemption plugin with the preemption Evaluator (Preempt, findCandidates,
 * DryRunPreemption, SelectVictimsOnNode, pickOneNodeForPreemption), v1.37 semantics.
 *
 * - Eligibility: preemptionPolicy Never → "not eligible due to preemptionPolicy=Never."; a pod whose nominated node
 *   (status.nominatedNodeName) still holds a lower-priority pod terminating by scheduler preemption →
 *   "not eligible due to a terminating pod on the nominated node." (skipped when that node is
 *   UnschedulableAndUnresolvable).
 * - Potential nodes: those whose diagnosis status is Unschedulable (explicit, or the absent-nodes status when
 *   PreFilter rejected); the others are "Preemption is not helpful for scheduling".
 * - SelectVictimsOnNode: on clones of the node and of the cycle state, every pod with lower priority is removed
 *   (the PreFilter RemovePod extensions keep topology spread and inter-pod affinity counts right), the filters run
 *   with the node's nominated pods; then victims are reprieved one at a time, most important first (priority, then
 *   earlier start time): first those whose eviction would violate a PodDisruptionBudget, then the others
 *   (filterPodsWithPDBViolation, disruptionBudgets.ts). Each violating victim that stays a victim counts one PDB
 *   violation for the node. The cache itself is never changed.
 * - DryRunPreemption keeps candidates without PDB violations apart from those with, each list capped at the number
 *   of candidates wanted, and stops once it has one without violations and enough in all; the candidates without
 *   violations come first.
 * - The best candidate: fewest PDB violations, lowest highest-victim priority, smallest sum of (priority + 2^31),
 *   fewest victims, latest start time of the highest-priority victims, then the first.
 * - Messages carry upstream's "preemption: " prefix; with no candidate the message is the fit-error text over the
 *   per-node preemption statuses.
 *
 * Deviations (documented):
 * - The dry run starts at offset 0 (upstream picks a random offset) and checks nodes sequentially in the cluster's
 *   node order, stopping once minCandidateNodesPercentage/minCandidateNodesAbsolute candidates were found. Among
 *   fully tied candidates the first in that order wins (upstream iterates a Go map: effectively random).
 * - A pod without status.startTime counts as started "now", i.e. later than every recorded start time (+Infinity);
 *   upstream calls time.Now() per comparison.
 * - Extenders are not supported.
 * - The victims are returned to the caller (who evicts them); nothing is deleted here.
 */
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { fitErrorMessage } from '../framework/fitError.js';
import {
  Code,
  type CycleState,
  type Diagnosis,
  type FrameworkHandle,
  type PostFilterPlugin,
  type PostFilterResult,
  Status,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { type BudgetsByNamespace, budgetsByNamespace, filterPodsWithPDBViolation } from './disruptionBudgets.js';

export const NAME = 'DefaultPreemption';

/** DefaultPreemptionArgs, defaulted and validated: how many candidate nodes a dry run looks for at least. */
export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage: number;
  minCandidateNodesAbsolute: number;
}

export const MSG_PREEMPTION_POLICY_NEVER = 'not eligible due to preemptionPolicy=Never.';
export const MSG_TERMINATING_ON_NOMINATED = 'not eligible due to a terminating pod on the nominated node.';
export const REASON_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const REASON_NO_VICTIMS = 'No preemption victims found for incoming pod';

const PREFIX = 'preemption: ';
const NOT_HELPFUL = Status.unresolvable(REASON_NOT_HELPFUL);
const NO_VICTIMS = Status.unresolvable(REASON_NO_VICTIMS);
/** Upstream's default NodeToStatus: nodes absent from the diagnosis are UnschedulableAndUnresolvable. */
const DEFAULT_ABSENT = Status.unresolvable();
const START_TIME_KEY = `${NAME}/startTime`;
const PRIORITY_OFFSET = 2147483648; // math.MaxInt32 + 1

export interface PreemptionCandidate {
  node: string;
  /** Most important first (priority descending, then earlier start time). */
  victims: PodInfo[];
  numPDBViolations: number;
}

/** Upstream GetPodStartTime: status.startTime, else "now" (here: later than any recorded time). */
export function podStartTime(pod: PodInfo): number {
  return pod.memoize(START_TIME_KEY, () => {
    const raw = pod.pod.status?.startTime;
    if (!raw) return Number.POSITIVE_INFINITY;
    const t = Date.parse(raw);
    return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
  });
}

/** Upstream MoreImportantPod: higher priority, then the earlier start time. */
export function moreImportantPod(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return podStartTime(a) < podStartTime(b);
}

function compareImportance(a: PodInfo, b: PodInfo): number {
  if (moreImportantPod(a, b)) return -1;
  if (moreImportantPod(b, a)) return 1;
  return 0;
}

/** Upstream calculateNumCandidates. */
export function numCandidates(numNodes: number, percentage: number, absolute: number): number {
  let n = Math.trunc((numNodes * percentage) / 100);
  if (n < absolute) n = absolute;
  if (n > numNodes) n = numNodes;
  return n;
}

/** Upstream GetEarliestPodStartTime: the earliest start time among the highest-priority victims. */
function earliestStartOfHighestPriority(victims: readonly PodInfo[]): number {
  const first = victims[0] as PodInfo;
  let maxPriority = first.priority;
  let earliest = podStartTime(first);
  for (const v of victims) {
    if (v.priority === maxPriority) {
      const t = podStartTime(v);
      if (t < earliest) earliest = t;
    } else if (v.priority > maxPriority) {
      maxPriority = v.priority;
      earliest = podStartTime(v);
    }
  }
  return earliest;
}

const SCORE_FUNCS: ReadonlyArray<(c: PreemptionCandidate) => number> = [
  (c) => -c.numPDBViolations,
  (c) => -(c.victims[0] as PodInfo).priority,
  (c) => {
    let sum = 0;
    for (const v of c.victims) sum += v.priority + PRIORITY_OFFSET;
    return -sum;
  },
  (c) => -c.victims.length,
  (c) => earliestStartOfHighestPriority(c.victims),
];

/** Upstream pickOneNodeForPreemption with the default score functions; ties after all of them → the first. */
export function pickOneNodeForPreemption(candidates: readonly PreemptionCandidate[]): PreemptionCandidate | undefined {
  if (candidates.length === 0) return undefined;
  let remaining: readonly PreemptionCandidate[] = candidates;
  for (const f of SCORE_FUNCS) {
    let best = Number.NEGATIVE_INFINITY;
    let selected: PreemptionCandidate[] = [];
    for (const c of remaining) {
      const score = f(c);
      if (score > best) {
        best = score;
        selected = [c];
      } else if (score === best) {
        selected.push(c);
      }
    }
    if (selected.length === 1) return selected[0];
    remaining = selected;
  }
  return remaining[0];
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
}

/** Upstream podTerminatingByPreemption: deleting, and the first DisruptionTarget condition is True/PreemptionByScheduler. */
function terminatingByPreemption(pod: PodInfo): boolean {
  if (!pod.terminating) return false;
  for (const raw of pod.pod.status?.conditions ?? []) {
    const c = raw as Condition | null;
    if (c && c.type === 'DisruptionTarget') return c.status === 'True' && c.reason === 'PreemptionByScheduler';
  }
  return false;
}

function statusOf(diagnosis: Diagnosis, node: string): Status {
  return diagnosis.nodeToStatus.get(node)?.status ?? diagnosis.absentNodesStatus ?? DEFAULT_ABSENT;
}

type VictimSelection = { victims: PodInfo[]; numPDBViolations: number; status?: undefined } | { victims?: undefined; status: Status };

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;

  constructor(
    private readonly handle: FrameworkHandle,
    private readonly args: DefaultPreemptionArgs,
  ) {}

  postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number): PostFilterResult {
    // 1) Eligibility.
    const ineligible = this.notEligibleReason(pod, diagnosis);
    if (ineligible !== null) return { status: Status.unschedulable(PREFIX + ineligible) };

    // 2) Candidates.
    const allNodes = this.handle.cluster.nodes();
    if (allNodes.length === 0) return { status: Status.error(`${PREFIX}no nodes available`) };
    const potential: NodeInfo[] = [];
    for (const node of allNodes) {
      if (statusOf(diagnosis, node.name).code === Code.Unschedulable) potential.push(node);
    }
    const nodeStatuses = new Map<string, { plugin: string; status: Status }>();
    const errors: string[] = [];
    const candidates = potential.length > 0 ? this.dryRunPreemption(state, pod, potential, nodeStatuses, errors) : [];

    if (candidates.length === 0) {
      if (errors.length > 0) {
        const msg = errors.length === 1 ? (errors[0] as string) : `[${errors.join(', ')}]`;
        return { status: Status.error(PREFIX + msg) };
      }
      const preemptionDiagnosis: Diagnosis = {
        nodeToStatus: nodeStatuses,
        absentNodesStatus: NOT_HELPFUL,
        unschedulablePlugins: new Set(),
        preFilterMsg: '',
        postFilterMsg: '',
      };
      return {
        status: Status.unschedulable(PREFIX + fitErrorMessage(preemptionDiagnosis, numAllNodes)),
        nominatedNodeName: '',
      };
    }

    // 3) Extenders: none. 4) The best candidate.
    const best = pickOneNodeForPreemption(candidates) as PreemptionCandidate;
    // Upstream's Evaluator.Preempt success message, prefixed "preemption: " by the plugin; it becomes the
    // FailedScheduling message's PostFilter part.
    const message = `${PREFIX}found a potential placement for pod on node ${best.node}, preempting ${best.victims.length} victims`;
    return { status: new Status(Code.Success, message), nominatedNodeName: best.node, victims: best.victims };
  }

  /**
   * Upstream DryRunPreemption, sequential from offset 0: candidates without PDB violations and with them are kept
   * apart (each list capped at the number wanted), and the search stops once there is one without violations and
   * enough in all. Nodes without a candidate get their status in `nodeStatuses`; errors are collected.
   */
  private dryRunPreemption(
    state: CycleState,
    pod: PodInfo,
    potential: readonly NodeInfo[],
    nodeStatuses: Map<string, { plugin: string; status: Status }>,
    errors: string[],
  ): PreemptionCandidate[] {
    const wanted = numCandidates(potential.length, this.args.minCandidateNodesPercentage, this.args.minCandidateNodesAbsolute);
    const budgets = budgetsByNamespace(this.handle.cluster);
    const nonViolating: PreemptionCandidate[] = [];
    const violating: PreemptionCandidate[] = [];
    for (const node of potential) {
      const selection = this.selectVictimsOnNode(state, pod, node, budgets);
      if (selection.victims) {
        const list = selection.numPDBViolations === 0 ? nonViolating : violating;
        if (list.length < wanted) list.push({ node: node.name, victims: selection.victims, numPDBViolations: selection.numPDBViolations });
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= wanted) break;
        continue;
      }
      if (selection.status.code === Code.Error) errors.push(selection.status.message);
      nodeStatuses.set(node.name, { plugin: NAME, status: selection.status });
    }
    return [...nonViolating, ...violating];
  }

  /** Upstream PodEligibleToPreemptOthers; null when eligible. */
  private notEligibleReason(pod: PodInfo, diagnosis: Diagnosis): string | null {
    if (pod.pod.spec?.preemptionPolicy === 'Never') return MSG_PREEMPTION_POLICY_NEVER;
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      if (statusOf(diagnosis, nominated).code === Code.UnschedulableAndUnresolvable) return null;
      const node = this.handle.cluster.getNode(nominated);
      if (node) {
        for (const p of node.pods) {
          if (p.priority < pod.priority && terminatingByPreemption(p)) return MSG_TERMINATING_ON_NOMINATED;
        }
      }
    }
    return null;
  }

  /**
   * Upstream SelectVictimsOnNode, on a clone of the node and of the cycle state (the cache is never touched): the
   * lower-priority pods are taken out (telling PreFilter state through its RemovePod extensions), the pod is
   * checked with the node's nominated pods, and the most important victims are put back while the pod still fits.
   */
  private selectVictimsOnNode(cycleState: CycleState, pod: PodInfo, original: NodeInfo, budgets: BudgetsByNamespace): VictimSelection {
    const potential = original.pods.filter((p) => p.priority < pod.priority);
    if (potential.length === 0) return { status: NO_VICTIMS };
    const node = original.clone();
    const state = cycleState.clone();
    const handle = this.handle;
    const remove = (victim: PodInfo): Status | null => {
      node.removePod(victim);
      return handle.runPreFilterExtensionRemovePod(state, pod, victim, node);
    };
    for (const v of potential) {
      const failed = remove(v);
      if (failed) return { status: failed };
    }
    const fit = handle.runFilterPluginsWithNominatedPods(state, pod, node);
    if (fit !== null) return { status: fit.status };
    potential.sort(compareImportance);
    // Reprieve the victims whose eviction would violate a PodDisruptionBudget first, then the others.
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, budgets);
    const victims: PodInfo[] = [];
    const reprieve = (v: PodInfo): Status | 'reprieved' | 'victim' => {
      node.addPod(v);
      const added = handle.runPreFilterExtensionAddPod(state, pod, v, node);
      if (added) return added;
      if (handle.runFilterPluginsWithNominatedPods(state, pod, node) === null) return 'reprieved';
      const removed = remove(v);
      if (removed) return removed;
      victims.push(v);
      return 'victim';
    };
    let numPDBViolations = 0;
    for (const v of violating) {
      const outcome = reprieve(v);
      if (outcome instanceof Status) return { status: outcome };
      if (outcome === 'victim') numPDBViolations++;
    }
    for (const v of nonViolating) {
      const outcome = reprieve(v);
      if (outcome instanceof Status) return { status: outcome };
    }
    if (victims.length === 0) {
      return { status: Status.error(`expected at least one victim pod on node ${JSON.stringify(original.name)}`) };
    }
    // Victims stay most important first, whichever group they came from.
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(compareImportance);
    return { victims, numPDBViolations };
  }
}

/** pluginConfig args: upstream's defaulting and validation of DefaultPreemptionArgs. */
const argsSpec: PluginArgsSpec<DefaultPreemptionArgs> = {
  fields: ['minCandidateNodesPercentage', 'minCandidateNodesAbsolute'],
  defaults: () => ({ minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 }),
  decode: (dec, raw, path) => {
    const out = argsSpec.defaults();
    const pctPath = [...path, 'minCandidateNodesPercentage'];
    const absPath = [...path, 'minCandidateNodesAbsolute'];
    out.minCandidateNodesPercentage = dec.integer(raw['minCandidateNodesPercentage'], pctPath) ?? out.minCandidateNodesPercentage;
    out.minCandidateNodesAbsolute = dec.integer(raw['minCandidateNodesAbsolute'], absPath) ?? out.minCandidateNodesAbsolute;
    if (out.minCandidateNodesPercentage < 0 || out.minCandidateNodesPercentage > 100) {
      dec.error(pctPath, `${out.minCandidateNodesPercentage} not in valid range [0, 100]`, 'use a percentage from 0 to 100 (default 10)');
    }
    if (out.minCandidateNodesAbsolute < 0) {
      dec.error(absPath, `${out.minCandidateNodesAbsolute} not in valid range [0, inf)`, 'use 0 or more (default 100)');
    }
    if (out.minCandidateNodesPercentage === 0 && out.minCandidateNodesAbsolute === 0) {
      dec.error(pctPath, 'cannot be zero at the same time as minCandidateNodesAbsolute', 'set at least one of the two above zero');
    }
    return out;
  },
  render: (a) => ({ minCandidateNodesPercentage: a.minCandidateNodesPercentage, minCandidateNodesAbsolute: a.minCandidateNodesAbsolute }),
};

export const descriptor = {
  name: NAME,
  // preEnqueue: upstream's PreEnqueue holds back pods whose async preemption is still in flight (SchedulerAsyncPreemption).
  points: ['preEnqueue', 'postFilter'],
  events: [],
  args: argsSpec,
  create: (handle, args) => new DefaultPreemption(handle, args),
} satisfies PluginDescriptor<DefaultPreemptionArgs>;
