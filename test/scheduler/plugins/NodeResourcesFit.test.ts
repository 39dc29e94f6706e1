import { describe, expect, it } from 'vitest';
import { Code, CycleState, type Status } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME, NodeResourcesFit, type NodeResourcesFitArgs } from '../../../src/scheduler/plugins/NodeResourcesFit.js';
import type { Node, Pod } from '../../../src/kube/api.js';
import type { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, podInfo, makeHandle } from '../../helpers/builders.js';

const GI = 1024 * 1024 * 1024;

function plugin(nodes: Node[], pods: Pod[] = [], args?: Partial<NodeResourcesFitArgs>) {
  const cluster = makeCluster(nodes, pods);
  const pl = new NodeResourcesFit({ ...descriptor.args.defaults(), ...(args ?? {}) });
  return { cluster, pl };
}

function runFilter(nodes: Node[], pods: Pod[], pod: PodInfo, nodeName: string, args?: Partial<NodeResourcesFitArgs>): Status | null {
  const { cluster, pl } = plugin(nodes, pods, args);
  const state = new CycleState();
  expect(pl.preFilter(state, pod, cluster.nodes())).toBeNull();
  return pl.filter(state, pod, cluster.getNode(nodeName)!);
}

function scores(nodes: Node[], pods: Pod[], pod: PodInfo, args?: Partial<NodeResourcesFitArgs>): number[] {
  const { cluster, pl } = plugin(nodes, pods, args);
  const state = new CycleState();
  expect(pl.preScore(state, pod, cluster.nodes())).toBeNull();
  return nodes.map((n) => pl.score(state, pod, cluster.getNode(n.metadata!.name!)!));
}

function strategy(
  type: NodeResourcesFitArgs['scoringStrategy']['type'],
  resources: Array<{ name: string; weight: number }> = [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
  ],
  shape?: Array<{ utilization: number; score: number }>,
): Partial<NodeResourcesFitArgs> {
  return { scoringStrategy: { type, resources, ...(shape ? { requestedToCapacityRatio: { shape } } : {}) } };
}

describe('NodeResourcesFit exports', () => {
  it('names the plugin as upstream and creates it from the factory', () => {
    expect(NAME).toBe('NodeResourcesFit');
    const p = createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile()));
    expect(p.name).toBe('NodeResourcesFit');
    expect(p).toBeInstanceOf(NodeResourcesFit);
  });
});

