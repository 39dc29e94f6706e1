/**
 * Writes what kube-scheduler writes about a pod, so `kubectl describe pod` reads the same:
 * events.k8s.io/v1 Events (Normal "Scheduled", Warning "FailedScheduling", Normal "Preempted") with action
 * "Scheduling" / "Preempting", reported by the profile's schedulerName; and the PodScheduled condition.
 *
 * Like client-go's event recorder, an event identical to one written for the same object in the last 6 minutes
 * becomes a series (count, lastObservedTime) instead of a new object, so a pod retried every few seconds does not
 * flood the namespace with events. Writes are best effort: failures are logged, never thrown into the loop.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pod } from '../../kube/api.js';
import { truncateEventMessage } from '../../scheduler/framework/fitError.js';
import type { KubeClient } from './kubeClient.js';
import type { LiveLogger } from './reflector.js';

const SERIES_WINDOW_MS = 6 * 60 * 1000;

export interface EventTarget {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

/** Go's metav1.MicroTime format: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

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
          },
        );
        if (res.status < 300) return;
        // The event expired or was deleted: fall through and create a fresh one.
        this.series.delete(key);
      }
      const name = `${regarding.name}.${randomBytes(8).toString('hex')}`;
      const body = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace: regarding.namespace },
        eventTime: microTime(now),
        reportingController,
        reportingInstance: `${reportingController}-${this.instance}`,
        action,
        reason,
        note,
        type,
        regarding: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: regarding.namespace,
          name: regarding.name,
          uid: regarding.uid,
          ...(regarding.resourceVersion ? { resourceVersion: regarding.resourceVersion } : {}),
        },
        ...(related
          ? { related: { apiVersion: 'v1', kind: 'Pod', namespace: related.namespace, name: related.name, uid: related.uid } }
          : {}),
      };
      const res = await this.client.request('POST', `/apis/events.k8s.io/v1/namespaces/${regarding.namespace}/events`, { body });
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

  private prune(now: number): void {
    if (this.series.size < 10_000) return;
    for (const [key, entry] of this.series) if (now - entry.lastSeen >= SERIES_WINDOW_MS) this.series.delete(key);
  }

  /** Forgets the series of a deleted pod. */
  forget(uid: string): void {
    for (const key of this.series.keys()) if (key.startsWith(`${uid}\x00`)) this.series.delete(key);
  }
}

export interface PodConditionUpdate {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/**
 * Sets PodScheduled on the pod's status with a strategic-merge patch, as upstream's updatePod does, and only when the
 * condition (or the nominated node) would change. Returns the HTTP status, or 0 on a network error.
 * `ifResourceVersion`: apply only if the pod is still at that resourceVersion (409 otherwise), so a late patch cannot
 * overwrite what happened since (e.g. PodScheduled=True set by a binding).
 */
export async function patchPodScheduledCondition(
  client: Pick<KubeClient, 'request'>,
  pod: Pod,
  condition: PodConditionUpdate,
  now: number,
  nominatedNodeName?: string,
  ifResourceVersion?: string,
): Promise<number> {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const existing = (pod.status?.conditions ?? []).find(
    (c): c is { type: string; status?: string; reason?: string; message?: string; lastTransitionTime?: string } =>
      typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'PodScheduled',
  );
  const nominationChanges = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
  if (
    existing &&
    existing.status === condition.status &&
    existing.reason === condition.reason &&
    existing.message === condition.message &&
    !nominationChanges
  ) {
    return 200;
  }
  const transition = existing && existing.status === condition.status ? existing.lastTransitionTime : undefined;
  const status: Record<string, unknown> = {
    conditions: [
      {
        type: 'PodScheduled',
        status: condition.status,
        reason: condition.reason,
        message: condition.message,
        lastProbeTime: null,
        lastTransitionTime: transition ?? new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    ],
  };
  if (nominationChanges) status.nominatedNodeName = nominatedNodeName === '' ? null : nominatedNodeName;
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
