/**
 * The ClusterPort in memory: the simulator's stand-in for the API server and the watches that would report back.
 * A binding makes the pod bound in the cache; an evicted victim leaves it; status patches (nominations, the
 * PodScheduled condition) are kept per pod; events are recorded in order; object writes (PreBind's volume and
 * claim updates, ResourceClaim allocations and reservations) are applied to the cache as the watch would deliver them. Each change tells the scheduler which
 * cluster event happened, as the live adapter's watch handlers do.
 *
 * The other half of the volume handshake is modelled as succeeding at once: a PV the scheduler pre-bound to a claim
 * gets bound (the PV controller's part), and a claim given a selected node gets a new PV on that node (a local-path
 * style provisioner's part), each with a resourceVersion newer than the scheduler's write. A CSI provisioner's PV
 * names its driver and a volume handle, so NodeVolumeLimits counts it as the driver's once bound.
 */
import type { ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod } from '../../kube/api.js';
import type { ClusterState } from '../../scheduler/cache/clusterState.js';
import type { PodInfo } from '../../scheduler/cache/podInfo.js';
import type { ClusterEventKind } from '../../scheduler/plugins/catalog.js';
import type { ClusterEvent } from '../../scheduler/framework/plugin.js';
import type { ClusterPort, ObjectRead, ObjectWrite, PodEvent, PodLookup, PodStatusUpdate, WriteResult } from '../../scheduler/ports.js';

/** A recorded event, as `kubectl get events` would list it. */
export interface RecordedEvent {
  pod: string;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  message: string;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

const WRITABLE_KINDS: ReadonlyMap<string, { event: ClusterEventKind; namespaced: boolean }> = new Map([
  ['v1/PersistentVolume', { event: 'PvChange', namespaced: false }],
  ['v1/PersistentVolumeClaim', { event: 'PvcChange', namespaced: true }],
  ['resource.k8s.io/v1/ResourceClaim', { event: 'ResourceClaimChange', namespaced: true }],
]);

export class MemoryPort implements ClusterPort {
  readonly events: RecordedEvent[] = [];
  /** uid → the node the pod was bound to. */
  readonly bound = new Map<string, string>();
  /** uids of pods deleted (evicted) during the simulation. */
  readonly deleted = new Set<string>();
  /** uid → the pod's status as patched (nominatedNodeName, PodScheduled). */
  readonly statuses = new Map<string, { nominatedNodeName?: string; condition?: PodStatusUpdate['condition'] }>();
  /** "namespace/name" → status fields patched through write() (applied to the pod when it is bound). */
  readonly podStatusPatches = new Map<string, Record<string, unknown>>();
  private notify: (event: ClusterEvent) => void = () => {};

  constructor(private readonly cluster: ClusterState) {}

  /** Where cluster events go (the scheduler's notify), once the scheduler exists. */
  attach(notify: (event: ClusterEvent) => void): void {
    this.notify = notify;
  }

  async bind(pod: PodInfo, nodeName: string, _signal?: AbortSignal): Promise<string | null> {
    if (this.deleted.has(pod.uid)) return `pods "${pod.name}" not found`;
    const already = this.bound.get(pod.uid);
    if (already !== undefined) return `Operation cannot be fulfilled on pods/binding "${pod.name}": pod ${pod.name} is already assigned to node "${already}"`;
    this.bound.set(pod.uid, nodeName);
    // The API server clears a nomination when it binds (ClearingNominatedNodeNameAfterBinding).
    const status = this.statuses.get(pod.uid);
    if (status) delete status.nominatedNodeName;
    const bound = pod.assignedTo(nodeName).pod;
    const patched = this.podStatusPatches.get(pod.key) ?? {};
    this.cluster.upsertAssignedPod({ ...bound, status: { ...(bound.status ?? {}), ...patched, nominatedNodeName: undefined } });
    this.notify({ kind: 'AssignedPodAdd', newObject: this.cluster.getPod(pod.uid)?.pod });
    return null;
  }

