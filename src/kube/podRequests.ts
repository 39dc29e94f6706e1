/**
 * A pod's resource requests as upstream v1.37 computes them (k8s.io/component-helpers/resource PodRequests, with
 * the options the scheduler passes):
 *
 * - Containers: regular containers and sidecars (restartable init containers) run together; each ordinary init
 *   container runs alone beside the sidecars declared before it; the pod needs the larger of the two
 *   (aggregateContainerResourcesByFn).
 * - Pod-level resources (PodLevelResources, beta and on since v1.34): when spec.resources.requests names cpu,
 *   memory or hugepages-*, those values replace the container totals for those names (applyPodLevelResources);
 *   everything else (ephemeral-storage, extended resources) stays container-level.
 * - Overhead (spec.overhead) is added last.
 * - In-place resize (InPlacePodVerticalScaling, GA; UseStatusResources): a pod counts the per-resource max of its
 *   spec, what the kubelet allocated (containerStatuses[].allocatedResources) and what it actually applied
 *   (containerStatuses[].resources.requests) — AggregateContainerRequests. When the resize is Infeasible
 *   (PodResizePending condition with reason Infeasible) the spec is left out. With
 *   InPlacePodLevelResourcesVerticalScaling (beta and on since v1.36) the pod-level status totals
 *   (status.allocatedResources and status.resources.requests) stand in for the container statuses when both are
 *   present, and pod-level requests take the max with them too (effectivePodLevelResources). A Deferred resize, or
 *   one in progress, needs no rule of its own: the max of the three covers it. The deprecated status.resize field is
 *   not read by upstream v1.37, nor here.
 * - Non-zero defaults (NonMissingContainerRequests): for scoring, a container naming no cpu (memory) request counts
 *   100m (200Mi). When pod-level requests are set, a default applies only to a resource the pod's requests do not
 *   name at all (framework getNonMissingContainerRequests).
 *
 * Amounts are in the scheduler's units: cpu in milli-units, everything else in whole units. A resource list keeps
 * every name it was given, as upstream's v1.ResourceList does: whether a name is present (even at 0) matters for
 * the non-zero defaults.
 */
import type { Container, ContainerStatus, Pod, ResourceMap, ResourceRequirements } from './api.js';
import { parseMilliQuantity, parseQuantity } from './quantity.js';
import {
  CPU,
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  isAccountedResourceName,
  MEMORY,
  Resource,
  ResourceParseError,
} from './resources.js';

/** upstream v1.ResourceList: name → amount; a present name with amount 0 differs from an absent one. */
export type ResourceList = Map<string, number>;

const HUGEPAGES_PREFIX = 'hugepages-';

/** Upstream IsSupportedPodLevelResource: cpu, memory and hugepages-*. */
export function isSupportedPodLevelResource(name: string): boolean {
  return name === CPU || name === MEMORY || name.startsWith(HUGEPAGES_PREFIX);
}

/** One container's resources as parsed once: its spec requests and, when reported, its status. */
interface ContainerResources {
  restartable: boolean;
  /** resources.requests, with limits standing in for missing requests (the API server's defaulting). */
  spec: ResourceList;
  /** status.allocatedResources, when the kubelet reported it. */
  allocated: ResourceList | undefined;
  /** status.resources.requests, when the kubelet reported it. */
  actual: ResourceList | undefined;
}

/** Everything of a pod the request computations read, parsed once per pod. */
export interface PodResourceFacts {
  containers: ContainerResources[];
  initContainers: ContainerResources[];
  /** spec.resources.requests after the API server's pod-level defaulting; undefined when none are set. */
  podLevelRequests: ResourceList | undefined;
  /** Upstream IsPodLevelRequestsSet: the pod-level requests name a supported resource. */
  podLevelRequestsSet: boolean;
  overhead: ResourceList | undefined;
  /** status.allocatedResources (pod level). */
  statusAllocated: ResourceList | undefined;
  /** status.resources.requests (pod level). */
  statusActual: ResourceList | undefined;
  /** status.resources is present (the condition upstream checks before reading pod-level status requests). */
  statusResourcesPresent: boolean;
  /** Upstream IsPodResizeInfeasible: the first PodResizePending condition has reason Infeasible. */
  resizeInfeasible: boolean;
  /** True when some status field can change the result (otherwise status-aware and spec-only results agree). */
  statusMatters: boolean;
}

