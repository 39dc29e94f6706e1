/**
 * The fidelity harness: runs a scenario through upstream kube-scheduler and through berth on a real control plane
 * and records, per pod, its first outcome (bound to a node, or the PodScheduled=False condition with its reason and
 * message) and its final placement. Upstream runs first, with its score logging on (upstreamScores.ts): its log is
 * the only evidence of a tie.
 *
 * One control plane serves a whole invocation: before each scenario every node, pod and object of the previous
 * one is deleted, so the cluster holds exactly the scenario's nodes (FailedScheduling messages count all nodes).
 * Each scheduler runs as a fresh process, in turn, against the same nodes; before each run every pod, every
 * scenario object and every volume or claim a run may have changed is deleted and created again, so both start
 * from the same state.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '../../src/kube/api.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import {
  ensureBinaries,
  startControlPlane,
  startControllerManager,
  startProvisioner,
  type ControlPlane,
  type ControlPlaneBinaries,
  type LogFn,
} from '../devcluster/index.js';
import { createObject, deleteAllPods, deleteObject, deleteRunMutated, ensureNamespace, listItems, must } from './kube.js';
import { PodWatch, podKey } from './podWatch.js';
import { nodeObject, scenarioNamespaces, type Scenario } from './scenario.js';
import { spawnScheduler, startScheduler, type SchedulerKind, type SpawnedScheduler } from './schedulers.js';
import { bindingAttempt, judgeTie, parseUpstreamScores, type UpstreamScores } from './upstreamScores.js';
import { withoutPlugins, type UserPlugins } from './userPlugins.js';

export interface PodOutcome {
  pod: string;
  /** Node of the first binding, or null when the first outcome was a failure (or nothing within the timeout). */
  node: string | null;
  /** PodScheduled=False reason (Unschedulable, SchedulerError, SchedulingGated) of the first failure. */
  reason: string | null;
  message: string | null;
  timedOut: boolean;
  /** status.nominatedNodeName written with the first failure (a preemption), or null. */
  nominatedNode: string | null;
  /** Node after the scenario settled (a failed pod may be bound later). */
  finalNode: string | null;
  /** berth only: after a tie accepted from upstream's scores, the harness moved the pod here (upstream's node). */
  realignedTo?: string;
  /** berth only: why an accepted tie was not realigned (the runs' states then differ). */
  notRealigned?: string;
}

export interface RunResult {
  scheduler: SchedulerKind;
  schedulerName: string;
  outcomes: PodOutcome[];
  /** Upstream only: its attempts and scores, parsed from its log. */
  scores?: UpstreamScores;
}

export interface HarnessOptions {
  log?: LogFn;
  /** How long one pod may take to reach a first outcome (default 20 s). */
  podTimeoutMs?: number;
  /** Start a new control plane for each scenario instead of cleaning the shared one. */
  freshControlPlane?: boolean;
  binaries?: ControlPlaneBinaries;
  /** Keep the schedulers' configurations and logs here (one directory per run) instead of a removed temp dir. */
  logDir?: string;
  /** Test only: berth runs with this score plugin's scores zeroed (tools/fidelity/zeroScore.ts). */
  zeroScorePlugin?: string;
  /** berth loads these plugin modules; upstream runs the configuration without them (tools/fidelity/userPlugins.ts). */
  userPlugins?: UserPlugins;
}

export const SCHEDULER_NAMES: Record<SchedulerKind, string> = { upstream: 'fidelity-upstream', berth: 'fidelity-berth' };

/** How long a pod marked expectPending is watched for an outcome it should not reach. */
export const EXPECT_PENDING_WINDOW_MS = 5000;

/** Decides, in berth's run, whether pod i's outcome is an accepted tie: then the node to move it to. */
type RealignPolicy = (index: number, outcome: PodOutcome) => string | undefined;

