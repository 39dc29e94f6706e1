/**
 * Extended resources backed by DRA devices (DRAExtendedResource, on in v1.37; upstream extendeddynamicresources.go).
 * A pod that requests, say, `example.com/gpu: 1` with no ResourceClaim gets devices of the DeviceClass that serves
 * that name (spec.extendedResourceName, or the implicit `deviceclass.resource.kubernetes.io/<class>`), on nodes
 * that do not advertise the resource in status.allocatable (a node that does serves it by device plugin).
 *
 * - PreFilter: the pod's special claim — the one a prior cycle created (annotated, controlled by the pod), else an
 *   in-memory one named `<extended-resources>` with no requests yet.
 * - Filter: per node, the requests the claim needs there (one per container and resource, "container-<i>-request-<j>")
 *   and which container each serves; a claim left from a prior cycle is unschedulable everywhere, so PostFilter
 *   deletes it and the pod starts afresh.
 * - PreBind: the node's claim is created (generateName "<pod>-extended-resources-", owned by the pod), allocated and
 *   reserved like any other, and the pod's status.extendedResourceClaimStatus names it and the mappings.
 */
import type { Container, ContainerExtendedResourceRequest, Pod } from '../../../kube/api.js';
import type { DeviceClass, DeviceRequest, ResourceClaim } from '../../../kube/resource.js';
import { CLAIM_FINALIZER } from '../../../kube/resource.js';
import { isExtendedResourceName } from '../../../kube/resources.js';
import { parseMilliQuantity } from '../../../kube/quantity.js';
import type { ObjectWrite } from '../../ports.js';
import type { ClusterView } from '../../cache/clusterState.js';
import type { NodeInfo } from '../../cache/nodeInfo.js';
import type { PodInfo } from '../../cache/podInfo.js';
import { DEVICE_CLASS_RESOURCE_PREFIX } from '../../cache/extendedResourceIndex.js';

/** Not a valid object name on purpose: it can never collide with a claim in the API server. */
export const SPECIAL_CLAIM_NAME = '<extended-resources>';
export const EXTENDED_RESOURCE_CLAIM_ANNOTATION = 'resource.kubernetes.io/extended-resource-claim';

export type ClassLookup = Pick<ClusterView, 'deviceClassForExtendedResource'>;

/** Upstream IsDRAExtendedResourceName: an extended resource name or a class's implicit name. */
export function isDraExtendedResourceName(name: string): boolean {
  return isExtendedResourceName(name) || name.startsWith(DEVICE_CLASS_RESOURCE_PREFIX);
}

export function isSpecialClaim(claim: ResourceClaim): boolean {
  return claim.metadata?.name === SPECIAL_CLAIM_NAME;
}

/** The pod's scalar requests, when at least one (non-zero) is served by a DeviceClass. */
export function draScalarRequests(pod: PodInfo, classes: ClassLookup): ReadonlyMap<string, number> | undefined {
  const scalar = pod.specRequests.scalar;
  if (!scalar) return undefined;
  for (const [name, quantity] of scalar) {
    if (quantity !== 0 && isDraExtendedResourceName(name) && classes.deviceClassForExtendedResource(name)) return scalar;
  }
  return undefined;
}

/** Upstream findExtendedResourceClaim: an annotated claim the pod controls (same name and uid). */
export function findExtendedResourceClaim(pod: Pod, claims: Iterable<ResourceClaim>): ResourceClaim | undefined {
  for (const claim of claims) {
    if (claim.metadata?.annotations?.[EXTENDED_RESOURCE_CLAIM_ANNOTATION] !== 'true') continue;
    const owned = (claim.metadata.ownerReferences ?? []).some((r) => r.name === pod.metadata?.name && r.controller === true && r.uid === pod.metadata?.uid);
    if (owned) return claim;
  }
  return undefined;
}

/** The in-memory special claim (its uid only keys the allocation in flight; the API server assigns the real one). */
export function inMemoryClaim(pod: Pod): ResourceClaim {
  const name = pod.metadata?.name ?? '';
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: {
      namespace: pod.metadata?.namespace ?? 'default',
      name: SPECIAL_CLAIM_NAME,
      uid: `in-memory-extended-resources-${pod.metadata?.uid ?? name}`,
      generateName: `${name}-extended-resources-`,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata?.uid ?? '', controller: true }],
      annotations: { [EXTENDED_RESOURCE_CLAIM_ANNOTATION]: 'true' },
    },
    spec: {},
  };
}

