/**
 * Transforms that keep only what scheduling reads (src/kube/api.ts): berth must not hold whole API objects
 * (managedFields, annotations, env, command, volumeMounts, container states, ... are dropped).
 * Every function takes the raw JSON object from a list or watch and returns a new, small object.
 */
import type {
  Affinity,
  Container,
  ContainerStatus,
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  Namespace,
  Node,
  ObjectMeta,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PodSpec,
  PodStatus,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
  Volume,
  VolumeAttachment,
} from '../../kube/api.js';
import type { DeviceClass, DeviceTaintRule, ResourceClaim, ResourceSlice } from '../../kube/resource.js';

type Raw = Record<string, unknown>;

function asObj(v: unknown): Raw | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

/** Copies the listed keys that are present (not undefined/null) from src into a new object. */
function pick<T>(src: unknown, keys: readonly string[]): T {
  const out: Raw = {};
  const o = asObj(src);
  if (o) for (const k of keys) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out as T;
}

function setIf<K extends string>(out: Partial<Record<K, unknown>>, key: K, v: unknown): void {
  if (v !== undefined && v !== null) out[key] = v;
}

/** Annotations the core reads (VolumeBinding: PVC class and bind state). Everything else is dropped. */
export const KEPT_ANNOTATIONS: readonly string[] = [
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-class',
  'volume.kubernetes.io/selected-node',
  // DynamicResources: the claim the scheduler created for a pod's DRA-backed extended resources.
  'resource.kubernetes.io/extended-resource-claim',
];

/**
 * Inline in-tree sources of a pod's volumes, with the fields scheduling compares: VolumeRestrictions' disk conflicts
 * (GCE PD name and read-only flag, EBS volume ID, iSCSI IQN and read-only flag, RBD monitors, pool, image and
 * read-only flag) and NodeVolumeLimits' translation to CSI of the sources v1.37 can migrate (the disk's ID; an Azure
 * disk's kind decides whether it translates). Azure File and vSphere volumes are kept for their presence only: they
 * are migratable, so their pods are not skipped, but v1.37 never counts them.
 */
const POD_VOLUME_SOURCES: ReadonlyArray<[string, string[]]> = [
  ['gcePersistentDisk', ['pdName', 'readOnly']],
  ['awsElasticBlockStore', ['volumeID']],
  ['iscsi', ['iqn', 'readOnly']],
  ['rbd', ['monitors', 'pool', 'image', 'readOnly']],
  ['cinder', ['volumeID']],
  ['azureDisk', ['diskURI', 'kind']],
  ['portworxVolume', ['volumeID']],
  ['azureFile', []],
  ['vsphereVolume', []],
];

/** In-tree sources of a PersistentVolume that NodeVolumeLimits translates to a CSI volume handle (v1.37). */
const PV_SOURCES: ReadonlyArray<[string, string[]]> = [
  ['gcePersistentDisk', ['pdName']],
  ['awsElasticBlockStore', ['volumeID']],
  ['cinder', ['volumeID']],
  ['azureDisk', ['diskURI', 'kind']],
  ['portworxVolume', ['volumeID']],
];

interface MetaOptions {
  ownerReferences?: boolean;
  finalizers?: boolean;
  annotations?: boolean;
  timestamps?: boolean;
}

function slimMeta(raw: unknown, o: MetaOptions = {}): ObjectMeta {
  const m = asObj(raw) ?? {};
  const out: ObjectMeta = pick<ObjectMeta>(m, ['name', 'namespace', 'uid', 'resourceVersion', 'labels']);
  if (o.timestamps) {
    setIf(out, 'creationTimestamp', m['creationTimestamp']);
    setIf(out, 'deletionTimestamp', m['deletionTimestamp']);
  }
  if (o.annotations) {
    const ann = asObj(m['annotations']);
    if (ann) {
      const kept: Record<string, string> = {};
      let any = false;
      for (const k of KEPT_ANNOTATIONS) {
        const v = ann[k];
        if (typeof v === 'string') {
          kept[k] = v;
          any = true;
        }
      }
      if (any) out.annotations = kept;
    }
  }
  if (o.finalizers && Array.isArray(m['finalizers'])) {
    out.finalizers = (m['finalizers'] as unknown[]).filter((f): f is string => typeof f === 'string');
  }
  if (o.ownerReferences && Array.isArray(m['ownerReferences'])) {
    out.ownerReferences = (m['ownerReferences'] as unknown[]).map((r) =>
      pick<NonNullable<ObjectMeta['ownerReferences']>[number]>(r, ['apiVersion', 'kind', 'name', 'uid', 'controller']),
    );
  }
  return out;
}

