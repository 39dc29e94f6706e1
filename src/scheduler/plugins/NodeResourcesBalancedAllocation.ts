/**
 * NodeResourcesBalancedAllocation (upstream pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go):
 * favours nodes whose resource usage is balanced across the configured resources (default cpu and memory).
 *
 * Requests are the REAL ones (upstream useRequested = true): node Requested + pod request, no non-zero defaults.
 * Per resource fraction = requested / allocatable capped at 1; resources with allocatable 0, and scalar resources the
 * pod does not request, are left out. balance(v) = int((1 − std) × 100) with std = |f1 − f2| / 2 for two resources,
 * the population standard deviation for more, 0 for fewer.
 *
 * Two upstream formulas, selectable with the constructor option `formula`:
 * - 'v1.36' (upstream v1.36+, kubernetes/kubernetes#135573; the default, because berth's test control plane builds
 *   KUBERNETES_VERSION=v1.37.2 per test/cluster/versions.env): score = 50 + (50 + balance(with pod) −
 *   balance(without pod)) / 2 in int64 arithmetic. No change in balance scores 75; perfectly balanced → perfectly
 *   unbalanced 50; the reverse 100.
 * - 'v1.34' (upstream v1.30–v1.35): score = balance(with pod).
 *
 * PreScore returns Skip when the pod requests none of the configured resources (upstream v1.33+,
 * kubernetes/kubernetes#129138), so best-effort pods are not all drawn to the same node. No NormalizeScore.
 */
import {
  MAX_NODE_SCORE,
  SKIP,
  type CycleState,
  type PreScorePlugin,
  type ScorePlugin,
  type Status,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { balancedResourceScore, goDiv, ResourceVectors } from './resourceAllocation.js';
import { decodeDefaultedResources, defaultResources, type ResourceSpec } from './argsHelpers.js';

export const NAME = 'NodeResourcesBalancedAllocation';

/** NodeResourcesBalancedAllocationArgs, defaulted and validated. */
export interface NodeResourcesBalancedAllocationArgs {
  resources: ResourceSpec[];
}

const PRE_SCORE_KEY = 'NodeResourcesBalancedAllocation/preScore';

/** Which upstream scoring formula to apply (see the file comment). */
export type BalancedAllocationFormula = 'v1.36' | 'v1.34';

export interface BalancedAllocationOptions {
  formula?: BalancedAllocationFormula;
}

/** The formula matching the Kubernetes version berth's control plane builds (v1.37.2). */
export const DEFAULT_BALANCED_ALLOCATION_FORMULA: BalancedAllocationFormula = 'v1.36';

interface PreScoreState {
  podRequests: Float64Array;
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly formula: BalancedAllocationFormula;
  private readonly vectors: ResourceVectors;

  constructor(args: NodeResourcesBalancedAllocationArgs, options: BalancedAllocationOptions = {}) {
    this.vectors = new ResourceVectors(args.resources, true);
    this.formula = options.formula ?? DEFAULT_BALANCED_ALLOCATION_FORMULA;
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[]): Status | null {
    const podRequests = this.vectors.podRequests(pod);
    if (ResourceVectors.requestsNothing(podRequests)) return SKIP;
    const s: PreScoreState = { podRequests };
    state.write(PRE_SCORE_KEY, s);
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (this.vectors.length === 0) throw new Error('NodeResourcesBalancedAllocation: resources not found');
    let s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined) {
      s = { podRequests: this.vectors.podRequests(pod) };
      state.write(PRE_SCORE_KEY, s);
    }
    const v = this.vectors;
    v.fill(node, s.podRequests);
    const withPod = balancedResourceScore(v.requested, v.allocatable);
    if (this.formula === 'v1.34') return withPod;
    const withoutPod = balancedResourceScore(v.allocated, v.allocatable);
    const half = MAX_NODE_SCORE / 2;
    return half + goDiv(half + withPod - withoutPod, 2);
  }
}

/** pluginConfig args: upstream's defaulting and validation of NodeResourcesBalancedAllocationArgs. */
const argsSpec: PluginArgsSpec<NodeResourcesBalancedAllocationArgs> = {
  fields: ['resources'],
  defaults: () => ({ resources: defaultResources() }),
  decode: (dec, raw, path) => {
    const resources = decodeDefaultedResources(dec, raw['resources'], [...path, 'resources']);
    const seen = new Set<string>();
    resources.forEach((r, i) => {
      if (seen.has(r.name)) dec.error([...path, 'resources', i, 'name'], `duplicate resource "${r.name}"`, 'list each resource once');
      seen.add(r.name);
      if (r.weight !== 1) dec.error([...path, 'resources', i, 'weight'], `weight ${r.weight} must be 1`, 'NodeResourcesBalancedAllocation only supports weight 1 (or omit it)');
    });
    return { resources };
  },
  render: (a) => ({ resources: a.resources.map((r) => ({ ...r })) }),
};

export const descriptor = {
  name: NAME,
  points: ['preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete'],
  args: argsSpec,
  create: (_handle, args) => new NodeResourcesBalancedAllocation(args),
} satisfies PluginDescriptor<NodeResourcesBalancedAllocationArgs>;
