/**
 * The scheduler both adapters drive: pending pods in a queue, one profile (framework + algorithm) per
 * schedulerName, and scheduleOne (src/scheduler/scheduleOne.ts) running a pod's scheduling cycle and starting its
 * binding cycle. The adapter feeds cluster changes into the cache and tells the scheduler about them (pending pods,
 * deletions, cluster events), implements the ClusterPort the cycles write through, and decides how many binding
 * cycles may run at once.
 */
import type { SchedulerConfig } from '../config/types.js';
import type { ClusterState } from './cache/clusterState.js';
import type { PodInfo } from './cache/podInfo.js';
import type { Clock } from './clock.js';
import type { BackgroundTask } from './framework/background.js';
import { Framework } from './framework/framework.js';
import { PodScheduler, type ScheduleOptions } from './framework/schedulePod.js';
import type { PluginCatalog } from './framework/pluginCatalog.js';
import type { ClusterEvent } from './framework/plugin.js';
import type { ClusterEventKind } from './plugins/catalog.js';
import type { ClusterPort } from './ports.js';
import { type QueueOptions, SchedulingQueue } from './queue/queue.js';
import type { Random } from './random.js';
import { BindingsInFlight, type CycleContext, type CycleOutcome, type Profile, runSchedulingCycle, type SchedulerObserver } from './scheduleOne.js';

export type { AttemptEnd, CycleOutcome, SchedulerObserver } from './scheduleOne.js';

export interface SchedulerDeps {
  cluster: ClusterState;
  config: SchedulerConfig;
  /** The plugins the profiles name; the queue also reads which events each plugin waits for. */
  plugins: PluginCatalog;
  random: Random;
  /** The live adapter passes the wall clock, the simulator a virtual one, tests a fake one. */
  clock: Clock;
  /** Where the cycles' writes go: the API server (live) or memory (simulator, tests). */
  port: ClusterPort;
  observer?: SchedulerObserver;
  onQueueIncoming?: QueueOptions['onIncoming'];
}

/** A plugin's background task in one profile. */
export interface ProfileTask {
  readonly profile: string;
  readonly task: BackgroundTask;
}

/** What replaceProfiles changed: profile names added and removed, and how many queued pods lost their profile. */
export interface ProfilesReplaced {
  added: string[];
  removed: string[];
  orphaned: number;
}

