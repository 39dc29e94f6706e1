/**
 * The watches the scheduler needs: one Reflector per kind, with slimmed objects, one handler set per kind.
 * Pods: all namespaces, field selector status.phase!=Succeeded,status.phase!=Failed (kube-scheduler.md §7).
 */
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
  VolumeAttachment,
} from '../../kube/api.js';
import type { DeviceClass, DeviceTaintRule, ResourceClaim, ResourceSlice } from '../../kube/resource.js';
import type { KubeClient } from './kubeClient.js';
import { type LiveLogger, Reflector, type ReflectorOptions } from './reflector.js';
import {
  objectKey,
  slimCSIDriver,
  slimCSINode,
  slimCSIStorageCapacity,
  slimDeviceClass,
  slimResourceClaim,
  slimResourceSlice,
  slimDeviceTaintRule,
  slimNamespace,
  slimNode,
  slimPersistentVolume,
  slimPersistentVolumeClaim,
  slimPod,
  slimPodDisruptionBudget,
  slimReplicaSet,
  slimReplicationController,
  slimService,
  slimStatefulSet,
  slimStorageClass,
  slimVolumeAttachment,
} from './slim.js';
import { checkedTransform, rawObjectKey } from './decode.js';

/** Kind → the (slim) object type its handlers receive. */
export interface WatchedKinds {
  Pod: Pod;
  Node: Node;
  PersistentVolume: PersistentVolume;
  PersistentVolumeClaim: PersistentVolumeClaim;
  StorageClass: StorageClass;
  Service: Service;
  ReplicationController: ReplicationController;
  ReplicaSet: ReplicaSet;
  StatefulSet: StatefulSet;
  Namespace: Namespace;
  CSIDriver: CSIDriver;
  CSINode: CSINode;
  CSIStorageCapacity: CSIStorageCapacity;
  VolumeAttachment: VolumeAttachment;
  PodDisruptionBudget: PodDisruptionBudget;
  DeviceClass: DeviceClass;
  ResourceSlice: ResourceSlice;
  DeviceTaintRule: DeviceTaintRule;
  ResourceClaim: ResourceClaim;
}

export type WatchKind = keyof WatchedKinds;

export interface KindHandlers<K extends WatchKind> {
  kind: K;
  onAdd?(obj: WatchedKinds[K]): void;
  onUpdate?(oldObj: WatchedKinds[K], newObj: WatchedKinds[K]): void;
  onDelete?(obj: WatchedKinds[K]): void;
  /** After this kind's first full list was delivered. */
  onSynced?(): void;
}

/** One handler set, for any kind (discriminated by `kind`). */
export type AnyKindHandlers = { [K in WatchKind]: KindHandlers<K> }[WatchKind];

interface KindSpec<K extends WatchKind> {
  listPath: string;
  fieldSelector?: string;
  transform(raw: unknown): WatchedKinds[K];
  /** A core/v1 kind: the API server can send it as protobuf (src/adapters/live/proto). */
  protobuf?: boolean;
}

export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed';

export const KIND_SPECS: { readonly [K in WatchKind]: KindSpec<K> } = {
  Node: { listPath: '/api/v1/nodes', transform: slimNode, protobuf: true },
  Pod: { listPath: '/api/v1/pods', fieldSelector: POD_FIELD_SELECTOR, transform: slimPod, protobuf: true },
  PersistentVolume: { listPath: '/api/v1/persistentvolumes', transform: slimPersistentVolume, protobuf: true },
  PersistentVolumeClaim: { listPath: '/api/v1/persistentvolumeclaims', transform: slimPersistentVolumeClaim, protobuf: true },
  StorageClass: { listPath: '/apis/storage.k8s.io/v1/storageclasses', transform: slimStorageClass },
  Service: { listPath: '/api/v1/services', transform: slimService, protobuf: true },
  ReplicationController: { listPath: '/api/v1/replicationcontrollers', transform: slimReplicationController, protobuf: true },
  ReplicaSet: { listPath: '/apis/apps/v1/replicasets', transform: slimReplicaSet },
  StatefulSet: { listPath: '/apis/apps/v1/statefulsets', transform: slimStatefulSet },
  Namespace: { listPath: '/api/v1/namespaces', transform: slimNamespace, protobuf: true },
  CSIDriver: { listPath: '/apis/storage.k8s.io/v1/csidrivers', transform: slimCSIDriver },
  CSINode: { listPath: '/apis/storage.k8s.io/v1/csinodes', transform: slimCSINode },
  CSIStorageCapacity: { listPath: '/apis/storage.k8s.io/v1/csistoragecapacities', transform: slimCSIStorageCapacity },
  VolumeAttachment: { listPath: '/apis/storage.k8s.io/v1/volumeattachments', transform: slimVolumeAttachment },
  PodDisruptionBudget: { listPath: '/apis/policy/v1/poddisruptionbudgets', transform: slimPodDisruptionBudget },
  DeviceClass: { listPath: '/apis/resource.k8s.io/v1/deviceclasses', transform: slimDeviceClass },
  ResourceSlice: { listPath: '/apis/resource.k8s.io/v1/resourceslices', transform: slimResourceSlice },
  DeviceTaintRule: { listPath: '/apis/resource.k8s.io/v1/devicetaintrules', transform: slimDeviceTaintRule },
  ResourceClaim: { listPath: '/apis/resource.k8s.io/v1/resourceclaims', transform: slimResourceClaim },
};

/** Every kind the scheduler watches, in start order (nodes before pods, so pods land on known nodes). */
export const ALL_WATCH_KINDS: readonly WatchKind[] = [
  'Node',
  'Namespace',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'CSIStorageCapacity',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'VolumeAttachment',
  'DeviceClass',
  'ResourceSlice',
  'DeviceTaintRule',
  'ResourceClaim',
  'Service',
  'ReplicationController',
  'ReplicaSet',
  'StatefulSet',
  'PodDisruptionBudget',
  'Pod',
];

