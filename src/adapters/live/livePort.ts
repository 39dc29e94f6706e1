/**
 * The ClusterPort over the API server: what the scheduler core writes, as kube-scheduler writes it. Bindings
 * (POST pods/binding), victims' eviction (DisruptionTarget, then a delete with the uid as precondition), events
 * (with client-go's series folding), pod status patches, re-reads after a failed binding, and the objects PreBind
 * plugins change.
 *
 * Writes the core does not wait for (events, condition patches) are tracked, so stopping can let them reach the
 * API server before the client closes. Nothing here throws into the core: failures are logged and reported.
 */
import type { Pod } from '../../kube/api.js';
import type { PodInfo } from '../../scheduler/cache/podInfo.js';
import type { ClusterPort, ObjectRead, ObjectWrite, PodEvent, PodLookup, PodStatusUpdate, WriteResult } from '../../scheduler/ports.js';
import type { KubeClient } from './kubeClient.js';
import { EventRecorder, type EventTarget, patchPodStatus } from './recorder.js';
import { bindingBody } from './proto/bodies.js';
import type { LiveLogger } from './reflector.js';

/** Collection paths of the kinds PreBind plugins write, by "apiVersion/kind". */
const COLLECTIONS: ReadonlyMap<string, { prefix: string; plural: string; namespaced: boolean }> = new Map([
  ['v1/PersistentVolume', { prefix: '/api/v1', plural: 'persistentvolumes', namespaced: false }],
  ['v1/PersistentVolumeClaim', { prefix: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true }],
  ['v1/Pod', { prefix: '/api/v1', plural: 'pods', namespaced: true }],
  ['resource.k8s.io/v1/ResourceClaim', { prefix: '/apis/resource.k8s.io/v1', plural: 'resourceclaims', namespaced: true }],
]);

