/**
 * The live adapter: berth scheduling a real cluster.
 *
 * Watches feed the cache (every assigned pod counts, whoever scheduled it) and the queue (pending pods naming one
 * of berth's profiles). While this replica leads, a loop pops pods and runs the core's scheduling cycle; each
 * assumed pod's binding cycle (Permit wait, PreBind, Bind, PostBind) runs concurrently, up to --bind-concurrency at
 * once, so the next pod is scheduled while the Binding is in flight. The core writes through the LivePort. The API
 * server refuses a second Binding for a bound pod, and berth never POSTs one for a pod it holds as assumed or
 * bound, so no pod is bound twice.
 */
import type { Node, Pod } from '../../kube/api.js';
import { ClusterState } from '../../scheduler/cache/clusterState.js';
import type { SchedulerConfig } from '../../config/types.js';
import type { PluginCatalog } from '../../scheduler/framework/pluginCatalog.js';
import { PodInfo } from '../../scheduler/cache/podInfo.js';
import type { ClusterEventKind } from '../../scheduler/plugins/catalog.js';
import type { ClusterEvent } from '../../scheduler/framework/plugin.js';
import type { Random } from '../../scheduler/random.js';
import { type AttemptEnd, type CycleOutcome, type ProfilesReplaced, Scheduler, type SchedulerObserver } from '../../scheduler/scheduler.js';
import type { SchedulerMetrics } from '../../observe/metrics.js';
import { realClock } from '../realClock.js';
import { BackgroundRunner } from '../background.js';
import type { BackgroundReport } from '../../scheduler/framework/background.js';
import type { ProfileTask } from '../../scheduler/scheduler.js';
import { liveBackgroundIO } from './backgroundIO.js';
import { type AnyKindHandlers, type ClusterWatches, type ClusterWatchOptions, startClusterWatches, type WatchKind } from './informers.js';
import type { KubeClient } from './kubeClient.js';
import type { LeaderElector } from './leaderElection.js';
import { LivePort } from './livePort.js';
import { DECISION_ANNOTATION, decisionAnnotationValue } from './decisionAnnotation.js';
import type { DecisionStore } from '../../observe/decisionStore.js';
import type { LiveLogger } from './reflector.js';

export interface LiveSchedulerOptions {
  config: SchedulerConfig;
  client: KubeClient;
  plugins: PluginCatalog;
  logger: LiveLogger;
  random: Random;
  metrics?: SchedulerMetrics;
  /** Only the leader schedules; without an elector this replica always schedules. */
  elector?: LeaderElector;
  /** Binding cycles running at once (default 128). */
  bindConcurrency?: number;
  /** Reflector tuning (tests shorten timeouts). */
  watchOptions?: ClusterWatchOptions;
  /** Called once per attempt, when it is over (bound, or failed in either cycle): logging, tests. */
  onDecision?: (outcome: CycleOutcome, end: AttemptEnd) => void;
  /**
   * The decision record (--decision-record): with it, every cycle asks the core for its explanation (per-node
   * verdicts and scores), which costs a little per node; without it, cycles stay on the cheap path.
   */
  decisions?: DecisionStore;
  /** Write the berth.dev/decision annotation with each Binding (--annotate-decisions). */
  annotateDecisions?: boolean;
}

type Phase = 'created' | 'syncing' | 'running' | 'stopping' | 'stopped';

/** How long stop() lets binding cycles finish before it aborts them (a PreBind may wait for minutes). */
const STOP_BINDINGS_GRACE_MS = 10_000;

const WORKLOAD_KINDS = new Set(['Service', 'ReplicationController', 'ReplicaSet', 'StatefulSet']);

function eventFor(kind: string): ClusterEventKind {
  switch (kind) {
    case 'PersistentVolume':
      return 'PvChange';
    case 'PersistentVolumeClaim':
      return 'PvcChange';
    case 'StorageClass':
      return 'StorageClassChange';
    case 'Namespace':
      return 'NamespaceChange';
    case 'CSINode':
      return 'CSINodeChange';
    case 'CSIDriver':
      return 'CSIDriverChange';
    case 'CSIStorageCapacity':
      return 'CSIStorageCapacityChange';
    case 'VolumeAttachment':
      return 'VolumeAttachmentChange';
    case 'DeviceClass':
      return 'DeviceClassChange';
    case 'ResourceSlice':
    // A rule changes the taints of slices' devices: upstream's slice tracker reports it as an update of those slices.
    case 'DeviceTaintRule':
      return 'ResourceSliceChange';
    case 'ResourceClaim':
      return 'ResourceClaimChange';
    default:
      return 'WorkloadChange';
  }
}