/** What Filter decides for the special claim on one node. */
export type NodeExtendedOutcome =
  | { unresolvable: string }
  /** Nothing to allocate through DRA on this node (device plugins serve every resource, or none is requested). */
  | { claim: undefined }
  | { claim: ResourceClaim; mappings: ContainerExtendedResourceRequest[] };

/**
 * Upstream filterExtendedResources: the resources the node does not advertise but a class serves go to DRA; a
 * DRA-style name the node neither advertises nor any class serves does not fit. `special` is the cycle's claim.
 */
export function nodeExtendedClaim(
  special: ResourceClaim,
  pod: Pod,
  scalars: ReadonlyMap<string, number>,
  node: NodeInfo,
  classes: ClassLookup,
  hasUserClaims: boolean,
): NodeExtendedOutcome {
  if (special.spec?.devices?.requests !== undefined) return { unresolvable: 'cannot schedule extended resource claim' };
  const viaDra = new Map<string, number>();
  for (const [name, quantity] of scalars) {
    if (!isDraExtendedResourceName(name) || quantity === 0) continue;
    const advertised = node.allocatable.scalar?.has(name) === true;
    if (classes.deviceClassForExtendedResource(name) && node.allocatable.get(name) === 0) viaDra.set(name, quantity);
    else if (!advertised) return { unresolvable: 'cannot fit resource' };
  }
  if (viaDra.size === 0 && !hasUserClaims) return { claim: undefined };
  if (special.status?.allocation) return { claim: undefined };
  const { requests, mappings } = requestsAndMappings(pod, viaDra, classes);
  return { claim: { ...special, spec: { devices: { requests } } }, mappings };
}

/** A container's request for the resource as a whole number; 0 when absent or fractional (upstream AsInt64). */
function containerRequest(container: Container, resource: string): { count: number; names: string[] } | undefined {
  const requests = container.resources?.requests;
  if (!requests || !(resource in requests)) return undefined;
  const raw = requests[resource];
  let milli: number;
  try {
    milli = parseMilliQuantity(raw ?? 0);
  } catch {
    return undefined;
  }
  if (milli === 0 || milli % 1000 !== 0) return undefined;
  return { count: milli / 1000, names: Object.keys(requests).sort() };
}

interface ContainerRequestOutcome {
  request: DeviceRequest | undefined;
  mappings: ContainerExtendedResourceRequest[];
}

/**
 * Upstream createResourceRequestAndMappings: a container first reuses `reusable` requests (an init container may
 * use the devices of containers that start after it); what is still missing becomes its own request.
 */
function containerRequestAndMappings(index: number, container: Container, resource: string, className: string, reusable: ReadonlyArray<DeviceRequest | undefined>): ContainerRequestOutcome {
  const wanted = containerRequest(container, resource);
  if (!wanted) return { request: undefined, mappings: [] };
  const containerName = container.name ?? '';
  const mappings: ContainerExtendedResourceRequest[] = [];
  let sum = 0;
  for (const r of reusable) {
    if (!r) continue;
    sum += r.exactly?.count ?? 0;
    mappings.push({ containerName, resourceName: resource, requestName: r.name });
    if (sum >= wanted.count) return { request: undefined, mappings };
  }
  const requestName = `container-${index}-request-${Math.max(0, wanted.names.indexOf(resource))}`;
  mappings.push({ containerName, resourceName: resource, requestName });
  return { request: { name: requestName, exactly: { deviceClassName: className, allocationMode: 'ExactCount', count: wanted.count - sum } }, mappings };
}