export interface RequestOptions {
  /** UseStatusResources (in-place resize, GA), with the pod-level status of InPlacePodLevelResourcesVerticalScaling. */
  useStatus: boolean;
  /** SkipPodLevelResources. */
  skipPodLevel: boolean;
  /** NonMissingContainerRequests. */
  nonMissing?: ResourceList;
}

/**
 * Parsed quantities by text, cpu (milli-units) and the rest (whole units) apart. Clusters repeat a handful of
 * quantity strings ("100m", "512Mi") across thousands of pods, and exact parsing is the costly part of a PodInfo;
 * bounded so that odd inputs cannot grow it without end.
 */
const milliCache = new Map<string, number>();
const wholeCache = new Map<string, number>();
const CACHE_LIMIT = 4096;

function cachedQuantity(raw: string | number, milli: boolean): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  const cache = milli ? milliCache : wholeCache;
  let value = cache.get(text);
  if (value === undefined) {
    value = milli ? parseMilliQuantity(text) : parseQuantity(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, value);
  }
  return value;
}

/** Parses a requests/limits/status map keeping every name; `field` names the map for errors. */
export function parseResourceList(map: ResourceMap | undefined, field: string, into: ResourceList = new Map()): ResourceList {
  if (!map) return into;
  for (const name in map) {
    try {
      into.set(name, cachedQuantity(map[name] as string | number, name === CPU));
    } catch (err) {
      throw new ResourceParseError(`${field}.${name}`, (err as Error).message);
    }
  }
  return into;
}

function isMap(v: unknown): v is ResourceMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Adds newList into list (upstream addResourceList). */
function addList(list: ResourceList, newList: ResourceList | undefined): void {
  if (!newList) return;
  for (const [name, value] of newList) list.set(name, (list.get(name) ?? 0) + value);
}

/** Keeps the larger value per name of newList in list (upstream maxResourceList). */
function maxList(list: ResourceList, newList: ResourceList | undefined): void {
  if (!newList) return;
  for (const [name, value] of newList) {
    const current = list.get(name);
    if (current === undefined || value > current) list.set(name, value);
  }
}

/** A fresh list with the per-name max of the given lists (upstream max). */
function maxOf(lists: ReadonlyArray<ResourceList | undefined>): ResourceList {
  const out: ResourceList = new Map();
  for (const list of lists) maxList(out, list);
  return out;
}

/** Upstream applyNonMissing: the list with each default added for a name the list lacks. */
function withNonMissing(list: ResourceList | undefined, nonMissing: ResourceList | undefined): ResourceList | undefined {
  if (!nonMissing || nonMissing.size === 0) return list;
  const out: ResourceList = new Map(list ?? []);
  for (const [name, value] of nonMissing) if (!list?.has(name)) out.set(name, (out.get(name) ?? 0) + value);
  return out;
}

/** Which of a container's lists a computation aggregates; `infeasible` drops the spec fallback. */
type ContainerPick = (c: ContainerResources, infeasible: boolean) => ResourceList | undefined;

const specOf: ContainerPick = (c) => c.spec;
/** Upstream containerAllocatedRequests. */
const allocatedOf: ContainerPick = (c, infeasible) => c.allocated ?? (infeasible ? undefined : c.spec);
/** Upstream containerActuatedRequests. */
const actualOf: ContainerPick = (c, infeasible) => c.actual ?? c.allocated ?? (infeasible ? undefined : c.spec);

type Containers = Pick<PodResourceFacts, 'containers' | 'initContainers'>;

/** Upstream aggregateContainerResourcesByFn: containers and sidecars summed, each init container beside earlier sidecars. */
function aggregate(f: Containers, pick: ContainerPick, nonMissing: ResourceList | undefined, infeasible: boolean): ResourceList {
  const result: ResourceList = new Map();
  for (const c of f.containers) addList(result, withNonMissing(pick(c, infeasible), nonMissing));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of f.initContainers) {
    const list = withNonMissing(pick(c, infeasible), nonMissing);
    if (c.restartable) {
      addList(result, list);
      addList(sidecars, list);
      maxList(initMax, sidecars);
    } else {
      const beside: ResourceList = new Map(list ?? []);
      addList(beside, sidecars);
      maxList(initMax, beside);
    }
  }
  maxList(result, initMax);
  return result;
}

