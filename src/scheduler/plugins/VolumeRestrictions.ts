/**
 * VolumeRestrictions (upstream plugins/volumerestrictions, v1.37).
 *
 * PreFilter: reads every PVC the pod names in spec.volumes[].persistentVolumeClaim (a missing one is
 * UnschedulableAndUnresolvable `persistentvolumeclaim "<name>" not found`), keeps those with the ReadWriteOncePod
 * access mode and counts how many of them are already used by a pod in the cluster (any node). Skip when the pod
 * has no inline disk volume to check (GCE PD, AWS EBS, RBD, iSCSI) and no RWOP claim in use.
 * AddPod/RemovePod (preemption dry runs, the nominated-pod pass): a pod added or removed changes that count by the
 * number of its claim volumes whose name is one of the RWOP claims.
 * Filter: an inline disk of the pod conflicting with one mounted by a pod on the node is "node(s) had no available
 * disk" (isVolumeConflict below); then an RWOP claim in use is "node(s) unavailable due to PersistentVolumeClaim
 * with ReadWriteOncePod access mode already in-use by another pod". Both are Unschedulable: preemption may help.
 * A rejected pod waits for a node added, or (with upstream's hints) a pod deleted or a claim created that matter.
 */
import type { PersistentVolumeClaim, Pod, Volume } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type StateData,
} from '../framework/types.js';
import type { ClusterEvent, PluginDescriptor, QueueingHint } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { pvcNotFoundMessage } from './VolumeBinding.js';

export const NAME = 'VolumeRestrictions';

export const ERR_REASON_DISK_CONFLICT = 'node(s) had no available disk';
// v1.37.2 volume_restrictions.go (the text changed from "node has pod using PersistentVolumeClaim with the same
// name and ReadWriteOncePod access mode" in earlier releases).
export const ERR_REASON_RWOP_CONFLICT =
  'node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod';

const STATE_KEY = `PreFilter${NAME}`;
const REJECT_DISK = Status.unschedulable(ERR_REASON_DISK_CONFLICT);
const REJECT_RWOP = Status.unschedulable(ERR_REASON_RWOP_CONFLICT);
// Upstream getPreFilterState's error (Filter or a PreFilter extension ran without this cycle's PreFilter).
const MISSING_STATE = Status.error(`cannot read "${STATE_KEY}" from cycleState`);

/**
 * The inline volume sources upstream checks for conflicts (JSON field names of v1.Volume), with the fields it
 * compares: an iSCSI disk is its IQN alone (the portal and LUN are not compared), an EBS disk its volume ID whatever
 * the read-only flags.
 */
interface DiskVolume {
  gcePersistentDisk?: { pdName?: string; readOnly?: boolean } | null;
  awsElasticBlockStore?: { volumeID?: string } | null;
  iscsi?: { iqn?: string; readOnly?: boolean } | null;
  rbd?: { monitors?: string[]; pool?: string; image?: string; readOnly?: boolean } | null;
}

type PvcWithAccessModes = PersistentVolumeClaim & { spec?: { accessModes?: string[] } };

function asDisk(volume: Volume): DiskVolume {
  return volume as DiskVolume;
}

function needsRestrictionsCheck(volume: Volume): boolean {
  const v = asDisk(volume);
  return Boolean(v.gcePersistentDisk || v.awsElasticBlockStore || v.rbd || v.iscsi);
}

function diskVolumes(pod: PodInfo): DiskVolume[] {
  return (pod.pod.spec?.volumes ?? []).filter(needsRestrictionsCheck).map(asDisk);
}

function haveOverlap(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return b.some((x) => set.has(x));
}

/**
 * isVolumeConflict: does `volume` of the incoming pod conflict with any volume of `existing`? GCE PD, iSCSI and RBD
 * allow several read-only mounts; an RBD image is the same when the pools and images are equal and the monitor lists
 * share one monitor. An unset RBD pool is the API server's default, "rbd".
 */
function isVolumeConflict(volume: DiskVolume, existing: readonly Volume[]): boolean {
  for (const ev of existing) {
    const e = asDisk(ev);
    if (volume.gcePersistentDisk && e.gcePersistentDisk) {
      const d = volume.gcePersistentDisk;
      const ed = e.gcePersistentDisk;
      if ((d.pdName ?? '') === (ed.pdName ?? '') && !(d.readOnly && ed.readOnly)) return true;
    }
    if (volume.awsElasticBlockStore && e.awsElasticBlockStore) {
      if ((volume.awsElasticBlockStore.volumeID ?? '') === (e.awsElasticBlockStore.volumeID ?? '')) return true;
    }
    if (volume.iscsi && e.iscsi) {
      if ((volume.iscsi.iqn ?? '') === (e.iscsi.iqn ?? '') && !(volume.iscsi.readOnly && e.iscsi.readOnly)) return true;
    }
    if (volume.rbd && e.rbd) {
      const r = volume.rbd;
      const er = e.rbd;
      if (
        haveOverlap(r.monitors ?? [], er.monitors ?? []) &&
        (r.pool ?? 'rbd') === (er.pool ?? 'rbd') &&
        (r.image ?? '') === (er.image ?? '') &&
        !(r.readOnly && er.readOnly)
      ) {
        return true;
      }
    }
  }
  return false;
}

/** The cycle's state (upstream preFilterState): the count changes in AddPod/RemovePod, so it is cloned. */
class VolumeRestrictionsState implements StateData {
  constructor(
    /** The pod's volumes with an inline disk source (empty when none). */
    readonly disks: readonly DiskVolume[],
    /** Names of the pod's claims with the ReadWriteOncePod access mode. */
    readonly rwopClaims: ReadonlySet<string>,
    /** How many of those claims are used by pods already in the cluster (and by pods added in a what-if). */
    public conflictingPVCRefCount: number,
  ) {}