export class LiveScheduler {
  readonly cluster = new ClusterState();
  readonly scheduler: Scheduler;
  private readonly port: LivePort;
  private watches: ClusterWatches | undefined;
  private phase: Phase = 'created';
  /** Binding cycles running; the loop waits for one to end when the concurrency limit is reached. */
  private readonly inFlight = new Set<Promise<AttemptEnd>>();
  private readonly bindConcurrency: number;
  /** What each cycle asks of the core: its explanation only while the decision record is on. */
  private readonly explain: { explain?: boolean };
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly stats = { scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0 };
  /** Plugins' background refreshes (NodeUtilization's metrics source, ...), run from sync to stop. */
  private background: BackgroundRunner | undefined;
  /** Runners a reload replaced, stopping: stop() waits for them too. */
  private readonly retiredBackground: Array<Promise<void>> = [];
  /** Each task's last logged state, so that a source is logged when it changes, not on every refresh. */
  private readonly sourceStates = new Map<string, string>();

  constructor(private readonly options: LiveSchedulerOptions) {
    this.bindConcurrency = options.bindConcurrency ?? 128;
    this.explain = options.decisions ? { explain: true } : {};
    this.port = new LivePort(options.client, options.logger);
    this.scheduler = new Scheduler({
      cluster: this.cluster,
      config: options.config,
      plugins: options.plugins,
      random: options.random,
      clock: realClock,
      port: this.port,
      observer: this.observer(),
      onQueueIncoming: (queue, event) => options.metrics?.queueIncomingPods.inc({ queue, event }),
    });
    options.metrics?.attachQueue(this.scheduler.queue);
  }

  /** Metrics, counters and decision logs from the core's reports. */
  private observer(): SchedulerObserver {
    const metrics = this.options.metrics;
    const logger = this.options.logger;
    return {
      ...(metrics
        ? {
            now: () => performance.now(),
            extensionPoint: (point, status, profile, seconds) => metrics.observeExtensionPoint(point, status, profile, seconds),
            pluginExecution: (plugin, point, status, seconds) => metrics.observePluginExecution(plugin, point, status, seconds),
            permitWait: (status, seconds) => metrics.permitWaitDuration.observe({ result: status }, seconds),
            bindingsInFlight: (count) => metrics.goroutines.set({ operation: 'binding' }, count),
          }
        : {}),
      cycleEnded: (outcome) => this.cycleEnded(outcome),
      attemptEnded: (outcome, end) => this.attemptEnded(outcome, end),
      preempting: (pod, node, victims) => {
        metrics?.preemptionVictims.observe(victims.length);
        logger.info({ pod: pod.key, node, victims: victims.map((v) => v.key) }, 'preempting');
      },
      problem: (message, pod) => logger.warn({ pod: pod.key, err: message }, 'scheduling framework problem'),
      podWithoutProfile: (pod) => this.podWithoutProfile(pod),
    };
  }

  /** A reload removed the pod's profile: it stays pending, and says why (log, and an Event on the pod). */
  private podWithoutProfile(pod: PodInfo): void {
    const message =
      `berth no longer has a profile named "${pod.schedulerName}" (a configuration reload removed it): the pod stays pending ` +
      `until a scheduler named "${pod.schedulerName}" takes it; restore the profile or recreate the pod with another schedulerName`;
    this.options.logger.warn({ pod: pod.key, schedulerName: pod.schedulerName }, message);
    this.port.recordEvent({ reporter: pod.schedulerName, regarding: pod, type: 'Warning', reason: 'SchedulerProfileRemoved', action: 'Scheduling', message });
  }

  /**
   * Hot reload: the new profiles take over between two scheduling cycles (the loop runs a cycle synchronously, so
   * nothing else runs in between). Pending pods naming an added profile, which the watch delivered before berth was
   * responsible for them, are queued from the watch's store; plugins' background tasks restart with the new
   * instances. Throws, changing nothing, when a plugin of the new profiles cannot be built.
   */
  applyConfig(config: SchedulerConfig): ProfilesReplaced {
    const replaced = this.scheduler.replaceProfiles(config);
    const added = new Set(replaced.added);
    for (const pod of this.watches?.reflector('Pod')?.items().values() ?? []) {
      if (!pod.spec?.nodeName && added.has(pod.spec?.schedulerName ?? 'default-scheduler')) this.podUpsert(pod);
    }
    if (this.background) {
      this.retiredBackground.push(this.background.stop());
      this.background = this.startBackground();
    }
    this.poke();
    return replaced;
  }