function slimContainer(raw: unknown): Container {
  const c = asObj(raw) ?? {};
  const out: Container = pick<Container>(c, ['name', 'image', 'restartPolicy']);
  const res = asObj(c['resources']);
  if (res) out.resources = pick<NonNullable<Container['resources']>>(res, ['requests', 'limits']);
  if (Array.isArray(c['ports'])) {
    out.ports = (c['ports'] as unknown[]).map((p) => pick(p, ['containerPort', 'hostPort', 'hostIP', 'protocol']));
  }
  return out;
}

function slimVolume(raw: unknown): Volume | undefined {
  const v = asObj(raw) ?? {};
  const out: Volume = pick<Volume>(v, ['name']);
  if (asObj(v['persistentVolumeClaim'])) {
    out.persistentVolumeClaim = pick<{ claimName: string; readOnly?: boolean }>(v['persistentVolumeClaim'], ['claimName', 'readOnly']);
    return out;
  }
  if (v['ephemeral'] !== undefined && v['ephemeral'] !== null) {
    out.ephemeral = {}; // only its presence matters: the claim is "<pod>-<volume>"
    return out;
  }
  // Inline in-tree sources: VolumeRestrictions compares disks across pods on a node, NodeVolumeLimits counts them.
  for (const [source, fields] of POD_VOLUME_SOURCES) {
    if (asObj(v[source])) {
      out[source] = pick(v[source], fields);
      return out;
    }
  }
  return undefined;
}

/** Pod conditions scheduling reads: PodScheduled (its own writes), DisruptionTarget (preemption), PodResizePending (resize). */
const KEPT_POD_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'DisruptionTarget', 'PodResizePending']);

/** A container's status as in-place resize accounting reads it: allocated and actually applied requests. */
function slimContainerStatus(raw: unknown): ContainerStatus {
  const c = asObj(raw) ?? {};
  const out: ContainerStatus = pick<ContainerStatus>(c, ['name', 'allocatedResources']);
  const requests = asObj(c['resources'])?.['requests'];
  if (asObj(requests)) out.resources = { requests: requests as Record<string, string> };
  return out;
}

/** What scheduling reads of a pod's status: phase, nomination, start time, kept conditions, resize accounting. */
function slimPodStatus(raw: unknown): PodStatus {
  const st = asObj(raw) ?? {};
  const status: PodStatus = pick(st, ['phase', 'nominatedNodeName', 'startTime', 'allocatedResources', 'resourceClaimStatuses']);
  if (Array.isArray(st['conditions'])) {
    const kept = (st['conditions'] as unknown[])
      .filter((c) => KEPT_POD_CONDITIONS.has(asObj(c)?.['type'] as string))
      .map((c) => pick(c, ['type', 'status', 'reason']));
    if (kept.length > 0) status.conditions = kept;
  }
  for (const key of ['containerStatuses', 'initContainerStatuses'] as const) {
    if (!Array.isArray(st[key])) continue;
    // Only statuses that report resources matter; the others (state, readiness, restarts) are dropped whole.
    const kept = (st[key] as unknown[]).map(slimContainerStatus).filter((c) => c.allocatedResources !== undefined || c.resources !== undefined);
    if (kept.length > 0) status[key] = kept;
  }
  const requests = asObj(st['resources'])?.['requests'];
  if (asObj(st['resources'])) status.resources = asObj(requests) ? { requests: requests as Record<string, string> } : {};
  return status;
}

export function slimPod(raw: unknown): Pod {
  const p = asObj(raw) ?? {};
  const s = asObj(p['spec']) ?? {};
  const spec: PodSpec = pick<PodSpec>(s, [
    'nodeName',
    'schedulerName',
    'priority',
    'priorityClassName',
    'preemptionPolicy',
    'nodeSelector',
    'tolerations',
    'topologySpreadConstraints',
    'overhead',
    'schedulingGates',
    'resourceClaims',
  ]);
  if (asObj(s['affinity'])) spec.affinity = pick<Affinity>(s['affinity'], ['nodeAffinity', 'podAffinity', 'podAntiAffinity']);
  if (asObj(s['resources'])) spec.resources = pick<NonNullable<PodSpec['resources']>>(s['resources'], ['requests', 'limits']);
  if (Array.isArray(s['containers'])) spec.containers = (s['containers'] as unknown[]).map(slimContainer);
  if (Array.isArray(s['initContainers'])) spec.initContainers = (s['initContainers'] as unknown[]).map(slimContainer);
  if (Array.isArray(s['volumes'])) {
    const vols = (s['volumes'] as unknown[]).map(slimVolume).filter((v): v is Volume => v !== undefined);
    if (vols.length > 0) spec.volumes = vols;
  }
  return {
    kind: 'Pod',
    metadata: slimMeta(p['metadata'], { ownerReferences: true, timestamps: true }),
    spec,
    status: slimPodStatus(p['status']),
  };
}