/** Upstream AggregateContainerRequests. */
function containerRequests(f: PodResourceFacts, o: RequestOptions): ResourceList {
  if (!o.useStatus) return aggregate(f, specOf, o.nonMissing, false);
  const infeasible = f.resizeInfeasible;
  const spec = aggregate(f, specOf, o.nonMissing, infeasible);
  let allocated: ResourceList;
  let actual: ResourceList;
  if (f.statusAllocated && f.statusActual) {
    // Pod-level status totals already aggregate every container (InPlacePodLevelResourcesVerticalScaling).
    allocated = f.statusAllocated;
    actual = f.statusActual;
  } else {
    allocated = aggregate(f, allocatedOf, o.nonMissing, infeasible);
    actual = aggregate(f, actualOf, o.nonMissing, infeasible);
  }
  return infeasible ? maxOf([actual, allocated]) : maxOf([spec, actual, allocated]);
}

/** Upstream PodRequests: container totals, pod-level requests over them, then overhead. Returns a fresh list. */
export function podRequestList(f: PodResourceFacts, o: RequestOptions): ResourceList {
  const reqs = containerRequests(f, o);
  if (!o.skipPodLevel && f.podLevelRequestsSet && f.podLevelRequests) {
    let effective: ResourceList = f.podLevelRequests;
    if (o.useStatus && f.statusResourcesPresent) {
      // Upstream effectivePodLevelResources: an infeasible resize leaves the spec out.
      effective = maxOf([f.resizeInfeasible ? undefined : f.podLevelRequests, f.statusActual, f.statusAllocated]);
    }
    for (const [name, value] of effective) if (isSupportedPodLevelResource(name)) reqs.set(name, value);
  }
  addList(reqs, f.overhead);
  return reqs;
}

