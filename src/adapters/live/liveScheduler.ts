/**
 * The live adapter: berth scheduling a real cluster.
 *
 * Watches feed ClusterState (every assigned pod counts, whoever scheduled it) and the queue (pending pods naming one
 * of berth's profiles). While this replica leads, a loop pops pods, runs the shared Scheduler, assumes the chosen node
 * at once and binds asynchronously with bounded concurrency, so the next pod is scheduled while the POST is in
 * flight. Failures forget the assumption and back the pod off; a pod that is gone or already bound is dropped. The
 * API server refuses a second Binding for a bound pod, and berth never POSTs one for a pod it holds as assumed or
 * bound, so no pod is bound twice.
 */
import type { Node, Pod } from '../../kube/api.js';
import { ClusterState } from '../../scheduler/cache/clusterState.js';
import type { SchedulerConfig } from '../../config/types.js';
import type { PluginFactory } from '../../scheduler/framework/types.js';
import { PodInfo } from '../../scheduler/cache/podInfo.js';
import type { ClusterEventKind } from '../../scheduler/plugins/catalog.js';
import type { Random } from '../../scheduler/random.js';
import { type CycleOutcome, Scheduler } from '../../scheduler/scheduler.js';
import type { SchedulerMetrics } from '../../observe/metrics.js';
import { type AnyKindHandlers, type ClusterWatches, type ClusterWatchOptions, startClusterWatches } from './informers.js';
import type { KubeClient } from './kubeClient.js';
import type { LeaderElector } from './leaderElection.js';
import { EventRecorder, patchPodScheduledCondition } from './recorder.js';
import type { LiveLogger } from './reflector.js';

export interface LiveSchedulerOptions {
  config: SchedulerConfig;
  client: KubeClient;
  registry: ReadonlyMap<string, PluginFactory>;
  logger: LiveLogger;
  random: Random;
  metrics?: SchedulerMetrics;
  /** Only the leader schedules; without an elector this replica always schedules. */
  elector?: LeaderElector;
  /** Bindings in flight at once (default 128). */
  bindConcurrency?: number;
  /** Reflector tuning (tests shorten timeouts). */
  watchOptions?: ClusterWatchOptions;
  /** Called once per decision, after the binding (or the failure) was handled: logging, tests. */
  onDecision?: (outcome: CycleOutcome, bound: boolean) => void;
}

/** Upstream samples per-plugin execution metrics on this share of scheduling cycles. */
const PLUGIN_METRICS_SAMPLE_PERCENT = 10;

type Phase = 'created' | 'syncing' | 'running' | 'stopping' | 'stopped';

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
    default:
      return 'WorkloadChange';
  }
}

export class LiveScheduler {
  readonly cluster = new ClusterState();
  readonly scheduler: Scheduler;
  private readonly recorder: EventRecorder;
  private watches: ClusterWatches | undefined;
  private phase: Phase = 'created';
  private readonly inFlight = new Set<Promise<void>>();
  private readonly bindConcurrency: number;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Pods whose binding this replica POSTed and the API server accepted, until the watch shows them bound. */
  private readonly boundUids = new Set<string>();
  private readonly stats = { scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0 };
  /** Event, condition and preemption writes in flight; stop() lets them finish before closing the client. */
  private readonly writes = new Set<Promise<unknown>>();

  constructor(private readonly options: LiveSchedulerOptions) {
    this.bindConcurrency = options.bindConcurrency ?? 128;
    this.scheduler = new Scheduler({
      cluster: this.cluster,
      config: options.config,
      registry: options.registry,
      random: options.random,
      now: () => Date.now(),
      onQueueIncoming: (queue, event) => options.metrics?.queueIncomingPods.inc({ queue, event }),
    });
    options.metrics?.attachQueue(this.scheduler.queue);
    this.recorder = new EventRecorder(options.client, options.logger);
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
    await this.watches.waitForSync();
    if (this.phase !== 'syncing') return;
    this.phase = 'running';
    // Upstream flushes backoff every second and the unschedulable pool every 30 s; one timer serves both.
    this.flushTimer = setInterval(() => {
      this.scheduler.queue.flush();
      this.poke();
    }, 1000);
    this.flushTimer.unref();
    this.options.logger.info({ nodes: this.cluster.nodeCount, pods: this.cluster.podCount }, 'caches synced; scheduling');
    this.loopDone = this.loop();
  }