  async evictVictim(victim: PodInfo): Promise<boolean> {
    if (this.deleted.has(victim.uid)) return false;
    this.deleted.add(victim.uid);
    this.bound.delete(victim.uid);
    if (this.cluster.removePodByUid(victim.uid)) this.notify({ kind: 'AssignedPodDelete', oldObject: victim.pod });
    return true;
  }

  recordEvent(event: PodEvent): void {
    this.events.push({ pod: event.regarding.key, type: event.type, reason: event.reason, action: event.action, message: event.message });
  }

  async updatePodStatus(pod: Pod, update: PodStatusUpdate): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const status = this.statuses.get(uid) ?? {};
    if (update.condition) status.condition = update.condition;
    if (update.nominatedNodeName !== undefined) {
      if (update.nominatedNodeName === '') delete status.nominatedNodeName;
      else status.nominatedNodeName = update.nominatedNodeName;
    }
    this.statuses.set(uid, status);
  }

  async lookupPod(pod: PodInfo): Promise<PodLookup> {
    if (this.deleted.has(pod.uid) || this.bound.has(pod.uid)) return { state: 'gone' };
    return { state: 'pending', pod: pod.pod };
  }

  async read(request: ObjectRead): Promise<WriteResult> {
    const kind = WRITABLE_KINDS.get(`${request.apiVersion}/${request.kind}`);
    const object = kind ? this.current(request, kind.namespaced) : undefined;
    return object ? { status: 200, object } : { status: 404, message: `${request.kind} "${request.name}" not found` };
  }

