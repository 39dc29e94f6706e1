/**
 * The scheduler's half of the volume binding handshake, as upstream's volumebinding/binder.go:
 *
 * - podVolumeClaims (PreFilter): the pod's claims sorted into bound, delayed (unbound, WaitForFirstConsumer, no
 *   volume named) and immediate (any other unbound claim: the pod waits for the PV controller);
 * - findPodVolumes (Filter, per node): bound claims' PVs must exist and fit the node; delayed claims either carry
 *   this node as selected-node, or get the smallest fitting static PV, or must be provisionable here (a provisioner,
 *   allowedTopologies, CSI storage capacity when the driver asks for it);
 * - assume/revert (Reserve/Unreserve) through the assume caches;
 * - bindPodVolumes (PreBind): write the PV claimRefs and the claims' selected-node annotations, then poll every
 *   second until the PV controller (and a provisioner) report every claim bound, up to the bind timeout, failing
 *   early when a claimRef is reset or provisioning failed (the provisioner removed selected-node).
 */
import type {
  CSIDriver,
  CSIStorageCapacity,
  Labels,
  PersistentVolume,
  PersistentVolumeClaim,
  StorageClass,
} from '../../../kube/api.js';
import { parseQuantityBig } from '../../../kube/quantity.js';
import { compileLabelSelector } from '../../../kube/selectors.js';
import type { PodInfo } from '../../cache/podInfo.js';
import {
  ANN_SELECTED_NODE,
  claimClass,
  findMatchingVolume,
  isClaimFullyBound,
  isWaitForFirstConsumer,
  NOT_SUPPORTED_PROVISIONER,
  requestedStorage,
  topologyAllows,
  volumeNodeAffinityMatches,
} from './volumes.js';

export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = "node(s) didn't match PersistentVolume's node affinity";
export const ERR_REASON_NOT_ENOUGH_SPACE = 'node(s) did not have enough free storage';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';

/** A claim to bind to a static (pre-provisioned) PV. */
export interface StaticBinding {
  pvc: PersistentVolumeClaim;
  pv: PersistentVolume;
}

/** A claim to provision on the node, with the CSIStorageCapacity that has room for it (when checked). */
export interface DynamicProvision {
  pvc: PersistentVolumeClaim;
  capacity?: CSIStorageCapacity;
}

/** What a node needs for the pod's unbound claims (upstream PodVolumes). */
export interface PodVolumes {
  staticBindings: StaticBinding[];
  dynamicProvisions: DynamicProvision[];
}

export interface PodVolumeClaims {
  bound: PersistentVolumeClaim[];
  delayed: PersistentVolumeClaim[];
  immediate: PersistentVolumeClaim[];
  /** Candidate PVs for the delayed claims, by class (the assumed view, in name order). */
  volumesByClass: Map<string, PersistentVolume[]>;
}

/** What the binder reads: the cache's objects, PVs and claims with the binder's assumptions laid over them. */
export interface VolumeSources {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumesOfClass(className: string): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  csiDriver(name: string): CSIDriver | undefined;
  storageCapacities(): Iterable<CSIStorageCapacity>;
}

export function claimKey(pvc: PersistentVolumeClaim): string {
  return `${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name ?? ''}`;
}

/**
 * Upstream GetPodVolumeClaims, for claims PreFilter has already found (`claims`, in the pod's volume order).
 * A claim whose class is WaitForFirstConsumer and that names no volume is delayed; any other unbound claim is
 * immediate (pre-bound claims included: the PV controller binds those).
 */
export function podVolumeClaims(claims: readonly PersistentVolumeClaim[], sources: VolumeSources): PodVolumeClaims {
  const out: PodVolumeClaims = { bound: [], delayed: [], immediate: [], volumesByClass: new Map() };
  for (const pvc of claims) {
    if (isClaimFullyBound(pvc)) out.bound.push(pvc);
    else if (isWaitForFirstConsumer(sources.storageClass(claimClass(pvc))) && (pvc.spec?.volumeName ?? '') === '') out.delayed.push(pvc);
    else out.immediate.push(pvc);
  }
  for (const pvc of out.delayed) {
    const cls = claimClass(pvc);
    if (!out.volumesByClass.has(cls)) out.volumesByClass.set(cls, sources.volumesOfClass(cls));
  }
  return out;
}

