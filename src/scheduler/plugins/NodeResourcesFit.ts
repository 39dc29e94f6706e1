/**
 * NodeResourcesFit (upstream pkg/scheduler/framework/plugins/noderesources/fit.go): PreFilter computes the pod's
 * request vector once; Filter rejects nodes without room for it; PreScore/Score rank nodes by the configured
 * strategy (LeastAllocated, MostAllocated, RequestedToCapacityRatio). No NormalizeScore.
 *
 * Filter, as upstream's fitsRequest:
 * 1. "Too many pods" when pods on the node + 1 > allocatable pods — checked for every pod.
 * 2. A pod requesting nothing (cpu, memory, ephemeral-storage and scalar resources all zero) stops here.
 * 3. cpu, memory, ephemeral-storage (each only when requested > 0), then each requested scalar resource not ignored:
 *    insufficient when request > allocatable − requested (real requests, never the non-zero defaults).
 *    ignoredResources / ignoredResourceGroups (prefix before "/") apply to extended resources only, as upstream.
 *    DRAExtendedResource (on in v1.37): a scalar resource the node does not advertise (allocatable 0) is not checked
 *    when a DeviceClass serves it: DynamicResources allocates devices for it instead.
 * All reasons go into one Status in that order. Upstream walks scalar resources in Go map order (random); berth uses
 * the order the pod declares them, so messages are deterministic.
 *
 * Status code: Unschedulable, or UnschedulableAndUnresolvable when any insufficient resource's request exceeds the
 * node's total allocatable (preemption could never help). That rule arrived in v1.34 (kubernetes/kubernetes#131345)
 * and is kept in v1.35–v1.36 and master; berth follows it. "Too many pods" alone never makes a node unresolvable.
 *
 * PreScore never returns Skip: upstream's Fit.PreScore always writes its state (unlike BalancedAllocation's).
 */
