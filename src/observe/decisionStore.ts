/**
 * The live scheduler's decision record (`berth run --decision-record N`): for the last N attempts of each pod, the
 * filter verdicts as a histogram (plugin, verdict, reasons → how many nodes, with a few of their names) and the
 * per-plugin raw/normalized/weighted scores of the top-scored nodes. Served as JSON at /debug/decisions and printed
 * by `berth explain`.
 *
 * Memory is bounded on every axis: N attempts per pod, at most `maxPods` pods (the least recently attempted pod is
 * dropped first), a fixed number of scored nodes per attempt and of node names per verdict group. A per-node table
 * for every node (what `simulate --explain` keeps) would grow with the cluster in every attempt.
 */
import type { NodeExplanation, PluginContribution, ScheduleResult } from '../scheduler/framework/schedulePod.js';

/** Scored nodes kept per attempt, highest total first (the chosen node always among them). */
export const TOP_SCORED_NODES = 5;
/** Node names kept per filter verdict group; the count is always exact. */
export const NODES_PER_VERDICT = 10;
/** Pods kept by default: each holds at most N attempts. */
export const DEFAULT_MAX_PODS = 1000;
/** Attempts returned by a request without ?pod or ?node unless ?limit says otherwise. */
export const DEFAULT_RECENT = 50;

/** Nodes rejected by one plugin with one verdict and the same reasons. */
export interface VerdictGroup {
  plugin: string;
  /** The status code name, e.g. Unschedulable, UnschedulableAndUnresolvable. */
  verdict: string;
  reasons: string[];
  count: number;
  /** The first NODES_PER_VERDICT of them. */
  nodes: string[];
}

export interface ScoredNode {
  node: string;
  total: number;
  scores: Array<{ plugin: string; weight: number; raw: number; normalized: number; weighted: number }>;
}

/** One scheduling attempt of one pod, as /debug/decisions serves it. */
export interface AttemptRecord {
  /** namespace/name */
  pod: string;
  uid: string;
  profile: string;
  /** The pod's attempt number (1 for its first). */
  attempt: number;
  /** When the attempt ended (ISO 8601). */
  at: string;
  result: 'scheduled' | 'unschedulable' | 'error';
  /** True when this attempt bound the pod. */
  bound: boolean;
  /** The node the scheduling cycle chose (also when its binding then failed). */
  node: string | null;
  /** The FailedScheduling message, the binding failure or the scheduler error. */
  message: string | null;
  totalScore: number | null;
  feasibleNodes: number | null;
  evaluatedNodes: number | null;
  /** The chosen node's per-plugin contributions, highest first. */
  contributions: PluginContribution[];
  /** The nodes the filters (or PreFilter) rejected, grouped by plugin, verdict and reasons; largest group first. */
  filter: VerdictGroup[];
  /** The TOP_SCORED_NODES highest totals. */
  scores: ScoredNode[];
  /** How many nodes were scored in all (scores holds the top ones). */
  scoredNodes: number;
  /** Preemption's outcome, when it nominated a node. */
  preemption?: { nominatedNode: string; victims: string[] };
}

/** What the store needs of an attempt: the core's CycleOutcome and AttemptEnd, structurally. */
export interface AttemptInput {
  queued: { attempts: number; pod: { namespace: string; name: string; uid: string } };
  profile: string;
  result: ScheduleResult;
}

export interface AttemptEndInput {
  result: AttemptRecord['result'];
  bound: boolean;
  message?: string;
}

export interface DecisionStoreOptions {
  /** Attempts kept per pod (N). */
  perPod: number;
  maxPods?: number;
  /** Wall clock for `at` (tests fix it). */
  now?: () => Date;
}

function verdictGroups(explanation: readonly NodeExplanation[]): VerdictGroup[] {
  const groups = new Map<string, VerdictGroup>();
  for (const e of explanation) {
    if (e.verdict === 'feasible') continue;
    const reasons = [...(e.reasons ?? [])];
    const key = JSON.stringify([e.plugin ?? '', e.verdict, reasons]);
    let group = groups.get(key);
    if (!group) {
      group = { plugin: e.plugin ?? '', verdict: e.verdict, reasons, count: 0, nodes: [] };
      groups.set(key, group);
    }
    group.count++;
    if (group.nodes.length < NODES_PER_VERDICT) group.nodes.push(e.node);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.plugin.localeCompare(b.plugin));
}

