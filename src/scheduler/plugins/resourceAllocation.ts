/**
 * Shared resource-allocation scoring for NodeResourcesFit (LeastAllocated, MostAllocated, RequestedToCapacityRatio)
 * and NodeResourcesBalancedAllocation: upstream's resourceAllocationScorer
 * (pkg/scheduler/framework/plugins/noderesources/resource_allocation.go).
 *
 * Per configured resource i the scorers see three int64-like vectors:
 * - allocatable[i]: the node's allocatable amount; 0 means "skip this resource" (not counted in any weight sum);
 * - requested[i]:   what the node would have requested with the pod on it;
 * - allocated[i]:   what the node has requested without the pod (BalancedAllocation v1.36+ only).
 *
 * Which request totals are used (upstream calculateResourceAllocatableRequest):
 * - cpu, memory: the node's NonZeroRequested + the pod's non-zero request (Fit strategies), or the node's real
 *   Requested + the pod's real request (BalancedAllocation, `useRequested`);
 * - ephemeral-storage: always the node's real Requested + the pod's real request;
 * - scalar resources (extended, hugepages-*, attachable-volumes-*): skipped when the pod does not request them;
 *   otherwise the node's allocatable and real Requested + the pod's request (skipped when allocatable is 0);
 * - any other name (e.g. "pods"): never scored (upstream finds it in no scalar map and returns (0, 0)).
 *
 * All arithmetic mirrors Go's int64 with truncating division; see mulDiv for the exactness guard.
 */
import type { ResourceSpec, UtilizationShapePoint } from './argsHelpers.js';
import { MAX_NODE_SCORE } from '../framework/types.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { CPU, EPHEMERAL_STORAGE, isScalarResourceName, MEMORY } from '../../kube/resources.js';

const KIND_CPU = 0;
const KIND_MEMORY = 1;
const KIND_EPHEMERAL = 2;
const KIND_SCALAR = 3;
const KIND_NONE = 4;

/** Upstream config.MaxCustomPriorityScore: shape scores are 0..10 and scaled to 0..MaxNodeScore. */
export const MAX_CUSTOM_PRIORITY_SCORE = 10;
/** Upstream maxUtilization in requested_to_capacity_ratio.go. */
const MAX_UTILIZATION = 100;

function kindOf(name: string): number {
  if (name === CPU) return KIND_CPU;
  if (name === MEMORY) return KIND_MEMORY;
  if (name === EPHEMERAL_STORAGE) return KIND_EPHEMERAL;
  if (isScalarResourceName(name)) return KIND_SCALAR;
  return KIND_NONE;
}

/**
 * floor(x × m / d) for non-negative integers, exact like Go's int64 arithmetic. Doubles are exact below 2^53; beyond
 * that (products of very large byte counts) BigInt takes over. A float quotient can round up to the next integer when
 * d is huge, so the result is corrected against the exact product.
 */
export function mulDiv(x: number, m: number, d: number): number {
  const p = x * m;
  if (p <= Number.MAX_SAFE_INTEGER) {
    let q = Math.trunc(p / d);
    if (q * d > p) q -= 1;
    else if ((q + 1) * d <= p) q += 1;
    return q;
  }
  return Number((BigInt(x) * BigInt(m)) / BigInt(d));
}

/** Go's int64 division (truncation toward zero) for operands well inside the safe-integer range. */
export function goDiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

/**
 * The configured resources compiled once per plugin instance, with scratch vectors reused by every Score call (JS is
 * single-threaded, so one set per scorer suffices and Score allocates nothing).
 */
export class ResourceVectors {
  readonly names: readonly string[];
  readonly weights: readonly number[];
  private readonly kinds: Uint8Array;
  /** Whether cpu/memory use the real requests (BalancedAllocation) instead of the non-zero ones (Fit). */
  private readonly useRequested: boolean;
  readonly requested: Float64Array;
  readonly allocated: Float64Array;
  readonly allocatable: Float64Array;

  constructor(resources: readonly ResourceSpec[], useRequested: boolean) {
    this.names = resources.map((r) => r.name);
    this.weights = resources.map((r) => r.weight);
    this.kinds = Uint8Array.from(this.names, kindOf);
    this.useRequested = useRequested;
    this.requested = new Float64Array(resources.length);
    this.allocated = new Float64Array(resources.length);
    this.allocatable = new Float64Array(resources.length);
  }

  get length(): number {
    return this.names.length;
  }

  /**
   * Upstream calculatePodResourceRequestList: the pod's request per configured resource. BalancedAllocation reads the
   * pod's real requests (pod-level resources and status included); NodeResourcesFit's scorer is built without
   * upstream's feature flags, so it reads the container-level requests with the non-zero cpu/memory defaults.
   */
  podRequests(pod: PodInfo): Float64Array {
    const source = this.useRequested ? pod.requests : pod.fitScoreRequests;
    const out = new Float64Array(this.names.length);
    for (let i = 0; i < out.length; i++) out[i] = source.get(this.names[i] as string);
    return out;
  }

  /** Upstream isBestEffortPod: the pod requests none of the configured resources. */
  static requestsNothing(podRequests: Float64Array): boolean {
    for (let i = 0; i < podRequests.length; i++) if (podRequests[i] !== 0) return false;
    return true;
  }