  /** Stops taking pods, finishes the bindings in flight, stops the watches. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'stopping') return;
    this.phase = 'stopping';
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.poke();
    await this.loopDone;
    await Promise.allSettled([...this.inFlight]);
    // close() destroys the client's sockets, in-flight requests included: let the Scheduled events and conditions of
    // the bindings just finished reach the API server first (bounded, in case it is unreachable).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.writes]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000))),
    ]);
    clearTimeout(timer);
    await this.watches?.stop();
    this.options.client.close();
    this.phase = 'stopped';
  }

  /** Wakes the loop (new pod, cluster change, leadership gained). */
  poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Tracks a best-effort write (never rejects by contract; a rejection is swallowed here all the same). */
  private track(write: Promise<unknown>): void {
    const forget = (): void => {
      this.writes.delete(p);
    };
    const p: Promise<void> = write.then(forget, forget);
    this.writes.add(p);
  }

  private isLeader(): boolean {
    return this.options.elector ? this.options.elector.isLeader() : true;
  }

  private async loop(): Promise<void> {
    let sinceYield = 0;
    while (this.phase === 'running') {
      if (!this.isLeader() || this.inFlight.size >= this.bindConcurrency) {
        await this.idle(this.inFlight.size >= this.bindConcurrency ? Promise.race(this.inFlight) : undefined);
        continue;
      }
      // Extension-point timings are buffered and recorded once the attempt's profile is known. Per-plugin times are
      // taken on 10 % of the cycles, as upstream samples them (pluginMetricsSamplePercent).
      const metrics = this.options.metrics;
      const timings: Array<[string, string, number]> = [];
      const sampled = metrics !== undefined && this.options.random.intn(100) < PLUGIN_METRICS_SAMPLE_PERCENT;
      const outcome = this.scheduler.scheduleOne(
        metrics
          ? {
              timing: {
                now: () => performance.now(),
                observe: (point: string, status: string, seconds: number) => timings.push([point, status, seconds]),
                ...(sampled
                  ? {
                      observePlugin: (plugin: string, point: string, status: string, seconds: number) =>
                        metrics.observePluginExecution(plugin, point, status, seconds),
                    }
                  : {}),
              },
            }
          : {},
      );
      if (outcome) for (const [point, status, seconds] of timings) metrics?.observeExtensionPoint(point, status, outcome.profile, seconds);
      if (!outcome) {
        await this.idle();
        continue;
      }
      this.handleOutcome(outcome);
      // Let watch events and binding responses in between cycles, as upstream's informers run beside the loop.
      if (++sinceYield >= 8) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Waits for a poke, a bind slot, or the next backoff expiry. */
  private idle(alsoWaitFor?: Promise<unknown>): Promise<void> {
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
      alsoWaitFor?.then(done, done);
    });
  }

  private handleOutcome(outcome: CycleOutcome): void {
    const metrics = this.options.metrics;
    const result = outcome.result;
    if (result.kind === 'scheduled' && outcome.assumed) {
      // Algorithm latency and score contributions now; the attempt itself is counted once the binding finished.
      metrics?.recordAttempt(outcome);
      const assumed = outcome.assumed;
      const p = this.bind(outcome, assumed, result.nodeName).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      return;
    }
    metrics?.recordAttempt(outcome);
    const pod = outcome.queued.pod;
    if (result.kind === 'unschedulable') {
      this.stats.unschedulable++;
      this.options.onDecision?.(outcome, false);
      const victims = result.postFilter?.victims ?? [];
      const nominated = result.postFilter?.nominatedNodeName;
      if (victims.length > 0 && nominated) {
        metrics?.preemptionAttempts.inc();
        metrics?.preemptionVictims.observe(victims.length);
        this.track(this.preempt(pod, nominated, victims));
      }
      this.track(this.reportFailure(pod, 'Unschedulable', result.message, nominated));
    } else if (result.kind === 'error') {
      this.stats.errors++;
      this.options.onDecision?.(outcome, false);
      this.options.logger.error({ pod: pod.key, err: result.message, plugin: result.plugin }, 'scheduling error');
      this.track(this.reportFailure(pod, 'SchedulerError', result.message));
    }
  }

  private async reportFailure(pod: PodInfo, reason: 'Unschedulable' | 'SchedulerError', message: string, nominated?: string): Promise<void> {
    await Promise.all([
      this.recorder.event(pod.schedulerName, this.target(pod), 'Warning', 'FailedScheduling', 'Scheduling', message),
      patchPodScheduledCondition(this.options.client, pod.pod, { status: 'False', reason, message }, Date.now(), nominated),
    ]);
  }

  private target(pod: PodInfo): { namespace: string; name: string; uid: string; resourceVersion?: string } {
    const rv = pod.pod.metadata?.resourceVersion;
    return { namespace: pod.namespace, name: pod.name, uid: pod.uid, ...(rv ? { resourceVersion: rv } : {}) };
  }

