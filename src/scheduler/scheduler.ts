/**
 * The scheduler loop both adapters drive: pending pods in a queue, one PodScheduler (framework) per profile,
 * assume-on-success, requeue-on-failure. The adapter feeds cluster changes into ClusterState, calls the
 * notification methods so waiting pods get retried, and performs the binding (or, in the simulator, accepts it).
 */
import type { SchedulerConfig } from '../config/types.js';
import type { ClusterState } from './cache/clusterState.js';
import { Framework } from './framework/framework.js';
import { PodScheduler, type ScheduleOptions, type ScheduleResult } from './framework/schedulePod.js';
import type { PluginFactory } from './framework/types.js';
import type { PodInfo } from './cache/podInfo.js';
import type { ClusterEventKind } from './plugins/catalog.js';
import { type QueuedPod, type QueueOptions, SchedulingQueue } from './queue/queue.js';
import type { Random } from './random.js';

export interface SchedulerDeps {
  cluster: ClusterState;
  config: SchedulerConfig;
  registry: ReadonlyMap<string, PluginFactory>;
  random: Random;
  /** Milliseconds; the live adapter passes a real clock, the simulator a virtual one. */
  now: () => number;
  onQueueIncoming?: QueueOptions['onIncoming'];
}

export interface CycleOutcome {
  queued: QueuedPod;
  profile: string;
  result: ScheduleResult;
  /** The pod as assumed on its node (scheduled results only): bind it, then call bindingFinished or bindingFailed. */
  assumed?: PodInfo;
  /** When the attempt started and ended, on the injected clock. */
  startedAt: number;
  endedAt: number;
}

export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly cluster: ClusterState;
  readonly profiles = new Map<string, PodScheduler>();
  private readonly now: () => number;
  private readonly percentageOfNodesToScore: number;

  constructor(deps: SchedulerDeps) {
    this.cluster = deps.cluster;
    this.now = deps.now;
    this.percentageOfNodesToScore = deps.config.percentageOfNodesToScore;
    this.queue = new SchedulingQueue(deps.now, {
      initialBackoffMs: deps.config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: deps.config.podMaxBackoffSeconds * 1000,
      ...(deps.onQueueIncoming ? { onIncoming: deps.onQueueIncoming } : {}),
    });
    for (const profile of deps.config.profiles) {
      const framework = new Framework(profile, deps.cluster, deps.registry);
      this.profiles.set(profile.schedulerName, new PodScheduler(framework, deps.random));
    }
  }

  /** True when the pod names one of this scheduler's profiles. */
  isResponsibleFor(pod: PodInfo): boolean {
    return this.profiles.has(pod.schedulerName);
  }

  /** A pending (unassigned) pod appeared or changed. Terminating pods are not scheduled. */
  upsertPendingPod(pod: PodInfo): void {
    if (!this.isResponsibleFor(pod)) return;
    if (pod.terminating) {
      this.removePendingPod(pod.uid);
      return;
    }
    this.syncNomination(pod);
    this.queue.update(pod);
  }

  /** A nomination written on the pod's status (by this or an earlier leader) is honoured, as upstream does. */
  private syncNomination(pod: PodInfo): void {
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) this.cluster.nominator.nominate(pod, nominated);
  }

  /** A pending pod changed in ways scheduling does not read (status, conditions): keep its place in the queue. */
  refreshPendingPod(pod: PodInfo): boolean {
    if (!this.isResponsibleFor(pod) || pod.terminating || !this.queue.refresh(pod)) return false;
    this.syncNomination(pod);
    return true;
  }

  removePendingPod(uid: string): void {
    this.queue.delete(uid);
    this.cluster.nominator.clear(uid);
  }

  /** Tell the queue what changed in the cluster, so pods waiting on it are retried. */
  notify(event: ClusterEventKind): void {
    this.queue.onClusterEvent(event);
  }

  /**
   * Pops the next pod and runs one scheduling attempt. On success the pod is assumed at once (accounted on its
   * node) so the next attempt sees it; the caller binds it asynchronously. Undefined when no pod is ready.
   */
  scheduleOne(options: ScheduleOptions = {}): CycleOutcome | undefined {
    const queued = this.queue.pop();
    if (!queued) return undefined;
    const startedAt = this.now();
    const podScheduler = this.profiles.get(queued.pod.schedulerName);
    if (!podScheduler) {
      this.queue.done(queued.pod.uid);
      return undefined;
    }
    const result = podScheduler.schedule(queued.pod, {
      percentageOfNodesToScore: this.percentageOfNodesToScore,
      ...options,
    });
    const outcome: CycleOutcome = { queued, profile: queued.pod.schedulerName, result, startedAt, endedAt: this.now() };
    if (result.kind === 'scheduled') {
      this.cluster.nominator.clear(queued.pod.uid);
      outcome.assumed = this.cluster.assumePod(queued.pod, result.nodeName);
    } else if (result.kind === 'unschedulable') {
      // Preemption nominates the pod to the node it freed ('' clears an earlier nomination).
      const nominated = result.postFilter?.nominatedNodeName;
      if (nominated !== undefined) this.cluster.nominator.nominate(queued.pod, nominated);
      this.queue.requeueAfterFailure(queued, result.diagnosis.unschedulablePlugins);
    } else {
      this.queue.requeueAfterFailure(queued, new Set());
    }
    return outcome;
  }

  /** The binding was accepted by the API server (or the simulator): the attempt is over. */
  bindingFinished(outcome: CycleOutcome): void {
    this.queue.done(outcome.queued.pod.uid);
  }

  /**
   * The binding failed: forget the assumed pod, wake pods that may fit now, and back the pod off.
   * `stillPending` false means the pod is gone or already bound elsewhere: drop it.
   */
  bindingFailed(outcome: CycleOutcome, stillPending: boolean): void {
    const uid = outcome.queued.pod.uid;
    this.cluster.forgetPod(uid);
    this.queue.onClusterEvent('AssignedPodDelete');
    if (stillPending) this.queue.requeueAfterFailure(outcome.queued, new Set());
    else this.queue.delete(uid);
  }
}
