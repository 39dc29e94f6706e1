/**
 * The scheduling queue, as upstream's PriorityQueue: an active heap (higher priority first, then earlier
 * enqueue time), a backoff heap (1s doubling to the configured cap), an unschedulable pool (pods wait there until
 * a cluster event that one of their rejecting plugins cares about, or 5 minutes pass), and gated pods
 * (spec.schedulingGates). Time comes from an injected clock so the simulator can run it on virtual time.
 */
import { Heap } from './heap.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { ClusterEventKind } from '../plugins/catalog.js';
import type { ClusterEvent, EventInterest } from '../framework/plugin.js';

export interface QueuedPod {
  pod: PodInfo;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod (re)entered the queue: the active heap's tie-break after priority. */
  timestamp: number;
  /** When the pod was first seen, for the end-to-end latency metric. */
  initialAttemptTimestamp: number;
  /** Plugins that rejected the pod in its last attempt. */
  unschedulablePlugins: Set<string>;
  /** Scheduling cycle in which the pod was popped last. */
  cycle: number;
}

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated';

export interface QueueOptions {
  /**
   * The events that can make a pod the plugin rejected schedulable, with their queueing hints
   * (PluginCatalog.eventsOf); undefined for a plugin the caller does not know.
   */
  eventsOf: (plugin: string) => readonly EventInterest[] | undefined;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Unschedulable pods older than this are moved back (upstream podMaxInUnschedulablePodsDuration, 5 min). */
  maxInUnschedulableMs?: number;
  /** Called whenever a pod enters a queue (for scheduler_queue_incoming_pods_total). */
  onIncoming?: (queue: QueueName, event: string) => void;
}