  private async bind(outcome: CycleOutcome, pod: PodInfo, nodeName: string): Promise<void> {
    const started = Date.now();
    const body = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    let status = 0;
    let errorText = '';
    try {
      const res = await this.options.client.request('POST', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/binding`, { body });
      status = res.status;
      if (status >= 300) errorText = (res.body as { message?: string }).message ?? `HTTP ${status}`;
    } catch (err) {
      errorText = (err as Error).message;
    }
    const durationSeconds = (Date.now() - outcome.startedAt) / 1000;
    if (status >= 200 && status < 300) {
      this.boundUids.add(pod.uid);
      this.scheduler.bindingFinished(outcome);
      this.stats.scheduled++;
      this.options.metrics?.recordBound(outcome, durationSeconds);
      this.options.onDecision?.(outcome, true);
      this.track(this.recorder.event(
        pod.schedulerName,
        this.target(pod),
        'Normal',
        'Scheduled',
        'Scheduling',
        `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`,
      ));
      this.options.logger.debug({ pod: pod.key, node: nodeName, bindMs: Date.now() - started }, 'bound');
      return;
    }
    // Binding failed: forget the assumption, then find out whether the pod still needs scheduling.
    this.stats.bindFailures++;
    this.options.metrics?.recordBindFailed(outcome, durationSeconds);
    const current = await this.stillPending(pod);
    const stillPending = current !== false;
    this.scheduler.bindingFailed(outcome, stillPending);
    this.options.logger.warn({ pod: pod.key, node: nodeName, status, err: errorText, requeued: stillPending }, 'binding failed');
    this.options.onDecision?.(outcome, false);
    if (stillPending) {
      const message = `Binding rejected: ${errorText}`;
      this.track(this.recorder.event(pod.schedulerName, this.target(pod), 'Warning', 'FailedScheduling', 'Scheduling', message));
      // PodScheduled=False only on the pod as just re-read, and only if it is unchanged since: the requeued pod may
      // be bound by its next attempt before this patch lands (the API server coming back from an outage), and the
      // patch must not overwrite the PodScheduled=True the binding set. Unknown state (API unreachable): no patch.
      if (current !== true) {
        this.track(patchPodScheduledCondition(
          this.options.client,
          current,
          { status: 'False', reason: 'SchedulerError', message },
          Date.now(),
          undefined,
          current.metadata?.resourceVersion,
        ));
      }
    }
    this.poke();
  }

  /**
   * Re-reads the pod after a failed binding: false when it is gone, replaced, or bound already; the pod when it is
   * still pending; true when it must be kept but its state is unknown (the API server is unreachable or failing).
   */
  private async stillPending(pod: PodInfo): Promise<Pod | boolean> {
    try {
      const res = await this.options.client.request<Pod>('GET', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, {
        timeoutMs: 10_000,
      });
      if (res.status === 404) return false;
      if (res.status >= 300) return true;
      const current = res.body as Pod;
      if (current.metadata?.uid !== pod.uid) return false;
      return !current.spec?.nodeName && !current.metadata?.deletionTimestamp ? current : false;
    } catch {
      // The API server is unreachable: keep the pod; the watch will tell if it was bound meanwhile.
      return true;
    }
  }

  private async preempt(preemptor: PodInfo, nodeName: string, victims: PodInfo[]): Promise<void> {
    for (const victim of victims) {
      void this.recorder.event(
        preemptor.schedulerName,
        this.target(victim),
        'Normal',
        'Preempted',
        'Preempting',
        `Preempted by pod ${preemptor.uid} on node ${nodeName}`,
        this.target(preemptor),
      );
      try {
        const res = await this.options.client.request('DELETE', `/api/v1/namespaces/${victim.namespace}/pods/${victim.name}`, {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: victim.uid } },
        });
        if (res.status >= 300 && res.status !== 404) {
          this.options.logger.warn({ victim: victim.key, status: res.status }, 'preemption: could not delete victim');
        }
      } catch (err) {
        this.options.logger.warn({ victim: victim.key, err: (err as Error).message }, 'preemption: could not delete victim');
      }
    }
    this.options.logger.info({ pod: preemptor.key, node: nodeName, victims: victims.map((v) => v.key) }, 'preempted');
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
    const objectHandlers = (kind: 'PersistentVolume' | 'PersistentVolumeClaim' | 'StorageClass' | 'Service' | 'ReplicationController' | 'ReplicaSet' | 'StatefulSet' | 'Namespace'): AnyKindHandlers => ({
      kind,
      onAdd: (o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.upsertObject(kind, o);
        this.notify(eventFor(kind));
      },
      onUpdate: (_old: unknown, o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.upsertObject(kind, o);
        this.notify(eventFor(kind));
      },
      onDelete: (o: { metadata?: { name?: string; namespace?: string } }) => {
        cluster.removeObject(kind, o.metadata?.namespace, o.metadata?.name ?? '');
        if (!WORKLOAD_KINDS.has(kind)) this.notify(eventFor(kind));
      },
    }) as AnyKindHandlers;
    return [
      {
        kind: 'Node',
        onAdd: (n) => safe(`node ${n.metadata?.name}`, () => {
          cluster.upsertNode(n);
          this.notify('NodeAdd');
        }),
        onUpdate: (o, n) => safe(`node ${n.metadata?.name}`, () => {
          // Heartbeats and condition churn change nothing scheduling reads: no re-parse, no queue move.
          if (nodeSchedulingKey(o) === nodeSchedulingKey(n) && cluster.getNode(n.metadata?.name ?? '')) return;
          cluster.upsertNode(n);
          this.notify('NodeUpdate');
        }),
        onDelete: (n) => {
          cluster.removeNode(n.metadata?.name ?? '');
          this.notify('NodeDelete');
        },
      },
      {
        kind: 'Pod',
        onAdd: (p) => safe(`pod ${p.metadata?.namespace}/${p.metadata?.name}`, () => this.podUpsert(p, true)),
        onUpdate: (old, p) =>
          safe(`pod ${p.metadata?.namespace}/${p.metadata?.name}`, () => {
            if (old.metadata?.uid && old.metadata.uid !== p.metadata?.uid) this.podDelete(old);
            else if (p.spec?.nodeName && podSchedulingKey(old) === podSchedulingKey(p) && this.cluster.getPod(p.metadata?.uid ?? '')) {
              // A status-only change of a bound pod (phase, conditions): nothing scheduling reads changed.
              return;
            } else if (!p.spec?.nodeName && pendingPodKey(old) === pendingPodKey(p)) {
              // A status-only change of a pending pod (e.g. our own PodScheduled condition): keep its queue position,
              // as upstream's isPodUpdated ignores such updates.
              if (this.scheduler.refreshPendingPod(new PodInfo(p))) return;
            }
            // A pod turning assigned is an add for the assigned-pod view, as upstream's filtering handler delivers it.
            this.podUpsert(p, !old.spec?.nodeName);
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
    ];
  }

  private notify(event: ClusterEventKind): void {
    this.scheduler.notify(event);
    this.poke();
  }

  private podUpsert(pod: Pod, added: boolean): void {
    const uid = pod.metadata?.uid ?? '';
    if (pod.spec?.nodeName) {
      // Bound (by anyone): account it, confirming our assumption if it was ours.
      this.boundUids.delete(uid);
      this.scheduler.removePendingPod(uid);
      this.cluster.upsertAssignedPod(pod);
      this.notify(added ? 'AssignedPodAdd' : 'AssignedPodUpdate');
      return;
    }
    // Unassigned. Ignore updates to a pod this replica has assumed or just bound: the watch will show it bound.
    if (this.cluster.isAssumed(uid) || this.boundUids.has(uid)) return;
    const info = new PodInfo(pod);
    if (!this.scheduler.isResponsibleFor(info)) return;
    this.scheduler.upsertPendingPod(info);
    this.poke();
  }

  private podDelete(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.boundUids.delete(uid);
    this.recorder.forget(uid);
    this.scheduler.removePendingPod(uid);
    if (this.cluster.removePodByUid(uid)) this.notify('AssignedPodDelete');
  }
}

/** The node fields scheduling reads; equal keys mean an update can be ignored. */
function nodeSchedulingKey(node: Node): string {
  return JSON.stringify([
    node.metadata?.labels,
    node.spec?.taints,
    node.spec?.unschedulable,
    node.status?.allocatable ?? node.status?.capacity,
    node.status?.images,
  ]);
}

/** The pod fields scheduling reads about an assigned pod. */
function podSchedulingKey(pod: Pod): string {
  const spec = pod.spec;
  return JSON.stringify([
    spec?.nodeName,
    pod.metadata?.labels,
    pod.metadata?.deletionTimestamp,
    spec?.containers?.map((c) => [c.resources, c.ports, c.image]),
    spec?.initContainers?.map((c) => [c.resources, c.ports, c.restartPolicy]),
    spec?.overhead,
  ]);
}

/** What scheduling reads of a pending pod: everything but status and resourceVersion. */
function pendingPodKey(pod: Pod): string {
  const meta = pod.metadata ?? {};
  return JSON.stringify([meta.labels, meta.annotations, meta.deletionTimestamp, meta.ownerReferences, pod.spec]);
}