  async write(request: ObjectWrite): Promise<WriteResult> {
    if (request.apiVersion === 'v1' && request.kind === 'Pod') return this.patchPodStatus(request);
    const kind = WRITABLE_KINDS.get(`${request.apiVersion}/${request.kind}`);
    if (!kind) return { status: 0, message: `the simulator cannot write ${request.apiVersion} ${request.kind}` };
    if (request.verb === 'create' && request.name === '') request = this.withGeneratedName(request);
    const existing = this.current(request, kind.namespaced) as { metadata?: { resourceVersion?: string } } | undefined;
    if (request.verb === 'create' && existing) return { status: 409, message: `${request.kind} "${request.name}" already exists` };
    if (request.verb !== 'create' && !existing) return { status: 404, message: `${request.kind} "${request.name}" not found` };
    const wanted = (request.body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    if (existing && wanted !== undefined && wanted !== (existing.metadata?.resourceVersion ?? '')) {
      return { status: 409, message: `Operation cannot be fulfilled on ${request.kind} "${request.name}": the object has been modified` };
    }
    if (request.verb === 'delete') {
      this.cluster.removeObject(request.kind, request.namespace, request.name);
      this.notify({ kind: kind.event, oldObject: existing });
      return { status: 200 };
    }
    const merged = (request.verb === 'patch' ? mergePatch(existing, request.body) : request.body) as { metadata?: ObjectMeta };
    const object: { metadata: ObjectMeta } = { ...merged, metadata: { ...(merged.metadata ?? {}), resourceVersion: this.nextVersion() } };
    this.cluster.upsertObject(request.kind, object);
    this.notify({ kind: kind.event, ...(existing ? { oldObject: existing } : {}), newObject: object });
    if (request.kind === 'PersistentVolume') this.completeStaticBinding(object as PersistentVolume);
    else if (request.kind === 'PersistentVolumeClaim') this.provision(object as PersistentVolumeClaim);
    return { status: request.verb === 'create' ? 201 : 200, object };
  }

  private version = 1_000_000;
  private generated = 0;

  /** The API server's generateName: the prefix and a suffix unique in the simulation, and a uid. */
  private withGeneratedName(request: ObjectWrite): ObjectWrite {
    const body = request.body as { metadata?: ObjectMeta };
    const n = (++this.generated).toString(36).padStart(5, '0');
    const name = `${body.metadata?.generateName ?? ''}${n}`;
    const metadata: ObjectMeta = { ...body.metadata, name, uid: `sim-generated-${n}` };
    return { ...request, name, body: { ...body, metadata } };
  }

  /**
   * A merge patch of a pending pod's status (DynamicResources' extendedResourceClaimStatus): kept with the pod's
   * other status changes and laid over the pod when it is bound.
   */
  private patchPodStatus(request: ObjectWrite): WriteResult {
    if (request.verb !== 'patch' || request.subresource !== 'status') return { status: 0, message: 'the simulator only patches pods/status' };
    const key = `${request.namespace ?? 'default'}/${request.name}`;
    const patch = (request.body as { status?: unknown } | undefined)?.status;
    this.podStatusPatches.set(key, mergePatch(this.podStatusPatches.get(key), patch ?? {}) as Record<string, unknown>);
    return { status: 200 };
  }

  private nextVersion(): string {
    return String(++this.version);
  }

  /** The PV controller's part for a PV the scheduler pre-bound: both sides bound. */
  private completeStaticBinding(pv: PersistentVolume): void {
    const ref = pv.spec?.claimRef;
    if (!ref?.name) return;
    const pvc = this.cluster.getPersistentVolumeClaim(ref.namespace ?? 'default', ref.name);
    if (!pvc || pvc.spec?.volumeName) return;
    this.bindBoth(pv, pvc);
  }

  /** A provisioner's part for a claim given a selected node: a PV there, then the PV controller binds both. */
  private provision(pvc: PersistentVolumeClaim): void {
    const node = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (!node || pvc.spec?.volumeName) return;
    const cls = this.cluster.storageClasses.get(pvc.spec?.storageClassName ?? '');
    if (!cls?.provisioner || cls.provisioner === 'kubernetes.io/no-provisioner') return;
    const meta = pvc.metadata ?? {};
    const name = `pvc-${meta.uid ?? meta.name ?? ''}`;
    // In-tree provisioners (kubernetes.io/...) would write their own source kind; any other is a CSI driver.
    const csi = cls.provisioner.startsWith('kubernetes.io/') ? {} : { csi: { driver: cls.provisioner, volumeHandle: name } };
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': cls.provisioner } },
      spec: {
        ...csi,
        storageClassName: pvc.spec?.storageClassName ?? '',
        accessModes: pvc.spec?.accessModes ?? [],
        capacity: { storage: String(pvc.spec?.resources?.requests?.['storage'] ?? '0') },
        claimRef: { kind: 'PersistentVolumeClaim', namespace: meta.namespace ?? 'default', name: meta.name ?? '', uid: meta.uid ?? '' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
      },
      status: { phase: 'Available' },
    };
    this.bindBoth(pv, pvc);
  }

  private bindBoth(pv: PersistentVolume, pvc: PersistentVolumeClaim): void {
    const boundPv: PersistentVolume = { ...pv, metadata: { ...pv.metadata, resourceVersion: this.nextVersion() }, status: { phase: 'Bound' } };
    const boundPvc: PersistentVolumeClaim = {
      ...pvc,
      metadata: {
        ...pvc.metadata,
        resourceVersion: this.nextVersion(),
        annotations: { ...(pvc.metadata?.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes' },
      },
      spec: { ...pvc.spec, volumeName: pv.metadata?.name ?? '' },
      status: { phase: 'Bound' },
    };
    this.cluster.upsertObject('PersistentVolume', boundPv);
    this.cluster.upsertObject('PersistentVolumeClaim', boundPvc);
    this.notify({ kind: 'PvChange', oldObject: pv, newObject: boundPv });
    this.notify({ kind: 'PvcChange', oldObject: pvc, newObject: boundPvc });
  }

  private current(request: ObjectRead, namespaced: boolean): unknown {
    if (request.kind === 'PersistentVolume') return this.cluster.persistentVolumes.get(request.name);
    if (request.kind === 'ResourceClaim') return this.cluster.resourceClaims.get(`${request.namespace ?? 'default'}/${request.name}`);
    return namespaced ? this.cluster.getPersistentVolumeClaim(request.namespace ?? 'default', request.name) : undefined;
  }
}
