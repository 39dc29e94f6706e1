// `berth simulate --kubeconfig` against the real control plane: the snapshot is read with list requests only, the
// pending pods (naming a scheduler nobody runs) get the placements the weights imply, nothing in the cluster changes,
// `--compare-config` with a heavier NodeResourcesFit lists exactly the pods that move, and a ServiceAccount without
// RBAC gets an error naming the kind and the permission it lacks. Everything here is unique to this file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main, runSimulate } from '../../src/cli/main.js';
import { KIND_SPECS } from '../../src/adapters/live/informers.js';
import type { KubeClient } from '../../src/adapters/live/kubeClient.js';
import { readClusterObjects } from '../../src/adapters/simulator/liveSnapshot.js';
import type { Comparison } from '../../src/adapters/simulator/compare.js';
import type { SimulationResult } from '../../src/adapters/simulator/simulate.js';
import type { Pod } from '../../src/kube/api.js';
import { kubeconfigForServiceAccount } from '../../tools/devcluster/index.js';
import { Cluster, pod, suffix } from './helpers/live.js';

const sfx = suffix();
const ns = `preview-${sfx}`;
// No scheduler runs under this name: the pods stay pending whatever the simulation decides.
const schedulerName = `berth-preview-${sfx}`;
const GROUP = 'live.berth.test/preview';
const PREFER = 'live.berth.test/preview-prefer';
const nodeA = `preview-${sfx}-a`;
const nodeB = `preview-${sfx}-b`;
const tmp = mkdtempSync(join(tmpdir(), 'berth-preview-'));

let cluster: Cluster;

function writeConfig(name: string, fitWeight: number): string {
  const path = join(tmp, name);
  writeFileSync(
    path,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: ${schedulerName}
  plugins:
    score:
      enabled:
      - name: NodeResourcesFit
        weight: ${fitWeight}
`,
  );
  return path;
}

/** A pending pod on this file's nodes that prefers node A (NodeAffinity 100, weight 2 by default). */
function preferringA(name: string): Pod {
  return pod(ns, name, {
    schedulerName,
    cpu: '500m',
    memory: '1Gi',
    nodeSelector: { [GROUP]: sfx },
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: PREFER, operator: 'In', values: ['yes'] }] } }] } },
  });
}

async function cli(args: string[]): Promise<string> {
  let text = '';
  const code = await main(['simulate', '--kubeconfig', inject('kubeconfigPath'), ...args], (s) => (text += s));
  expect(code, text).toBe(0);
  return text;
}

/** name → resourceVersion and nodeName of every pod in the namespace. */
async function podState(): Promise<Map<string, string>> {
  const pods = await cluster.listPods(ns);
  return new Map(pods.map((p) => [p.metadata?.name ?? '', `${p.metadata?.resourceVersion ?? ''}:${p.spec?.nodeName ?? ''}`]));
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([
    { name: nodeA, cpu: '8', memory: '32Gi', labels: { [GROUP]: sfx, [PREFER]: 'yes' } },
    { name: nodeB, cpu: '8', memory: '32Gi', labels: { [GROUP]: sfx } },
  ]);
  // Node A is already mostly requested: LeastAllocated prefers B, the pods' node affinity prefers A.
  const resident = pod(ns, 'resident', { schedulerName, cpu: '6', memory: '24Gi' });
  await cluster.createPod({ ...resident, spec: { ...resident.spec!, nodeName: nodeA } } as Pod);
  await cluster.createPod(preferringA('p1'));
  await cluster.createPod(preferringA('p2'));
  await cluster.createPod(pod(ns, 'pinned', { schedulerName, cpu: '500m', memory: '1Gi', nodeSelector: { [GROUP]: sfx, [PREFER]: 'yes' } }));
});

afterAll(async () => {
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('simulate --kubeconfig', () => {
  it('reads every kind the live scheduler watches with GET requests only', async () => {
    const calls: string[] = [];
    const recording: Pick<KubeClient, 'request' | 'server'> = {
      server: cluster.client.server,
      request: (method, path, opts) => {
        calls.push(`${method} ${path}`);
        return cluster.client.request(method, path, opts);
      },
    };
    const live = await readClusterObjects(recording);
    expect(calls.filter((c) => !c.startsWith('GET '))).toEqual([]);
    expect(new Set(calls.map((c) => c.slice('GET '.length)))).toEqual(new Set(Object.values(KIND_SPECS).map((s) => s.listPath)));
    const names = live.objects.map((o) => o.where);
    expect(names).toEqual(expect.arrayContaining([`Node ${nodeA}`, `Node ${nodeB}`, `Pod ${ns}/p1`, `Pod ${ns}/resident`, `Namespace ${ns}`]));
  });

  it('places the pending pods as the weights imply and changes nothing in the cluster', async () => {
    const before = await podState();
    const result = JSON.parse(await cli(['-c', writeConfig('current.yaml', 1), '-o', 'json'])) as SimulationResult;
    const placed = Object.fromEntries(result.decisions.map((d) => [d.pod, d.node]));
    // Node affinity (100 × 2) outweighs B's emptier LeastAllocated score (about 75 × 1).
    expect(placed).toEqual({ [`${ns}/p1`]: nodeA, [`${ns}/p2`]: nodeA, [`${ns}/pinned`]: nodeA });
    const a = result.nodes.find((n) => n.node === nodeA);
    expect(a?.cpu).toEqual({ requestedMilli: 7500, allocatableMilli: 8000, percent: 93.8 });
    expect(await podState()).toEqual(before);
    expect([...before.values()].filter((v) => !v.endsWith(':'))).toHaveLength(1); // only the resident is bound
    expect(await cluster.events(ns)).toEqual([]);
  });

  it('--compare-config with a heavier NodeResourcesFit lists the pods that move and the share changes', async () => {
    const before = await podState();
    const args = ['-c', writeConfig('current.yaml', 1), '--compare-config', writeConfig('proposed.yaml', 10)];
    const comparison = JSON.parse(await cli([...args, '-o', 'json'])) as Comparison;
    // 75 × 10 for B's free room now outweighs A's affinity 200; the pinned pod has nowhere else to go.
    expect(comparison.moved.map((m) => [m.pod, m.from, m.to])).toEqual([
      [`${ns}/p1`, nodeA, nodeB],
      [`${ns}/p2`, nodeA, nodeB],
    ]);
    expect(comparison.pods).toBe(3);
    expect(comparison.nodes.find((n) => n.node === nodeA)?.cpu).toEqual({ from: 93.8, to: 81.3 });
    expect(comparison.nodes.find((n) => n.node === nodeB)?.cpu).toEqual({ from: 0, to: 12.5 });
    const table = await cli(args);
    expect(table).toContain('2/3 pending pods would land elsewhere');
    expect(table).toMatch(new RegExp(`${ns}/p1\\s+${nodeA} → ${nodeB}`));
    expect(await podState()).toEqual(before);
  });

  it('a ServiceAccount without RBAC is told which kind it may not list and what to grant', async () => {
    const sa = await kubeconfigForServiceAccount(cluster.kc, ns, 'no-rbac', { writeTo: join(tmp, 'no-rbac.kubeconfig') });
    const flags = { kubeconfig: sa.kubeconfigPath!, output: 'json' as const, seed: 1 };
    await expect(runSimulate([], flags, () => undefined)).rejects.toThrow(/forbidden to list Node .*"list" on nodes in API group ""/);
  });
});