export function slimNode(raw: unknown): Node {
  const n = asObj(raw) ?? {};
  const s = asObj(n['spec']) ?? {};
  const st = asObj(n['status']) ?? {};
  const status: NonNullable<Node['status']> = pick(st, ['allocatable', 'capacity']);
  if (Array.isArray(st['images'])) {
    status.images = (st['images'] as unknown[]).map((i) => pick(i, ['names', 'sizeBytes']));
  }
  if (Array.isArray(st['addresses'])) {
    status.addresses = (st['addresses'] as unknown[]).map((a) => pick<{ type?: string; address?: string }>(a, ['type', 'address']));
  }
  if (Array.isArray(st['conditions'])) {
    const ready = (st['conditions'] as unknown[]).filter((c) => asObj(c)?.['type'] === 'Ready').map((c) => pick<{ type?: string; status?: string }>(c, ['type', 'status']));
    if (ready.length > 0) status.conditions = ready;
  }
  return {
    kind: 'Node',
    metadata: slimMeta(n['metadata']),
    spec: pick(s, ['unschedulable', 'taints']),
    status,
  };
}

export function slimPersistentVolume(raw: unknown): PersistentVolume {
  const o = asObj(raw) ?? {};
  const s = asObj(o['spec']) ?? {};
  const spec: Raw = pick(s, ['storageClassName', 'nodeAffinity', 'accessModes', 'claimRef', 'capacity', 'volumeMode', 'volumeAttributesClassName']);
  const claimRef = asObj(spec['claimRef']);
  if (claimRef) spec['claimRef'] = pick(claimRef, ['apiVersion', 'kind', 'namespace', 'name', 'uid', 'resourceVersion']);
  const csi = asObj(s['csi']);
  if (csi) spec['csi'] = pick(csi, ['driver', 'volumeHandle']);
  // In-tree sources NodeVolumeLimits translates to CSI (the identity fields only; a GCE PD's zone is in the labels).
  for (const [source, fields] of PV_SOURCES) {
    const d = asObj(s[source]);
    if (d) spec[source] = pick(d, fields);
  }
  return {
    kind: 'PersistentVolume',
    metadata: slimMeta(o['metadata'], { annotations: true, timestamps: true }),
    spec: spec as PersistentVolume['spec'],
    status: pick(o['status'], ['phase']),
  } as PersistentVolume;
}

export function slimPersistentVolumeClaim(raw: unknown): PersistentVolumeClaim {
  const o = asObj(raw) ?? {};
  const s = asObj(o['spec']) ?? {};
  const spec: Raw = pick(s, ['volumeName', 'storageClassName', 'accessModes', 'volumeMode', 'volumeAttributesClassName', 'selector']);
  const res = asObj(s['resources']);
  if (res && res['requests'] !== undefined) spec['resources'] = { requests: res['requests'] };
  return {
    kind: 'PersistentVolumeClaim',
    metadata: slimMeta(o['metadata'], { annotations: true, ownerReferences: true, timestamps: true }),
    spec: spec as PersistentVolumeClaim['spec'],
    status: pick(o['status'], ['phase']),
  };
}

export function slimStorageClass(raw: unknown): StorageClass {
  const o = asObj(raw) ?? {};
  const out: Raw = pick(o, ['provisioner', 'volumeBindingMode', 'allowedTopologies']);
  return { ...out, kind: 'StorageClass', metadata: slimMeta(o['metadata']) } as StorageClass;
}

export function slimCSIDriver(raw: unknown): CSIDriver {
  const o = asObj(raw) ?? {};
  return { kind: 'CSIDriver', metadata: slimMeta(o['metadata']), spec: pick(o['spec'], ['storageCapacity', 'attachRequired', 'preventPodSchedulingIfMissing']) };
}

export function slimCSINode(raw: unknown): CSINode {
  const o = asObj(raw) ?? {};
  const s = asObj(o['spec']) ?? {};
  const drivers = Array.isArray(s['drivers']) ? (s['drivers'] as unknown[]).map((d) => pick(d, ['name', 'nodeID', 'allocatable', 'topologyKeys'])) : [];
  return { kind: 'CSINode', metadata: slimMeta(o['metadata']), spec: { drivers } } as CSINode;
}

