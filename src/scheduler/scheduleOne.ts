/**
 * One pod's way from the queue to its node, in the shape of upstream's schedule_one.go:
 *
 * - the scheduling cycle (synchronous; one pod at a time): the filter/score algorithm (PodScheduler), then assume
 *   (the pod is accounted on its node in the cache at once), Reserve and Permit. A failure anywhere here is handled
 *   at once (handleSchedulingFailure): Unreserve, forget, requeue, FailedScheduling event and PodScheduled=False,
 *   and preemption's victims evicted.
 * - the binding cycle (asynchronous; many pods at once, as many as the adapter lets run): PreBindPreFlight (and the
 *   nominatedNodeName "expectation" when Permit waits or PreBind has work), WaitOnPermit, PreBind, Bind, then the
 *   Scheduled event and PostBind. A failure is handled as upstream's handleBindingCycleError: Unreserve, forget,
 *   wake the pods the assumed one blocked, then requeue with backoff, or drop the pod when it is gone or bound.
 *
 * All I/O goes through the ClusterPort; time through the injected Clock; nothing here knows which adapter runs it.
 */
import type { PodInfo } from './cache/podInfo.js';
import type { ClusterState } from './cache/clusterState.js';
import type { Clock } from './clock.js';
import { fitErrorMessage, truncateEventMessage } from './framework/fitError.js';
import type { Framework } from './framework/framework.js';
import type { ErrorResult, PodScheduler, ScheduleOptions, ScheduleResult, UnschedulableResult } from './framework/schedulePod.js';
import { Code, CODE_NAMES, CycleState, Status } from './framework/types.js';
import type { ClusterPort } from './ports.js';
import type { QueuedPod, SchedulingQueue } from './queue/queue.js';
import type { Random } from './random.js';

/** Upstream samples per-plugin execution metrics on this share of scheduling cycles. */
export const PLUGIN_METRICS_SAMPLE_PERCENT = 10;

/** One profile: its framework and the algorithm running on it. */
export interface Profile {
  readonly framework: Framework;
  readonly podScheduler: PodScheduler;
}

/** How an attempt ended: bound, or failed in one of the two cycles (upstream's result label). */
export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface AttemptEnd {
  result: AttemptResult;
  /** True when the pod was bound by this attempt. */
  bound: boolean;
  /** Seconds from the start of the scheduling cycle to the end of the attempt (binding included). */
  durationSeconds: number;
  /** Why a binding cycle failed (Permit rejection, PreBind or Bind error). */
  message?: string;
}

/** One scheduling attempt: the scheduling cycle's outcome and, when the pod was assumed, its binding cycle. */
export interface CycleOutcome {
  queued: QueuedPod;
  profile: string;
  /** The algorithm's result; a Reserve or Permit failure turns a 'scheduled' result into a failure here. */
  result: ScheduleResult;
  /** The pod as assumed on its node, while its binding cycle runs. */
  assumed?: PodInfo;
  /** When the scheduling cycle started and ended, on the injected clock. */
  startedAt: number;
  endedAt: number;
  /** The binding cycle, running; it never rejects. */
  binding?: Promise<AttemptEnd>;
}

/**
 * What the core reports as it goes (metrics, decision logs). Every member is optional; the core calls none of them
 * on a path that must stay cheap unless the adapter passed them.
 */
export interface SchedulerObserver {
  /** A high-resolution clock (milliseconds) for extension-point timings; without it nothing is timed. */
  now?(): number;
  extensionPoint?(point: string, status: string, profile: string, seconds: number): void;
  /** Present → 10 % of the cycles report per-plugin execution times (upstream's sampling). */
  pluginExecution?(plugin: string, point: string, status: string, seconds: number): void;
  permitWait?(status: string, seconds: number): void;
  /** The scheduling cycle ended (its result may still be bound or not). */
  cycleEnded?(outcome: CycleOutcome): void;
  /** The attempt is over: once per popped pod. */
  attemptEnded?(outcome: CycleOutcome, end: AttemptEnd): void;
  /** Preemption evicts these victims for the pod. */
  preempting?(preemptor: PodInfo, nodeName: string, victims: readonly PodInfo[]): void;
  /** Something the core could not do and goes on without (a throwing Unreserve, a failed status write). */
  problem?(message: string, pod: PodInfo): void;
  /**
   * A pending pod left the queue because a configuration reload removed the profile it names: it stays pending in
   * the cluster, for whichever scheduler takes that name.
   */
  podWithoutProfile?(pod: PodInfo): void;
  /** Binding cycles running now (scheduler_goroutines{operation="binding"}). */
  bindingsInFlight?(count: number): void;
}