import {
  Code,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/types.js';
import type { ArgsDecoder, ClusterEvent, FieldPath, PluginArgsSpec, PluginDescriptor, QueueingHint } from '../framework/plugin.js';
import type { DeviceClass } from '../../kube/resource.js';
import { DEVICE_CLASS_RESOURCE_PREFIX } from '../cache/extendedResourceIndex.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { ClusterView } from '../cache/clusterState.js';
import { isExtendedResourceName } from '../../kube/resources.js';
import {
  leastAllocatedScorer,
  mostAllocatedScorer,
  requestedToCapacityRatioScorer,
  ResourceVectors,
  type VectorScorer,
} from './resourceAllocation.js';
import {
  checkLabelName,
  decodeDefaultedResources,
  decodeShape,
  defaultResources,
  type ResourceSpec,
  type UtilizationShapePoint,
  validateShape,
} from './argsHelpers.js';

export const NAME = 'NodeResourcesFit';

/** NodeResourcesFitArgs, defaulted and validated. */
export interface NodeResourcesFitArgs {
  ignoredResources: string[];
  ignoredResourceGroups: string[];
  scoringStrategy: {
    type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources: ResourceSpec[];
    requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
  };
}

const PRE_FILTER_KEY = 'NodeResourcesFit/preFilter';
const PRE_SCORE_KEY = 'NodeResourcesFit/preScore';

export const REASON_TOO_MANY_PODS = 'Too many pods';
export const REASON_CPU = 'Insufficient cpu';
export const REASON_MEMORY = 'Insufficient memory';
export const REASON_EPHEMERAL_STORAGE = 'Insufficient ephemeral-storage';

const BIT_PODS = 1;
const BIT_CPU = 2;
const BIT_MEMORY = 4;
const BIT_EPHEMERAL = 8;
const BIT_UNRESOLVABLE = 16;

/**
 * Every combination of the fixed reasons (and the two codes) as a shared constant, so rejections without scalar
 * resources allocate nothing. Index = reason bits | unresolvable bit.
 */
const FIXED_STATUSES: readonly (Status | null)[] = Array.from({ length: 32 }, (_, mask) => {
  const reasons = fixedReasons(mask);
  if (reasons.length === 0) return null;
  return new Status(mask & BIT_UNRESOLVABLE ? Code.UnschedulableAndUnresolvable : Code.Unschedulable, ...reasons);
});

function fixedReasons(mask: number): string[] {
  const reasons: string[] = [];
  if (mask & BIT_PODS) reasons.push(REASON_TOO_MANY_PODS);
  if (mask & BIT_CPU) reasons.push(REASON_CPU);
  if (mask & BIT_MEMORY) reasons.push(REASON_MEMORY);
  if (mask & BIT_EPHEMERAL) reasons.push(REASON_EPHEMERAL_STORAGE);
  return reasons;
}

/** "Insufficient <name>" strings, built once per resource name for the process. */
const scalarReasons = new Map<string, string>();
function scalarReason(name: string): string {
  let r = scalarReasons.get(name);
  if (r === undefined) {
    r = `Insufficient ${name}`;
    scalarReasons.set(name, r);
  }
  return r;
}

/** Upstream preFilterState: the pod's real request vector, with the scalar resources to check resolved once. */
interface PreFilterState {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  /** True when the pod requests nothing at all: only the pod-count check runs. */
  requestsNothing: boolean;
  /** Scalar resources with a request > 0 that are not ignored, in the pod's declaration order. */
  scalarNames: string[];
  scalarQuantities: number[];
  scalarReasons: string[];
}

interface PreScoreState {
  podRequests: Float64Array;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly ignoredResources: ReadonlySet<string>;
  private readonly ignoredResourceGroups: ReadonlySet<string>;
  private readonly vectors: ResourceVectors;
  private readonly scorer: VectorScorer;

  /**
   * `classes`: where DeviceClasses serving extended resources are looked up (the cache's read-only view); without
   * it (unit tests of resource arithmetic) no resource is left to DRA.
   */
  constructor(
    args: NodeResourcesFitArgs,
    private readonly classes?: Pick<ClusterView, 'deviceClassForExtendedResource'>,
  ) {
    this.ignoredResources = new Set(args.ignoredResources);
    this.ignoredResourceGroups = new Set(args.ignoredResourceGroups);
    const strategy = args.scoringStrategy;
    this.vectors = new ResourceVectors(strategy.resources, false);
    switch (strategy.type) {
      case 'LeastAllocated':
        this.scorer = leastAllocatedScorer;
        break;
      case 'MostAllocated':
        this.scorer = mostAllocatedScorer;
        break;
      case 'RequestedToCapacityRatio': {
        const shape = strategy.requestedToCapacityRatio?.shape;
        if (!shape || shape.length === 0) {
          throw new Error('NodeResourcesFit: RequestedToCapacityRatio scoring needs requestedToCapacityRatio.shape');
        }
        this.scorer = requestedToCapacityRatioScorer(shape);
        break;
      }
      default:
        throw new Error(`NodeResourcesFit: scoring strategy ${String((strategy as { type: unknown }).type)} is not supported`);
    }
  }

  preFilter(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[]): PreFilterOutcome {
    state.write(PRE_FILTER_KEY, this.computePreFilterState(pod));
    return null;
  }

  private computePreFilterState(pod: PodInfo): PreFilterState {
    // Upstream computePodResourceRequest: pod-level resources count, the status does not (the pod is not running).
    const req = pod.specRequests;
    const names: string[] = [];
    const quantities: number[] = [];
    const reasons: string[] = [];
    let anyScalar = false;
    if (req.scalar) {
      for (const [name, quantity] of req.scalar) {
        anyScalar = true;
        if (quantity === 0) continue;
        if (isExtendedResourceName(name) && this.isIgnored(name)) continue;
        names.push(name);
        quantities.push(quantity);
        reasons.push(scalarReason(name));
      }
    }
    return {
      milliCpu: req.milliCpu,
      memory: req.memory,
      ephemeralStorage: req.ephemeralStorage,
      requestsNothing: req.milliCpu === 0 && req.memory === 0 && req.ephemeralStorage === 0 && !anyScalar,
      scalarNames: names,
      scalarQuantities: quantities,
      scalarReasons: reasons,
    };
  }

  private isIgnored(name: string): boolean {
    if (this.ignoredResources.has(name)) return true;
    if (this.ignoredResourceGroups.size === 0) return false;
    const slash = name.indexOf('/');
    return this.ignoredResourceGroups.has(slash < 0 ? name : name.slice(0, slash));
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    let s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) {
      // Upstream reports an error when PreFilter did not run; berth computes the state instead (same result).
      s = this.computePreFilterState(pod);
      state.write(PRE_FILTER_KEY, s);
    }
    const alloc = node.allocatable;
    const used = node.requested;
    let mask = 0;
    if (node.pods.length + 1 > alloc.allowedPodNumber) mask |= BIT_PODS;
    if (s.requestsNothing) return mask === 0 ? null : (FIXED_STATUSES[mask] as Status);

    if (s.milliCpu > 0 && s.milliCpu > alloc.milliCpu - used.milliCpu) {
      mask |= BIT_CPU;
      if (s.milliCpu > alloc.milliCpu) mask |= BIT_UNRESOLVABLE;
    }
    if (s.memory > 0 && s.memory > alloc.memory - used.memory) {
      mask |= BIT_MEMORY;
      if (s.memory > alloc.memory) mask |= BIT_UNRESOLVABLE;
    }
    if (s.ephemeralStorage > 0 && s.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
      mask |= BIT_EPHEMERAL;
      if (s.ephemeralStorage > alloc.ephemeralStorage) mask |= BIT_UNRESOLVABLE;
    }

    let scalarFailures: string[] | null = null;
    const names = s.scalarNames;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const quantity = s.scalarQuantities[i] as number;
      const capacity = alloc.get(name);
      if (capacity === 0 && this.classes?.deviceClassForExtendedResource(name)) continue;
      if (quantity > capacity - used.get(name)) {
        if (scalarFailures === null) scalarFailures = [];
        scalarFailures.push(s.scalarReasons[i] as string);
        if (quantity > capacity) mask |= BIT_UNRESOLVABLE;
      }
    }

    if (scalarFailures === null) return mask === 0 ? null : (FIXED_STATUSES[mask] as Status);
    const code = mask & BIT_UNRESOLVABLE ? Code.UnschedulableAndUnresolvable : Code.Unschedulable;
    return new Status(code, ...fixedReasons(mask), ...scalarFailures);
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[]): Status | null {
    const s: PreScoreState = { podRequests: this.vectors.podRequests(pod) };
    state.write(PRE_SCORE_KEY, s);
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (this.vectors.length === 0) throw new Error('NodeResourcesFit: resources not found');
    let s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined) {
      s = { podRequests: this.vectors.podRequests(pod) };
      state.write(PRE_SCORE_KEY, s);
    }
    this.vectors.fill(node, s.podRequests);
    return this.scorer(this.vectors);
  }
}