  private startBackground(): BackgroundRunner {
    const runner = new BackgroundRunner(this.scheduler.backgroundTasks(), liveBackgroundIO(this.options.client), realClock, (t, r) => this.sourceReported(t, r));
    runner.start();
    return runner;
  }

  /** A background refresh ended: its metrics always, a log line when the source's state changed. */
  private sourceReported(entry: ProfileTask, report: BackgroundReport): void {
    const plugin = entry.task.plugin;
    this.options.metrics?.recordSourceReport(plugin, entry.profile, report);
    const key = `${entry.profile}\u0000${plugin}`;
    const state = JSON.stringify([report.sourceUp, report.message ?? '']);
    if (this.sourceStates.get(key) === state) return;
    this.sourceStates.set(key, state);
    const fields = { plugin, profile: entry.profile, staleNodes: report.staleNodes, ...(report.message ? { err: report.message } : {}) };
    if (!report.sourceUp) this.options.logger.warn(fields, 'plugin source down');
    else if (report.message) this.options.logger.warn(fields, 'plugin source incomplete');
    else this.options.logger.info(fields, 'plugin source up');
  }

  /** The scheduling cycle chose a node (or failed): metrics, and the annotation its Binding will carry. */
  private cycleEnded(outcome: CycleOutcome): void {
    this.options.metrics?.recordCycle(outcome);
    const result = outcome.result;
    if (!this.options.annotateDecisions || result.kind !== 'scheduled' || !outcome.assumed) return;
    const value = decisionAnnotationValue(result.nodeName, result.feasibleNodes, result.contributions);
    this.port.annotateBinding(outcome.queued.pod.uid, result.nodeName, { [DECISION_ANNOTATION]: value });
  }

  private attemptEnded(outcome: CycleOutcome, end: AttemptEnd): void {
    this.options.metrics?.recordAttemptEnd(outcome, end);
    // A binding cycle that failed before its Binding leaves the planned annotation unused.
    if (this.options.annotateDecisions && !end.bound) this.port.forgetBindingAnnotations(outcome.queued.pod.uid);
    this.options.decisions?.add(outcome, end);
    const result = outcome.result;
    if (end.bound) this.stats.scheduled++;
    else if (result.kind === 'scheduled') {
      this.stats.bindFailures++;
      this.options.logger.warn({ pod: outcome.queued.pod.key, node: result.nodeName, err: end.message }, 'binding failed');
    } else if (result.kind === 'unschedulable') this.stats.unschedulable++;
    else {
      this.stats.errors++;
      this.options.logger.error({ pod: outcome.queued.pod.key, err: result.message, plugin: result.plugin }, 'scheduling error');
    }
    this.options.onDecision?.(outcome, end);
    this.poke();
  }

