import { describe, expect, it } from 'vitest';
import type { ResourceSpec } from '../../../src/scheduler/plugins/argsHelpers.js';
import { CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import {
  descriptor,
  DEFAULT_BALANCED_ALLOCATION_FORMULA,
  NAME,
  NodeResourcesBalancedAllocation,
  type BalancedAllocationFormula,
} from '../../../src/scheduler/plugins/NodeResourcesBalancedAllocation.js';
import type { Node, Pod } from '../../../src/kube/api.js';
import type { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, podInfo, makeHandle } from '../../helpers/builders.js';

function setup(nodes: Node[], pods: Pod[], formula: BalancedAllocationFormula, resources?: ResourceSpec[]) {
  const cluster = makeCluster(nodes, pods);
  const args = resources ? { resources } : descriptor.args.defaults();
  return { cluster, pl: new NodeResourcesBalancedAllocation(args, { formula }) };
}

function scores(nodes: Node[], pods: Pod[], pod: PodInfo, formula: BalancedAllocationFormula, resources?: ResourceSpec[]) {
  const { cluster, pl } = setup(nodes, pods, formula, resources);
  const state = new CycleState();
  expect(pl.preScore(state, pod, cluster.nodes())).toBeNull();
  return nodes.map((n) => pl.score(state, pod, cluster.getNode(n.metadata!.name!)!));
}

const n1 = makeNode('n1', { cpu: '4', memory: '32Gi' });
const n2 = makeNode('n2', { cpu: '4', memory: '32Gi' });

describe('NodeResourcesBalancedAllocation exports', () => {
  it('names the plugin as upstream; the factory uses the v1.36 formula (control plane builds v1.37)', () => {
    expect(NAME).toBe('NodeResourcesBalancedAllocation');
    expect(DEFAULT_BALANCED_ALLOCATION_FORMULA).toBe('v1.36');
    const p = createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile())) as NodeResourcesBalancedAllocation;
    expect(p.name).toBe(NAME);
    expect(p.formula).toBe('v1.36');
  });
});

describe('NodeResourcesBalancedAllocation PreScore', () => {
  it('skips a pod that requests none of the configured resources (v1.33+)', () => {
    const { cluster, pl } = setup([n1], [], 'v1.36');
    expect(pl.preScore(new CycleState(), podInfo('be'), cluster.nodes())).toBe(SKIP);
    // Requests only an unconfigured resource: still nothing of cpu/memory.
    expect(pl.preScore(new CycleState(), podInfo('gpu', { requests: { 'example.com/gpu': '1' } }), cluster.nodes())).toBe(SKIP);
  });

  it('does not skip a pod requesting any configured resource', () => {
    const { cluster, pl } = setup([n1], [], 'v1.36');
    expect(pl.preScore(new CycleState(), podInfo('cpu', { cpu: '1m' }), cluster.nodes())).toBeNull();
    const gpuResources = [
      { name: 'cpu', weight: 1 },
      { name: 'example.com/gpu', weight: 1 },
    ];
    const g = setup([n1], [], 'v1.36', gpuResources);
    expect(g.pl.preScore(new CycleState(), podInfo('gpu', { requests: { 'example.com/gpu': '1' } }), g.cluster.nodes())).toBeNull();
  });
});