const METHODS = { create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE' } as const;

function messageOf(body: unknown, status: number): string {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : `HTTP ${status}`;
}

/** The collection an object lives in (e.g. /api/v1/namespaces/ns/pods), or undefined for a kind berth never touches. */
function collectionPath(request: ObjectRead): string | undefined {
  const collection = COLLECTIONS.get(`${request.apiVersion}/${request.kind}`);
  if (!collection) return undefined;
  const ns = collection.namespaced ? `/namespaces/${request.namespace ?? 'default'}` : '';
  return `${collection.prefix}${ns}/${collection.plural}`;
}

function target(pod: PodInfo): EventTarget {
  const rv = pod.pod.metadata?.resourceVersion;
  return { namespace: pod.namespace, name: pod.name, uid: pod.uid, ...(rv ? { resourceVersion: rv } : {}) };
}

export class LivePort implements ClusterPort {
  private readonly recorder: EventRecorder;
  /** Best-effort writes in flight (events, status patches). */
  private readonly pending = new Set<Promise<unknown>>();
  /** Annotations the next Binding of a pod (by uid) carries, for the node they were written for. */
  private readonly bindingAnnotations = new Map<string, { node: string; annotations: Record<string, string> }>();

  constructor(
    private readonly client: KubeClient,
    private readonly logger: LiveLogger,
  ) {
    this.recorder = new EventRecorder(client, logger);
  }

  /**
   * The pod's Binding to `node` will carry these annotations: the API server merges them onto the pod in the same
   * write that binds it. Taken by the next bind() of the pod; dropped by forgetBindingAnnotations.
   */
  annotateBinding(uid: string, node: string, annotations: Record<string, string>): void {
    this.bindingAnnotations.set(uid, { node, annotations });
  }

  forgetBindingAnnotations(uid: string): void {
    this.bindingAnnotations.delete(uid);
  }

  async bind(pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<string | null> {
    const planned = this.bindingAnnotations.get(pod.uid);
    this.bindingAnnotations.delete(pod.uid);
    const annotations = planned?.node === nodeName ? planned.annotations : undefined;
    const body = bindingBody({ namespace: pod.namespace, name: pod.name, uid: pod.uid, node: nodeName, ...(annotations ? { annotations } : {}) });
    const started = Date.now();
    try {
      const res = await this.client.request('POST', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/binding`, { body, signal, protobuf: true, discardSuccessBody: true });
      if (res.status >= 200 && res.status < 300) {
        this.logger.debug({ pod: pod.key, node: nodeName, bindMs: Date.now() - started }, 'bound');
        return null;
      }
      return messageOf(res.body, res.status);
    } catch (err) {
      return (err as Error).message;
    }
  }

  async evictVictim(victim: PodInfo, preemptor: PodInfo): Promise<boolean> {
    const condition = {
      type: 'DisruptionTarget',
      status: 'True' as const,
      reason: 'PreemptionByScheduler',
      message: `${preemptor.schedulerName}: preempting to accommodate a higher priority pod`,
    };
    const patched = await patchPodStatus(this.client, victim.pod, { condition }, Date.now());
    if (patched === 404) return false;
    if (patched < 200 || patched >= 300) {
      this.logger.warn({ victim: victim.key, status: patched }, 'preemption: could not add the DisruptionTarget condition');
      return false;
    }
    try {
      const res = await this.client.request('DELETE', `/api/v1/namespaces/${victim.namespace}/pods/${victim.name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: victim.uid } },
      });
      if (res.status === 404) return false;
      if (res.status >= 300) {
        this.logger.warn({ victim: victim.key, status: res.status }, 'preemption: could not delete victim');
        return false;
      }
      return true;
    } catch (err) {
      this.logger.warn({ victim: victim.key, err: (err as Error).message }, 'preemption: could not delete victim');
      return false;
    }
  }

  recordEvent(event: PodEvent): void {
    const related = event.related ? target(event.related) : undefined;
    this.track(this.recorder.event(event.reporter, target(event.regarding), event.type, event.reason, event.action, event.message, related));
  }

  updatePodStatus(pod: Pod, update: PodStatusUpdate): Promise<void> {
    const rv = update.onlyIfUnchanged ? pod.metadata?.resourceVersion : undefined;
    const condition = update.condition ? { type: 'PodScheduled', ...update.condition } : undefined;
    const write = patchPodStatus(
      this.client,
      pod,
      { ...(condition ? { condition } : {}), ...(update.nominatedNodeName !== undefined ? { nominatedNodeName: update.nominatedNodeName } : {}) },
      Date.now(),
      rv,
    ).then((status) => {
      if (status >= 300 && status !== 404 && status !== 409) {
        this.logger.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, status }, 'pod status not updated');
      }
    });
    this.track(write);
    return write;
  }

  async lookupPod(pod: PodInfo): Promise<PodLookup> {
    try {
      const res = await this.client.request<Pod>('GET', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, { timeoutMs: 10_000, protobuf: true });
      if (res.status === 404) return { state: 'gone' };
      if (res.status >= 300) return { state: 'unknown' };
      const current = res.body as Pod;
      if (current.metadata?.uid !== pod.uid) return { state: 'gone' };
      return !current.spec?.nodeName && !current.metadata?.deletionTimestamp ? { state: 'pending', pod: current } : { state: 'gone' };
    } catch {
      // The API server is unreachable: keep the pod; the watch will tell if it was bound or deleted meanwhile.
      return { state: 'unknown' };
    }
  }

  async read(request: ObjectRead, signal?: AbortSignal): Promise<WriteResult> {
    const base = collectionPath(request);
    if (!base) return { status: 0, message: `berth cannot read ${request.apiVersion} ${request.kind}` };
    try {
      // The path comes from COLLECTIONS; RBAC for it is declared by the reading plugin's apiWrites (verb get).
      const path = `${base}/${request.name}`;
      const res = await this.client.request('GET', path, { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
      if (res.status >= 200 && res.status < 300) return { status: res.status, object: res.body };
      return { status: res.status, message: messageOf(res.body, res.status) };
    } catch (err) {
      return { status: 0, message: (err as Error).message };
    }
  }

  async write(request: ObjectWrite, signal?: AbortSignal): Promise<WriteResult> {
    const base = collectionPath(request);
    if (!base) return { status: 0, message: `berth cannot write ${request.apiVersion} ${request.kind}` };
    const path = request.verb === 'create' ? base : `${base}/${request.name}${request.subresource ? `/${request.subresource}` : ''}`;
    const method = METHODS[request.verb];
    try {
      const res = await this.client.request(method, path, {
        body: request.body,
        ...(request.verb === 'patch' ? { contentType: 'application/merge-patch+json' } : {}),
        ...(signal ? { signal } : {}),
      });
      if (res.status >= 200 && res.status < 300) return { status: res.status, object: res.body };
      return { status: res.status, message: messageOf(res.body, res.status) };
    } catch (err) {
      return { status: 0, message: (err as Error).message };
    }
  }

  /** A deleted pod's event series are forgotten. */
  podDeleted(uid: string): void {
    this.recorder.forget(uid);
    this.bindingAnnotations.delete(uid);
  }

  /** Lets the writes in flight finish, for at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private track(write: Promise<unknown>): void {
    const forget = (): void => {
      this.pending.delete(p);
    };
    const p: Promise<void> = write.then(forget, forget);
    this.pending.add(p);
  }
}