export interface NodeFacts {
  name: string;
  labels: Labels;
}

export type FindResult = { podVolumes: PodVolumes; reasons: string[]; error?: undefined } | { error: string };

/** The outcome of the checks, turned into reasons in upstream's order. */
interface NodeVerdict {
  boundAffinityFits: boolean;
  unboundSatisfied: boolean;
  sufficientStorage: boolean;
  boundVolumesExist: boolean;
}

function reasonsOf(v: NodeVerdict): string[] {
  const reasons: string[] = [];
  if (!v.boundAffinityFits) reasons.push(ERR_REASON_NODE_CONFLICT);
  if (!v.unboundSatisfied) reasons.push(ERR_REASON_BIND_CONFLICT);
  if (!v.sufficientStorage) reasons.push(ERR_REASON_NOT_ENOUGH_SPACE);
  if (!v.boundVolumesExist) reasons.push(ERR_REASON_PV_NOT_EXIST);
  return reasons;
}

/** Upstream FindPodVolumes for one node: the reasons it cannot take the pod's claims, or what it needs. */
export function findPodVolumes(claims: PodVolumeClaims, node: NodeFacts, sources: VolumeSources): FindResult {
  const podVolumes: PodVolumes = { staticBindings: [], dynamicProvisions: [] };
  const verdict: NodeVerdict = { boundAffinityFits: true, unboundSatisfied: true, sufficientStorage: true, boundVolumesExist: true };
  if (claims.bound.length > 0) {
    const bound = checkBoundClaims(claims.bound, node, sources);
    verdict.boundAffinityFits = bound.affinityFits;
    verdict.boundVolumesExist = bound.volumesExist;
  }
  if (claims.delayed.length === 0) return { podVolumes, reasons: reasonsOf(verdict) };
  const toMatch: PersistentVolumeClaim[] = [];
  const toProvision: PersistentVolumeClaim[] = [];
  for (const pvc of claims.delayed) {
    const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (selected === undefined) {
      toMatch.push(pvc);
    } else if (selected !== node.name) {
      // Provisioning was started for another node already: only that node can take the pod.
      verdict.unboundSatisfied = false;
      return { podVolumes, reasons: reasonsOf(verdict) };
    } else {
      toProvision.push(pvc);
    }
  }
  if (toMatch.length > 0) {
    const matched = findMatchingVolumes(toMatch, claims.volumesByClass, node);
    verdict.unboundSatisfied = matched.allMatched;
    podVolumes.staticBindings = matched.bindings;
    toProvision.push(...matched.unmatched);
  }
  if (toProvision.length > 0) {
    const provisions = checkVolumeProvisions(toProvision, node, sources);
    if (provisions.error !== undefined) return { error: provisions.error };
    verdict.unboundSatisfied = provisions.satisfied;
    verdict.sufficientStorage = provisions.sufficientStorage;
    podVolumes.dynamicProvisions = provisions.provisions;
  }
  return { podVolumes, reasons: reasonsOf(verdict) };
}

/** Upstream checkBoundClaims: every bound claim's PV exists and its node affinity fits the node. */
function checkBoundClaims(claims: readonly PersistentVolumeClaim[], node: NodeFacts, sources: VolumeSources): { affinityFits: boolean; volumesExist: boolean } {
  for (const pvc of claims) {
    const pv = sources.volume(pvc.spec?.volumeName ?? '');
    if (!pv) return { affinityFits: true, volumesExist: false };
    if (!volumeNodeAffinityMatches(pv, node.labels)) return { affinityFits: false, volumesExist: true };
  }
  return { affinityFits: true, volumesExist: true };
}