/** Upstream createRequestsAndMappings, for the resources the node needs from DRA. */
export function requestsAndMappings(pod: Pod, resources: ReadonlyMap<string, number>, classes: ClassLookup): { requests: DeviceRequest[]; mappings: ContainerExtendedResourceRequest[] } {
  const inits = pod.spec?.initContainers ?? [];
  const containers = [...inits, ...(pod.spec?.containers ?? [])];
  const shortLived = new Set(inits.flatMap((c, i) => (c.restartPolicy === 'Always' ? [] : [i])));
  const requests: DeviceRequest[] = [];
  const mappings: ContainerExtendedResourceRequest[] = [];
  for (const resource of [...resources.keys()].sort()) {
    const cls: DeviceClass | undefined = classes.deviceClassForExtendedResource(resource);
    if (!cls) continue;
    const className = cls.metadata?.name ?? '';
    const longLivedRequests: Array<DeviceRequest | undefined> = containers.map(() => undefined);
    const longLivedMappings: ContainerExtendedResourceRequest[] = [];
    containers.forEach((c, i) => {
      if (shortLived.has(i)) return;
      const out = containerRequestAndMappings(i, c, resource, className, []);
      longLivedRequests[i] = out.request;
      longLivedMappings.push(...out.mappings);
    });
    const shortLivedMappings = shortLivedRequests(containers, shortLived, resource, className, longLivedRequests, requests);
    for (const r of longLivedRequests) if (r) requests.push(r);
    mappings.push(...longLivedMappings, ...shortLivedMappings);
  }
  requests.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { requests, mappings };
}

/**
 * Init containers run one at a time, so they share one request: the largest. Every short-lived mapping to another
 * short-lived request is pointed at it. Appends that request to `requests`; returns the short-lived mappings.
 */
function shortLivedRequests(
  containers: readonly Container[],
  shortLived: ReadonlySet<number>,
  resource: string,
  className: string,
  longLived: ReadonlyArray<DeviceRequest | undefined>,
  requests: DeviceRequest[],
): ContainerExtendedResourceRequest[] {
  let max: DeviceRequest | undefined;
  const names = new Set<string>();
  const mappings: ContainerExtendedResourceRequest[] = [];
  for (const i of [...shortLived].sort((a, b) => a - b)) {
    const out = containerRequestAndMappings(i, containers[i] as Container, resource, className, longLived.slice(i));
    if (out.request) {
      names.add(out.request.name);
      if (!max || (max.exactly?.count ?? 0) < (out.request.exactly?.count ?? 0)) max = out.request;
    }
    mappings.push(...out.mappings);
  }
  if (max && names.size > 1) {
    const keep = max.name;
    for (const m of mappings) if (m.requestName !== keep && names.has(m.requestName)) m.requestName = keep;
  }
  if (max) requests.push(max);
  return mappings;
}

/** The create of the node's special claim (upstream createExtendedResourceClaimInAPI): no name, uid or status. */
export function createClaimWrite(claim: ResourceClaim): ObjectWrite {
  const { name: _name, uid: _uid, resourceVersion: _rv, ...metadata } = claim.metadata ?? {};
  return {
    verb: 'create',
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    namespace: metadata.namespace ?? 'default',
    name: '',
    body: { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata, spec: claim.spec ?? {} },
  };
}

/** The pod's status.extendedResourceClaimStatus (a merge patch of pods/status). */
export function podStatusWrite(pod: Pod, claimName: string, mappings: readonly ContainerExtendedResourceRequest[]): ObjectWrite {
  return {
    verb: 'patch',
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    subresource: 'status',
    body: { status: { extendedResourceClaimStatus: { requestMappings: mappings, resourceClaimName: claimName } } },
  };
}

/**
 * Upstream deleteClaim: the finalizer comes off first (it would block the deletion), then the claim is deleted
 * (a claim already gone counts as deleted). Returns the writes in order.
 */
export function deleteClaimWrites(claim: ResourceClaim): ObjectWrite[] {
  const base = { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', namespace: claim.metadata?.namespace ?? 'default', name: claim.metadata?.name ?? '' };
  const writes: ObjectWrite[] = [];
  const finalizers = claim.metadata?.finalizers ?? [];
  if (finalizers.includes(CLAIM_FINALIZER)) {
    const rest = finalizers.filter((f) => f !== CLAIM_FINALIZER);
    writes.push({ ...base, verb: 'patch', body: { metadata: { finalizers: rest.length > 0 ? rest : null } } });
  }
  writes.push({ ...base, verb: 'delete', body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: claim.metadata?.uid } } });
  return writes;
}
