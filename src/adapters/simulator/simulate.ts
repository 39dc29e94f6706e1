/**
 * The simulator adapter: drives the same Scheduler as the live adapter, over a snapshot and on a virtual clock.
 * Its ClusterPort is in memory (memoryPort.ts): a binding makes the pod bound, preemption victims leave the state
 * as the API server would delete them. Binding cycles run to completion between scheduling cycles; when no pod is
 * ready, the clock jumps to the next timer or backoff expiry instead of sleeping.
 */
import type { SchedulerConfig } from '../../config/types.js';
import type { NodeExplanation, PluginContribution } from '../../scheduler/framework/schedulePod.js';
import type { PluginCatalog } from '../../scheduler/framework/pluginCatalog.js';
import type { NodeInfo } from '../../scheduler/cache/nodeInfo.js';
import { SeededRandom } from '../../scheduler/random.js';
import { type AttemptEnd, type CycleOutcome, Scheduler } from '../../scheduler/scheduler.js';
import { boundClaims, type ClaimOutcome, claimOutcomes } from './claimOutcomes.js';
import { MemoryPort, type RecordedEvent } from './memoryPort.js';
import type { Snapshot } from './snapshot.js';
import { VirtualClock } from './virtualClock.js';
import { hostBackgroundIO, runTaskOnce } from '../background.js';
import type { BackgroundIO } from '../../scheduler/framework/background.js';
import { realClock } from '../realClock.js';

export interface PodDecision {
  pod: string;
  profile: string;
  /** The node the pod was bound to; null when it stayed pending. */
  node: string | null;
  /** FailedScheduling message of the last failed attempt (when node is null), or an internal error. */
  message: string | null;
  attempts: number;
  totalScore: number | null;
  feasibleNodes: number | null;
  evaluatedNodes: number | null;
  contributions: PluginContribution[];
  /** Set when the pod was placed by evicting others (preemption). */
  preempted: string[];
  explanation?: NodeExplanation[];
  /** With explain, for a placed pod with claims: the PV each claim got (already bound, static, provisioned). */
  volumes?: ClaimOutcome[];
}

export interface NodeUsage {
  node: string;
  cpu: { requestedMilli: number; allocatableMilli: number; percent: number };
  memory: { requestedBytes: number; allocatableBytes: number; percent: number };
  pods: { count: number; allocatable: number; percent: number };
}

export interface SimulationResult {
  decisions: PodDecision[];
  nodes: NodeUsage[];
  /** Pods that were in the snapshot but not this scheduler's (other schedulerName): left alone. */
  skipped: Array<{ pod: string; schedulerName: string }>;
  evicted: string[];
  /** The events berth wrote, in order (Scheduled, FailedScheduling, Preempted). */
  events: RecordedEvent[];
  /** Plugins' sources that were down or incomplete when read before the first pod, e.g. NodeUtilization's. */
  warnings: string[];
}

export interface SimulateOptions {
  explain?: boolean;
  seed?: number;
  /** Upper bound on attempts (guards against a pathological retry loop). */
  maxAttempts?: number;
  /** The I/O plugins' background tasks read their sources with (tests hand in fakes); default: fetch and files. */
  backgroundIO?: BackgroundIO;
}

/** A simulation has no API server: a source behind it (metrics.k8s.io) cannot be read. */
const noApiServer: BackgroundIO['apiGet'] = () => Promise.reject(new Error('berth simulate has no API server to ask; use a prometheus or file source'));

/**
 * Runs each plugin's background task once, before the first pod, so the cycles read what its source says now.
 * The runs do real I/O: their time limits are on the wall clock, not the simulation's.
 */
async function readSources(scheduler: Scheduler, io: BackgroundIO): Promise<string[]> {
  const warnings: string[] = [];
  for (const { profile, task } of scheduler.backgroundTasks()) {
    const report = await runTaskOnce(task, io, realClock);
    if (!report.sourceUp || report.message) warnings.push(`${task.plugin} (profile ${profile}): ${report.message ?? 'its source is down'}`);
  }
  return warnings;
}

function percent(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.round((part * 1000) / whole) / 10;
}

export function nodeUsage(node: NodeInfo): NodeUsage {
  return {
    node: node.name,
    cpu: {
      requestedMilli: node.requested.milliCpu,
      allocatableMilli: node.allocatable.milliCpu,
      percent: percent(node.requested.milliCpu, node.allocatable.milliCpu),
    },
    memory: {
      requestedBytes: node.requested.memory,
      allocatableBytes: node.allocatable.memory,
      percent: percent(node.requested.memory, node.allocatable.memory),
    },
    pods: {
      count: node.pods.length,
      allocatable: node.allocatable.allowedPodNumber,
      percent: percent(node.pods.length, node.allocatable.allowedPodNumber),
    },
  };
}