/**
 * Upstream isSchedulableAfterDeviceClassEvent: a class added whose implicit name the pod requests, or a class added
 * or updated whose extendedResourceName (changed, for an update) the pod requests. Deletions never help.
 */
export function afterDeviceClassChange(pod: PodInfo, event: ClusterEvent): QueueingHint {
  const before = event.oldObject as DeviceClass | undefined;
  const after = event.newObject as DeviceClass | undefined;
  if (!after) return event.oldObject === undefined ? 'Queue' : 'Skip';
  const requested = (name: string): boolean => pod.specRequests.scalar?.has(name) === true;
  if (before) {
    if ((before.spec?.extendedResourceName ?? '') === (after.spec?.extendedResourceName ?? '')) return 'Skip';
  } else if (requested(`${DEVICE_CLASS_RESOURCE_PREFIX}${after.metadata?.name ?? ''}`)) {
    return 'Queue';
  }
  const named = after.spec?.extendedResourceName;
  return named !== undefined && requested(named) ? 'Queue' : 'Skip';
}

// ---------------------------------------------------------------------------------------------------------------
// pluginConfig args: upstream's defaulting and validation of NodeResourcesFitArgs.

type ScoringStrategy = NodeResourcesFitArgs['scoringStrategy'];
const SCORING_TYPES = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'] as const;

function defaultArgs(): NodeResourcesFitArgs {
  return { ignoredResources: [], ignoredResourceGroups: [], scoringStrategy: { type: 'LeastAllocated', resources: defaultResources() } };
}

/** ignoredResources: label names. */
function decodeIgnoredResources(dec: ArgsDecoder, value: unknown, path: FieldPath): string[] {
  const out: string[] = [];
  (dec.array(value, path) ?? []).forEach((r, i) => {
    const s = dec.string(r, [...path, i]);
    if (s === undefined) return;
    checkLabelName(dec, s, [...path, i]);
    out.push(s);
  });
  return out;
}

/** ignoredResourceGroups: label names without "/" (the prefix of extended resource names). */
function decodeIgnoredGroups(dec: ArgsDecoder, value: unknown, path: FieldPath): string[] {
  const out: string[] = [];
  (dec.array(value, path) ?? []).forEach((g, i) => {
    const s = dec.string(g, [...path, i]);
    if (s === undefined) return;
    if (s.includes('/')) dec.error([...path, i], `resource group name "${s}" can't contain '/'`, 'give the group prefix only, e.g. "example.com"');
    else checkLabelName(dec, s, [...path, i]);
    out.push(s);
  });
  return out;
}

