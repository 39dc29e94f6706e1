/**
 * The simulator adapter: drives the same Scheduler loop as the live adapter, over a snapshot and on a virtual
 * clock. Binding always succeeds (the pod stays assumed, like a bound pod); backoff waits advance the virtual
 * clock instead of sleeping; preemption victims are removed from the state, as the API server would delete them.
 */
import type { SchedulerConfig } from '../../config/types.js';
import type { NodeExplanation, PluginContribution } from '../../scheduler/framework/schedulePod.js';
import type { PluginFactory } from '../../scheduler/framework/types.js';
import type { NodeInfo } from '../../scheduler/cache/nodeInfo.js';
import type { PodInfo } from '../../scheduler/cache/podInfo.js';
import { SeededRandom } from '../../scheduler/random.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import type { Snapshot } from './snapshot.js';

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
}

export interface SimulateOptions {
  explain?: boolean;
  seed?: number;
  /** Upper bound on attempts (guards against a pathological retry loop). */
  maxAttempts?: number;
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

export function simulate(
  snapshot: Snapshot,
  config: SchedulerConfig,
  registry: ReadonlyMap<string, PluginFactory>,
  options: SimulateOptions = {},
): SimulationResult {
  let clock = 0;
  const scheduler = new Scheduler({
    cluster: snapshot.cluster,
    config,
    registry,
    random: new SeededRandom(options.seed ?? 1),
    now: () => clock,
  });
  const skipped: SimulationResult['skipped'] = [];
  const decisions = new Map<string, PodDecision>();
  // Pods enter the queue in creation order, so the queue's tie-break (enqueue time) follows creation time.
  const pending = [...snapshot.pendingPods].sort((a, b) => a.creationTime - b.creationTime || a.key.localeCompare(b.key));
  for (const pod of pending) {
    if (!scheduler.isResponsibleFor(pod)) {
      skipped.push({ pod: pod.key, schedulerName: pod.schedulerName });
      continue;
    }
    decisions.set(pod.uid, {
      pod: pod.key,
      profile: pod.schedulerName,
      node: null,
      message: null,
      attempts: 0,
      totalScore: null,
      feasibleNodes: null,
      evaluatedNodes: null,
      contributions: [],
      preempted: [],
    });
    scheduler.upsertPendingPod(pod);
    clock += 1;
  }
  const evicted: string[] = [];
  const maxAttempts = options.maxAttempts ?? Math.max(100, decisions.size * 20);
  let attempts = 0;
  while (attempts < maxAttempts) {
    const outcome = scheduler.scheduleOne(options.explain ? { explain: true } : {});
    if (!outcome) {
      scheduler.queue.flush();
      const next = scheduler.queue.nextBackoffExpiry();
      if (next === undefined) break;
      clock = Math.max(clock + 1, next);
      continue;
    }
    attempts++;
    clock += 1;
    const decision = decisions.get(outcome.queued.pod.uid);
    if (!decision) continue;
    decision.attempts = outcome.queued.attempts;
    const result = outcome.result;
    if (result.kind !== 'error' && result.explanation) decision.explanation = result.explanation;
    if (result.kind === 'scheduled') {
      decision.node = result.nodeName;
      decision.message = null;
      decision.totalScore = result.totalScore;
      decision.feasibleNodes = result.feasibleNodes;
      decision.evaluatedNodes = result.evaluatedNodes;
      decision.contributions = result.contributions;
      scheduler.bindingFinished(outcome);
      scheduler.notify('AssignedPodAdd');
    } else if (result.kind === 'unschedulable') {
      decision.message = result.message;
      const victims: PodInfo[] = result.postFilter?.victims ?? [];
      if (victims.length > 0) {
        for (const victim of victims) {
          snapshot.cluster.removePodByUid(victim.uid);
          evicted.push(victim.key);
          decision.preempted.push(victim.key);
          // A victim that this simulation placed is pending again, as a deleted pod would be recreated by its owner
          // only in a live cluster; here it is simply reported as evicted.
          const victimDecision = decisions.get(victim.uid);
          if (victimDecision) {
            victimDecision.node = null;
            victimDecision.message = `preempted by ${decision.pod}`;
          }
        }
        scheduler.notify('AssignedPodDelete');
      }
    } else {
      decision.message = `scheduler error: ${result.message}`;
    }
  }
  const nodes = snapshot.cluster
    .nodes()
    .map(nodeUsage)
    .sort((a, b) => a.node.localeCompare(b.node));
  return { decisions: [...decisions.values()], nodes, skipped, evicted };
}