  /**
   * Fills requested/allocated/allocatable for one node. Skipped resources get allocatable 0 (and 0 requests), which
   * every scorer treats as "not scored".
   */
  fill(node: NodeInfo, podRequests: Float64Array): void {
    const nodeReq = this.useRequested ? node.requested : node.nonZeroRequested;
    const alloc = node.allocatable;
    for (let i = 0; i < this.kinds.length; i++) {
      const kind = this.kinds[i] as number;
      const podReq = podRequests[i] as number;
      let a = 0;
      let used = 0;
      switch (kind) {
        case KIND_CPU:
          a = alloc.milliCpu;
          used = nodeReq.milliCpu;
          break;
        case KIND_MEMORY:
          a = alloc.memory;
          used = nodeReq.memory;
          break;
        case KIND_EPHEMERAL:
          a = alloc.ephemeralStorage;
          used = node.requested.ephemeralStorage;
          break;
        case KIND_SCALAR:
          if (podReq !== 0) {
            const name = this.names[i] as string;
            a = alloc.get(name);
            used = node.requested.get(name);
          }
          break;
        default:
          break;
      }
      if (a === 0) {
        this.allocatable[i] = 0;
        this.requested[i] = 0;
        this.allocated[i] = 0;
      } else {
        this.allocatable[i] = a;
        this.allocated[i] = used;
        this.requested[i] = used + podReq;
      }
    }
  }
}

/** Per-node raw score from the filled vectors. */
export type VectorScorer = (v: ResourceVectors) => number;

/** Upstream leastRequestedScore: (capacity − requested) × 100 / capacity; 0 when capacity is 0 or overcommitted. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return mulDiv(capacity - requested, MAX_NODE_SCORE, capacity);
}

/** Upstream mostRequestedScore: min(requested, capacity) × 100 / capacity; 0 when capacity is 0. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return mulDiv(Math.min(requested, capacity), MAX_NODE_SCORE, capacity);
}

function weightedAverage(v: ResourceVectors, perResource: (requested: number, capacity: number) => number): number {
  let nodeScore = 0;
  let weightSum = 0;
  for (let i = 0; i < v.length; i++) {
    const cap = v.allocatable[i] as number;
    if (cap === 0) continue;
    const w = v.weights[i] as number;
    nodeScore += perResource(v.requested[i] as number, cap) * w;
    weightSum += w;
  }
  if (weightSum === 0) return 0;
  return goDiv(nodeScore, weightSum);
}

export const leastAllocatedScorer: VectorScorer = (v) => weightedAverage(v, leastRequestedScore);
export const mostAllocatedScorer: VectorScorer = (v) => weightedAverage(v, mostRequestedScore);

/**
 * Upstream helper.BuildBrokenLinearFunction over shape points already scaled to 0..MaxNodeScore: the first point's
 * score at or below its utilization, the last point's above the last utilization, integer linear interpolation
 * (Go truncating division) in between.
 */
export function buildBrokenLinearFunction(shape: ReadonlyArray<{ utilization: number; score: number }>): (p: number) => number {
  const util = shape.map((s) => s.utilization);
  const score = shape.map((s) => s.score);
  const n = shape.length;
  return (p: number): number => {
    for (let i = 0; i < n; i++) {
      if (p <= (util[i] as number)) {
        if (i === 0) return score[0] as number;
        const u0 = util[i - 1] as number;
        const s0 = score[i - 1] as number;
        return s0 + goDiv(((score[i] as number) - s0) * (p - u0), (util[i] as number) - u0);
      }
    }
    return score[n - 1] as number;
  };
}

/** Upstream scaledUtilization: requested × 100 / capacity with requested clamped to [0, capacity]. */
function scaledUtilization(requested: number, capacity: number): number {
  if (capacity <= 0 || requested <= 0) return 0;
  if (requested >= capacity) return MAX_UTILIZATION;
  return mulDiv(requested, MAX_UTILIZATION, capacity);
}

/**
 * Upstream RequestedToCapacityRatio: shape scores scaled by MaxNodeScore / MaxCustomPriorityScore; per resource
 * f(utilization) (f(100) when capacity is 0 or the node is overcommitted); only resources scoring > 0 enter the
 * weighted average, which is rounded (math.Round, half away from zero; all values here are non-negative).
 */
export function requestedToCapacityRatioScorer(shape: readonly UtilizationShapePoint[]): VectorScorer {
  const scale = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
  const f = buildBrokenLinearFunction(shape.map((p) => ({ utilization: p.utilization, score: p.score * scale })));
  const fMax = f(MAX_UTILIZATION);
  return (v) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < v.length; i++) {
      const cap = v.allocatable[i] as number;
      if (cap === 0) continue;
      const req = v.requested[i] as number;
      const s = req > cap ? fMax : f(scaledUtilization(req, cap));
      if (s > 0) {
        const w = v.weights[i] as number;
        nodeScore += s * w;
        weightSum += w;
      }
    }
    if (weightSum === 0) return 0;
    return Math.round(nodeScore / weightSum);
  };
}

/**
 * Upstream balancedResourceScore: fractions requested/allocatable capped at 1 over the scored resources; two
 * resources: std = |f1 − f2| / 2; more: population standard deviation; fewer: 0. Score int64((1 − std) × 100).
 * Float64 operations in upstream's order (JS doubles are IEEE binary64 like Go's float64).
 */
export function balancedResourceScore(requested: Float64Array, allocatable: Float64Array): number {
  let count = 0;
  let total = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < requested.length; i++) {
    const cap = allocatable[i] as number;
    if (cap === 0) continue;
    let fraction = (requested[i] as number) / cap;
    if (fraction > 1) fraction = 1;
    total += fraction;
    if (count === 0) first = fraction;
    else if (count === 1) second = fraction;
    count++;
  }
  let std = 0;
  if (count === 2) {
    std = Math.abs((first - second) / 2);
  } else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i] as number;
      if (cap === 0) continue;
      let fraction = (requested[i] as number) / cap;
      if (fraction > 1) fraction = 1;
      sum = sum + (fraction - mean) * (fraction - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}