interface RunOptions {
  realign?: RealignPolicy;
  /** A scheduler already spawned (held berth), released when the run starts. */
  spawned?: SpawnedScheduler;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function podScheduledCondition(p: Pod): { status?: string; reason?: string; message?: string } | undefined {
  return (p.status?.conditions as Array<{ type?: string; status?: string; reason?: string; message?: string }> | undefined)?.find(
    (c) => c.type === 'PodScheduled',
  );
}

/** A pod's first outcome: the fields of PodOutcome that one watch event decides. */
type FirstOutcome = Pick<PodOutcome, 'node' | 'reason' | 'message' | 'nominatedNode'>;

/** What this state of a pod shows as an outcome: bound, or PodScheduled=False with its nomination; else undefined. */
function outcomeShown(p: Pod): FirstOutcome | undefined {
  if (p.spec?.nodeName) return { node: p.spec.nodeName, reason: null, message: null, nominatedNode: null };
  const c = podScheduledCondition(p);
  if (c?.status !== 'False') return undefined;
  return { node: null, reason: c.reason ?? '', message: c.message ?? '', nominatedNode: p.status?.nominatedNodeName || null };
}

/**
 * Records, per pod UID, the first outcome the watch delivered. A preemptor can fail, be nominated and be bound within
 * tens of milliseconds: on a loaded machine all of that can arrive before the create call returns, so the pod's
 * current state alone would show only the binding. After a watch error the view is listed again, and the first
 * state seen may then be a later one: the harness logs nothing for that case, which has not been seen in practice.
 */
function firstOutcomeRecorder(into: Map<string, FirstOutcome>): (p: Pod) => void {
  return (p) => {
    const uid = p.metadata?.uid;
    if (!uid || into.has(uid)) return;
    const shown = outcomeShown(p);
    if (shown) into.set(uid, shown);
  };
}

/** Marked for deletion by a scheduler's preemption (DisruptionTarget=True, PreemptionByScheduler), as both do. */
export function isPreemptionVictim(p: Pod): boolean {
  return (p.status?.conditions as Array<{ type?: string; status?: string; reason?: string }> | undefined)?.some(
    (c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'PreemptionByScheduler',
  ) ?? false;
}

/** A pod whose binding also bound volumes or claims: moving it elsewhere would leave them on the old node. */
function realignBlocker(pod: Pod): string | undefined {
  const spec = pod.spec as { volumes?: Array<{ persistentVolumeClaim?: unknown; ephemeral?: unknown }>; resourceClaims?: unknown[] } | undefined;
  if (spec?.volumes?.some((v) => v.persistentVolumeClaim !== undefined || v.ephemeral !== undefined)) {
    return 'the pod has volume claims whose binding follows its node';
  }
  if ((spec?.resourceClaims ?? []).length > 0) return 'the pod has resource claims allocated for its node';
  return undefined;
}

/** The policy for berth's run: a tie by upstream's scores moves berth's pod to upstream's node. */
function realignFromUpstream(upstream: RunResult): RealignPolicy {
  return (i, o) => {
    const u = upstream.outcomes[i];
    if (!u?.node || !o.node || u.node === o.node || !upstream.scores) return undefined;
    return judgeTie(bindingAttempt(upstream.scores, u.pod, u.node), u.node, o.node).tie ? u.node : undefined;
  };
}

/** A control plane plus the bookkeeping to reset it between scenarios and runs. */
export class Harness {
  private cp: ControlPlane | undefined;
  private client: KubeClient | undefined;
  private dir = '';
  private runCount = 0;
  private binaries: ControlPlaneBinaries | undefined;
  private readonly log: LogFn;
  /** Objects the current scenario created (deleted before the next run). */
  private created: Array<{ kind: string; name: string; namespace?: string }> = [];
  private namespacesUsed = new Set<string>();
  /** A held berth loaded for the scenario expected next. */
  private prefetched: { scenario: Scenario; zero: string | undefined; spawned: SpawnedScheduler } | undefined;

  constructor(private readonly opts: HarnessOptions = {}) {
    this.log = opts.log ?? (() => {});
  }

  private async ensureControlPlane(): Promise<{ cp: ControlPlane; client: KubeClient }> {
    if (this.cp && this.client) return { cp: this.cp, client: this.client };
    this.binaries ??= this.opts.binaries ?? (await ensureBinaries({ log: this.log }));
    this.dir ||= this.opts.logDir ?? (await mkdtemp(join(tmpdir(), 'berth-fidelity-')));
    this.cp = await startControlPlane({ binaries: this.binaries, log: this.log });
    this.client = createKubeClient(this.cp.kubeConfig, { qps: 0, burst: 0, userAgent: 'berth-fidelity' });
    this.created = [];
    this.namespacesUsed = new Set(['default']);
    return { cp: this.cp, client: this.client };
  }

  private async stopControlPlane(): Promise<void> {
    this.client?.close();
    await this.cp?.stop();
    this.cp = undefined;
    this.client = undefined;
  }

  /** Deletes every pod, the scenario's objects and whatever a run changed or created (provisioned PVs, claims). */
  private async deleteRunState(client: KubeClient): Promise<void> {
    await deleteAllPods(client, [...this.namespacesUsed]);
    for (const o of this.created.reverse()) await deleteObject(client, o.kind, o.name, o.namespace);
    this.created = [];
    await deleteRunMutated(client, [...this.namespacesUsed]);
  }

  /** The state every run starts from: the scenario's objects, then its existing pods. */
  private async prepareRun(client: KubeClient, s: Scenario): Promise<void> {
    await this.deleteRunState(client);
    for (const o of s.objects) {
      const meta = o['metadata'] as { name: string; namespace?: string };
      this.created.push({ kind: String(o['kind']), name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}) });
      await createObject(client, o);
    }
    for (const p of s.existingPods) await createObject(client, p as unknown as Record<string, unknown>);
  }

