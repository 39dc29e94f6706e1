/**
 * The fidelity harness: runs a scenario through upstream kube-scheduler and through berth on a real control plane
 * and records, per pod, its first outcome (bound to a node, or the PodScheduled=False condition with its reason and
 * message) and its final placement.
 *
 * One control plane serves a whole invocation: before each scenario every node, pod and object of the previous
 * one is deleted, so the cluster holds exactly the scenario's nodes (FailedScheduling messages count all nodes).
 * Each scheduler runs as a fresh process, in turn, against the same nodes; between the two runs every pod is
 * force-deleted and the existing pods are created again, so both start from the same state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseSchedulerConfig } from '../../src/config/index.js';
import type { Node, Pod } from '../../src/kube/api.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';
import { ensureBinaries, startControlPlane, type ControlPlane, type ControlPlaneBinaries, type LogFn } from '../devcluster/index.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { simulate } from '../../src/adapters/simulator/simulate.js';
import { buildSnapshot, type SnapshotObject } from '../../src/adapters/simulator/snapshot.js';
import { createObject, deleteAllPods, deleteObject, ensureNamespace, listItems, must } from './kube.js';
import { PodWatch, podKey } from './podWatch.js';
import { nodeObject, scenarioNamespaces, type Scenario } from './scenario.js';
import { effectiveConfig, startScheduler, type SchedulerKind } from './schedulers.js';

export interface PodOutcome {
  pod: string;
  /** Node of the first binding, or null when the first outcome was a failure (or nothing within the timeout). */
  node: string | null;
  /** PodScheduled=False reason (Unschedulable, SchedulerError, SchedulingGated) of the first failure. */
  reason: string | null;
  message: string | null;
  timedOut: boolean;
  /** Node after the scenario settled (a failed pod may be bound later). */
  finalNode: string | null;
  /** Pods bound in the cluster just before this pod was created (for the tie check). */
  boundBefore: Pod[];
}

export interface RunResult {
  scheduler: SchedulerKind;
  schedulerName: string;
  outcomes: PodOutcome[];
}

export interface HarnessOptions {
  log?: LogFn;
  /** How long one pod may take to reach a first outcome (default 20 s). */
  podTimeoutMs?: number;
  /** Start a new control plane for each scenario instead of cleaning the shared one. */
  freshControlPlane?: boolean;
  binaries?: ControlPlaneBinaries;
}

export const SCHEDULER_NAMES: Record<SchedulerKind, string> = { upstream: 'fidelity-upstream', berth: 'fidelity-berth' };

function podScheduledCondition(p: Pod): { status?: string; reason?: string; message?: string } | undefined {
  return (p.status?.conditions as Array<{ type?: string; status?: string; reason?: string; message?: string }> | undefined)?.find(
    (c) => c.type === 'PodScheduled',
  );
}

/** A control plane plus the bookkeeping to reset it between scenarios. */
export class Harness {
  private cp: ControlPlane | undefined;
  private client: KubeClient | undefined;
  private dir = '';
  private binaries: ControlPlaneBinaries | undefined;
  private readonly log: LogFn;
  /** Objects the current scenario created (deleted before the next). */
  private created: Array<{ kind: string; name: string; namespace?: string }> = [];
  private namespacesUsed = new Set<string>();

  constructor(private readonly opts: HarnessOptions = {}) {
    this.log = opts.log ?? (() => {});
  }

