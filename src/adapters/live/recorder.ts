/**
 * Writes what kube-scheduler writes about a pod, so `kubectl describe pod` reads the same:
 * events.k8s.io/v1 Events (Normal "Scheduled" with action "Binding", Warning "FailedScheduling" with "Scheduling",
 * Normal "Preempted" with "Preempting"), reported by the profile's schedulerName; and the pod's status conditions
 * (PodScheduled, DisruptionTarget) and nominated node.
 *
 * Like client-go's event recorder, an event identical to one written for the same object in the last 6 minutes
 * becomes a series (count, lastObservedTime) instead of a new object, so a pod retried every few seconds does not
 * flood the namespace with events. Writes are best effort: failures are logged, never thrown into the loop.
 */
import { hostname } from 'node:os';
import type { Pod } from '../../kube/api.js';
import { truncateEventMessage } from '../../scheduler/framework/fitError.js';
import type { KubeClient } from './kubeClient.js';
import { eventBody, microTime, type ObjectRef } from './proto/bodies.js';
import type { LiveLogger } from './reflector.js';

const SERIES_WINDOW_MS = 6 * 60 * 1000;

export interface EventTarget {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export { microTime };

interface SeriesEntry {
  name: string;
  namespace: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export class EventRecorder {
  private readonly series = new Map<string, SeriesEntry>();
  private readonly instance: string;
  /** Events named in the current millisecond so far (the nanosecond digits of the next name). */
  private namedInMs = 0;
  private lastNamedMs = -1;

  constructor(
    private readonly client: Pick<KubeClient, 'request'>,
    private readonly logger: LiveLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.instance = hostname();
  }

  /** Records an event about `regarding`; resolves when written (or failed and logged). */
  async event(
    reportingController: string,
    regarding: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    message: string,
    related?: EventTarget,
  ): Promise<void> {
    const note = truncateEventMessage(message);
    const key = `${regarding.uid}\x00${reportingController}\x00${reason}\x00${action}\x00${note}`;
    const now = this.now();
    const previous = this.series.get(key);
    try {
      if (previous && now - previous.lastSeen < SERIES_WINDOW_MS) {
        previous.count += 1;
        previous.lastSeen = now;
        const res = await this.client.request(
          'PATCH',
          `/apis/events.k8s.io/v1/namespaces/${previous.namespace}/events/${previous.name}`,
          {
            contentType: 'application/merge-patch+json',
            body: { series: { count: previous.count, lastObservedTime: microTime(now) } },
            discardSuccessBody: true,
          },
        );
        if (res.status < 300) return;
        // The event expired or was deleted: fall through and create a fresh one.
        this.series.delete(key);
      }
      const name = `${regarding.name}.${this.nameSuffix(now)}`;
      const ref = (t: EventTarget, withVersion: boolean): ObjectRef => ({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: t.namespace,
        name: t.name,
        uid: t.uid,
        ...(withVersion && t.resourceVersion ? { resourceVersion: t.resourceVersion } : {}),
      });
      const body = eventBody({
        name,
        namespace: regarding.namespace,
        eventTimeMs: now,
        reportingController,
        reportingInstance: `${reportingController}-${this.instance}`,
        action,
        reason,
        note,
        type,
        regarding: ref(regarding, true),
        ...(related ? { related: ref(related, false) } : {}),
      });
      const res = await this.client.request('POST', `/apis/events.k8s.io/v1/namespaces/${regarding.namespace}/events`, { body, protobuf: true, discardSuccessBody: true });
      if (res.status >= 300) {
        this.logger.warn({ status: res.status, reason, pod: `${regarding.namespace}/${regarding.name}` }, 'event not recorded');
        return;
      }
      this.series.set(key, { name, namespace: regarding.namespace, count: 1, firstSeen: now, lastSeen: now });
      this.prune(now);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, reason, pod: `${regarding.namespace}/${regarding.name}` }, 'event not recorded');
    }
  }

  /**
   * client-go's events recorder names an event `<object>.<hex Unix nanoseconds>`. The clock here has milliseconds,
   * so the nanosecond digits count the events named within one millisecond: names stay unique within this process,
   * without reading random bytes for each event (a system call each, ~10 % of writing an event). Another process
   * naming an event for the same pod in the same millisecond gets a conflict, which is logged like any failed write.
   */
  private nameSuffix(nowMs: number): string {
    // Never behind the last name's millisecond: a clock stepped back, or a `now` read before an await, must not give
    // a millisecond's counter a second start.
    const ms = Math.max(Math.floor(nowMs), this.lastNamedMs);
    if (ms !== this.lastNamedMs) {
      this.lastNamedMs = ms;
      this.namedInMs = 0;
    }
    const ns = BigInt(ms) * 1_000_000n + BigInt(this.namedInMs++ % 1_000_000);
    return ns.toString(16);
  }

  private prune(now: number): void {
    if (this.series.size < 10_000) return;
    for (const [key, entry] of this.series) if (now - entry.lastSeen >= SERIES_WINDOW_MS) this.series.delete(key);
  }

  /** Forgets the series of a deleted pod. */
  forget(uid: string): void {
    for (const key of this.series.keys()) if (key.startsWith(`${uid}\x00`)) this.series.delete(key);
  }
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

interface ExistingCondition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

function existingCondition(pod: Pod, type: string): ExistingCondition | undefined {
  return (pod.status?.conditions ?? []).find(
    (c): c is ExistingCondition => typeof c === 'object' && c !== null && (c as { type?: unknown }).type === type,
  );
}

/** Kubernetes' metav1.Time: RFC 3339 in seconds. */
function rfc3339Seconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Patches a pod's status as upstream's updatePod does: the condition (PodScheduled, DisruptionTarget) and/or
 * status.nominatedNodeName ('' clears it), with a strategic-merge patch, and only when that changes something.
 * The lastTransitionTime moves only when the condition's status changes. `ifResourceVersion`: apply only if the pod
 * is still at that resourceVersion (409 otherwise), so a late patch cannot overwrite what happened since (e.g.
 * PodScheduled=True set by a binding). Returns the HTTP status (200 when nothing needed writing), 0 on a network
 * error.
 */
export async function patchPodStatus(
  client: Pick<KubeClient, 'request'>,
  pod: Pod,
  update: { condition?: PodCondition; nominatedNodeName?: string },
  now: number,
  ifResourceVersion?: string,
): Promise<number> {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const status: Record<string, unknown> = {};
  const wanted = update.condition;
  if (wanted) {
    const existing = existingCondition(pod, wanted.type);
    const same = existing && existing.status === wanted.status && existing.reason === wanted.reason && existing.message === wanted.message;
    if (!same) {
      const transition = existing && existing.status === wanted.status ? existing.lastTransitionTime : undefined;
      status['conditions'] = [
        { ...wanted, lastProbeTime: null, lastTransitionTime: transition ?? rfc3339Seconds(now) },
      ];
    }
  }
  const nominated = update.nominatedNodeName;
  if (nominated !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominated) {
    status['nominatedNodeName'] = nominated === '' ? null : nominated;
  }
  if (Object.keys(status).length === 0) return 200;
  try {
    const res = await client.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, {
      contentType: 'application/strategic-merge-patch+json',
      body: ifResourceVersion ? { metadata: { resourceVersion: ifResourceVersion }, status } : { status },
    });
    return res.status;
  } catch {
    return 0;
  }
}