  /** True once every watch has delivered its first list (readiness). */
  get synced(): boolean {
    return this.watches?.allSynced() ?? false;
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  get counters(): Readonly<typeof this.stats> {
    return this.stats;
  }

  /** Starts the watches, waits for them to sync, then runs the scheduling loop until stop(). */
  async start(): Promise<void> {
    if (this.phase !== 'created') throw new Error('LiveScheduler.start() called twice');
    this.phase = 'syncing';
    this.watches = startClusterWatches(this.options.client, this.handlers(), this.options.logger, this.options.watchOptions ?? {});
    try {
      await this.watches.waitForSync();
    } catch (err) {
      // Stopped before the caches synced (SIGTERM during start-up, a lost Lease): a clean stop, not a failure.
      if (this.phase !== 'syncing') return;
      throw err;
    }
    if (this.phase !== 'syncing') return;
    this.phase = 'running';
    // Upstream flushes backoff every second and the unschedulable pool every 30 s; one timer serves both.
    this.flushTimer = setInterval(() => {
      this.scheduler.queue.flush();
      this.poke();
    }, 1000);
    this.flushTimer.unref();
    // Followers refresh too (their caches are warm as well): a replica that becomes leader scores with data at once.
    this.background = this.startBackground();
    this.options.logger.info({ nodes: this.cluster.nodeCount, pods: this.cluster.podCount }, 'caches synced; scheduling');
    this.loopDone = this.loop();
  }

  /**
   * Stops taking pods and finishes the binding cycles in flight: pods waiting at Permit are rejected at once (they
   * stay pending for the next leader), cycles still running after a grace period are aborted. Then the events and
   * status patches in flight get a few seconds to land, and the watches stop.
   */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'stopping') return;
    this.phase = 'stopping';
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.poke();
    await Promise.all([this.loopDone, this.background?.stop(), ...this.retiredBackground]);
    this.scheduler.rejectWaitingPods('scheduler stopping');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_BINDINGS_GRACE_MS)));
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
    this.scheduler.abortBindings('scheduler stopping');
    await Promise.allSettled([...this.inFlight]);
    // close() destroys the client's sockets, in-flight requests included: let the Scheduled events and conditions of
    // the bindings just finished reach the API server first (bounded, in case it is unreachable).
    await this.port.flush(5_000);
    await this.watches?.stop();
    this.phase = 'stopped';
  }

  /** Wakes the loop (new pod, cluster change, leadership gained, a binding cycle ended). */
  poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private isLeader(): boolean {
    return this.options.elector ? this.options.elector.isLeader() : true;
  }

  private async loop(): Promise<void> {
    let sinceYield = 0;
    while (this.phase === 'running') {
      if (!this.isLeader() || this.inFlight.size >= this.bindConcurrency) {
        await this.idle();
        continue;
      }
      const outcome = this.scheduler.scheduleOne(this.explain);
      if (!outcome) {
        await this.idle();
        continue;
      }
      const binding = outcome.binding;
      if (binding) {
        this.inFlight.add(binding);
        void binding.then(() => this.inFlight.delete(binding));
      }
      // Let watch events and binding responses in between cycles, as upstream's informers run beside the loop.
      if (++sinceYield >= 8) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Waits for a poke (which an ended binding cycle also sends) or the next backoff expiry. */
  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      this.wake = done;
      const next = this.scheduler.queue.nextBackoffExpiry();
      const wait = next === undefined ? 1000 : Math.min(1000, Math.max(1, next - Date.now()));
      timer = setTimeout(done, wait);
    });
  }

  // ---- watch handlers ----

  private handlers(): AnyKindHandlers[] {
    const cluster = this.cluster;
    const log = this.options.logger;
    const safe = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        // Bad objects never crash berth: report and skip them.
        log.warn({ err: (err as Error).message }, `ignoring ${what}`);
      }
    };
    const objectHandlers = (kind: Exclude<WatchKind, 'Node' | 'Pod'>): AnyKindHandlers => ({
      kind,
      onAdd: (o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.upsertObject(kind, o);
        this.notify({ kind: eventFor(kind), newObject: o });
      },
      onUpdate: (old: unknown, o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.upsertObject(kind, o);
        this.notify({ kind: eventFor(kind), oldObject: old, newObject: o });
      },
      onDelete: (o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.removeObject(kind, o.metadata?.namespace, o.metadata?.name ?? '');
        if (!WORKLOAD_KINDS.has(kind)) this.notify({ kind: eventFor(kind), oldObject: o });
      },
    }) as AnyKindHandlers;
    return [
      {
        kind: 'Node',
        onAdd: (n) => safe(`node ${n.metadata?.name}`, () => {
          cluster.upsertNode(n);
          this.notify({ kind: 'NodeAdd', newObject: n });
        }),
        onUpdate: (o, n) => safe(`node ${n.metadata?.name}`, () => {
          // Heartbeats and condition churn change nothing scheduling reads: no re-parse, no queue move.
          if (nodeSchedulingKey(o) === nodeSchedulingKey(n) && cluster.getNode(n.metadata?.name ?? '')) return;
          cluster.upsertNode(n);
          this.notify({ kind: 'NodeUpdate', oldObject: o, newObject: n });
        }),
        onDelete: (n) => {
          cluster.removeNode(n.metadata?.name ?? '');
          this.notify({ kind: 'NodeDelete', oldObject: n });
        },
      },
      {
        kind: 'Pod',
        onAdd: (p) => safe(`pod ${p.metadata?.namespace}/${p.metadata?.name}`, () => this.podUpsert(p)),
        onUpdate: (old, p) =>
          safe(`pod ${p.metadata?.namespace}/${p.metadata?.name}`, () => {
            if (old.metadata?.uid && old.metadata.uid !== p.metadata?.uid) this.podDelete(old);
            else if (p.spec?.nodeName && podSchedulingKey(old) === podSchedulingKey(p) && this.cluster.getPod(p.metadata?.uid ?? '')) {
              // A status change of a bound pod that scheduling does not read (phase, readiness, restarts).
              return;
            } else if (!p.spec?.nodeName && pendingPodKey(old) === pendingPodKey(p)) {
              // A status-only change of a pending pod (e.g. our own PodScheduled condition): keep its queue position,
              // as upstream's isPodUpdated ignores such updates.
              if (this.scheduler.refreshPendingPod(new PodInfo(p))) return;
            }
            // A pod turning assigned is an add for the assigned-pod view, as upstream's filtering handler delivers it.
            this.podUpsert(p, old.spec?.nodeName ? old : undefined);
          }),
        onDelete: (p) => this.podDelete(p),
      },
      objectHandlers('Namespace'),
      objectHandlers('StorageClass'),
      objectHandlers('PersistentVolume'),
      objectHandlers('PersistentVolumeClaim'),
      objectHandlers('Service'),
      objectHandlers('ReplicationController'),
      objectHandlers('ReplicaSet'),
      objectHandlers('StatefulSet'),
      objectHandlers('CSIDriver'),
      objectHandlers('CSINode'),
      objectHandlers('CSIStorageCapacity'),
      objectHandlers('VolumeAttachment'),
      // Cached for DefaultPreemption only: no plugin waits on PodDisruptionBudgets (upstream registers no event for
      // them), so a change moves no pod in the queue.
      {
        kind: 'PodDisruptionBudget',
        onAdd: (o) => cluster.upsertObject('PodDisruptionBudget', o),
        onUpdate: (_old, o) => cluster.upsertObject('PodDisruptionBudget', o),
        onDelete: (o) => cluster.removeObject('PodDisruptionBudget', o.metadata?.namespace, o.metadata?.name ?? ''),
      },
      objectHandlers('DeviceClass'),
      objectHandlers('ResourceSlice'),
      objectHandlers('DeviceTaintRule'),
      objectHandlers('ResourceClaim'),
    ];
  }

  private notify(event: ClusterEvent): void {
    this.scheduler.notify(event);
    this.poke();
  }

  /** A pod added or changed; `assignedBefore` is the old object when it was already assigned (an update). */
  private podUpsert(pod: Pod, assignedBefore?: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (pod.spec?.nodeName) {
      // Bound (by anyone): account it, confirming our assumption if it was ours.
      this.scheduler.removePendingPod(uid);
      this.cluster.upsertAssignedPod(pod);
      this.notify(assignedBefore ? { kind: 'AssignedPodUpdate', oldObject: assignedBefore, newObject: pod } : { kind: 'AssignedPodAdd', newObject: pod });
      return;
    }
    // Unassigned. Ignore updates to a pod this replica has assumed (binding, or bound and not yet seen so).
    if (this.cluster.isAssumed(uid)) return;
    const info = new PodInfo(pod);
    if (!this.scheduler.isResponsibleFor(info)) return;
    this.scheduler.upsertPendingPod(info);
    this.poke();
  }

  private podDelete(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.port.podDeleted(uid);
    this.scheduler.podDeleted(uid);
    if (this.cluster.removePodByUid(uid)) this.notify({ kind: 'AssignedPodDelete', oldObject: pod });
  }
}

