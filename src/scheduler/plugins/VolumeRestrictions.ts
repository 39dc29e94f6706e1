/**
 * VolumeRestrictions (upstream plugins/volumerestrictions, v1.29+ with ReadWriteOncePod GA).
 *
 * PreFilter: reads every PVC the pod names in spec.volumes[].persistentVolumeClaim (a missing one is
 * UnschedulableAndUnresolvable `persistentvolumeclaim "<name>" not found`), keeps those with the ReadWriteOncePod
 * access mode and counts how many of them are already used by a pod in the cluster (any node). Skip when the pod
 * has no inline disk volume to check (GCE PD, AWS EBS, RBD, iSCSI) and no RWOP claim in use.
 * Filter: an inline disk conflicting with one mounted by a pod on the node is "node(s) had no available disk";
 * then an RWOP claim in use anywhere is "node has pod using PersistentVolumeClaim with the same name and
 * ReadWriteOncePod access mode" (both Unschedulable, so preemption may help).
 *
 * Not modelled: upstream's PreFilter AddPod/RemovePod extensions (used while simulating preemption victims); berth's
 * framework has no PreFilterExtensions, so evicting the pod that holds an RWOP claim is not credited here.
 */
import type { PersistentVolumeClaim, Volume } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
} from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
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

/** The inline volume sources upstream checks for conflicts (JSON field names of v1.Volume). */
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

function haveOverlap(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return b.some((x) => set.has(x));
}

/** isVolumeConflict: does `volume` of the incoming pod conflict with any volume of `existing`? */
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

interface VolumeRestrictionsState {
  /** The pod's volumes with an inline disk source (empty when none). */
  disks: DiskVolume[];
  /** How many of the pod's ReadWriteOncePod claims are used by pods already in the cluster. */
  conflictingPVCRefCount: number;
}

export class VolumeRestrictions implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  constructor(private readonly cluster: ClusterView) {}

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const volumes = pod.pod.spec?.volumes ?? [];
    const disks = volumes.filter(needsRestrictionsCheck).map(asDisk);
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
    state.write(STATE_KEY, { disks, conflictingPVCRefCount } satisfies VolumeRestrictionsState);
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<VolumeRestrictionsState>(STATE_KEY);
    if (!s) return null;
    for (const disk of s.disks) {
      for (const existing of node.pods) {
        if (isVolumeConflict(disk, existing.pod.spec?.volumes ?? [])) return REJECT_DISK;
      }
    }
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

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'PvcChange'],
  create: (handle) => new VolumeRestrictions(handle.cluster),
} satisfies PluginDescriptor;