/** Lets every binding cycle run until it finishes or waits on the virtual clock (no real I/O is pending). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function newDecision(pod: string, profile: string): PodDecision {
  return {
    pod,
    profile,
    node: null,
    message: null,
    attempts: 0,
    totalScore: null,
    feasibleNodes: null,
    evaluatedNodes: null,
    contributions: [],
    preempted: [],
  };
}

/** Records an attempt's outcome in the pod's decision. */
function recordAttempt(decision: PodDecision, outcome: CycleOutcome, end: AttemptEnd): void {
  decision.attempts = outcome.queued.attempts;
  const result = outcome.result;
  if (result.kind !== 'error' && result.explanation) decision.explanation = result.explanation;
  if (end.bound && result.kind === 'scheduled') {
    decision.node = result.nodeName;
    decision.message = null;
    decision.totalScore = result.totalScore;
    decision.feasibleNodes = result.feasibleNodes;
    decision.evaluatedNodes = result.evaluatedNodes;
    decision.contributions = result.contributions;
  } else if (result.kind === 'scheduled') {
    decision.message = end.message ?? 'binding failed';
  } else {
    decision.message = result.kind === 'error' ? `scheduler error: ${result.message}` : result.message;
  }
}

export async function simulate(
  snapshot: Snapshot,
  config: SchedulerConfig,
  plugins: PluginCatalog,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  const clock = new VirtualClock();
  const port = new MemoryPort(snapshot.cluster);
  const decisions = new Map<string, PodDecision>();
  const evicted: string[] = [];
  const scheduler = new Scheduler({
    cluster: snapshot.cluster,
    config,
    plugins,
    random: new SeededRandom(options.seed ?? 1),
    clock,
    port,
    observer: {
      attemptEnded: (outcome, end) => {
        const decision = decisions.get(outcome.queued.pod.uid);
        if (decision) recordAttempt(decision, outcome, end);
      },
      preempting: (preemptor, _node, victims) => {
        const decision = decisions.get(preemptor.uid);
        for (const victim of victims) {
          evicted.push(victim.key);
          decision?.preempted.push(victim.key);
          // A victim this simulation placed is reported as evicted (its owner would recreate it in a live cluster).
          const victimDecision = decisions.get(victim.uid);
          if (victimDecision) {
            victimDecision.node = null;
            victimDecision.message = `preempted by ${decision?.pod ?? preemptor.key}`;
          }
        }
      },
    },
  });
  port.attach((event) => scheduler.notify(event));
  const warnings = await readSources(scheduler, options.backgroundIO ?? hostBackgroundIO(noApiServer));
  const skipped: SimulationResult['skipped'] = [];
  const claimsBefore = options.explain ? boundClaims(snapshot.cluster) : new Map<string, string>();
  // Pods enter the queue in creation order, so the queue's tie-break (enqueue time) follows creation time.
  const pending = [...snapshot.pendingPods].sort((a, b) => a.creationTime - b.creationTime || a.key.localeCompare(b.key));
  for (const pod of pending) {
    if (!scheduler.isResponsibleFor(pod)) {
      skipped.push({ pod: pod.key, schedulerName: pod.schedulerName });
      continue;
    }
    decisions.set(pod.uid, newDecision(pod.key, pod.schedulerName));
    scheduler.upsertPendingPod(pod);
    clock.tick(1);
  }
  await run(scheduler, clock, options, Math.max(100, decisions.size * 20));
  if (options.explain) {
    for (const pod of pending) {
      const decision = decisions.get(pod.uid);
      if (!decision?.node) continue;
      const volumes = claimOutcomes(pod, snapshot.cluster, claimsBefore);
      if (volumes.length > 0) decision.volumes = volumes;
    }
  }
  const nodes = snapshot.cluster
    .nodes()
    .map(nodeUsage)
    .sort((a, b) => a.node.localeCompare(b.node));
  return { decisions: [...decisions.values()], nodes, skipped, evicted, events: port.events, warnings };
}

/**
 * The loop: schedule while pods are ready; then let binding cycles settle; then jump the clock to the next timer or
 * backoff expiry; stop when nothing is left to happen or the attempt budget is spent.
 */
async function run(scheduler: Scheduler, clock: VirtualClock, options: SimulateOptions, defaultMaxAttempts: number): Promise<void> {
  const maxAttempts = options.maxAttempts ?? defaultMaxAttempts;
  let attempts = 0;
  while (attempts < maxAttempts) {
    const outcome = scheduler.scheduleOne(options.explain ? { explain: true } : {});
    if (outcome) {
      attempts++;
      clock.tick(1);
      if (outcome.binding) await settle();
      continue;
    }
    await settle();
    scheduler.queue.flush();
    if (scheduler.queue.counts().active > 0) continue;
    const next = earliest(clock.nextTimer(), scheduler.queue.nextBackoffExpiry());
    if (next === undefined) {
      if (scheduler.bindingsInFlight === 0) break;
      // Binding cycles wait on nothing this clock knows of: let them run once more, then give up.
      await settle();
      if (scheduler.bindingsInFlight > 0 && clock.nextTimer() === undefined) break;
      continue;
    }
    clock.advanceTo(Math.max(clock.now() + 1, next));
  }
  // Whatever still waits (at Permit, in PreBind) when the simulation ends is cut short, so every attempt ends.
  scheduler.abortBindings('simulation ended');
  await settle();
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