  /**
   * Runs upstream, then berth; `zeroScorePlugin` overrides the harness option for this scenario (test only), and
   * `next` (the scenario that will run next) lets its berth load meanwhile.
   */
  async runScenario(s: Scenario, overrides: { zeroScorePlugin?: string; next?: Scenario } = {}): Promise<[RunResult, RunResult]> {
    if (this.opts.freshControlPlane) await this.stopControlPlane();
    const { cp, client } = await this.ensureControlPlane();
    await this.deleteRunState(client);
    for (const n of await listItems<Node>(client, '/api/v1/nodes')) await deleteObject(client, 'Node', n.metadata?.name ?? '');
    for (const ns of scenarioNamespaces(s)) {
      await ensureNamespace(client, ns.name, ns.labels);
      this.namespacesUsed.add(ns.name);
    }
    for (const n of s.nodes) await createObject(client, nodeObject(n) as unknown as Record<string, unknown>);
    const zero = overrides.zeroScorePlugin ?? this.opts.zeroScorePlugin;
    const berthProc = await this.takeHeldBerth(s, cp, zero);
    let prefetch: Promise<SpawnedScheduler | undefined> | undefined;
    try {
      const upstream = await this.runWithControllers(s, 'upstream', cp, client);
      // The next scenario's berth loads while this one's berth runs (it must not start before it is released).
      const next = overrides.next;
      if (next && !this.opts.freshControlPlane) {
        prefetch = this.holdBerth(next, cp, zero).catch((err: unknown) => {
          this.log(`loading berth for ${next.name} ahead failed (it is loaded again then): ${(err as Error).message}`);
          return undefined;
        });
      }
      const berth = await this.runWithControllers(s, 'berth', cp, client, { realign: realignFromUpstream(upstream), spawned: berthProc });
      const spawned = await prefetch;
      prefetch = undefined;
      if (next && spawned) this.prefetched = { scenario: next, zero, spawned };
      return [upstream, berth];
    } finally {
      await berthProc.stop();
      await (await prefetch)?.stop();
    }
  }

  /**
   * A berth process for `s`, loaded but held (berthEntry.ts): loading takes seconds of CPU on a busy machine, so it
   * happens while something else runs; berth touches the cluster only once released by its run.
   */
  private async holdBerth(s: Scenario, cp: ControlPlane, zeroScorePlugin: string | undefined): Promise<SpawnedScheduler> {
    return spawnScheduler({
      kind: 'berth',
      config: s.config,
      schedulerName: SCHEDULER_NAMES.berth,
      kubeconfigPath: cp.kubeconfigPath,
      binaries: cp.binaries,
      dir: await this.runDir(s),
      hold: true,
      ...(zeroScorePlugin ? { zeroScorePlugin } : {}),
      ...(this.opts.userPlugins ? { plugins: this.opts.userPlugins.modules } : {}),
    });
  }

  /** The berth prefetched for `s` by the previous scenario, else a new held one. */
  private async takeHeldBerth(s: Scenario, cp: ControlPlane, zero: string | undefined): Promise<SpawnedScheduler> {
    const p = this.prefetched;
    this.prefetched = undefined;
    if (p && p.scenario === s && p.zero === zero && !p.spawned.process.hasExited()) return p.spawned;
    await p?.spawned.stop();
    return this.holdBerth(s, cp, zero);
  }