/** The node fields scheduling reads; equal keys mean an update can be ignored. */
function nodeSchedulingKey(node: Node): string {
  return JSON.stringify([
    node.metadata?.labels,
    node.spec?.taints,
    node.spec?.unschedulable,
    node.status?.allocatable ?? node.status?.capacity,
    // NodeUtilization reads capacity (what measurements are fractions of) and addresses (to match metrics).
    node.status?.capacity,
    node.status?.addresses,
    node.status?.images,
  ]);
}

/**
 * The pod fields scheduling reads about an assigned pod: its spec's placement and resources, and the status fields
 * that change what it holds (in-place resize: allocated and applied resources, PodResizePending) or how preemption
 * treats it (start time, DisruptionTarget).
 */
function podSchedulingKey(pod: Pod): string {
  const spec = pod.spec;
  const status = pod.status;
  return JSON.stringify([
    spec?.nodeName,
    pod.metadata?.labels,
    pod.metadata?.deletionTimestamp,
    spec?.containers?.map((c) => [c.name, c.resources, c.ports, c.image]),
    spec?.initContainers?.map((c) => [c.name, c.resources, c.ports, c.restartPolicy]),
    spec?.overhead,
    spec?.resources,
    status?.startTime,
    status?.conditions,
    status?.containerStatuses,
    status?.initContainerStatuses,
    status?.allocatedResources,
    status?.resources,
  ]);
}

/**
 * What scheduling reads of a pending pod: everything but resourceVersion and the status, except the claims the
 * resourceclaim controller generated for it (upstream's UpdatePodGeneratedResourceClaim event retries the pod).
 */
function pendingPodKey(pod: Pod): string {
  const meta = pod.metadata ?? {};
  return JSON.stringify([meta.labels, meta.annotations, meta.deletionTimestamp, meta.ownerReferences, pod.spec, pod.status?.resourceClaimStatuses]);
}