describe('NodeResourcesBalancedAllocation score, v1.34 formula (v1.30–v1.35)', () => {
  it('two resources: int((1 − |f1 − f2| / 2) × 100)', () => {
    // Empty node: cpu 1/4 = 0.25, memory 16/32 = 0.5 → std 0.125 → 87.5 → 87.
    expect(scores([n1], [], podInfo('p', { cpu: '1', memory: '16Gi' }), 'v1.34')).toEqual([87]);
    // n1 holds cpu 2 / memory 4Gi: cpu 3/4 = 0.75, memory 20/32 = 0.625 → std 0.0625 → 93.75 → 93.
    const existing = makePod('e', { cpu: '2', memory: '4Gi', nodeName: 'n1' });
    expect(scores([n1, n2], [existing], podInfo('p', { cpu: '1', memory: '16Gi' }), 'v1.34')).toEqual([93, 87]);
  });

  it('caps fractions at 1', () => {
    const over = makePod('o', { cpu: '8', nodeName: 'n1' });
    // cpu 9/4 → 1, memory 8/32 = 0.25 → std 0.375 → 62.5 → 62.
    expect(scores([n1], [over], podInfo('p', { cpu: '1', memory: '8Gi' }), 'v1.34')).toEqual([62]);
  });

  it('uses real requests: best-effort pods on the node add nothing', () => {
    const be = makePod('be', { nodeName: 'n1' });
    // cpu 1/4, memory 8/32 → perfectly balanced → 100 (non-zero defaults would give 99).
    expect(scores([n1], [be], podInfo('p', { cpu: '1', memory: '8Gi' }), 'v1.34')).toEqual([100]);
  });

  it('more than two resources: population standard deviation', () => {
    const gpuNode = makeNode('g', { cpu: '4', memory: '32Gi', extra: { 'example.com/gpu': '4' } });
    const resources = [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
      { name: 'example.com/gpu', weight: 1 },
    ];
    // 0.25, 0.5, 0.25: mean 1/3, variance (1/144 + 1/36 + 1/144) / 3 = 1/72, std 0.11785 → 88.2 → 88.
    const pod = podInfo('p', { requests: { cpu: '1', memory: '16Gi', 'example.com/gpu': '1' } });
    expect(scores([gpuNode], [], pod, 'v1.34', resources)).toEqual([88]);
    // On a node without the gpu, it is skipped: 0.25 vs 0.5 → 87.
    expect(scores([n1], [], pod, 'v1.34', resources)).toEqual([87]);
    // A pod not requesting the gpu leaves it out even where the node has it: 0.25 vs 0.5 → 87.
    expect(scores([gpuNode], [], podInfo('q', { cpu: '1', memory: '16Gi' }), 'v1.34', resources)).toEqual([87]);
  });

  it('a single scored resource has std 0 → 100', () => {
    const resources = [
      { name: 'cpu', weight: 1 },
      { name: 'ephemeral-storage', weight: 1 },
    ];
    // The node has no ephemeral-storage: only cpu is scored.
    expect(scores([n1], [], podInfo('p', { cpu: '3', requests: { 'ephemeral-storage': '1Gi' } }), 'v1.34', resources)).toEqual([
      100,
    ]);
  });
});

describe('NodeResourcesBalancedAllocation score, v1.36 formula (default)', () => {
  it('scores 50 + (50 + balance with pod − balance without pod) / 2', () => {
    // Empty node: without pod 100 (0, 0); with pod 87 → 50 + (50 + 87 − 100) / 2 = 50 + 18 = 68.
    expect(scores([n1], [], podInfo('p', { cpu: '1', memory: '16Gi' }), 'v1.36')).toEqual([68]);
    // n1 with cpu 2 / memory 4Gi: without pod |0.5 − 0.125| / 2 = 0.1875 → 81; with pod 93 → 50 + 62 / 2 = 81.
    const existing = makePod('e', { cpu: '2', memory: '4Gi', nodeName: 'n1' });
    expect(scores([n1, n2], [existing], podInfo('p', { cpu: '1', memory: '16Gi' }), 'v1.36')).toEqual([81, 68]);
  });

  it('no change in balance → 75; balanced → unbalanced → 50; unbalanced → balanced → 100', () => {
    expect(scores([n1], [], podInfo('p', { cpu: '1', memory: '8Gi' }), 'v1.36')).toEqual([75]);
    const big = makeNode('b', { cpu: '1', memory: '1Gi' });
    expect(scores([big], [], podInfo('p', { cpu: '1' }), 'v1.36')).toEqual([50]);
    const skewed = makePod('s', { cpu: '1', nodeName: 'b' });
    expect(scores([big], [skewed], podInfo('p', { memory: '1Gi' }), 'v1.36')).toEqual([100]);
  });

  it('scores without PreScore state', () => {
    const { cluster, pl } = setup([n1], [], 'v1.36');
    expect(pl.score(new CycleState(), podInfo('p', { cpu: '1', memory: '16Gi' }), cluster.getNode('n1')!)).toBe(68);
  });
});