/** Upstream findMatchingVolumes: claims by increasing request, each taking the smallest fit not yet chosen. */
function findMatchingVolumes(
  claims: readonly PersistentVolumeClaim[],
  volumesByClass: ReadonlyMap<string, PersistentVolume[]>,
  node: NodeFacts,
): { allMatched: boolean; bindings: StaticBinding[]; unmatched: PersistentVolumeClaim[] } {
  const bySize = [...claims].sort((a, b) => {
    const x = requestedStorage(a);
    const y = requestedStorage(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const chosen = new Set<string>();
  const bindings: StaticBinding[] = [];
  const unmatched: PersistentVolumeClaim[] = [];
  for (const pvc of bySize) {
    const pv = findMatchingVolume(pvc, volumesByClass.get(claimClass(pvc)) ?? [], node.labels, chosen);
    if (!pv) {
      unmatched.push(pvc);
      continue;
    }
    chosen.add(pv.metadata?.name ?? '');
    bindings.push({ pvc, pv });
  }
  return { allMatched: unmatched.length === 0, bindings, unmatched };
}

type ProvisionCheck =
  | { error?: undefined; satisfied: boolean; sufficientStorage: boolean; provisions: DynamicProvision[] }
  | { error: string };

/** Upstream checkVolumeProvisions: every claim's class can provision on this node, with room for it. */
function checkVolumeProvisions(claims: readonly PersistentVolumeClaim[], node: NodeFacts, sources: VolumeSources): ProvisionCheck {
  const provisions: DynamicProvision[] = [];
  for (const pvc of claims) {
    const className = claimClass(pvc);
    if (className === '') return { error: `no class for claim "${claimKey(pvc)}"` };
    const cls = sources.storageClass(className);
    if (!cls) return { error: `failed to find storage class "${className}"` };
    const provisioner = cls.provisioner ?? '';
    if (provisioner === '' || provisioner === NOT_SUPPORTED_PROVISIONER || !topologyAllows(cls.allowedTopologies, node.labels)) {
      return { satisfied: false, sufficientStorage: true, provisions: [] };
    }
    const room = enoughCapacity(provisioner, pvc, className, node, sources);
    if (!room.sufficient) return { satisfied: true, sufficientStorage: false, provisions: [] };
    provisions.push(room.capacity ? { pvc, capacity: room.capacity } : { pvc });
  }
  return { satisfied: true, sufficientStorage: true, provisions };
}

/**
 * Upstream hasEnoughCapacity: only for CSI drivers that set storageCapacity, a CSIStorageCapacity of the claim's
 * class that the node can reach (its nodeTopology selects the node) must offer maximumVolumeSize (else capacity)
 * of at least the request.
 */
function enoughCapacity(
  provisioner: string,
  pvc: PersistentVolumeClaim,
  className: string,
  node: NodeFacts,
  sources: VolumeSources,
): { sufficient: boolean; capacity?: CSIStorageCapacity } {
  const quantity = pvc.spec?.resources?.requests?.['storage'];
  if (quantity === undefined) return { sufficient: true };
  if (sources.csiDriver(provisioner)?.spec?.storageCapacity !== true) return { sufficient: true };
  const size = parseQuantityBig(quantity);
  for (const capacity of sources.storageCapacities()) {
    if (capacity.storageClassName !== className) continue;
    const limit = capacity.maximumVolumeSize ?? capacity.capacity;
    if (limit === undefined || parseQuantityBig(limit) < size) continue;
    if (!capacity.nodeTopology || !compileLabelSelector(capacity.nodeTopology)(node.labels)) continue;
    return { sufficient: true, capacity };
  }
  return { sufficient: false };
}

/** The pod's claims as PreFilter resolves them: each volume's claim (by name), in volume order. */
export function claimNamesOf(pod: PodInfo): string[] {
  const names: string[] = [];
  for (const volume of pod.pod.spec?.volumes ?? []) {
    if (volume.persistentVolumeClaim) names.push(volume.persistentVolumeClaim.claimName ?? '');
    else if (volume.ephemeral !== undefined && volume.ephemeral !== null) names.push(`${pod.name}-${volume.name ?? ''}`);
  }
  return names;
}