/** Reflector tuning shared by all kinds (tests shorten the timeouts). */
export type SharedReflectorOptions = Pick<
  ReflectorOptions<Pod>,
  'pageSize' | 'minWatchTimeoutSeconds' | 'stallTimeoutMs' | 'backoff' | 'listTimeoutMs' | 'random' | 'onError'
>;

export interface ClusterWatchOptions extends SharedReflectorOptions {
  /** Called once when every started reflector has delivered its first list. */
  onAllSynced?(): void;
  /** Per-kind label selector (e.g. to scope tests). */
  labelSelectors?: Partial<Record<WatchKind, string>>;
}

export interface ClusterWatches {
  allSynced(): boolean;
  /** Resolves when every reflector has synced (or rejects if stopped first). */
  waitForSync(): Promise<void>;
  /** The reflector of one kind, if watched. */
  reflector<K extends WatchKind>(kind: K): Reflector<WatchedKinds[K]> | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one reflector per handler set (each kind at most once). Pass a handler set for every kind in
 * ALL_WATCH_KINDS to get the scheduler's full view.
 */
export function startClusterWatches(
  client: Pick<KubeClient, 'request' | 'watch'>,
  handlers: readonly AnyKindHandlers[],
  logger: LiveLogger,
  opts: ClusterWatchOptions = {},
): ClusterWatches {
  const reflectors = new Map<WatchKind, Reflector<WatchedKinds[WatchKind]>>();
  const seen = new Set<WatchKind>();
  for (const h of handlers) {
    if (seen.has(h.kind)) throw new Error(`startClusterWatches: two handler sets for kind ${h.kind}`);
    seen.add(h.kind);
  }
  let syncedCount = 0;
  let allSyncedFired = false;
  let stopped = false;
  const syncWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const onKindSynced = (): void => {
    syncedCount++;
    if (syncedCount === reflectors.size && !allSyncedFired) {
      allSyncedFired = true;
      logger.info({ kinds: [...reflectors.keys()] }, 'all watches synced');
      opts.onAllSynced?.();
      for (const w of syncWaiters.splice(0)) w.resolve();
    }
  };

  const ordered = [...handlers].sort((a, b) => ALL_WATCH_KINDS.indexOf(a.kind) - ALL_WATCH_KINDS.indexOf(b.kind));
  for (const h of ordered) {
    const r = makeReflector(client, h, logger, opts, onKindSynced);
    reflectors.set(h.kind, r as unknown as Reflector<WatchedKinds[WatchKind]>);
  }
  for (const r of reflectors.values()) r.start();

  return {
    allSynced: () => reflectors.size > 0 && [...reflectors.values()].every((r) => r.hasSynced),
    waitForSync: () =>
      new Promise<void>((resolve, reject) => {
        if (allSyncedFired || reflectors.size === 0) resolve();
        else if (stopped) reject(new Error('cluster watches stopped before syncing'));
        else syncWaiters.push({ resolve, reject });
      }),
    reflector: <K extends WatchKind>(kind: K) => reflectors.get(kind) as Reflector<WatchedKinds[K]> | undefined,
    stop: async () => {
      stopped = true;
      await Promise.all([...reflectors.values()].map((r) => r.stop()));
      for (const w of syncWaiters.splice(0)) w.reject(new Error('cluster watches stopped before syncing'));
    },
  };
}

function makeReflector<K extends WatchKind>(
  client: Pick<KubeClient, 'request' | 'watch'>,
  h: KindHandlers<K>,
  logger: LiveLogger,
  opts: ClusterWatchOptions,
  onKindSynced: () => void,
): Reflector<WatchedKinds[K]> {
  const spec = KIND_SPECS[h.kind] as KindSpec<K>;
  const ro: ReflectorOptions<WatchedKinds[K]> = {
    client,
    name: h.kind,
    listPath: spec.listPath,
    // Validated as snapshot objects are, before slimming: a malformed object is a located log line, not a TypeError.
    transform: checkedTransform(h.kind, spec.transform),
    key: objectKey,
    keyOfRaw: rawObjectKey,
    logger,
    handlers: {
      onSynced: () => {
        try {
          h.onSynced?.();
        } finally {
          onKindSynced();
        }
      },
    },
  };
  if (h.onAdd) ro.handlers.onAdd = (o) => h.onAdd?.(o);
  if (h.onUpdate) ro.handlers.onUpdate = (a, b) => h.onUpdate?.(a, b);
  if (h.onDelete) ro.handlers.onDelete = (o) => h.onDelete?.(o);
  if (spec.fieldSelector) ro.fieldSelector = spec.fieldSelector;
  if (spec.protobuf) ro.protobuf = true;
  const label = opts.labelSelectors?.[h.kind];
  if (label) ro.labelSelector = label;
  if (opts.pageSize !== undefined) ro.pageSize = opts.pageSize;
  if (opts.minWatchTimeoutSeconds !== undefined) ro.minWatchTimeoutSeconds = opts.minWatchTimeoutSeconds;
  if (opts.stallTimeoutMs !== undefined) ro.stallTimeoutMs = opts.stallTimeoutMs;
  if (opts.backoff !== undefined) ro.backoff = opts.backoff;
  if (opts.listTimeoutMs !== undefined) ro.listTimeoutMs = opts.listTimeoutMs;
  if (opts.random !== undefined) ro.random = opts.random;
  if (opts.onError !== undefined) ro.onError = opts.onError;
  return new Reflector<WatchedKinds[K]>(ro);
}