/** What both cycles work with: one scheduler's parts. */
export interface CycleContext {
  readonly queue: SchedulingQueue;
  readonly cluster: ClusterState;
  readonly port: ClusterPort;
  readonly clock: Clock;
  readonly random: Random;
  readonly observer: SchedulerObserver;
  readonly percentageOfNodesToScore: number;
  readonly bindings: BindingsInFlight;
}

type BindingPhase = 'waiting' | 'preBind' | 'bind';

interface BindingEntry {
  readonly abort: AbortController;
  phase: BindingPhase;
  /** The pod was deleted while its binding cycle ran: never requeue it. */
  deleted: boolean;
}

/**
 * Pods in their binding cycle, with an abort handle each: the pod's deletion, preemption of a pod in PreBind
 * (upstream's podsInPreBind) and the scheduler stopping cancel them.
 */
export class BindingsInFlight {
  private readonly entries = new Map<string, BindingEntry>();

  start(uid: string): BindingEntry {
    const entry: BindingEntry = { abort: new AbortController(), phase: 'waiting', deleted: false };
    this.entries.set(uid, entry);
    return entry;
  }

  finish(uid: string): void {
    this.entries.delete(uid);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The pod was deleted: abort what it waits on (Permit, PreBind). A Binding already sent is left to finish, as
   * upstream leaves it: the API server may have applied it before the deletion (the watch can show the pod bound,
   * then deleted, before the answer comes), and an aborted request would count and log a pod berth did bind as a
   * failed binding. If the Binding fails (the pod was gone first), the pod is dropped as deleted.
   */
  podDeleted(uid: string): void {
    const entry = this.entries.get(uid);
    if (!entry) return;
    entry.deleted = true;
    if (entry.phase !== 'bind') entry.abort.abort(new Error('pod deleted while binding'));
  }

  /** Cancels a pod still in PreBind (upstream CancelPod); false once it has reached Bind, or when not binding. */
  cancelInPreBind(uid: string, reason: string): boolean {
    const entry = this.entries.get(uid);
    if (!entry || entry.phase !== 'preBind') return false;
    entry.abort.abort(new Error(reason));
    return true;
  }

  inPreBind(uid: string): boolean {
    return this.entries.get(uid)?.phase === 'preBind';
  }

  abortAll(reason: string): void {
    for (const entry of this.entries.values()) entry.abort.abort(new Error(reason));
  }
}

// ---------------------------------------------------------------------------------------------- scheduling cycle

/**
 * The scheduling cycle for a popped pod. Returns the outcome; when the pod was assumed, `binding` is its binding
 * cycle, already running.
 */
export function runSchedulingCycle(ctx: CycleContext, profile: Profile, queued: QueuedPod, options: ScheduleOptions): CycleOutcome {
  const pod = queued.pod;
  const fw = profile.framework;
  const startedAt = ctx.clock.now();
  const state = new CycleState();
  state.recordPluginMetrics = ctx.observer.pluginExecution !== undefined && ctx.random.intn(100) < PLUGIN_METRICS_SAMPLE_PERCENT;
  const result = profile.podScheduler.schedule(pod, { percentageOfNodesToScore: ctx.percentageOfNodesToScore, ...timingFor(ctx, fw, state), ...options }, state);
  const outcome: CycleOutcome = { queued, profile: fw.schedulerName, result, startedAt, endedAt: startedAt };
  if (result.kind !== 'scheduled') {
    outcome.endedAt = ctx.clock.now();
    ctx.observer.cycleEnded?.(outcome);
    handleSchedulingFailure(ctx, fw, outcome, result);
    return outcome;
  }
  const nodeName = result.nodeName;
  ctx.cluster.nominator.clear(pod.uid);
  const assumed = ctx.cluster.assumePod(pod, nodeName);
  const failure = reserveAndPermit(ctx, fw, state, assumed, nodeName);
  if (failure) {
    unreserveAndForget(ctx, fw, state, assumed, nodeName);
    outcome.result = failure;
    outcome.endedAt = ctx.clock.now();
    ctx.observer.cycleEnded?.(outcome);
    handleSchedulingFailure(ctx, fw, outcome, failure);
    return outcome;
  }
  outcome.assumed = assumed;
  outcome.endedAt = ctx.clock.now();
  ctx.observer.cycleEnded?.(outcome);
  outcome.binding = runBindingCycle(ctx, fw, outcome, state, assumed, nodeName);
  return outcome;
}

/** The timing option for PodScheduler: extension points always (when observed), plugins on sampled cycles. */
function timingFor(ctx: CycleContext, fw: Framework, state: CycleState): Pick<ScheduleOptions, 'timing'> {
  const { now, extensionPoint, pluginExecution } = ctx.observer;
  if (!now || !extensionPoint) return {};
  const profile = fw.schedulerName;
  return {
    timing: {
      now: () => now(),
      observe: (point, status, seconds) => extensionPoint(point, status, profile, seconds),
      ...(state.recordPluginMetrics && pluginExecution ? { observePlugin: pluginExecution } : {}),
    },
  };
}

/** Times `run` as one extension point of the profile when the observer asks for timings. */
function timed<T>(ctx: CycleContext, fw: Framework, point: string, run: () => T, statusOf: (value: T) => Status | null): T {
  const { now, extensionPoint } = ctx.observer;
  if (!now || !extensionPoint) return run();
  const t0 = now();
  const value = run();
  const status = statusOf(value);
  extensionPoint(point, CODE_NAMES[status === null ? Code.Success : status.code], fw.schedulerName, (now() - t0) / 1000);
  return value;
}

async function timedAsync(ctx: CycleContext, fw: Framework, point: string, run: () => Promise<Status | null>): Promise<Status | null> {
  const { now, extensionPoint } = ctx.observer;
  if (!now || !extensionPoint) return run();
  const t0 = now();
  const status = await run();
  extensionPoint(point, CODE_NAMES[status === null ? Code.Success : status.code], fw.schedulerName, (now() - t0) / 1000);
  return status;
}

/** Reserve, then Permit (a Wait holds the pod in the framework's waiting pods). The failure as a result, or null. */
function reserveAndPermit(ctx: CycleContext, fw: Framework, state: CycleState, pod: PodInfo, nodeName: string): ScheduleResult | null {
  if (fw.reserve.length > 0) {
    const reserved = timed(ctx, fw, 'Reserve', () => fw.runReservePluginsReserve(state, pod, nodeName), (s) => s);
    if (reserved) return failureResult(reserved, nodeName);
  }
  if (fw.permit.length === 0) return null;
  const permit = timed(ctx, fw, 'Permit', () => fw.runPermitPlugins(state, pod, nodeName), (p) => p.status);
  if (permit.status === null) return null;
  if (permit.status.code === Code.Wait && permit.waits) {
    fw.waitingPods.add(pod, nodeName, permit.waits);
    return null;
  }
  return failureResult(permit.status, nodeName);
}

/**
 * A rejection after the node was chosen reads as upstream's FitError over that one node ("0/1 nodes are available:
 * 1 <reason>."); an error keeps its message.
 */
function failureResult(status: Status, nodeName: string): UnschedulableResult | ErrorResult {
  if (!status.isRejected) return { kind: 'error', message: status.message, ...(status.plugin ? { plugin: status.plugin } : {}) };
  const diagnosis = {
    nodeToStatus: new Map([[nodeName, { plugin: status.plugin, status }]]),
    absentNodesStatus: null,
    unschedulablePlugins: new Set(status.plugin ? [status.plugin] : []),
    preFilterMsg: '',
    postFilterMsg: '',
  };
  return { kind: 'unschedulable', message: fitErrorMessage(diagnosis, 1), diagnosis, numAllNodes: 1 };
}

function unreserveAndForget(ctx: CycleContext, fw: Framework, state: CycleState, pod: PodInfo, nodeName: string): void {
  if (fw.reserve.length > 0) {
    const failures = timed(ctx, fw, 'Unreserve', () => fw.runReservePluginsUnreserve(state, pod, nodeName), () => null);
    for (const message of failures) ctx.observer.problem?.(message, pod);
  }
  ctx.cluster.forgetPod(pod.uid);
}

/**
 * Upstream handleSchedulingFailure for a failed scheduling cycle: the pod waits for a relevant cluster event (or
 * backs off after an error), preemption's nomination is recorded and its victims evicted, and the pod gets the
 * FailedScheduling event and PodScheduled=False (reason Unschedulable, or SchedulerError for errors).
 */
function handleSchedulingFailure(ctx: CycleContext, fw: Framework, outcome: CycleOutcome, result: ScheduleResult): void {
  const pod = outcome.queued.pod;
  const end: AttemptEnd = { result: result.kind === 'unschedulable' ? 'unschedulable' : 'error', bound: false, durationSeconds: seconds(ctx, outcome) };
  if (result.kind === 'scheduled') return;
  // Upstream's nominating info: PostFilter's nomination when it ran ('' when preemption found nothing; none when it
  // had nothing to say), else clear.
  const nominated = result.kind === 'unschedulable' && result.postFilter ? result.postFilter.nominatedNodeName : '';
  if (nominated !== undefined) ctx.cluster.nominator.nominate(pod, nominated);
  ctx.queue.requeueAfterFailure(outcome.queued, result.kind === 'unschedulable' ? result.diagnosis.unschedulablePlugins : new Set());
  const victims = result.kind === 'unschedulable' ? (result.postFilter?.victims ?? []) : [];
  if (victims.length > 0 && nominated) preempt(ctx, fw, pod, nominated, victims);
  ctx.observer.attemptEnded?.(outcome, end);
  reportFailure(ctx, fw, pod, result.kind === 'unschedulable' ? 'Unschedulable' : 'SchedulerError', result.message, nominated);
}

/** The FailedScheduling event and the PodScheduled=False condition (with the nomination, when it changes). */
function reportFailure(ctx: CycleContext, fw: Framework, pod: PodInfo, reason: 'Unschedulable' | 'SchedulerError', message: string, nominatedNodeName?: string): void {
  ctx.port.recordEvent({
    reporter: fw.schedulerName,
    regarding: pod,
    type: 'Warning',
    reason: 'FailedScheduling',
    action: 'Scheduling',
    message: truncateEventMessage(message),
  });
  void ctx.port.updatePodStatus(pod.pod, {
    condition: { status: 'False', reason, message },
    ...(nominatedNodeName !== undefined ? { nominatedNodeName } : {}),
  });
}

/**
 * Evicts preemption victims (upstream's executor): a victim waiting at Permit is rejected, one still in PreBind is
 * cancelled, both in memory; the others get DisruptionTarget and are deleted. Lower-priority pods nominated to the
 * same node lose their nomination, since they may no longer fit there.
 */
function preempt(ctx: CycleContext, fw: Framework, preemptor: PodInfo, nodeName: string, victims: readonly PodInfo[]): void {
  ctx.observer.preempting?.(preemptor, nodeName, victims);
  const base = `Preempted by pod ${preemptor.uid} on node ${nodeName}`;
  const plugin = 'DefaultPreemption';
  for (const victim of victims) {
    const waiting = fw.waitingPods.get(victim.uid);
    const inMemory = waiting
      ? waiting.reject(plugin, 'preempted')
      : ctx.bindings.cancelInPreBind(victim.uid, `preempted by ${plugin}`);
    const event = (message: string): void =>
      ctx.port.recordEvent({ reporter: fw.schedulerName, regarding: victim, type: 'Normal', reason: 'Preempted', action: 'Preempting', message, related: preemptor });
    if (inMemory) {
      event(`${base} (in kube-scheduler memory).`);
      continue;
    }
    if (victim.terminating) continue;
    void ctx.port.evictVictim(victim, preemptor).then((deleted) => {
      if (deleted) event(base);
    });
  }
  const nominatedThere = ctx.cluster.nominator.nominatedPods(nodeName);
  for (const other of [...(nominatedThere?.values() ?? [])]) {
    if (other.uid === preemptor.uid || other.priority >= preemptor.priority) continue;
    ctx.cluster.nominator.clear(other.uid);
    void ctx.port.updatePodStatus(other.pod, { nominatedNodeName: '' });
  }
}

function seconds(ctx: CycleContext, outcome: CycleOutcome): number {
  return Math.max(0, (ctx.clock.now() - outcome.startedAt) / 1000);
}

// ------------------------------------------------------------------------------------------------ binding cycle

/** The binding cycle; resolves with how the attempt ended (never rejects). */
async function runBindingCycle(
  ctx: CycleContext,
  fw: Framework,
  outcome: CycleOutcome,
  state: CycleState,
  pod: PodInfo,
  nodeName: string,
): Promise<AttemptEnd> {
  const entry = ctx.bindings.start(pod.uid);
  ctx.observer.bindingsInFlight?.(ctx.bindings.size);
  let failure: Status | null;
  try {
    failure = await bindingCycle(ctx, fw, state, pod, nodeName, entry);
  } catch (err) {
    failure = Status.error(`binding cycle: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    ctx.bindings.finish(pod.uid);
    ctx.observer.bindingsInFlight?.(ctx.bindings.size);
  }
  if (failure === null) {
    const end: AttemptEnd = { result: 'scheduled', bound: true, durationSeconds: seconds(ctx, outcome) };
    ctx.queue.done(pod.uid);
    ctx.observer.attemptEnded?.(outcome, end);
    return end;
  }
  return handleBindingCycleError(ctx, fw, outcome, state, pod, nodeName, failure, entry.deleted);
}

/** The steps of the binding cycle; null when the pod was bound (and PostBind ran), else the failure. */
async function bindingCycle(
  ctx: CycleContext,
  fw: Framework,
  state: CycleState,
  pod: PodInfo,
  nodeName: string,
  entry: BindingEntry,
): Promise<Status | null> {
  const preFlight = timed(ctx, fw, 'PreBindPreFlight', () => fw.runPreBindPreFlights(state, pod, nodeName), (s) => s);
  if (preFlight !== null && preFlight.code !== Code.Skip) return preFlight;
  const preBindHasWork = preFlight === null;
  if (preBindHasWork || fw.waitingPods.has(pod.uid)) {
    // NominatedNodeNameForExpectation: tell others (autoscalers, this scheduler's next leader) where the pod goes
    // while Permit or PreBind take time. The API server clears it when the pod is bound.
    await ctx.port.updatePodStatus(pod.pod, { nominatedNodeName: nodeName });
  }
  const permit = await waitOnPermit(ctx, fw, pod);
  if (permit) return permit;
  if (entry.abort.signal.aborted) return abortStatus(entry.abort.signal);
  if (preBindHasWork) {
    entry.phase = 'preBind';
    const preBind = await timedAsync(ctx, fw, 'PreBind', () => fw.runPreBindPlugins(state, pod, nodeName, entry.abort.signal));
    if (preBind) return preBind;
  }
  // Past PreBind the pod can no longer be cancelled in memory (upstream MarkPrebound): preemption deletes it.
  entry.phase = 'bind';
  if (entry.abort.signal.aborted) return abortStatus(entry.abort.signal);
  const bind = await timedAsync(ctx, fw, 'Bind', () => fw.runBindPlugins(state, pod, nodeName, entry.abort.signal));
  if (bind) return bind.code === Code.Skip ? Status.error('no Bind plugin bound the pod (every one returned Skip)') : bind;
  ctx.port.recordEvent({
    reporter: fw.schedulerName,
    regarding: pod,
    type: 'Normal',
    reason: 'Scheduled',
    action: 'Binding',
    message: `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`,
  });
  const failures = timed(ctx, fw, 'PostBind', () => fw.runPostBindPlugins(state, pod, nodeName), () => null);
  for (const message of failures) ctx.observer.problem?.(message, pod);
  return null;
}

function abortStatus(signal: AbortSignal): Status {
  const reason: unknown = signal.reason;
  return Status.error(reason instanceof Error ? reason.message : 'binding cancelled');
}

/** Upstream WaitOnPermit: a rejection keeps its plugin (and reads as a FitError over the node); errors are wrapped. */
async function waitOnPermit(ctx: CycleContext, fw: Framework, pod: PodInfo): Promise<Status | null> {
  if (!fw.waitingPods.has(pod.uid)) return null;
  const now = ctx.observer.now;
  const t0 = now ? now() : 0;
  const status = await fw.waitingPods.wait(pod.uid);
  if (now) ctx.observer.permitWait?.(CODE_NAMES[status === null ? Code.Success : status.code], (now() - t0) / 1000);
  if (status === null || status.isRejected) return status;
  return Status.error(`waiting on permit for pod: ${status.message}`).withPlugin(status.plugin);
}

/**
 * The watch has shown the pod bound (a Binding that went through although its answer was lost: the connection died
 * after the API server wrote it): the cache holds it as a confirmed pod, no longer as this attempt's assumption.
 * Upstream's failure handler reads the informer's pod and does not requeue an assigned one; berth does the same
 * whatever the re-read says (it may have failed with the API server). Requeued, the pod's next attempt would assume
 * it elsewhere, taking it off its real node, and its refused Binding would then forget it altogether: the node's
 * room would look free.
 */
function confirmedBound(ctx: CycleContext, pod: PodInfo): boolean {
  return ctx.cluster.getPod(pod.uid) !== undefined && !ctx.cluster.isAssumed(pod.uid);
}

/**
 * Upstream handleBindingCycleError: Unreserve and forget (waking pods the assumed one kept out), then the failure
 * handler: the pod is requeued if it still waits to be scheduled, dropped if it is gone or bound; it gets the
 * FailedScheduling event and PodScheduled=False, and its nomination is cleared.
 */
async function handleBindingCycleError(
  ctx: CycleContext,
  fw: Framework,
  outcome: CycleOutcome,
  state: CycleState,
  pod: PodInfo,
  nodeName: string,
  failure: Status,
  deleted: boolean,
): Promise<AttemptEnd> {
  unreserveAndForget(ctx, fw, state, pod, nodeName);
  // Forgetting the assumed pod frees its room: as an AssignedPodDelete event. After a rejection it is sent once the
  // pod itself is back in the unschedulable pool (and it is not moved by it), as upstream defers it: sent first, it
  // would count as an event during the pod's attempt and send the pod to backoff instead.
  const rejected = failure.isRejected;
  if (!rejected) ctx.queue.onClusterEvent('AssignedPodDelete');
  ctx.cluster.nominator.clear(pod.uid);
  const result = failureResult(failure, nodeName);
  const message = result.message;
  const end: AttemptEnd = { result: rejected ? 'unschedulable' : 'error', bound: false, durationSeconds: seconds(ctx, outcome), message };
  const reread = deleted ? ({ state: 'gone' } as const) : await ctx.port.lookupPod(pod);
  const lookup = confirmedBound(ctx, pod) ? ({ state: 'gone' } as const) : reread;
  if (lookup.state === 'gone') {
    ctx.queue.delete(pod.uid);
  } else {
    const plugins = result.kind === 'unschedulable' ? result.diagnosis.unschedulablePlugins : new Set<string>();
    ctx.queue.requeueAfterFailure(outcome.queued, plugins);
  }
  if (rejected) ctx.queue.onClusterEvent('AssignedPodDelete', pod.uid);
  end.durationSeconds = seconds(ctx, outcome);
  ctx.observer.attemptEnded?.(outcome, end);
  if (lookup.state === 'gone') return end;
  ctx.port.recordEvent({ reporter: fw.schedulerName, regarding: pod, type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', message: truncateEventMessage(message) });
  // Only on the pod as just re-read: a requeued pod may be bound by its next attempt before this lands, and a stale
  // PodScheduled=False must not overwrite the True its binding set (the port applies it at that resourceVersion).
  if (lookup.state === 'pending') {
    await ctx.port.updatePodStatus(lookup.pod, {
      condition: { status: 'False', reason: rejected ? 'Unschedulable' : 'SchedulerError', message },
      nominatedNodeName: '',
      onlyIfUnchanged: true,
    });
  }
  return end;
}