describe('NodeResourcesFit filter', () => {
  const node = makeNode('n1', { cpu: '4', memory: '32Gi', pods: '110' });

  it('accepts a pod that fits, including one that takes exactly what is free', () => {
    const existing = makePod('e', { cpu: '3', memory: '16Gi', nodeName: 'n1' });
    expect(runFilter([node], [existing], podInfo('p', { cpu: '500m', memory: '1Gi' }), 'n1')).toBeNull();
    expect(runFilter([node], [existing], podInfo('p', { cpu: '1', memory: '16Gi' }), 'n1')).toBeNull();
  });

  it('rejects with "Insufficient cpu" (Unschedulable) when the request exceeds what is free', () => {
    const existing = makePod('e', { cpu: '3', nodeName: 'n1' });
    const st = runFilter([node], [existing], podInfo('p', { cpu: '1001m' }), 'n1');
    expect(st?.code).toBe(Code.Unschedulable);
    expect(st?.reasons).toEqual(['Insufficient cpu']);
  });

  it('is UnschedulableAndUnresolvable when the request exceeds the node total allocatable (v1.34+)', () => {
    const st = runFilter([node], [], podInfo('p', { cpu: '4001m' }), 'n1');
    expect(st?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(st?.reasons).toEqual(['Insufficient cpu']);
    const mem = runFilter([node], [], podInfo('p', { memory: '33Gi' }), 'n1');
    expect(mem?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(mem?.reasons).toEqual(['Insufficient memory']);
  });

  it('one unresolvable resource makes the whole status unresolvable, reasons all kept', () => {
    const existing = makePod('e', { cpu: '3', nodeName: 'n1' });
    const st = runFilter([node], [existing], podInfo('p', { cpu: '2', memory: '40Gi' }), 'n1');
    expect(st?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(st?.reasons).toEqual(['Insufficient cpu', 'Insufficient memory']);
    expect(st?.message).toBe('Insufficient cpu, Insufficient memory');
  });

  it('lists every insufficient resource in upstream order: pods, cpu, memory, ephemeral-storage, scalars', () => {
    const full = makeNode('n1', { cpu: '1', memory: '1Gi', pods: '1', extra: { 'ephemeral-storage': '10Gi', 'example.com/gpu': '2' } });
    const existing = makePod('e', { requests: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '10Gi', 'example.com/gpu': '2' }, nodeName: 'n1' });
    const pod = podInfo('p', {
      requests: { 'example.com/gpu': '1', 'ephemeral-storage': '1Gi', memory: '1Mi', cpu: '100m', 'hugepages-2Mi': '2Mi' },
    });
    const st = runFilter([full], [existing], pod, 'n1');
    expect(st?.reasons).toEqual([
      'Too many pods',
      'Insufficient cpu',
      'Insufficient memory',
      'Insufficient ephemeral-storage',
      'Insufficient example.com/gpu',
      'Insufficient hugepages-2Mi',
    ]);
    // hugepages-2Mi: the node has none at all, so the request exceeds its total allocatable.
    expect(st?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('checks the pod count for every pod, and only the pod count for a pod requesting nothing', () => {
    const small = makeNode('n1', { cpu: '1', memory: '1Gi', pods: '1' });
    const over = makePod('e', { cpu: '2', memory: '2Gi', nodeName: 'n1' });
    const st = runFilter([small], [over], podInfo('best-effort'), 'n1');
    expect(st?.code).toBe(Code.Unschedulable);
    expect(st?.reasons).toEqual(['Too many pods']);
    // Room for pods: a best-effort pod fits even though cpu and memory are overcommitted.
    const roomy = makeNode('n1', { cpu: '1', memory: '1Gi', pods: '2' });
    expect(runFilter([roomy], [over], podInfo('best-effort'), 'n1')).toBeNull();
  });

  it('"Too many pods" alone never makes the node unresolvable; with an oversized request it does', () => {
    const tiny = makeNode('n1', { pods: '0' });
    expect(runFilter([tiny], [], podInfo('p', { cpu: '1' }), 'n1')?.code).toBe(Code.Unschedulable);
    const st = runFilter([tiny], [], podInfo('p', { cpu: '5' }), 'n1');
    expect(st?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(st?.reasons).toEqual(['Too many pods', 'Insufficient cpu']);
  });

  it('rejects an extended resource the node does not have as unresolvable', () => {
    const st = runFilter([node], [], podInfo('p', { requests: { 'example.com/gpu': '1' } }), 'n1');
    expect(st?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(st?.reasons).toEqual(['Insufficient example.com/gpu']);
  });

  it('extended resource partly used: Unschedulable', () => {
    const gpuNode = makeNode('n1', { extra: { 'example.com/gpu': '2' } });
    const existing = makePod('e', { requests: { 'example.com/gpu': '1' }, nodeName: 'n1' });
    expect(runFilter([gpuNode], [existing], podInfo('p', { requests: { 'example.com/gpu': '1' } }), 'n1')).toBeNull();
    const st = runFilter([gpuNode], [existing], podInfo('p', { requests: { 'example.com/gpu': '2' } }), 'n1');
    expect(st?.code).toBe(Code.Unschedulable);
    expect(st?.reasons).toEqual(['Insufficient example.com/gpu']);
  });

  it('skips ignored extended resources and ignored resource groups, but never hugepages', () => {
    const pod = podInfo('p', { requests: { 'example.com/foo': '1', 'vendor.io/bar': '1', 'hugepages-2Mi': '2Mi' } });
    const st = runFilter([node], [], pod, 'n1', {
      ignoredResources: ['example.com/foo', 'hugepages-2Mi'],
      ignoredResourceGroups: ['vendor.io', 'hugepages-2Mi'],
    });
    expect(st?.reasons).toEqual(['Insufficient hugepages-2Mi']);
    const none = runFilter([node], [], podInfo('q', { requests: { 'example.com/foo': '1', 'vendor.io/bar': '1' } }), 'n1', {
      ignoredResources: ['example.com/foo'],
      ignoredResourceGroups: ['vendor.io'],
    });
    expect(none).toBeNull();
    const notIgnored = runFilter([node], [], podInfo('q', { requests: { 'example.com/foo': '1' } }), 'n1', {
      ignoredResourceGroups: ['example'],
    });
    expect(notIgnored?.reasons).toEqual(['Insufficient example.com/foo']);
  });

  it('uses real requests, not the non-zero defaults: best-effort pods on the node take no cpu', () => {
    const small = makeNode('n1', { cpu: '100m', memory: '1Gi' });
    const be = makePod('be', { nodeName: 'n1' });
    expect(runFilter([small], [be], podInfo('p', { cpu: '100m', memory: '1Gi' }), 'n1')).toBeNull();
  });

  it('counts init containers and overhead as upstream PodRequests does', () => {
    const pod = podInfo('p', {
      containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
      spec: { initContainers: [{ name: 'i', resources: { requests: { cpu: '3' } } }], overhead: { cpu: '500m' } },
    });
    const existing = makePod('e', { cpu: '1', nodeName: 'n1' });
    const st = runFilter([node], [existing], pod, 'n1');
    expect(st?.reasons).toEqual(['Insufficient cpu']);
    expect(runFilter([node], [], pod, 'n1')).toBeNull();
  });

  it('reuses constant statuses for fixed reasons and works without PreFilter state', () => {
    const { cluster, pl } = plugin([node, makeNode('n2')]);
    const pod = podInfo('p', { cpu: '5' });
    const state = new CycleState();
    const a = pl.filter(state, pod, cluster.getNode('n1')!);
    const b = pl.filter(state, pod, cluster.getNode('n2')!);
    expect(a?.reasons).toEqual(['Insufficient cpu']);
    expect(a).toBe(b);
  });
});

describe('NodeResourcesFit score: LeastAllocated', () => {
  const n1 = makeNode('n1', { cpu: '4', memory: '32Gi' });
  const n2 = makeNode('n2', { cpu: '4', memory: '32Gi' });

  it('scores (cap − req) × 100 / cap per resource, averaged with integer division', () => {
    const existing = makePod('e', { cpu: '1', memory: '8Gi', nodeName: 'n1' });
    // n1: cpu 2000/4000 → 50; memory 12Gi/32Gi → 2000/32 = 62; (50 + 62) / 2 = 56.
    // n2: cpu 1000/4000 → 75; memory 4/32 → 87 (87.5); (75 + 87) / 2 = 81.
    expect(scores([n1, n2], [existing], podInfo('p', { cpu: '1', memory: '4Gi' }))).toEqual([56, 81]);
  });

  it('applies weights', () => {
    const existing = makePod('e', { cpu: '1', memory: '8Gi', nodeName: 'n1' });
    const args = strategy('LeastAllocated', [
      { name: 'cpu', weight: 3 },
      { name: 'memory', weight: 1 },
    ]);
    // (50 × 3 + 62) / 4 = 212 / 4 = 53.
    expect(scores([n1], [existing], podInfo('p', { cpu: '1', memory: '4Gi' }), args)).toEqual([53]);
  });

  it('uses non-zero requests (100m / 200Mi) for pods and node pods without requests', () => {
    // Empty node, best-effort pod: cpu (4000 − 100) × 100 / 4000 = 97; memory (32768 − 200) / 32768 → 99; → 98.
    expect(scores([n1], [], podInfo('be'))).toEqual([98]);
    // A best-effort pod already on the node counts 100m / 200Mi too: cpu 3800 → 95, memory 32368 → 98; → 96.
    const be = makePod('be0', { nodeName: 'n1' });
    expect(scores([n1], [be], podInfo('be'))).toEqual([96]);
  });

  it('scores 0 for an overcommitted resource', () => {
    const existing = makePod('e', { cpu: '4', memory: '0', nodeName: 'n1' });
    // cpu 5000 > 4000 → 0; memory: pod 1Gi + existing 0 → 31/32 → 96 (96.875); (0 + 96) / 2 = 48.
    expect(scores([n1], [existing], podInfo('p', { cpu: '1', memory: '1Gi' }))).toEqual([48]);
  });

  it('skips resources with allocatable 0 and scalar resources the pod does not request', () => {
    const gpuNode = makeNode('g', { cpu: '4', memory: '32Gi', extra: { 'example.com/gpu': '4' } });
    const used = makePod('e', { requests: { 'example.com/gpu': '1' }, nodeName: 'g' });
    const args = strategy('LeastAllocated', [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
      { name: 'example.com/gpu', weight: 2 },
      { name: 'ephemeral-storage', weight: 5 },
      { name: 'pods', weight: 7 },
    ]);
    // No gpu request: gpu skipped; the node has no ephemeral-storage: skipped; "pods" is never scored.
    // g also holds the gpu pod, which counts 100m / 200Mi (non-zero defaults): cpu 2900 × 100 / 4000 = 72,
    // memory (32768 − 4096 − 200) × 100 / 32768 = 86 → (72 + 86) / 2 = 79. n2: cpu 75, memory 87 → 81.
    expect(scores([gpuNode, n2], [used], podInfo('p', { cpu: '1', memory: '4Gi' }), args)).toEqual([79, 81]);
    // With a gpu request: g: gpu (4 − 2) × 100 / 4 = 50, weight 2 → (72 + 86 + 100) / 4 = 64; n2 has no gpu → 81.
    const gpuPod = podInfo('q', { requests: { cpu: '1', memory: '4Gi', 'example.com/gpu': '1' } });
    expect(scores([gpuNode, n2], [used], gpuPod, args)).toEqual([64, 81]);
  });

  it('scores ephemeral-storage with real requests', () => {
    const eph = makeNode('n', { cpu: '4', memory: '32Gi', extra: { 'ephemeral-storage': '100Gi' } });
    const args = strategy('LeastAllocated', [
      { name: 'cpu', weight: 1 },
      { name: 'ephemeral-storage', weight: 1 },
    ]);
    // cpu: non-zero 100m → 97; ephemeral 10/100 → 90; (97 + 90) / 2 = 93.
    expect(scores([eph], [], podInfo('p', { requests: { 'ephemeral-storage': '10Gi' } }), args)).toEqual([93]);
  });

  it('returns 0 when no resource can be scored', () => {
    const args = strategy('LeastAllocated', [{ name: 'example.com/gpu', weight: 1 }]);
    expect(scores([n1], [], podInfo('p', { cpu: '1' }), args)).toEqual([0]);
  });

  it('does not skip in PreScore, even for a pod requesting nothing', () => {
    const { pl, cluster } = plugin([n1]);
    expect(pl.preScore(new CycleState(), podInfo('be'), cluster.nodes())).toBeNull();
  });

  it('scores without PreScore state', () => {
    const { pl, cluster } = plugin([n1]);
    expect(pl.score(new CycleState(), podInfo('p', { cpu: '1', memory: '4Gi' }), cluster.getNode('n1')!)).toBe(81);
  });
});

describe('NodeResourcesFit score: MostAllocated', () => {
  const n1 = makeNode('n1', { cpu: '4', memory: '32Gi' });

  it('scores min(req, cap) × 100 / cap averaged', () => {
    const existing = makePod('e', { cpu: '1', memory: '8Gi', nodeName: 'n1' });
    // cpu 50, memory 12/32 → 37 (37.5); (50 + 37) / 2 = 43.
    expect(scores([n1], [existing], podInfo('p', { cpu: '1', memory: '4Gi' }), strategy('MostAllocated'))).toEqual([43]);
  });

  it('caps an overcommitted resource at 100', () => {
    const existing = makePod('e', { cpu: '4', nodeName: 'n1' });
    // cpu 5000 > 4000 → 100; memory: (200Mi + 1Gi) / 32Gi = 1224/32768 → 3 (3.7); (100 + 3) / 2 = 51.
    expect(scores([n1], [existing], podInfo('p', { cpu: '1', memory: '1Gi' }), strategy('MostAllocated'))).toEqual([51]);
  });
});

describe('NodeResourcesFit score: RequestedToCapacityRatio', () => {
  const n1 = makeNode('n1', { cpu: '4', memory: '32Gi' });
  const existing = makePod('e', { cpu: '1', memory: '8Gi', nodeName: 'n1' });
  const pod = podInfo('p', { cpu: '1', memory: '4Gi' });
  // Utilizations: cpu 2000 × 100 / 4000 = 50; memory 12Gi × 100 / 32Gi = 37.

  it('interpolates the scaled shape and rounds the weighted average', () => {
    const args = strategy('RequestedToCapacityRatio', undefined, [
      { utilization: 0, score: 0 },
      { utilization: 100, score: 10 },
    ]);
    // f(50) = 50, f(37) = 37; round(87 / 2 = 43.5) = 44 (MostAllocated truncates to 43).
    expect(scores([n1], [existing], pod, args)).toEqual([44]);
  });

  it('truncates interpolation toward zero on falling segments, as Go int64 division', () => {
    const args = strategy('RequestedToCapacityRatio', undefined, [
      { utilization: 0, score: 10 },
      { utilization: 30, score: 5 },
      { utilization: 100, score: 0 },
    ]);
    // f(50) = 50 + (0 − 50) × 20 / 70 = 50 + trunc(−14.28) = 36; f(37) = 50 + (−50 × 7) / 70 = 45.
    // round((36 + 45) / 2 = 40.5) = 41.
    expect(scores([n1], [existing], pod, args)).toEqual([41]);
  });

  it('leaves resources scoring 0 out of the weight sum', () => {
    const args = strategy('RequestedToCapacityRatio', undefined, [
      { utilization: 50, score: 0 },
      { utilization: 100, score: 10 },
    ]);
    const big = podInfo('q', { cpu: '1', memory: '16Gi' });
    // cpu util 50 → 0 (excluded); memory 24/32 → 75 → 0 + 100 × 25 / 50 = 50; result 50 (not 25).
    expect(scores([n1], [existing], big, args)).toEqual([50]);
    // Everything at or below 50%: weight sum 0 → 0.
    expect(scores([n1], [], podInfo('r', { cpu: '1', memory: '1Gi' }), args)).toEqual([0]);
  });

  it('uses f(100) for an overcommitted resource, and the end scores outside the shape', () => {
    const args = strategy('RequestedToCapacityRatio', [{ name: 'cpu', weight: 1 }], [
      { utilization: 20, score: 2 },
      { utilization: 80, score: 8 },
    ]);
    const over = makePod('o', { cpu: '4', nodeName: 'n1' });
    expect(scores([n1], [over], podInfo('q', { cpu: '1' }), args)).toEqual([80]);
    // util 2 (100m non-zero of 4000) ≤ 20 → first point's score 20.
    expect(scores([n1], [], podInfo('be'), args)).toEqual([20]);
    // util 90 > 80 → last point's score 80; util 50 → 20 + 60 × 30 / 60 = 50.
    expect(scores([n1], [], podInfo('a', { cpu: '3600m' }), args)).toEqual([80]);
    expect(scores([n1], [], podInfo('b', { cpu: '2' }), args)).toEqual([50]);
  });

  it('requires a shape', () => {
    expect(() => new NodeResourcesFit({ ...descriptor.args.defaults(), ...strategy('RequestedToCapacityRatio') })).toThrow(/shape/);
  });
});

describe('NodeResourcesFit integer exactness', () => {
  it('handles byte counts whose products exceed 2^53', () => {
    const huge = makeNode('h', { cpu: '4', memory: `${200_000 * GI}` });
    const args = strategy('LeastAllocated', [{ name: 'memory', weight: 1 }]);
    // (200000Gi − 1Gi) × 100 / 200000Gi = 99.9995 → 99.
    expect(scores([huge], [], podInfo('p', { memory: '1Gi' }), args)).toEqual([99]);
  });
});
