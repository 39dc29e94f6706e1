/**
 * Pod-level resources and in-place resize through the resource plugins: NodeResourcesFit's filter and every scoring
 * strategy, NodeResourcesBalancedAllocation, and the node totals preemption removes victims from. Numbers are worked
 * by hand in the comments (and were checked against upstream v1.37.2's plugins).
 *
 * Shared setup: node n1 has 4 cpu / 8Gi. The pod already on it sets pod-level requests cpu 2 / memory 2Gi and has
 * two containers without requests, so it holds 2000m / 2Gi both in the real totals and in the non-zero totals (its
 * requests name cpu and memory, so no 100m / 200Mi default applies). The incoming pod sets pod-level cpu 1 / memory
 * 1Gi with one container without requests.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../../../src/kube/api.js';
import { Code, CycleState } from '../../../src/scheduler/framework/types.js';
import { descriptor as fitDescriptor, NodeResourcesFit, type NodeResourcesFitArgs } from '../../../src/scheduler/plugins/NodeResourcesFit.js';
import { descriptor as baDescriptor, NodeResourcesBalancedAllocation } from '../../../src/scheduler/plugins/NodeResourcesBalancedAllocation.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { makeCluster, makeNode, makePod } from '../../helpers/builders.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

const NODE = makeNode('n1', { cpu: '4', memory: '8Gi' });

function podLevel(name: string, cpu: string, memory: string, nodeName?: string, containers = 1): Pod {
  return makePod(name, {
    ...(nodeName ? { nodeName } : {}),
    containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: 'pause', resources: {} })),
    spec: { resources: { requests: { cpu, memory } } },
  });
}

const existing = (): Pod => podLevel('e', '2', '2Gi', 'n1', 2);
const incoming = (): PodInfo => new PodInfo(podLevel('p', '1', '1Gi'));

function fitScore(args: Partial<NodeResourcesFitArgs>, pods: Pod[] = [existing()], pod = incoming()): number {
  const cluster = makeCluster([NODE], pods);
  const pl = new NodeResourcesFit({ ...fitDescriptor.args.defaults(), ...args });
  const state = new CycleState();
  expect(pl.preScore(state, pod, cluster.nodes())).toBeNull();
  return pl.score(state, pod, cluster.getNode('n1')!);
}

const cpuMemory = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

describe('pod-level resources on the node', () => {
  it('count in the node totals, real and non-zero', () => {
    const node = makeCluster([NODE], [existing()]).getNode('n1')!;
    expect([node.requested.milliCpu, node.requested.memory]).toEqual([2000, 2 * Gi]);
    expect([node.nonZeroRequested.milliCpu, node.nonZeroRequested.memory]).toEqual([2000, 2 * Gi]);
    // The same pod without pod-level requests would hold nothing real and 2 × 100m / 2 × 200Mi non-zero.
    const plain = makeCluster([NODE], [makePod('e', { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }] })]).getNode('n1')!;
    expect([plain.requested.milliCpu, plain.nonZeroRequested.milliCpu, plain.nonZeroRequested.memory]).toEqual([0, 200, 400 * Mi]);
  });
});

describe('NodeResourcesFit filter with pod-level resources', () => {
  function filter(pod: PodInfo, pods: Pod[] = [existing()]) {
    const cluster = makeCluster([NODE], pods);
    const pl = new NodeResourcesFit(fitDescriptor.args.defaults());
    const state = new CycleState();
    pl.preFilter(state, pod, cluster.nodes());
    return pl.filter(state, pod, cluster.getNode('n1')!);
  }

  it('checks the pod-level requests: 1 cpu fits in the 2 free, 3 cpu does not', () => {
    expect(filter(incoming())).toBeNull();
    expect(filter(new PodInfo(podLevel('big', '3', '1Gi')))?.reasons).toEqual(['Insufficient cpu']);
    // 5 cpu is more than the node has at all: preemption cannot help.
    expect(filter(new PodInfo(podLevel('huge', '5', '1Gi')))?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('checks the spec, not a status the pending pod carries', () => {
    const p = podLevel('p', '1', '1Gi');
    p.status = { allocatedResources: { cpu: '3' }, resources: { requests: { cpu: '3' } } };
    const info = new PodInfo(p);
    expect(info.requests.milliCpu).toBe(3000); // what it would hold once running
    expect(filter(info)).toBeNull(); // Fit's PreFilter reads the spec: 1 cpu
  });
});

describe('NodeResourcesFit scoring with pod-level resources', () => {
  // Fit's scorer reads the incoming pod at container level with defaults: 100m / 200Mi (its pod-level 1 / 1Gi is
  // skipped, as upstream's scorer is built without the feature flags). Node non-zero totals: 2000m / 2Gi.
  // requested: cpu 2100 of 4000, memory 2248Mi of 8192Mi.

  it('LeastAllocated: cpu (4000−2100)×100/4000 = 47, memory (8192−2248)×100/8192 = 72 → (47+72)/2 = 59', () => {
    expect(fitScore({ scoringStrategy: { type: 'LeastAllocated', resources: cpuMemory } })).toBe(59);
  });

  it('MostAllocated: cpu 2100×100/4000 = 52, memory 2248×100/8192 = 27 → (52+27)/2 = 39', () => {
    expect(fitScore({ scoringStrategy: { type: 'MostAllocated', resources: cpuMemory } })).toBe(39);
  });

  it('RequestedToCapacityRatio (0→0, 100→10): utilization 52 and 27 score 52 and 27 → round(39.5) = 40', () => {
    const shape = [
      { utilization: 0, score: 0 },
      { utilization: 100, score: 10 },
    ];
    expect(fitScore({ scoringStrategy: { type: 'RequestedToCapacityRatio', resources: cpuMemory, requestedToCapacityRatio: { shape } } })).toBe(40);
  });

  it('the node side honours pod-level requests: the same pods at container level score differently', () => {
    // Existing pod without pod-level requests: non-zero 200m / 400Mi; requested 300m / 600Mi.
    // LeastAllocated: (3700×100/4000 = 92, 7592×100/8192 = 92) → 92.
    const plain = makePod('e', { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }] });
    expect(fitScore({ scoringStrategy: { type: 'LeastAllocated', resources: cpuMemory } }, [plain])).toBe(92);
  });
});

describe('NodeResourcesBalancedAllocation with pod-level resources', () => {
  it('reads the real pod-level requests of both pods', () => {
    // With the pod: cpu 3000/4000 = 0.75, memory 3Gi/8Gi = 0.375 → std 0.1875 → balance 81.
    // Without: 0.5 and 0.25 → std 0.125 → 87. Score 50 + (50 + 81 − 87)/2 = 72.
    const cluster = makeCluster([NODE], [existing()]);
    const pl = new NodeResourcesBalancedAllocation(baDescriptor.args.defaults());
    const state = new CycleState();
    const pod = incoming();
    expect(pl.preScore(state, pod, cluster.nodes())).toBeNull();
    expect(pl.score(state, pod, cluster.getNode('n1')!)).toBe(72);
  });

  it('a pod whose only requests are pod-level is not best-effort', () => {
    const pl = new NodeResourcesBalancedAllocation(baDescriptor.args.defaults());
    expect(pl.preScore(new CycleState(), incoming(), [])).toBeNull();
  });
});

describe('in-place resize on the node', () => {
  const resized = (conditions: PodStatus['conditions'], spec: string): Pod => {
    const p = makePod('r', { nodeName: 'n1', cpu: spec, memory: '1Gi', priority: 0 });
    p.status = {
      phase: 'Running',
      ...(conditions ? { conditions } : {}),
      containerStatuses: [{ name: 'main', allocatedResources: { cpu: '1', memory: '1Gi' }, resources: { requests: { cpu: '1', memory: '1Gi' } } }],
    };
    return p;
  };

  it('a pending resize to 3 cpu holds 3 cpu: a 2-cpu pod no longer fits on the 4-cpu node', () => {
    const cluster = makeCluster([NODE], [resized([{ type: 'PodResizePending', status: 'True', reason: 'Deferred' }], '3')]);
    expect(cluster.getNode('n1')!.requested.milliCpu).toBe(3000);
    const pl = new NodeResourcesFit(fitDescriptor.args.defaults());
    const state = new CycleState();
    const pod = new PodInfo(makePod('p', { cpu: '2' }));
    pl.preFilter(state, pod, cluster.nodes());
    expect(pl.filter(state, pod, cluster.getNode('n1')!)?.reasons).toEqual(['Insufficient cpu']);
  });

  it('an Infeasible resize to 8 cpu holds what was allocated (1 cpu): the 2-cpu pod fits', () => {
    const cluster = makeCluster([NODE], [resized([{ type: 'PodResizePending', status: 'True', reason: 'Infeasible' }], '8')]);
    expect(cluster.getNode('n1')!.requested.milliCpu).toBe(1000);
    const pl = new NodeResourcesFit(fitDescriptor.args.defaults());
    const state = new CycleState();
    const pod = new PodInfo(makePod('p', { cpu: '2' }));
    pl.preFilter(state, pod, cluster.nodes());
    expect(pl.filter(state, pod, cluster.getNode('n1')!)).toBeNull();
  });

  it('a status update re-accounts the pod, and removing it (a preemption victim) frees what it held', () => {
    const cluster = makeCluster([NODE], [resized(undefined, '1')]);
    expect(cluster.getNode('n1')!.requested.milliCpu).toBe(1000);
    const grown = resized([{ type: 'PodResizeInProgress', status: 'True' }], '3');
    grown.metadata!.uid = cluster.getNode('n1')!.pods[0]!.uid;
    const info = cluster.upsertAssignedPod(grown);
    expect(cluster.getNode('n1')!.requested.milliCpu).toBe(3000);
    const clone = cluster.getNode('n1')!.clone();
    clone.removePod(info);
    expect([clone.requested.milliCpu, clone.nonZeroRequested.milliCpu]).toEqual([0, 0]);
  });
});
