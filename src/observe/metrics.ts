/**
 * Prometheus metrics with upstream kube-scheduler's names, labels and buckets (pkg/scheduler/metrics/metrics.go),
 * plus berth's decision metrics, on a private prom-client Registry (never the global one, so several schedulers or
 * tests can coexist in one process).
 *
 * Timing follows upstream: recordCycle runs when a scheduling cycle ends (algorithm latency, score contributions,
 * preemption attempts); recordAttemptEnd when the attempt is over, in either cycle (scheduler_schedule_attempts_total
 * with result scheduled, unschedulable or error; the attempt duration covering algorithm + binding; for bound pods
 * the end-to-end SLI from the pod's first entry into the queue).
 *
 * Label cardinality is bounded: result (3), profile (configured profiles), queue (4), event (a fixed set of cluster
 * event names), extension_point/status (fixed), plugin (configured plugins), attempts ("1".."14", "15+"), name (the
 * one Lease on leader_election_master_status). The one
 * open-ended label is `node` on berth_pods_placed_total: one series per node that received a pod, which is fine for
 * clusters up to a few thousand nodes (series are only created for nodes that were actually chosen). Set
 * `perNodePlacement: false` to record placements under node="" instead.
 *
 * berth_plugin_weighted_score observes, for each scheduled pod, what each scoring plugin added to the chosen node's
 * total (normalized score 0..100 × weight). Buckets are a 1-2-5 series from 1 to 100 000 plus 0, so both weight-1
 * plugins (0..100) and heavily weighted ones (weights up to 1000) are resolved to within a factor of 2.5.
 * berth_plugin_score_share observes the same contribution as a fraction of the node's total score (linear 0.1 steps).
 */
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, linearBuckets, Registry } from 'prom-client';
import { FastHistogram } from './fastHistogram.js';
import type { ScheduleResult } from '../scheduler/framework/schedulePod.js';

/** What recordCycle and recordAttemptEnd read from a CycleOutcome (src/scheduler/scheduleOne.ts), structurally. */
export interface AttemptOutcome {
  queued: { attempts: number; initialAttemptTimestamp: number };
  profile: string;
  result: ScheduleResult;
  /** Milliseconds on the scheduler's clock. */
  startedAt: number;
  endedAt: number;
}

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated';