  /** Upstream never sees the loaded plugins: they exist only in berth. */
  private configFor(s: Scenario, kind: SchedulerKind): Record<string, unknown> {
    const names = this.opts.userPlugins?.names;
    return kind === 'upstream' && names ? withoutPlugins(s.config, names) : s.config;
  }

  /** A fresh directory for one scheduler run's configuration and log. */
  private async runDir(s: Scenario): Promise<string> {
    const dir = join(this.dir, `${++this.runCount}-${s.name}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private async runWithControllers(s: Scenario, kind: SchedulerKind, cp: ControlPlane, client: KubeClient, run: RunOptions = {}): Promise<RunResult> {
    const t0 = Date.now();
    await this.prepareRun(client, s);
    const stops: Array<() => Promise<void>> = [];
    const t1 = Date.now();
    try {
      if (s.volumeControllers) {
        // Fresh for each run: neither the PV controller nor the provisioner carries the other run's claims over.
        const kcm = await startControllerManager(cp, { log: this.log, binaries: cp.binaries });
        stops.push(() => kcm.stop());
        const provisioner = await startProvisioner(cp, { log: this.log });
        stops.push(() => provisioner.stop());
      }
      const t2 = Date.now();
      const result = await this.runOne(s, kind, cp, client, run);
      this.log(`${s.name} (${kind}): reset ${secs(t1 - t0)}, controllers ${secs(t2 - t1)}, run ${secs(Date.now() - t2)}`);
      return result;
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  }

  private async runOne(s: Scenario, kind: SchedulerKind, cp: ControlPlane, client: KubeClient, run: RunOptions): Promise<RunResult> {
    const schedulerName = SCHEDULER_NAMES[kind];
    const startedAt = Date.now();
    const sched = run.spawned
      ? await run.spawned.ready()
      : await startScheduler({ kind, config: this.configFor(s, kind), schedulerName, kubeconfigPath: cp.kubeconfigPath, binaries: cp.binaries, dir: await this.runDir(s), scoreLog: kind === 'upstream' });
    const firstOutcomes = new Map<string, FirstOutcome>();
    const watch = await PodWatch.start(client, { onPod: firstOutcomeRecorder(firstOutcomes) }).catch(async (err: unknown) => {
      await sched.stop();
      throw err;
    });
    const outcomes: PodOutcome[] = [];
    const ready = Date.now();
    try {
      for (const [i, manifest] of s.pods.entries()) {
        const outcome = await this.schedulePod(watch, firstOutcomes, client, manifest, kind, s.expectPending.has(podKey(manifest)));
        if (outcome.nominatedNode !== null) await this.awaitPreemption(watch, outcome.pod, kind);
        const target = run.realign?.(i, outcome);
        if (target !== undefined) {
          const blocker = realignBlocker(manifest);
          if (blocker) {
            outcome.notRealigned = blocker;
          } else {
            await this.realignPod(watch, client, manifest, schedulerName, target);
            outcome.realignedTo = target;
          }
        }
        outcomes.push(outcome);
      }
      if (s.settleSeconds > 0) await new Promise((r) => setTimeout(r, s.settleSeconds * 1000));
      for (const o of outcomes) o.finalNode = watch.pods.get(o.pod)?.spec?.nodeName ?? null;
    } finally {
      const stopping = Date.now();
      if (kind === 'upstream') await this.awaitBindingLog(sched.logFile, outcomes);
      await sched.stop();
      await watch.stop();
      this.log(`${s.name} (${kind}): scheduler ready in ${secs(ready - startedAt)}, pods ${secs(stopping - ready)}, stop ${secs(Date.now() - stopping)}`);
    }
    const result: RunResult = { scheduler: kind, schedulerName, outcomes };
    if (kind === 'upstream') result.scores = parseUpstreamScores(await readFile(sched.logFile, 'utf8'), true);
    return result;
  }

  /**
   * The watch can show a binding before kube-scheduler has read the API server's answer: stopped then, it logs
   * "Failed to bind pod" (context canceled) instead of "Successfully bound pod to node", and the attempt that bound
   * the pod would be unknown. Wait (bounded) until its log confirms every binding the run saw.
   */
  private async awaitBindingLog(logFile: string, outcomes: readonly PodOutcome[]): Promise<void> {
    const bound = outcomes.filter((o) => o.node !== null || o.finalNode !== null).map((o) => o.pod);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const scores = parseUpstreamScores(await readFile(logFile, 'utf8'));
      const missing = bound.filter((pod) => !(scores.get(pod) ?? []).some((a) => a.boundNode !== undefined));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        this.log(`upstream's log confirms no binding of ${missing.join(', ')}: no tie can be shown for them`);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Creates one pod and waits for its first outcome: bound, PodScheduled=False, or nothing within the timeout. */
  private async schedulePod(
    watch: PodWatch,
    firstOutcomes: ReadonlyMap<string, FirstOutcome>,
    client: KubeClient,
    manifest: Pod,
    kind: SchedulerKind,
    expectPending: boolean,
  ): Promise<PodOutcome> {
    const pod = structuredClone(manifest);
    pod.spec = { ...pod.spec, schedulerName: SCHEDULER_NAMES[kind] };
    const key = podKey(pod);
    const created = await createObject(client, pod as unknown as Record<string, unknown>);
    const uid = (created['metadata'] as { uid?: string }).uid ?? '';
    const base = { pod: key, node: null, reason: null, message: null, timedOut: false, nominatedNode: null, finalNode: null };
    const timeoutMs = this.opts.podTimeoutMs ?? 20_000;
    try {
      return await watch.waitFor(`${key} (${kind})`, expectPending ? Math.min(timeoutMs, EXPECT_PENDING_WINDOW_MS) : timeoutMs, () => {
        const first = firstOutcomes.get(uid);
        return first && { ...base, ...first };
      });
    } catch {
      return { ...base, timedOut: true };
    }
  }

  /**
   * A preemptor was nominated: before the next pod is created, wait until it is bound (its scheduler retries it
   * only once its victims are gone) and no pod marked as a preemption victim remains. Otherwise the next pod would
   * race the preemptor for the freed room, in each scheduler differently.
   */
  private async awaitPreemption(watch: PodWatch, key: string, kind: SchedulerKind): Promise<void> {
    const timeoutMs = this.opts.podTimeoutMs ?? 20_000;
    try {
      await watch.waitFor(`${key} bound after its preemption (${kind})`, timeoutMs, () => (watch.pods.get(key)?.spec?.nodeName ? true : undefined));
    } catch (err) {
      this.log(`${(err as Error).message}: going on once its victims are gone`);
    }
    try {
      await watch.waitFor(`preemption victims of ${key} deleted (${kind})`, timeoutMs, () =>
        [...watch.pods.values()].some(isPreemptionVictim) ? undefined : true,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: a victim of the preemption was never deleted`);
    }
  }

  /** Moves berth's pod to `node`: deleted, then created bound there, both seen before the next pod is created. */
  private async realignPod(watch: PodWatch, client: KubeClient, manifest: Pod, schedulerName: string, node: string): Promise<void> {
    const key = podKey(manifest);
    const ns = manifest.metadata?.namespace ?? 'default';
    const oldUid = watch.pods.get(key)?.metadata?.uid;
    await must(`delete pod ${key} to realign it`, client.request('DELETE', `/api/v1/namespaces/${ns}/pods/${manifest.metadata?.name}`, { query: { gracePeriodSeconds: 0 } }), [404]);
    await watch.waitFor(`${key} deleted for realignment`, 30_000, () => (watch.pods.get(key)?.metadata?.uid === oldUid ? undefined : true));
    const pod = structuredClone(manifest);
    pod.spec = { ...pod.spec, schedulerName, nodeName: node };
    const created = await createObject(client, pod as unknown as Record<string, unknown>);
    const uid = (created['metadata'] as { uid?: string }).uid;
    await watch.waitFor(`${key} recreated on ${node}`, 30_000, () => (watch.pods.get(key)?.metadata?.uid === uid ? true : undefined));
  }

  async close(): Promise<void> {
    await this.prefetched?.spawned.stop();
    this.prefetched = undefined;
    await this.stopControlPlane();
    if (this.dir && this.dir !== this.opts.logDir) await rm(this.dir, { recursive: true, force: true });
  }
}