/** Upstream framework.Resource.Add: the names the scheduler accounts (cpu, memory, ephemeral-storage, pods, scalars). */
export function toResource(list: ResourceList): Resource {
  const out = new Resource();
  for (const [name, value] of list) {
    if (isAccountedResourceName(name)) {
      out.set(name, value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing, once per pod.

/** A container's requests with its limits standing in for the requests it does not name (API-server defaulting). */
function parseContainerSpec(resources: ResourceRequirements | undefined, field: string): ResourceList {
  const out = parseResourceList(resources?.requests, `${field}.resources.requests`);
  const limits = resources?.limits;
  if (!limits) return out;
  for (const name in limits) {
    if (out.has(name)) continue;
    try {
      out.set(name, cachedQuantity(limits[name] as string | number, name === CPU));
    } catch (err) {
      throw new ResourceParseError(`${field}.resources.limits.${name}`, (err as Error).message);
    }
  }
  return out;
}

/** Upstream findContainerStatus: the first status of that name among containerStatuses, then initContainerStatuses. */
function statusLookup(pod: Pod, prefix: string): (name: string | undefined) => { status: ContainerStatus; field: string } | undefined {
  const lists: Array<[ContainerStatus[] | undefined, string]> = [
    [pod.status?.containerStatuses, 'containerStatuses'],
    [pod.status?.initContainerStatuses, 'initContainerStatuses'],
  ];
  return (name) => {
    if (name === undefined) return undefined;
    for (const [list, key] of lists) {
      const i = (list ?? []).findIndex((s) => s?.name === name);
      if (i >= 0) return { status: (list as ContainerStatus[])[i] as ContainerStatus, field: `${prefix}status.${key}[${i}]` };
    }
    return undefined;
  };
}

function parseContainers(pod: Pod, prefix: string, key: 'containers' | 'initContainers'): ContainerResources[] {
  const find = statusLookup(pod, prefix);
  return (pod.spec?.[key] ?? []).map((c: Container, i) => {
    const found = find(c.name);
    const allocated = found?.status.allocatedResources;
    const actual = found?.status.resources?.requests;
    return {
      restartable: key === 'initContainers' && c.restartPolicy === 'Always',
      spec: parseContainerSpec(c.resources, `${prefix}spec.${key}[${i}]`),
      allocated: isMap(allocated) ? parseResourceList(allocated, `${found?.field}.allocatedResources`) : undefined,
      actual: isMap(actual) ? parseResourceList(actual, `${found?.field}.resources.requests`) : undefined,
    };
  });
}

/**
 * spec.resources.requests as the API server stores it (DefaultPodLevelResources, PodLevelResourcesFixDefaulting:
 * beta and on in v1.37): once any pod-level request or limit is set, a missing cpu or memory request takes the
 * containers' total, then a missing supported request takes the pod-level limit. Pods read from the API server are
 * already defaulted (this changes nothing for them); hand-written snapshots get what the API server would store.
 * Hugepage limits defaulted from the containers' are left out: hugepage requests equal limits, so the pod-level value
 * would equal the containers' total the scheduler uses anyway.
 */
function parsePodLevelRequests(pod: Pod, containers: Containers, prefix: string): ResourceList | undefined {
  const resources = pod.spec?.resources;
  const requestMap = isMap(resources?.requests) ? resources.requests : {};
  const limitMap = isMap(resources?.limits) ? resources.limits : {};
  if (Object.keys(requestMap).length === 0 && Object.keys(limitMap).length === 0) return undefined;
  const requests = parseResourceList(requestMap, `${prefix}spec.resources.requests`);
  const limits = parseResourceList(limitMap, `${prefix}spec.resources.limits`);
  for (const [name, value] of aggregate(containers, specOf, undefined, false)) {
    if ((name === CPU || name === MEMORY) && !requests.has(name)) requests.set(name, value);
  }
  for (const [name, value] of limits) if (isSupportedPodLevelResource(name) && !requests.has(name)) requests.set(name, value);
  return requests.size > 0 ? requests : undefined;
}

/** Upstream IsPodResizeInfeasible: the first PodResizePending condition decides. */
function isResizeInfeasible(pod: Pod): boolean {
  for (const raw of pod.status?.conditions ?? []) {
    const c = raw as { type?: unknown; reason?: unknown } | null;
    if (c && c.type === 'PodResizePending') return c.reason === 'Infeasible';
  }
  return false;
}

/** Parses every resource field of the pod the computations read; `prefix` is prepended to error fields. */
export function parsePodResources(pod: Pod, prefix = ''): PodResourceFacts {
  const containers = parseContainers(pod, prefix, 'containers');
  const initContainers = parseContainers(pod, prefix, 'initContainers');
  const podLevelRequests = parsePodLevelRequests(pod, { containers, initContainers }, prefix);
  const status = pod.status;
  const statusAllocated = isMap(status?.allocatedResources) ? parseResourceList(status.allocatedResources, `${prefix}status.allocatedResources`) : undefined;
  const actualMap = status?.resources?.requests;
  const statusActual = isMap(actualMap) ? parseResourceList(actualMap, `${prefix}status.resources.requests`) : undefined;
  const statusResourcesPresent = isMap(status?.resources);
  const resizeInfeasible = isResizeInfeasible(pod);
  const anyContainerStatus = [...containers, ...initContainers].some((c) => c.allocated !== undefined || c.actual !== undefined);
  return {
    containers,
    initContainers,
    podLevelRequests,
    podLevelRequestsSet: podLevelRequests !== undefined && [...podLevelRequests.keys()].some(isSupportedPodLevelResource),
    overhead: isMap(pod.spec?.overhead) ? parseResourceList(pod.spec.overhead, `${prefix}spec.overhead`) : undefined,
    statusAllocated,
    statusActual,
    statusResourcesPresent,
    resizeInfeasible,
    statusMatters: resizeInfeasible || statusResourcesPresent || statusAllocated !== undefined || anyContainerStatus,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The views of a pod the scheduler needs.

/** Upstream's defaults for a container naming no cpu / memory request (NonMissingContainerRequests when scoring). */
const NON_ZERO_DEFAULTS: ResourceList = new Map([
  [CPU, DEFAULT_MILLI_CPU_REQUEST],
  [MEMORY, DEFAULT_MEMORY_REQUEST],
]);

/** Upstream getNonMissingContainerRequests: with pod-level requests, only names the pod's requests lack get a default. */
function nonMissingFor(requests: ResourceList, podLevelRequestsSet: boolean): ResourceList {
  if (!podLevelRequestsSet) return NON_ZERO_DEFAULTS;
  const out: ResourceList = new Map();
  for (const [name, value] of NON_ZERO_DEFAULTS) if (!requests.has(name)) out.set(name, value);
  return out;
}

export interface PodRequests {
  /**
   * What the pod holds on its node (upstream PodInfo.CalculateResource): status-aware, pod-level aware. NodeInfo's
   * requested totals, and BalancedAllocation's view of the incoming pod.
   */
  requests: Resource;
  /** cpu and memory with the non-zero defaults (CalculateResource's Non0CPU / Non0Mem): NodeInfo.NonZeroRequested. */
  nonZero: Resource;
  /**
   * The spec alone (NodeResourcesFit PreFilter, computePodResourceRequest: no status). The same object as
   * `requests` when the status says nothing about resources.
   */
  specRequests: Resource;
  /**
   * NodeResourcesFit's scoring view of the incoming pod (resourceAllocationScorer.calculatePodResourceRequest): its
   * scorer is built without the feature flags, so pod-level resources and status are skipped; cpu and memory carry
   * the non-zero defaults per container.
   */
  fitScoreRequests: Resource;
}

/** Computes every view of a pod's requests at once (PodInfo does this once per pod). */
export function computePodRequests(pod: Pod, objectPath = ''): PodRequests {
  const f = parsePodResources(pod, objectPath ? `${objectPath}.` : '');
  if (!f.statusMatters && !f.podLevelRequestsSet && f.initContainers.length === 0 && f.overhead === undefined) return plainPodRequests(f.containers);
  const held = podRequestList(f, { useStatus: true, skipPodLevel: false });
  const requests = toResource(held);
  const nonMissing = nonMissingFor(held, f.podLevelRequestsSet);
  const withDefaults = nonMissing.size > 0 ? podRequestList(f, { useStatus: true, skipPodLevel: false, nonMissing }) : held;
  const nonZero = new Resource();
  nonZero.milliCpu = withDefaults.get(CPU) ?? 0;
  nonZero.memory = withDefaults.get(MEMORY) ?? 0;
  if (!f.statusMatters && !f.podLevelRequestsSet) return specOnlyViews(requests, nonZero);
  const specRequests = f.statusMatters ? toResource(podRequestList(f, { useStatus: false, skipPodLevel: false })) : requests;
  const fitScoreRequests = toResource(podRequestList(f, { useStatus: false, skipPodLevel: true, nonMissing: NON_ZERO_DEFAULTS }));
  return { requests, nonZero, specRequests, fitScoreRequests };
}

/**
 * Spec only, container level: Fit's scoring view is the requests with the defaulted cpu/memory (the same
 * NonMissingContainerRequests computation as nonZero), and the spec view is the requests themselves.
 */
function specOnlyViews(requests: Resource, nonZero: Resource): PodRequests {
  const fitScoreRequests = requests.clone();
  fitScoreRequests.milliCpu = nonZero.milliCpu;
  fitScoreRequests.memory = nonZero.memory;
  return { requests, nonZero, specRequests: requests, fitScoreRequests };
}

/**
 * Most pods: containers only, no init containers, overhead, pod-level requests or resize status. The general
 * computation's result, summed straight into the vectors: it builds a dozen short-lived Maps per pod, and a PodInfo
 * is built for every pod the watch delivers (pending, then bound).
 */
function plainPodRequests(containers: readonly ContainerResources[]): PodRequests {
  const requests = new Resource();
  const nonZero = new Resource();
  for (const c of containers) {
    for (const [name, value] of c.spec) {
      if (isAccountedResourceName(name)) {
        requests.set(name, requests.get(name) + value);
      }
    }
    // NonMissingContainerRequests: a default only for a name the container does not state (an explicit 0 stays 0).
    nonZero.milliCpu += c.spec.get(CPU) ?? DEFAULT_MILLI_CPU_REQUEST;
    nonZero.memory += c.spec.get(MEMORY) ?? DEFAULT_MEMORY_REQUEST;
  }
  return specOnlyViews(requests, nonZero);
}