/** What the pending-pods and unschedulable-pods gauges read at scrape time (SchedulingQueue satisfies it). */
export interface QueueSource {
  counts(): Record<QueueName, number>;
  unschedulablePods(): ReadonlyArray<{ pod: { schedulerName: string }; unschedulablePlugins: ReadonlySet<string> }>;
}

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** What the leader gauge reads at scrape time (LeaderElector satisfies isLeader; name is the Lease's). */
export interface LeaderSource {
  readonly name: string;
  isLeader(): boolean;
}

/** What recordAttemptEnd reads from an AttemptEnd, structurally. */
export interface AttemptEndLike {
  result: AttemptResult;
  bound: boolean;
  durationSeconds: number;
}

/** Upstream getAttemptsLabel: attempts capped at "15+". */
export function attemptsLabel(attempts: number): string {
  return attempts >= 15 ? '15+' : String(attempts);
}

export const WEIGHTED_SCORE_BUCKETS: readonly number[] = [
  0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000,
];
export const SCORE_SHARE_BUCKETS: readonly number[] = linearBuckets(0.1, 0.1, 10).map((b) => Math.round(b * 10) / 10);

export interface SchedulerMetricsOptions {
  /** Register prom-client's default process/Node.js metrics on this registry (default true). */
  defaultMetrics?: boolean;
  /** Label placements by node (default true); false records node="". */
  perNodePlacement?: boolean;
  /** Prefix for default metrics (default none, as Prometheus' process_* names). */
  defaultMetricsPrefix?: string;
}

const QUEUES: readonly QueueName[] = ['active', 'backoff', 'unschedulable', 'gated'];
const ATTEMPT_RESULTS: readonly AttemptResult[] = ['scheduled', 'unschedulable', 'error'];

export class SchedulerMetrics {
  readonly registry = new Registry();
  private queueSource: QueueSource | undefined;
  private leaderSource: LeaderSource | undefined;
  private readonly perNodePlacement: boolean;
  /** (plugin, profile) pairs reported so far by scheduler_unschedulable_pods. */
  private readonly seenUnschedulable = new Set<string>();

  readonly scheduleAttempts: Counter<'result' | 'profile'>;
  readonly attemptDuration: FastHistogram<'result' | 'profile'>;
  readonly algorithmDuration: FastHistogram;
  readonly pendingPods: Gauge<'queue'>;
  readonly podSchedulingSLIDuration: FastHistogram<'attempts'>;
  readonly podSchedulingAttempts: FastHistogram;
  readonly extensionPointDuration: FastHistogram<'extension_point' | 'status' | 'profile'>;
  readonly pluginExecutionDuration: FastHistogram<'plugin' | 'extension_point' | 'status'>;
  readonly queueIncomingPods: Counter<'queue' | 'event'>;
  readonly preemptionAttempts: Counter;
  readonly preemptionVictims: FastHistogram;
  readonly unschedulablePods: Gauge<'plugin' | 'profile'>;
  readonly podsPlaced: Counter<'node' | 'profile'>;
  readonly pluginWeightedScore: FastHistogram<'plugin' | 'profile'>;
  readonly pluginScoreShare: FastHistogram<'plugin' | 'profile'>;
  readonly permitWaitDuration: FastHistogram<'result'>;
  readonly goroutines: Gauge<'operation'>;
  readonly pluginFaults: Counter<'plugin' | 'extension_point' | 'kind'>;
  readonly pluginSourceUp: Gauge<'plugin' | 'profile'>;
  readonly pluginSourceStaleNodes: Gauge<'plugin' | 'profile'>;
  readonly pluginSourceRefreshes: Counter<'plugin' | 'profile' | 'result'>;
  readonly leaderStatus: Gauge<'name'>;
  readonly configReloads: Counter<'result'>;

  constructor(options: SchedulerMetricsOptions = {}) {
    const registers = [this.registry];
    this.perNodePlacement = options.perNodePlacement ?? true;
    // Captured by the collect() callbacks below (prom-client binds `this` to the metric there).
    const owner = this;

    this.scheduleAttempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
      labelNames: ['result', 'profile'],
      registers,
    });
    this.attemptDuration = new FastHistogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'],
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.algorithmDuration = new FastHistogram({
      name: 'scheduler_scheduling_algorithm_duration_seconds',
      help: 'Scheduling algorithm latency in seconds',
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.pendingPods = new Gauge({
      name: 'scheduler_pending_pods',
      help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      labelNames: ['queue'],
      registers,
      collect() {
        const counts = owner.queueSource?.counts();
        for (const q of QUEUES) this.set({ queue: q }, counts?.[q] ?? 0);
      },
    });
    this.podSchedulingSLIDuration = new FastHistogram({
      name: 'scheduler_pod_scheduling_sli_duration_seconds',
      help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
      labelNames: ['attempts'],
      buckets: exponentialBuckets(0.01, 2, 20),
      registers,
    });
    this.podSchedulingAttempts = new FastHistogram({
      name: 'scheduler_pod_scheduling_attempts',
      help: 'Number of attempts to successfully schedule a pod.',
      buckets: exponentialBuckets(1, 2, 5),
      registers,
    });
    this.extensionPointDuration = new FastHistogram({
      name: 'scheduler_framework_extension_point_duration_seconds',
      help: 'Latency for running all plugins of a specific extension point.',
      labelNames: ['extension_point', 'status', 'profile'],
      buckets: exponentialBuckets(0.0001, 2, 12),
      registers,
    });
    this.pluginExecutionDuration = new FastHistogram({
      name: 'scheduler_plugin_execution_duration_seconds',
      help: 'Duration for running a plugin at a specific extension point.',
      labelNames: ['plugin', 'extension_point', 'status'],
      buckets: exponentialBuckets(0.00001, 1.5, 20),
      registers,
    });
    this.queueIncomingPods = new Counter({
      name: 'scheduler_queue_incoming_pods_total',
      help: 'Number of pods added to scheduling queues by event and queue type.',
      labelNames: ['queue', 'event'],
      registers,
    });
    this.preemptionAttempts = new Counter({
      name: 'scheduler_preemption_attempts_total',
      help: 'Total preemption attempts in the cluster till now',
      registers,
    });
    this.preemptionVictims = new FastHistogram({
      name: 'scheduler_preemption_victims',
      help: 'Number of selected preemption victims',
      buckets: exponentialBuckets(1, 2, 7),
      registers,
    });
    this.unschedulablePods = new Gauge({
      name: 'scheduler_unschedulable_pods',
      help: 'The number of unschedulable pods broken down by plugin name. A pod will increment the gauge for all plugins that caused it to not schedule and so this metric have meaning only when broken down by plugin.',
      labelNames: ['plugin', 'profile'],
      registers,
      collect() {
        const source = owner.queueSource;
        if (!source) return;
        const counts = new Map<string, { plugin: string; profile: string; n: number }>();
        for (const q of source.unschedulablePods()) {
          for (const plugin of q.unschedulablePlugins) {
            const key = `${plugin}\u0000${q.pod.schedulerName}`;
            const entry = counts.get(key);
            if (entry) entry.n++;
            else counts.set(key, { plugin, profile: q.pod.schedulerName, n: 1 });
          }
        }
        // Series seen before drop to 0 rather than vanish, as upstream's gauge does.
        this.reset();
        for (const key of owner.seenUnschedulable) {
          if (!counts.has(key)) {
            const [plugin, profile] = key.split('\u0000') as [string, string];
            this.set({ plugin, profile }, 0);
          }
        }
        for (const [key, { plugin, profile, n }] of counts) {
          owner.seenUnschedulable.add(key);
          this.set({ plugin, profile }, n);
        }
      },
    });
    this.podsPlaced = new Counter({
      name: 'berth_pods_placed_total',
      help: 'Pods berth placed (bound), by node and profile.',
      labelNames: ['node', 'profile'],
      registers,
    });
    this.pluginWeightedScore = new FastHistogram({
      name: 'berth_plugin_weighted_score',
      help: "Each scoring plugin's weighted contribution (normalized score x weight) to the chosen node's total score.",
      labelNames: ['plugin', 'profile'],
      buckets: [...WEIGHTED_SCORE_BUCKETS],
      registers,
    });
    this.pluginScoreShare = new FastHistogram({
      name: 'berth_plugin_score_share',
      help: "Each scoring plugin's share (0..1) of the chosen node's total score.",
      labelNames: ['plugin', 'profile'],
      buckets: [...SCORE_SHARE_BUCKETS],
      registers,
    });

    this.permitWaitDuration = new FastHistogram({
      name: 'scheduler_permit_wait_duration_seconds',
      help: 'Duration of waiting on permit.',
      labelNames: ['result'],
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.goroutines = new Gauge({
      name: 'scheduler_goroutines',
      help: 'Number of running goroutines split by the work they do such as binding.',
      labelNames: ['operation'],
      registers,
    });
    this.goroutines.set({ operation: 'binding' }, 0);
    this.pluginFaults = new Counter({
      name: 'berth_plugin_faults_total',
      help: 'Failures of plugins loaded with --plugins, each turned into an Error for the pod: kind threw, invalid (an answer outside the contract) or timeout (over its budget).',
      labelNames: ['plugin', 'extension_point', 'kind'],
      registers,
    });
    // Plugins' background sources (a metrics server, Prometheus, a file), one series per plugin and profile.
    this.pluginSourceUp = new Gauge({
      name: 'berth_plugin_source_up',
      help: "1 when the plugin's last background refresh read its source, 0 when the source was down (the plugin then takes no side).",
      labelNames: ['plugin', 'profile'],
      registers,
    });
    this.pluginSourceStaleNodes = new Gauge({
      name: 'berth_plugin_source_stale_nodes',
      help: "Nodes the plugin had no usable data for after its last background refresh (missing from the source's answer, or too old).",
      labelNames: ['plugin', 'profile'],
      registers,
    });
    this.pluginSourceRefreshes = new Counter({
      name: 'berth_plugin_source_refreshes_total',
      help: "Background refreshes of plugins' sources, by result: up (the source answered) or down.",
      labelNames: ['plugin', 'profile', 'result'],
      registers,
    });
    this.configReloads = new Counter({
      name: 'berth_config_reloads_total',
      help: 'Changes of the --config file berth read while running, by result: success (in effect) or failure (invalid, or a field that needs a restart; the running configuration stays).',
      labelNames: ['result'],
      registers,
    });
    // Both series exist from the start, so an alert on failures has a zero to compare with.
    for (const result of ['success', 'failure']) this.configReloads.inc({ result }, 0);

    // client-go's leader-election gauge (component-base), as kube-scheduler exports it: one series per process, so
    // dashboards and the no-leader alert read berth the way they read kube-scheduler. Absent until a Lease is attached.
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
      labelNames: ['name'],
      registers,
      collect() {
        const source = owner.leaderSource;
        if (source) this.set({ name: source.name }, source.isLeader() ? 1 : 0);
      },
    });

    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, ...(options.defaultMetricsPrefix ? { prefix: options.defaultMetricsPrefix } : {}) });
    }
  }

  /** The queue whose counts the scheduler_pending_pods and scheduler_unschedulable_pods gauges report at scrape time. */
  attachQueue(source: QueueSource): void {
    this.queueSource = source;
  }

  /**
   * Creates, at 0, the series the alerts count failures on: Prometheus' increase() and rate() see nothing in a series
   * whose first sample already holds the first failure, so without this the first error or failed binding of a
   * profile would never alert. Attempts by result, and PreBind/Bind errors, per profile (a few series each).
   */
  initProfiles(profiles: readonly string[]): void {
    for (const profile of profiles) {
      for (const result of ATTEMPT_RESULTS) this.scheduleAttempts.inc({ result, profile }, 0);
      for (const point of ['PreBind', 'Bind']) this.extensionPointDuration.zero({ extension_point: point, status: 'Error', profile });
    }
  }

  /** The elector whose leadership leader_election_master_status reports at scrape time. */
  attachLeader(source: LeaderSource): void {
    this.leaderSource = source;
  }

  /** Suitable as the Scheduler's onQueueIncoming callback. */
  readonly queueIncoming = (queue: QueueName, event: string): void => {
    this.queueIncomingPods.inc({ queue, event });
  };

  /**
   * A scheduling cycle ended: the algorithm latency and, for a chosen node, what each score plugin added to its
   * total; a PostFilter run counts as a preemption attempt (upstream's counter, incremented by DefaultPreemption).
   */
  recordCycle(outcome: AttemptOutcome): void {
    const { result, profile } = outcome;
    this.algorithmDuration.observe(cycleSeconds(outcome));
    if (result.kind === 'scheduled') {
      const total = result.totalScore;
      for (const c of result.contributions) {
        this.pluginWeightedScore.observe({ plugin: c.plugin, profile }, c.weighted);
        if (total > 0) this.pluginScoreShare.observe({ plugin: c.plugin, profile }, c.weighted / total);
      }
    } else if (result.kind === 'unschedulable' && result.postFilter) {
      this.preemptionAttempts.inc();
    }
  }

  /**
   * The attempt is over: counted under its result with its whole duration (algorithm + binding); a bound pod also
   * records its attempts, the end-to-end SLI from its first entry into the queue, and its placement.
   */
  recordAttemptEnd(outcome: AttemptOutcome, end: AttemptEndLike): void {
    this.countAttempt(end.result, outcome.profile, end.durationSeconds);
    if (!end.bound || outcome.result.kind !== 'scheduled') return;
    const finished = outcome.startedAt + end.durationSeconds * 1000;
    const attempts = outcome.queued.attempts;
    this.podSchedulingAttempts.observe(attempts);
    this.podSchedulingSLIDuration.observe(
      { attempts: attemptsLabel(attempts) },
      Math.max(0, (finished - outcome.queued.initialAttemptTimestamp) / 1000),
    );
    this.podsPlaced.inc({ node: this.perNodePlacement ? outcome.result.nodeName : '', profile: outcome.profile });
  }

  /** Time spent running all plugins of one extension point (upstream records it per cycle). */
  observeExtensionPoint(extensionPoint: string, status: string, profile: string, seconds: number): void {
    this.extensionPointDuration.observe({ extension_point: extensionPoint, status, profile }, seconds);
  }

  /** Time spent in one plugin at one extension point (upstream samples 10% of cycles). */
  observePluginExecution(plugin: string, extensionPoint: string, status: string, seconds: number): void {
    this.pluginExecutionDuration.observe({ plugin, extension_point: extensionPoint, status }, seconds);
  }

  /** A loaded plugin failed (src/scheduler/framework/pluginGuard.ts). */
  countPluginFault(plugin: string, extensionPoint: string, kind: string): void {
    this.pluginFaults.inc({ plugin, extension_point: extensionPoint, kind });
  }

  /** A plugin's background refresh ended (src/adapters/background.ts). */
  recordSourceReport(plugin: string, profile: string, report: { readonly sourceUp: boolean; readonly staleNodes: number }): void {
    this.pluginSourceUp.set({ plugin, profile }, report.sourceUp ? 1 : 0);
    this.pluginSourceStaleNodes.set({ plugin, profile }, report.staleNodes);
    this.pluginSourceRefreshes.inc({ plugin, profile, result: report.sourceUp ? 'up' : 'down' });
  }

  /** A configuration reload ended (src/adapters/live/configWatcher.ts). */
  countConfigReload(result: 'success' | 'failure'): void {
    this.configReloads.inc({ result });
  }

  private countAttempt(result: AttemptResult, profile: string, durationSeconds: number): void {
    this.scheduleAttempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, durationSeconds);
  }

  /** Prometheus text exposition of every metric in this registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function cycleSeconds(outcome: AttemptOutcome): number {
  return Math.max(0, (outcome.endedAt - outcome.startedAt) / 1000);
}