export class SchedulingQueue {
  private readonly active = new Heap<QueuedPod>(
    (q) => q.pod.uid,
    (a, b) => a.pod.priority > b.pod.priority || (a.pod.priority === b.pod.priority && a.timestamp < b.timestamp),
  );
  private readonly backoff = new Heap<QueuedPod>(
    (q) => q.pod.uid,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly gated = new Map<string, QueuedPod>();
  /** Pods popped and not yet done (being scheduled or bound), by uid. */
  private readonly inFlight = new Map<string, QueuedPod>();
  private schedulingCycle = 0;
  /**
   * The scheduling cycle in which each kind of cluster event last happened. A pod rejected in cycle c goes to backoff
   * instead of the unschedulable pool when an event relevant to its rejecting plugins happened at or after c (it may
   * have raced with the attempt): upstream's in-flight event check with queueing hints.
   */
  private readonly lastEventCycle = new Map<ClusterEventKind, number>();
  private readonly maxInUnschedulableMs: number;

  constructor(
    private readonly now: () => number,
    private readonly options: QueueOptions,
  ) {
    this.maxInUnschedulableMs = options.maxInUnschedulableMs ?? 5 * 60 * 1000;
  }

  /** A new pending pod. Pods with scheduling gates wait in the gated set. */
  add(pod: PodInfo): void {
    const uid = pod.uid;
    if (this.contains(uid)) {
      this.update(pod);
      return;
    }
    const now = this.now();
    const q: QueuedPod = { pod, attempts: 0, timestamp: now, initialAttemptTimestamp: now, unschedulablePlugins: new Set(), cycle: -1 };
    this.enqueueNew(q, 'PodAdd');
  }

  private enqueueNew(q: QueuedPod, event: string): void {
    if ((q.pod.pod.spec?.schedulingGates?.length ?? 0) > 0) {
      this.gated.set(q.pod.uid, q);
      this.options.onIncoming?.('gated', event);
      return;
    }
    this.active.push(q);
    this.options.onIncoming?.('active', event);
  }

  /** The pending pod changed (labels, gates, resources...): refresh it and give it another chance. */
  update(pod: PodInfo): void {
    const uid = pod.uid;
    const inFlight = this.inFlight.get(uid);
    if (inFlight) {
      inFlight.pod = pod;
      return;
    }
    for (const heap of [this.active, this.backoff]) {
      const q = heap.get(uid);
      if (q) {
        q.pod = pod;
        heap.push(q);
        return;
      }
    }
    const gated = this.gated.get(uid);
    if (gated) {
      this.gated.delete(uid);
      gated.pod = pod;
      this.enqueueNew(gated, 'PodUpdate');
      return;
    }
    const waiting = this.unschedulable.get(uid);
    if (waiting) {
      this.unschedulable.delete(uid);
      waiting.pod = pod;
      this.requeue(waiting, 'PodUpdate');
      return;
    }
    this.add(pod);
  }

  /**
   * Replaces the stored pod object without moving it: for updates that change nothing scheduling reads (status,
   * conditions, resourceVersion), as upstream ignores them (isPodUpdated). Returns false if the pod is not queued.
   */
  refresh(pod: PodInfo): boolean {
    const uid = pod.uid;
    const q =
      this.inFlight.get(uid) ?? this.active.get(uid) ?? this.backoff.get(uid) ?? this.unschedulable.get(uid) ?? this.gated.get(uid);
    if (!q) return false;
    q.pod = pod;
    return true;
  }

  delete(uid: string): void {
    this.active.delete(uid);
    this.backoff.delete(uid);
    this.unschedulable.delete(uid);
    this.gated.delete(uid);
    this.inFlight.delete(uid);
  }

  contains(uid: string): boolean {
    return (
      this.active.has(uid) || this.backoff.has(uid) || this.unschedulable.has(uid) || this.gated.has(uid) || this.inFlight.has(uid)
    );
  }

  /** Takes the next pod to schedule, after moving due backoff pods to active. Undefined when none is ready. */
  pop(): QueuedPod | undefined {
    this.flushBackoffCompleted();
    const q = this.active.pop();
    if (!q) return undefined;
    this.schedulingCycle++;
    q.attempts++;
    q.cycle = this.schedulingCycle;
    this.inFlight.set(q.pod.uid, q);
    return q;
  }

  /** The pod's attempt is over (bound, or requeued below). */
  done(uid: string): void {
    this.inFlight.delete(uid);
  }

  /**
   * Puts back a pod whose attempt failed. With rejecting plugins and no move request since it was popped, it waits
   * in the unschedulable pool; otherwise (errors, or a cluster change raced with the attempt) it backs off.
   */
  requeueAfterFailure(q: QueuedPod, rejectingPlugins: ReadonlySet<string>): void {
    this.inFlight.delete(q.pod.uid);
    q.unschedulablePlugins = new Set(rejectingPlugins);
    q.timestamp = this.now();
    if (rejectingPlugins.size === 0 || this.relevantEventSince(q, q.cycle)) {
      this.backoff.push(q);
      this.options.onIncoming?.('backoff', 'ScheduleAttemptFailure');
    } else {
      this.unschedulable.set(q.pod.uid, q);
      this.options.onIncoming?.('unschedulable', 'ScheduleAttemptFailure');
    }
  }

  /**
   * A cluster event: unschedulable pods that one of their rejecting plugins cares about (and whose hint, if it has
   * one, says 'Queue') are moved back — all but `except`: a pod whose own forgotten assumption caused the event.
   */
  onClusterEvent(event: ClusterEventKind | ClusterEvent, except?: string): void {
    const change: ClusterEvent = typeof event === 'string' ? { kind: event } : event;
    for (const [uid, q] of this.unschedulable) {
      if (uid === except || !this.relevant(q, change)) continue;
      this.unschedulable.delete(uid);
      this.requeue(q, change.kind);
    }
    this.lastEventCycle.set(change.kind, this.schedulingCycle);
  }

  /**
   * Whether an event of a kind relevant to the pod happened since `cycle`. The objects of those events are not
   * kept, so hints are not asked: a pod whose attempt raced with one goes to backoff rather than waiting.
   */
  private relevantEventSince(q: QueuedPod, cycle: number): boolean {
    for (const [kind, at] of this.lastEventCycle) {
      if (at >= cycle && this.relevant(q, { kind }, false)) return true;
    }
    return false;
  }

  private relevant(q: QueuedPod, change: ClusterEvent, askHints = true): boolean {
    if (q.unschedulablePlugins.size === 0) return true;
    for (const plugin of q.unschedulablePlugins) {
      const interests = this.options.eventsOf(plugin);
      // Unknown rejectors (should not happen) are treated as interested in everything rather than stranding pods.
      if (!interests) return true;
      for (const interest of interests) {
        if (interest.event !== change.kind) continue;
        if (!askHints || !interest.hint || hintSaysQueue(interest, q, change)) return true;
      }
    }
    return false;
  }

  private requeue(q: QueuedPod, event: string): void {
    if (this.isBackingOff(q)) {
      this.backoff.push(q);
      this.options.onIncoming?.('backoff', event);
    } else {
      this.active.push(q);
      this.options.onIncoming?.('active', event);
    }
  }

  /** Periodic housekeeping (upstream: every 1s for backoff, every 30s for the unschedulable pool). */
  flush(): void {
    this.flushBackoffCompleted();
    const now = this.now();
    for (const [uid, q] of this.unschedulable) {
      if (now - q.timestamp > this.maxInUnschedulableMs) {
        this.unschedulable.delete(uid);
        this.requeue(q, 'UnschedulableTimeout');
      }
    }
  }

  private flushBackoffCompleted(): void {
    const now = this.now();
    for (;;) {
      const head = this.backoff.peek();
      if (!head || this.backoffExpiry(head) > now) return;
      this.backoff.pop();
      this.active.push(head);
      this.options.onIncoming?.('active', 'BackoffComplete');
    }
  }

  /** Upstream calculateBackoffDuration: initial × 2^(attempts−1), capped at max. */
  backoffDuration(attempts: number): number {
    let duration = this.options.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      duration *= 2;
      if (duration > this.options.maxBackoffMs) return this.options.maxBackoffMs;
    }
    return duration;
  }

  private backoffExpiry(q: QueuedPod): number {
    return q.timestamp + this.backoffDuration(q.attempts);
  }

  private isBackingOff(q: QueuedPod): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.now();
  }

  /** When the next backoff expires (for timers and the simulator's virtual clock); undefined if none waits. */
  nextBackoffExpiry(): number | undefined {
    const head = this.backoff.peek();
    return head ? this.backoffExpiry(head) : undefined;
  }

  counts(): Record<QueueName, number> {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  /** Pods still waiting in the unschedulable pool (the simulator reports them at the end). */
  unschedulablePods(): QueuedPod[] {
    return [...this.unschedulable.values()];
  }
}

/** Asks a plugin's queueing hint; a hint that throws or answers anything but 'Skip' queues the pod (upstream). */
function hintSaysQueue(interest: EventInterest, q: QueuedPod, change: ClusterEvent): boolean {
  try {
    return interest.hint?.(q.pod, change) !== 'Skip';
  } catch {
    return true;
  }
}