  clone(): VolumeRestrictionsState {
    return new VolumeRestrictionsState(this.disks, this.rwopClaims, this.conflictingPVCRefCount);
  }

  /**
   * Upstream updateWithPod: the other pod's claim volumes named like one of the RWOP claims. Like upstream, the
   * other pod's namespace is not compared.
   */
  updateWithPod(other: PodInfo, multiplier: 1 | -1): void {
    if (this.rwopClaims.size === 0) return;
    for (const v of other.pod.spec?.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      if (name !== undefined && this.rwopClaims.has(name)) this.conflictingPVCRefCount += multiplier;
    }
  }
}

export class VolumeRestrictions implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  constructor(private readonly cluster: ClusterView) {}

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const volumes = pod.pod.spec?.volumes ?? [];
    const disks = diskVolumes(pod);
    const rwop = new Set<string>();
    for (const volume of volumes) {
      if (!volume.persistentVolumeClaim) continue;
      const claimName = volume.persistentVolumeClaim.claimName ?? '';
      const pvc = this.cluster.getPersistentVolumeClaim(pod.namespace, claimName) as PvcWithAccessModes | undefined;
      if (!pvc) return Status.unresolvable(pvcNotFoundMessage(claimName));
      if ((pvc.spec?.accessModes ?? []).includes('ReadWriteOncePod')) rwop.add(claimName);
    }
    const conflictingPVCRefCount = rwop.size > 0 ? this.countUsedClaims(pod.namespace, rwop) : 0;
    if (disks.length === 0 && conflictingPVCRefCount === 0) return SKIP;
    state.write(STATE_KEY, new VolumeRestrictionsState(disks, rwop, conflictingPVCRefCount));
    return null;
  }

  addPod(state: CycleState, _pod: PodInfo, other: PodInfo): Status | null {
    const s = state.read<VolumeRestrictionsState>(STATE_KEY);
    if (!s) return MISSING_STATE;
    s.updateWithPod(other, 1);
    return null;
  }

  removePod(state: CycleState, _pod: PodInfo, other: PodInfo): Status | null {
    const s = state.read<VolumeRestrictionsState>(STATE_KEY);
    if (!s) return MISSING_STATE;
    s.updateWithPod(other, -1);
    return null;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<VolumeRestrictionsState>(STATE_KEY);
    // Upstream checks the disks before reading the state, so a conflict is reported even without PreFilter.
    const disks = s ? s.disks : diskVolumes(pod);
    for (const disk of disks) {
      for (const existing of node.pods) {
        if (isVolumeConflict(disk, existing.pod.spec?.volumes ?? [])) return REJECT_DISK;
      }
    }
    if (!s) return MISSING_STATE;
    return s.conflictingPVCRefCount > 0 ? REJECT_RWOP : null;
  }

  /** Upstream StorageInfos().IsPVCUsedByPods over the snapshot: claims referenced by pods accounted on nodes. */
  private countUsedClaims(namespace: string, claims: ReadonlySet<string>): number {
    const used = new Set<string>();
    for (const node of this.cluster.nodes()) {
      for (const p of node.pods) {
        if (p.namespace !== namespace) continue;
        for (const v of p.pod.spec?.volumes ?? []) {
          const name = v.persistentVolumeClaim?.claimName;
          if (name !== undefined && claims.has(name)) used.add(name);
        }
      }
    }
    return used.size;
  }
}

function asObject<T>(value: unknown): T | undefined {
  return typeof value === 'object' && value !== null ? (value as T) : undefined;
}

/**
 * Upstream isSchedulableAfterAssignedPodDeleted: a pod of another namespace never helps (even for inline disks, as
 * upstream); one whose disks conflicted with the pod's, or that used a claim of the same name, may.
 */
export function afterAssignedPodDelete(pod: PodInfo, event: ClusterEvent): QueueingHint {
  const deleted = asObject<Pod>(event.oldObject);
  if (!deleted) return 'Queue';
  if ((deleted.metadata?.namespace ?? 'default') !== pod.namespace) return 'Skip';
  const volumes = deleted.spec?.volumes ?? [];
  for (const disk of diskVolumes(pod)) if (isVolumeConflict(disk, volumes)) return 'Queue';
  const claims = new Set(pod.pvcNames);
  for (const v of volumes) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name !== undefined && claims.has(name)) return 'Queue';
  }
  return 'Skip';
}

/**
 * Upstream isSchedulableAfterPersistentVolumeClaimAdded: a claim the pod names was created. Upstream does not
 * listen to claim updates and deletions: Skip.
 */
export function afterPvcChange(pod: PodInfo, event: ClusterEvent): QueueingHint {
  const added = asObject<PersistentVolumeClaim>(event.newObject);
  if (!added) return event.oldObject === undefined ? 'Queue' : 'Skip';
  if (event.oldObject !== undefined) return 'Skip';
  if ((added.metadata?.namespace ?? 'default') !== pod.namespace) return 'Skip';
  for (const v of pod.pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === added.metadata?.name) return 'Queue';
  }
  return 'Skip';
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  // Upstream: AssignedPod/Delete (a conflicting pod leaves), Node/Add, PersistentVolumeClaim/Add (a missing claim).
  events: [
    { event: 'AssignedPodDelete', hint: afterAssignedPodDelete },
    'NodeAdd',
    { event: 'PvcChange', hint: afterPvcChange },
  ],
  create: (handle) => new VolumeRestrictions(handle.cluster),
} satisfies PluginDescriptor;