  private async ensureControlPlane(): Promise<{ cp: ControlPlane; client: KubeClient }> {
    if (this.cp && this.client) return { cp: this.cp, client: this.client };
    this.binaries ??= this.opts.binaries ?? (await ensureBinaries({ log: this.log }));
    this.dir ||= await mkdtemp(join(tmpdir(), 'berth-fidelity-'));
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

  /** Deletes the previous scenario's pods, objects and nodes. */
  private async reset(client: KubeClient): Promise<void> {
    await deleteAllPods(client, [...this.namespacesUsed]);
    for (const o of this.created.reverse()) await deleteObject(client, o.kind, o.name, o.namespace);
    this.created = [];
    const nodes = await listItems<Node>(client, '/api/v1/nodes');
    for (const n of nodes) await deleteObject(client, 'Node', n.metadata?.name ?? '');
  }

  async runScenario(s: Scenario): Promise<RunResult[]> {
    if (this.opts.freshControlPlane) await this.stopControlPlane();
    const { cp, client } = await this.ensureControlPlane();
    await this.reset(client);
    const namespaces = scenarioNamespaces(s);
    for (const ns of namespaces) {
      await ensureNamespace(client, ns.name, ns.labels);
      this.namespacesUsed.add(ns.name);
    }
    for (const n of s.nodes) {
      const obj = nodeObject(n) as unknown as Record<string, unknown>;
      await createObject(client, obj);
    }
    for (const o of s.objects) {
      await createObject(client, o);
      const meta = o['metadata'] as { name: string; namespace?: string };
      this.created.push({ kind: String(o['kind']), name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}) });
    }
    const results: RunResult[] = [];
    for (const kind of ['upstream', 'berth'] as const) {
      await deleteAllPods(client, [...this.namespacesUsed]);
      for (const p of s.existingPods) await createObject(client, p as unknown as Record<string, unknown>);
      results.push(await this.runOne(s, kind, cp, client));
    }
    return results;
  }

  private async runOne(s: Scenario, kind: SchedulerKind, cp: ControlPlane, client: KubeClient): Promise<RunResult> {
    const schedulerName = SCHEDULER_NAMES[kind];
    const watch = await PodWatch.start(client);
    const sched = await startScheduler({ kind, config: s.config, schedulerName, kubeconfigPath: cp.kubeconfigPath, binaries: cp.binaries, dir: this.dir });
    const outcomes: PodOutcome[] = [];
    try {
      for (const manifest of s.pods) {
        const pod = structuredClone(manifest);
        pod.spec = { ...pod.spec, schedulerName };
        const key = podKey(pod);
        // List items carry no kind; the snapshot reader needs it.
        const boundBefore = [...watch.pods.values()].filter((p) => p.spec?.nodeName).map((p) => ({ ...structuredClone(p), kind: 'Pod', apiVersion: 'v1' }));
        const created = await createObject(client, pod as unknown as Record<string, unknown>);
        const uid = (created['metadata'] as { uid?: string }).uid;
        let outcome: PodOutcome;
        try {
          outcome = await watch.waitFor(`${key} (${kind})`, this.opts.podTimeoutMs ?? 20_000, () => {
            const p = watch.pods.get(key);
            if (!p || p.metadata?.uid !== uid) return undefined;
            if (p.spec?.nodeName) return { pod: key, node: p.spec.nodeName, reason: null, message: null, timedOut: false, finalNode: null, boundBefore };
            const c = podScheduledCondition(p);
            if (c && c.status === 'False') {
              return { pod: key, node: null, reason: c.reason ?? '', message: c.message ?? '', timedOut: false, finalNode: null, boundBefore };
            }
            return undefined;
          });
        } catch {
          outcome = { pod: key, node: null, reason: null, message: null, timedOut: true, finalNode: null, boundBefore };
        }
        outcomes.push(outcome);
      }
      if (s.settleSeconds > 0) await new Promise((r) => setTimeout(r, s.settleSeconds * 1000));
      for (const o of outcomes) o.finalNode = watch.pods.get(o.pod)?.spec?.nodeName ?? null;
    } finally {
      await sched.stop();
      await watch.stop();
    }
    return { scheduler: kind, schedulerName, outcomes };
  }

  /** Namespaces and objects as the API server holds them (for the tie check's snapshot). */
  async clusterObjects(s: Scenario): Promise<Array<Record<string, unknown>>> {
    const { client } = await this.ensureControlPlane();
    const out: Array<Record<string, unknown>> = [];
    for (const ns of scenarioNamespaces(s)) {
      out.push({ ...(await must<Record<string, unknown>>(`get namespace ${ns.name}`, client.request('GET', `/api/v1/namespaces/${ns.name}`))), kind: 'Namespace' });
    }
    for (const n of s.nodes) out.push(nodeObject(n) as unknown as Record<string, unknown>);
    for (const o of s.objects) out.push(o);
    return out;
  }

  async close(): Promise<void> {
    await this.stopControlPlane();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * berth's view of a tie: the nodes sharing the top total score for `pod` given the pods bound before it, computed
 * with berth's scheduler core in explain mode. Empty when the pod is unschedulable there.
 */
export async function topScoringNodes(s: Scenario, objects: Array<Record<string, unknown>>, boundBefore: Pod[], pod: Pod): Promise<string[]> {
  const name = 'fidelity-sim';
  const config = parseSchedulerConfig(stringify(effectiveConfig(s.config, name, '/dev/null')), `${s.name} config`);
  const pending = structuredClone(pod);
  pending.spec = { ...pending.spec, schedulerName: name };
  delete pending.spec.nodeName;
  if (pending.metadata) delete pending.metadata.uid;
  const all: SnapshotObject[] = [...objects, ...boundBefore, pending].map((obj, i) => ({
    file: s.file,
    where: `object ${i}`,
    obj: structuredClone(obj) as Record<string, unknown>,
  }));
  const result = await simulate(buildSnapshot(all), config, IN_TREE_CATALOG, { explain: true, maxAttempts: 1 });
  const explanation = result.decisions[0]?.explanation ?? [];
  let best = -Infinity;
  for (const e of explanation) if (e.verdict === 'feasible' && e.total !== undefined && e.total > best) best = e.total;
  const top = explanation.filter((e) => e.verdict === 'feasible' && e.total === best).map((e) => e.node);
  // One feasible node is chosen without scoring: the explanation may carry no totals.
  if (top.length === 0) return explanation.filter((e) => e.verdict === 'feasible').map((e) => e.node);
  return top;
}
