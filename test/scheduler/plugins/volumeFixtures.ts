/** Small PVC / PV / StorageClass builders for the volume plugin tests. */
import type { NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, StorageClass, Volume } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';

export function pvc(
  name: string,
  opts: {
    volumeName?: string;
    className?: string;
    bound?: boolean;
    phase?: string;
    accessModes?: string[];
    deleting?: boolean;
    ownerUid?: string;
    namespace?: string;
  } = {},
): PersistentVolumeClaim {
  const annotations: Record<string, string> = {};
  if (opts.bound) annotations['pv.kubernetes.io/bind-completed'] = 'yes';
  const claim: PersistentVolumeClaim & { spec: { accessModes?: string[] } } = {
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      annotations,
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
      ...(opts.ownerUid ? { ownerReferences: [{ kind: 'Pod', name: 'p', uid: opts.ownerUid, controller: true }] } : {}),
    },
    spec: {
      ...(opts.volumeName ? { volumeName: opts.volumeName } : {}),
      ...(opts.className !== undefined ? { storageClassName: opts.className } : {}),
      ...(opts.accessModes ? { accessModes: opts.accessModes } : {}),
    },
    status: { phase: opts.phase ?? (opts.bound ? 'Bound' : 'Pending') },
  };
  return claim;
}

export function pv(name: string, labels: Record<string, string> = {}, required?: NodeSelectorTerm[]): PersistentVolume {
  return {
    kind: 'PersistentVolume',
    metadata: { name, labels },
    spec: required ? { nodeAffinity: { required: { nodeSelectorTerms: required } } } : {},
  };
}

export function storageClass(name: string, mode?: string, provisioner?: string): StorageClass {
  return { kind: 'StorageClass', metadata: { name }, ...(mode ? { volumeBindingMode: mode } : {}), ...(provisioner ? { provisioner } : {}) };
}

export function claimVolume(claimName: string, name = claimName): Volume {
  return { name, persistentVolumeClaim: { claimName } };
}

export function add(cluster: ClusterState, objects: Array<PersistentVolumeClaim | PersistentVolume | StorageClass>): void {
  for (const o of objects) cluster.upsertObject(o.kind as string, o);
}