export function slimCSIStorageCapacity(raw: unknown): CSIStorageCapacity {
  const o = asObj(raw) ?? {};
  const out: Raw = pick(o, ['storageClassName', 'nodeTopology', 'capacity', 'maximumVolumeSize']);
  return { ...out, kind: 'CSIStorageCapacity', metadata: slimMeta(o['metadata']) } as CSIStorageCapacity;
}

export function slimVolumeAttachment(raw: unknown): VolumeAttachment {
  const o = asObj(raw) ?? {};
  const s = asObj(o['spec']) ?? {};
  const spec: Raw = pick(s, ['attacher', 'nodeName']);
  const source = asObj(s['source']);
  if (source) spec['source'] = pick(source, ['persistentVolumeName']);
  return { kind: 'VolumeAttachment', metadata: slimMeta(o['metadata']), spec } as VolumeAttachment;
}

export function slimService(raw: unknown): Service {
  const o = asObj(raw) ?? {};
  return { kind: 'Service', metadata: slimMeta(o['metadata']), spec: pick(o['spec'], ['selector']) };
}

export function slimReplicationController(raw: unknown): ReplicationController {
  const o = asObj(raw) ?? {};
  return {
    kind: 'ReplicationController',
    metadata: slimMeta(o['metadata'], { ownerReferences: true }),
    spec: pick(o['spec'], ['selector']),
  };
}

export function slimReplicaSet(raw: unknown): ReplicaSet {
  const o = asObj(raw) ?? {};
  return { kind: 'ReplicaSet', metadata: slimMeta(o['metadata'], { ownerReferences: true }), spec: pick(o['spec'], ['selector']) };
}

export function slimStatefulSet(raw: unknown): StatefulSet {
  const o = asObj(raw) ?? {};
  return { kind: 'StatefulSet', metadata: slimMeta(o['metadata'], { ownerReferences: true }), spec: pick(o['spec'], ['selector']) };
}

/** policy/v1 PodDisruptionBudget: the selector, how many disruptions are allowed, the pods already being disrupted. */
export function slimPodDisruptionBudget(raw: unknown): PodDisruptionBudget {
  const o = asObj(raw) ?? {};
  return {
    kind: 'PodDisruptionBudget',
    metadata: slimMeta(o['metadata']),
    spec: pick(o['spec'], ['selector']),
    status: pick(o['status'], ['disruptionsAllowed', 'disruptedPods']),
  };
}

export function slimNamespace(raw: unknown): Namespace {
  const o = asObj(raw) ?? {};
  return { kind: 'Namespace', metadata: slimMeta(o['metadata']) };
}

/** DeviceClass: selectors, config (copied into allocations) and the extended resource it serves. */
export function slimDeviceClass(raw: unknown): DeviceClass {
  const o = asObj(raw) ?? {};
  return { kind: 'DeviceClass', metadata: slimMeta(o['metadata']), spec: pick(o['spec'], ['selectors', 'config', 'extendedResourceName']) };
}

/** ResourceSlice: the whole spec (devices with attributes, capacity, counters, taints; pool; node selection). */
export function slimResourceSlice(raw: unknown): ResourceSlice {
  const o = asObj(raw) ?? {};
  const spec = pick<NonNullable<ResourceSlice['spec']>>(o['spec'], [
    'driver',
    'pool',
    'nodeName',
    'nodeSelector',
    'allNodes',
    'perDeviceNodeSelection',
    'devices',
    'sharedCounters',
  ]);
  return { kind: 'ResourceSlice', metadata: slimMeta(o['metadata']), spec };
}

/** DeviceTaintRule: the selector and the taint (its status conditions are the controller's, not the scheduler's). */
export function slimDeviceTaintRule(raw: unknown): DeviceTaintRule {
  const o = asObj(raw) ?? {};
  return { kind: 'DeviceTaintRule', metadata: slimMeta(o['metadata']), spec: pick(o['spec'], ['deviceSelector', 'taint']) };
}

/** ResourceClaim: the device requests, and the status the allocator and PreBind read and write. */
export function slimResourceClaim(raw: unknown): ResourceClaim {
  const o = asObj(raw) ?? {};
  const spec = asObj(o['spec']);
  const out: ResourceClaim = {
    kind: 'ResourceClaim',
    metadata: slimMeta(o['metadata'], { annotations: true, ownerReferences: true, timestamps: true, finalizers: true }),
    spec: spec ? pick(spec, ['devices']) : {},
  };
  const status = pick<NonNullable<ResourceClaim['status']>>(o['status'], ['allocation', 'reservedFor', 'devices']);
  if (Object.keys(status).length > 0) out.status = status;
  return out;
}

/** client-go's MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}