/** The top-scored nodes; the chosen node is kept even when a tie put it below the cut. */
function topScored(explanation: readonly NodeExplanation[], chosen: string | null): { scores: ScoredNode[]; scoredNodes: number } {
  const scored = explanation
    .filter((e) => e.scores !== undefined)
    .map((e) => ({ node: e.node, total: e.total ?? 0, scores: [...(e.scores ?? [])] }))
    .sort((a, b) => b.total - a.total || a.node.localeCompare(b.node));
  const top = scored.slice(0, TOP_SCORED_NODES);
  const chosenEntry = scored.find((s) => s.node === chosen);
  if (chosenEntry && !top.includes(chosenEntry)) top[top.length - 1] = chosenEntry;
  return { scores: top, scoredNodes: scored.length };
}

/** One attempt as the record keeps it. */
export function attemptRecord(outcome: AttemptInput, end: AttemptEndInput, at: Date): AttemptRecord {
  const { pod, attempts } = outcome.queued;
  const result = outcome.result;
  const explanation = result.kind === 'error' ? [] : (result.explanation ?? []);
  const node = result.kind === 'scheduled' ? result.nodeName : null;
  const message = result.kind === 'scheduled' ? (end.bound ? null : (end.message ?? 'binding failed')) : result.message;
  const victims = result.kind === 'unschedulable' ? result.postFilter?.victims : undefined;
  const nominated = result.kind === 'unschedulable' ? result.postFilter?.nominatedNodeName : undefined;
  return {
    pod: `${pod.namespace}/${pod.name}`,
    uid: pod.uid,
    profile: outcome.profile,
    attempt: attempts,
    at: at.toISOString(),
    result: end.result,
    bound: end.bound,
    node,
    message,
    totalScore: result.kind === 'scheduled' ? result.totalScore : null,
    feasibleNodes: result.kind === 'scheduled' ? result.feasibleNodes : null,
    evaluatedNodes: result.kind === 'scheduled' ? result.evaluatedNodes : null,
    contributions: result.kind === 'scheduled' ? result.contributions : [],
    filter: verdictGroups(explanation),
    ...topScored(explanation, node),
    ...(nominated ? { preemption: { nominatedNode: nominated, victims: (victims ?? []).map((v) => v.key) } } : {}),
  };
}

/** True when the attempt chose, scored or rejected (among the names kept) the node. */
function involves(record: AttemptRecord, node: string): boolean {
  return record.node === node || record.scores.some((s) => s.node === node) || record.filter.some((g) => g.nodes.includes(node));
}

interface Entry {
  /** Order of arrival across all pods (`at` has only millisecond resolution). */
  seq: number;
  record: AttemptRecord;
}

/** The bounded store: pods in least-recently-attempted order (a Map keeps insertion order), N attempts each. */
export class DecisionStore {
  private readonly pods = new Map<string, Entry[]>();
  private seq = 0;
  private readonly perPod: number;
  private readonly maxPods: number;
  private readonly now: () => Date;

  constructor(options: DecisionStoreOptions) {
    if (!Number.isSafeInteger(options.perPod) || options.perPod < 1) throw new Error(`decision record: attempts per pod must be an integer ≥ 1, not ${options.perPod}`);
    this.perPod = options.perPod;
    this.maxPods = options.maxPods ?? DEFAULT_MAX_PODS;
    this.now = options.now ?? (() => new Date());
  }

  add(outcome: AttemptInput, end: AttemptEndInput): void {
    const record = attemptRecord(outcome, end, this.now());
    const attempts = this.pods.get(record.pod) ?? [];
    this.pods.delete(record.pod);
    attempts.push({ seq: this.seq++, record });
    if (attempts.length > this.perPod) attempts.splice(0, attempts.length - this.perPod);
    this.pods.set(record.pod, attempts);
    if (this.pods.size > this.maxPods) {
      const oldest = this.pods.keys().next();
      if (!oldest.done) this.pods.delete(oldest.value);
    }
  }

  /** The pod's attempts, newest first (empty when none is kept). */
  byPod(key: string): AttemptRecord[] {
    return (this.pods.get(key) ?? []).map((e) => e.record).reverse();
  }

  /** Attempts that chose, scored or rejected the node, newest first. */
  byNode(node: string, limit: number): AttemptRecord[] {
    return this.all().filter((r) => involves(r, node)).slice(0, limit);
  }

  recent(limit: number): AttemptRecord[] {
    return this.all().slice(0, limit);
  }

  get podCount(): number {
    return this.pods.size;
  }

  /** The bounds, in words, for messages. */
  get capacity(): string {
    return `the last ${this.perPod} attempt(s) of at most ${this.maxPods} pods`;
  }

  /** Every kept attempt, newest first. */
  private all(): AttemptRecord[] {
    const out: Entry[] = [];
    for (const attempts of this.pods.values()) out.push(...attempts);
    return out.sort((a, b) => b.seq - a.seq).map((e) => e.record);
  }
}