export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly cluster: ClusterState;
  /** The profiles by schedulerName; replaceProfiles swaps the contents between cycles. */
  readonly profiles = new Map<string, Profile>();
  /**
   * Frameworks a reload replaced while pods still waited at their Permit: those pods' binding cycles go on with the
   * framework that admitted them, and deletion or stopping must still reach them.
   */
  private readonly retired = new Set<Framework>();
  private context: CycleContext;

  constructor(private readonly deps: SchedulerDeps) {
    this.cluster = deps.cluster;
    this.queue = new SchedulingQueue(() => deps.clock.now(), {
      eventsOf: (plugin) => deps.plugins.eventsOf(plugin),
      initialBackoffMs: deps.config.podInitialBackoffSeconds * 1000,
      maxBackoffMs: deps.config.podMaxBackoffSeconds * 1000,
      preEnqueue: (pod) => this.profiles.get(pod.schedulerName)?.framework.runPreEnqueue(pod) ?? null,
      ...(deps.onQueueIncoming ? { onIncoming: deps.onQueueIncoming } : {}),
    });
    for (const [name, profile] of this.buildProfiles(deps.config)) this.profiles.set(name, profile);
    this.context = {
      queue: this.queue,
      cluster: deps.cluster,
      port: deps.port,
      clock: deps.clock,
      random: deps.random,
      observer: deps.observer ?? {},
      percentageOfNodesToScore: deps.config.percentageOfNodesToScore,
      bindings: new BindingsInFlight(),
    };
  }

  /** One framework and algorithm per profile; throws (changing nothing) when a plugin cannot be built. */
  private buildProfiles(config: SchedulerConfig): Map<string, Profile> {
    const { now, pluginExecution } = this.deps.observer ?? {};
    const pluginTiming = now && pluginExecution ? { now: () => now(), observe: pluginExecution } : undefined;
    const out = new Map<string, Profile>();
    for (const profile of config.profiles) {
      const framework = new Framework(profile, {
        cluster: this.deps.cluster,
        plugins: this.deps.plugins,
        clock: this.deps.clock,
        api: this.deps.port,
        ...(pluginTiming ? { pluginTiming } : {}),
      });
      out.set(profile.schedulerName, { framework, podScheduler: new PodScheduler(framework, this.deps.random) });
    }
    return out;
  }

  /**
   * Hot reload: the profiles of `config` replace the running ones. Called between scheduling cycles (the cycle is
   * synchronous); binding cycles in flight finish with the framework that started them. Queued pods keep their
   * place; those whose profile is gone leave the queue and are reported (observer.podWithoutProfile): they stay
   * pending in the cluster. Unschedulable pods are retried, since new plugins or args may now admit them.
   * Throws, changing nothing, when a plugin of the new profiles cannot be built.
   */
  replaceProfiles(config: SchedulerConfig): ProfilesReplaced {
    const next = this.buildProfiles(config);
    for (const framework of this.retired) if (framework.waitingPods.size === 0) this.retired.delete(framework);
    for (const { framework } of this.profiles.values()) if (framework.waitingPods.size > 0) this.retired.add(framework);
    const removed = [...this.profiles.keys()].filter((name) => !next.has(name));
    const added = [...next.keys()].filter((name) => !this.profiles.has(name));
    this.profiles.clear();
    for (const [name, profile] of next) this.profiles.set(name, profile);
    this.context = { ...this.context, percentageOfNodesToScore: config.percentageOfNodesToScore };
    const orphaned = this.queue.removeIf((pod) => !this.profiles.has(pod.schedulerName));
    for (const pod of orphaned) {
      this.cluster.nominator.clear(pod.uid);
      this.context.observer.podWithoutProfile?.(pod);
    }
    this.queue.moveAllToActiveOrBackoff('ProfilesReloaded');
    return { added, removed, orphaned: orphaned.length };
  }

  /** True when the pod names one of this scheduler's profiles. */
  isResponsibleFor(pod: PodInfo): boolean {
    return this.profiles.has(pod.schedulerName);
  }

  /**
   * A pending (unassigned) pod appeared or changed. Terminating pods are not scheduled; a pod this scheduler has
   * assumed is in its binding cycle and is not queued again (upstream skipPodSchedule).
   */
  upsertPendingPod(pod: PodInfo): void {
    if (!this.isResponsibleFor(pod)) return;
    if (pod.terminating) {
      this.removePendingPod(pod.uid);
      return;
    }
    if (this.cluster.isAssumed(pod.uid)) return;
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

  /**
   * The pod was deleted: it leaves the queue, and if it waits at Permit or is in its binding cycle, that is
   * aborted (upstream rejects the waiting pod); the binding cycle's failure handling then forgets it.
   */
  podDeleted(uid: string): void {
    this.removePendingPod(uid);
    for (const framework of this.frameworks()) framework.waitingPods.get(uid)?.reject('', 'removed');
    this.context.bindings.podDeleted(uid);
  }

  /**
   * Tell the queue what changed in the cluster, so pods waiting on it are retried. With the objects, plugins'
   * queueing hints can tell whether the change matters to a pod.
   */
  notify(event: ClusterEventKind | ClusterEvent): void {
    this.queue.onClusterEvent(event);
  }

  /** The plugins' background tasks with the profile each belongs to: the adapter runs them (background.ts). */
  backgroundTasks(): ProfileTask[] {
    const out: ProfileTask[] = [];
    for (const [profile, { framework }] of this.profiles) for (const task of framework.backgroundTasks) out.push({ profile, task });
    return out;
  }

  /** Binding cycles running now. */
  get bindingsInFlight(): number {
    return this.context.bindings.size;
  }

  /**
   * Pops the next pod and runs its scheduling cycle; a pod that was assumed goes on in its binding cycle
   * (outcome.binding, already running). Undefined when no pod is ready.
   */
  scheduleOne(options: Pick<ScheduleOptions, 'explain'> = {}): CycleOutcome | undefined {
    for (;;) {
      const queued = this.queue.pop();
      if (!queued) return undefined;
      if (this.cluster.getPod(queued.pod.uid) !== undefined && !this.cluster.isAssumed(queued.pod.uid)) {
        // The cache holds it as bound (the watch saw its Binding): assuming it elsewhere would take it off its node.
        // Upstream's AssumePod refuses such a pod, and its failure handler does not requeue an assigned one.
        this.queue.done(queued.pod.uid);
        continue;
      }
      const profile = this.profiles.get(queued.pod.schedulerName);
      if (profile) return runSchedulingCycle(this.context, profile, queued, options);
      // Its profile was removed by a reload while the pod was binding, and the binding failed: it stays pending.
      this.queue.done(queued.pod.uid);
      this.context.observer.podWithoutProfile?.(queued.pod);
    }
  }

  /** The running profiles' frameworks and the retired ones that still hold pods at Permit. */
  private frameworks(): Framework[] {
    return [...[...this.profiles.values()].map((p) => p.framework), ...this.retired];
  }

  /** Stopping: pods waiting at Permit are rejected (each stays pending, for this or the next leader). */
  rejectWaitingPods(reason: string): void {
    for (const framework of this.frameworks()) framework.waitingPods.iterate((waiting) => waiting.reject('', reason));
  }

  /** Stopping for good: every binding cycle still running is aborted, so each attempt ends. */
  abortBindings(reason: string): void {
    this.rejectWaitingPods(reason);
    this.context.bindings.abortAll(reason);
  }
}
