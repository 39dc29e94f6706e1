/**
 * NodeUtilization: scores nodes by their MEASURED use (CPU and memory in use on the machine, by everything on it,
 * Kubernetes or not) rather than by requests, with Trimaran's TargetLoadPacking or LoadVariationRiskBalancing
 * (formulas.ts), and optionally filters out nodes whose measured use plus the pod's requests would pass a
 * threshold. It ships with berth but is written only against the public plugin API (src/plugin.ts, `berth/plugin`),
 * like any plugin loaded with --plugins.
 *
 * Measurements come from Prometheus, metrics.k8s.io or a node usage file, read by a background task the adapter
 * runs off the scheduling path (refresh.ts); the cycles read the samples it kept (samples.ts). A node without a
 * fresh sample (none, or older than maxSampleAge: a source that is down renews none) scores NEUTRAL_SCORE and passes the filter: the plugin then
 * takes no side, and the decision rests on the other plugins (requests). Pods placed by this profile count with
 * their requests until the measurements can show them (Reserve records them).
 *
 * docs/design.md ("NodeUtilization") has the math with worked numbers, the args and the deviations from Trimaran.
 */
import {
  MAX_NODE_SCORE,
  Status,
  type Clock,
  type FilterPlugin,
  type NodeInfo,
  type PluginDescriptor,
  type PodInfo,
  type ReservePlugin,
  type ScorePlugin,
} from '../../../plugin.js';
import { argsSpec, NAME, type NodeUtilizationArgs } from './args.js';
import { loadVariationRiskBalancingScore, passesThreshold, percentOf, targetLoadPackingScore, type RiskInput } from './formulas.js';
import { refreshTask } from './refresh.js';
import { capacityOf, SampleStore, type Capacity, type Demand, type NodeSample } from './samples.js';

export { NAME } from './args.js';
export type { NodeUtilizationArgs } from './args.js';

/** The score of a node the plugin knows nothing about: the middle of the range, favouring it no more than not. */
export const NEUTRAL_SCORE = MAX_NODE_SCORE / 2;

/** What the pod will add: its requests, with upstream's defaults (100m, 200Mi) for containers that set none. */
function demandOf(pod: PodInfo): Demand {
  return { milliCpu: pod.nonZeroRequests.milliCpu, memory: pod.nonZeroRequests.memory };
}

/** The demand the node's sample cannot show yet, as fractions of its capacity (NaN where the capacity is 0). */
interface Pending {
  readonly cpu: number;
  readonly memory: number;
}

export class NodeUtilization implements FilterPlugin, ScorePlugin, ReservePlugin {
  readonly name = NAME;
  private readonly cpuRejection: Status | undefined;
  private readonly memoryRejection: Status | undefined;

  constructor(
    private readonly args: NodeUtilizationArgs,
    private readonly store: SampleStore,
    private readonly clock: Clock,
  ) {
    // Unresolvable: evicting pods (preemption) lowers no measurement berth can see before it decides, and much of
    // a node's use may not be pods at all. The pod waits for a retry (docs/design.md, "NodeUtilization").
    const rejection = (resource: string, percent: number | undefined): Status | undefined =>
      percent === undefined ? undefined : Status.unresolvable(`node(s) would be over ${percent}% ${resource} in use (measured use plus the pod's request)`);
    this.cpuRejection = rejection('cpu', args.filter.cpuPercent);
    this.memoryRejection = rejection('memory', args.filter.memoryPercent);
  }

  filter(_state: unknown, pod: PodInfo, node: NodeInfo): Status | null {
    if (this.cpuRejection === undefined && this.memoryRejection === undefined) return null;
    const sample = this.store.fresh(node.name, this.clock.now());
    if (sample === undefined) return null;
    const pending = this.pending(pod, node, sample);
    const { cpuPercent, memoryPercent } = this.args.filter;
    if (cpuPercent !== undefined && sample.cpu && Number.isFinite(pending.cpu) && passesThreshold(sample.cpu.used, pending.cpu, cpuPercent)) {
      return this.cpuRejection ?? null;
    }
    if (memoryPercent !== undefined && sample.memory && Number.isFinite(pending.memory) && passesThreshold(sample.memory.used, pending.memory, memoryPercent)) {
      return this.memoryRejection ?? null;
    }
    return null;
  }

  score(_state: unknown, pod: PodInfo, node: NodeInfo): number {
    const sample = this.store.fresh(node.name, this.clock.now());
    if (sample === undefined) return NEUTRAL_SCORE;
    const pending = this.pending(pod, node, sample);
    if (this.args.mode === 'TargetLoadPacking') {
      if (!sample.cpu || !Number.isFinite(pending.cpu)) return NEUTRAL_SCORE;
      return targetLoadPackingScore(percentOf(sample.cpu.used + pending.cpu), this.args.targetUtilization);
    }
    const inputs: RiskInput[] = [];
    if (sample.cpu && Number.isFinite(pending.cpu)) inputs.push({ ...sample.cpu, demand: pending.cpu });
    if (sample.memory && Number.isFinite(pending.memory)) inputs.push({ ...sample.memory, demand: pending.memory });
    const params = { margin: this.args.safeVarianceMargin, sensitivity: this.args.safeVarianceSensitivity };
    return loadVariationRiskBalancingScore(inputs, params) ?? NEUTRAL_SCORE;
  }

  reserve(_state: unknown, pod: PodInfo, nodeName: string): Status | null {
    this.store.place(pod.uid, nodeName, demandOf(pod), this.clock.now());
    return null;
  }

  unreserve(_state: unknown, pod: PodInfo): void {
    this.store.unplace(pod.uid);
  }

  /** The pod's requests plus those of pods placed since (or just before) the sample, over the node's capacity. */
  private pending(pod: PodInfo, node: NodeInfo, sample: NodeSample): Pending {
    const capacity: Capacity = capacityOf(node);
    const placed = this.store.unmeasured(node.name, sample);
    const own = demandOf(pod);
    return {
      cpu: capacity.milliCpu > 0 ? (own.milliCpu + placed.milliCpu) / capacity.milliCpu : NaN,
      memory: capacity.memory > 0 ? (own.memory + placed.memory) / capacity.memory : NaN,
    };
  }
}

/**
 * The descriptor. A pod the filter rejected waits for a node to arrive or change, or a pod to leave one; a drop in
 * measured use is no cluster event, so otherwise it is retried when the queue flushes unschedulable pods (5 min).
 */
export const descriptor: PluginDescriptor<NodeUtilizationArgs> = {
  name: NAME,
  points: ['filter', 'score', 'reserve'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete'],
  args: argsSpec,
  create: (handle, args) => {
    const store = new SampleStore(args.maxSampleAge * 1000, args.placedPodWindow * 1000);
    handle.runInBackground(refreshTask(args, store, handle));
    return new NodeUtilization(args, store, handle.clock);
  },
};