/** A scoringStrategy as written; undefined when absent (upstream then defaults the whole strategy). */
function decodeScoringStrategy(dec: ArgsDecoder, value: unknown, path: FieldPath): ScoringStrategy | undefined {
  const raw = dec.object(value, path, ['type', 'resources', 'requestedToCapacityRatio'], 'scoringStrategy');
  if (raw === undefined) return undefined;
  const type = dec.string(raw['type'], [...path, 'type']);
  const knownType = SCORING_TYPES.find((t) => t === type);
  if (knownType === undefined) {
    // Upstream only defaults the type when the whole scoringStrategy is absent.
    dec.error(
      [...path, 'type'],
      type === undefined || type === '' ? 'scoringStrategy.type is required' : `unsupported scoring strategy type "${type}"`,
      `supported values: ${SCORING_TYPES.join(', ')}`,
    );
  }
  const resources = decodeDefaultedResources(dec, raw['resources'], [...path, 'resources']);
  resources.forEach((r, i) => {
    if (r.weight <= 0 || r.weight > 100) {
      dec.error([...path, 'resources', i, 'weight'], `resource weight of ${r.name} not in valid range (0, 100]`, 'use a weight from 1 to 100 (0 means 1)');
    }
    if (r.name === '') dec.error([...path, 'resources', i, 'name'], 'resource name is required', 'name a resource such as cpu or memory');
  });
  const strategy: ScoringStrategy = { type: knownType ?? 'LeastAllocated', resources };

  const ratioPath = [...path, 'requestedToCapacityRatio'];
  const rawRatio = dec.object(raw['requestedToCapacityRatio'], ratioPath, ['shape'], 'requestedToCapacityRatio');
  if (knownType === 'RequestedToCapacityRatio') {
    if (rawRatio === undefined) {
      dec.error(ratioPath, 'requestedToCapacityRatio must be specified when type is RequestedToCapacityRatio', 'add requestedToCapacityRatio.shape with utilization/score points');
    } else {
      const shape = decodeShape(dec, rawRatio['shape'], [...ratioPath, 'shape']) ?? [];
      validateShape(dec, shape, [...ratioPath, 'shape']);
      strategy.requestedToCapacityRatio = { shape };
    }
  } else if (rawRatio !== undefined) {
    dec.error(ratioPath, 'requestedToCapacityRatio must be nil when type is not RequestedToCapacityRatio', 'remove it or set type: RequestedToCapacityRatio');
  }
  return strategy;
}

const argsSpec: PluginArgsSpec<NodeResourcesFitArgs> = {
  fields: ['ignoredResources', 'ignoredResourceGroups', 'scoringStrategy'],
  defaults: defaultArgs,
  decode: (dec, raw, path) => {
    const out = defaultArgs();
    out.ignoredResources = decodeIgnoredResources(dec, raw['ignoredResources'], [...path, 'ignoredResources']);
    out.ignoredResourceGroups = decodeIgnoredGroups(dec, raw['ignoredResourceGroups'], [...path, 'ignoredResourceGroups']);
    out.scoringStrategy = decodeScoringStrategy(dec, raw['scoringStrategy'], [...path, 'scoringStrategy']) ?? out.scoringStrategy;
    return out;
  },
  render: (a) => {
    const strategy: Record<string, unknown> = {
      type: a.scoringStrategy.type,
      resources: a.scoringStrategy.resources.map((r) => ({ ...r })),
    };
    if (a.scoringStrategy.requestedToCapacityRatio !== undefined) {
      strategy['requestedToCapacityRatio'] = { shape: a.scoringStrategy.requestedToCapacityRatio.shape.map((p) => ({ ...p })) };
    }
    const out: Record<string, unknown> = {};
    if (a.ignoredResources.length > 0) out['ignoredResources'] = [...a.ignoredResources];
    if (a.ignoredResourceGroups.length > 0) out['ignoredResourceGroups'] = [...a.ignoredResourceGroups];
    out['scoringStrategy'] = strategy;
    return out;
  },
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate', { event: 'DeviceClassChange', hint: afterDeviceClassChange }],
  args: argsSpec,
  create: (handle, args) => new NodeResourcesFit(args, handle.cluster),
} satisfies PluginDescriptor<NodeResourcesFitArgs>;
