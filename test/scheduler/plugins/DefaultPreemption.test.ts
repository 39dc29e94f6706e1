import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { PodScheduler, type UnschedulableResult } from '../../../src/scheduler/framework/schedulePod.js';
import {
  Code,
  CycleState,
  type Diagnosis,
  type PostFilterResult,
  Status,
} from '../../../src/scheduler/framework/types.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import * as DefaultPreemption from '../../../src/scheduler/plugins/DefaultPreemption.js';
import {
  moreImportantPod,
  numCandidates,
  pickOneNodeForPreemption,
  type PreemptionCandidate,
} from '../../../src/scheduler/plugins/DefaultPreemption.js';
import * as NodeResourcesFit from '../../../src/scheduler/plugins/NodeResourcesFit.js';
import * as TaintToleration from '../../../src/scheduler/plugins/TaintToleration.js';
import { SeededRandom } from '../../../src/scheduler/random.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import { createPlugin, emptyProfile, makeCluster, makeFramework, makeHandle, makeNode, makePod, podInfo } from '../../helpers/builders.js';
import type { ProfileConfig } from '../../../src/config/types.js';

const PLUGINS = new PluginCatalog([TaintToleration.descriptor, NodeResourcesFit.descriptor, DefaultPreemption.descriptor]);

function profile(args?: { minCandidateNodesPercentage: number; minCandidateNodesAbsolute: number }): ProfileConfig {
  const p = emptyProfile();
  p.plugins.preFilter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
  p.plugins.filter = [
    { name: TaintToleration.NAME, weight: 1 },
    { name: NodeResourcesFit.NAME, weight: 1 },
  ];
  p.plugins.postFilter = [{ name: DefaultPreemption.NAME, weight: 1 }];
  if (args) p.pluginArgs = new Map([...p.pluginArgs, [DefaultPreemption.NAME, args]]);
  return p;
}

function scheduler(cluster: ClusterState, prof = profile()): PodScheduler {
  return new PodScheduler(makeFramework(cluster, prof, PLUGINS), new SeededRandom(1));
}

function unschedulable(cluster: ClusterState, pod: PodInfo, prof = profile()): UnschedulableResult {
  const result = scheduler(cluster, prof).schedule(pod);
  if (result.kind !== 'unschedulable') throw new Error(`expected unschedulable, got ${JSON.stringify(result)}`);
  return result;
}

function postFilter(result: UnschedulableResult): PostFilterResult {
  if (!result.postFilter) throw new Error('no PostFilter result');
  return result.postFilter;
}

function running(name: string, nodeName: string, priority: number, cpu: string, startTime?: string): Pod {
  const pod = makePod(name, { nodeName, priority, cpu, uid: `uid-${name}` });
  if (startTime) pod.status = { phase: 'Running', startTime };
  return pod;
}

/** Everything observable about the cluster's pods: per node order, requests, assumed flags, PodInfo identity. */
function fingerprint(cluster: ClusterState): unknown {
  return cluster.nodes().map((n) => ({
    node: n.name,
    pods: n.pods.map((p) => [p.uid, cluster.isAssumed(p.uid), cluster.getPod(p.uid) === p]),
    milliCpu: n.requested.milliCpu,
    nonZeroCpu: n.nonZeroRequested.milliCpu,
    memory: n.requested.memory,
    podsWithAffinity: n.podsWithAffinity.map((p) => p.uid).sort(),
  }));
}

describe('DefaultPreemption: no candidate', () => {
  it('prints the preemption fit error: 1 unresolvable (tainted) node, 2 nodes full of equal-priority pods', () => {
    const cluster = makeCluster(
      [
        makeNode('gpu', { cpu: '1', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
        makeNode('a', { cpu: '1' }),
        makeNode('b', { cpu: '1' }),
      ],
      [running('a1', 'a', 0, '1'), running('b1', 'b', 0, '1')],
    );
    const result = unschedulable(cluster, podInfo('web', { cpu: '500m', priority: 0 }));
    const pf = postFilter(result);
    expect(pf.status.code).toBe(Code.Unschedulable);
    expect(pf.status.message).toBe(
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    expect(pf.victims).toBeUndefined();
    expect(result.message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. ' +
        'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
  });

  it('reports the Filter status of a node that still does not fit with every lower-priority pod removed', () => {
    // 2 CPUs: a priority-5 pod (not a victim for priority 3) holds 1; removing the priority-1 pod leaves 1 free < 2.
    const cluster = makeCluster(
      [makeNode('n', { cpu: '2' })],
      [running('high', 'n', 5, '1'), running('low', 'n', 1, '1')],
    );
    const pf = postFilter(unschedulable(cluster, podInfo('big', { cpu: '2', priority: 3 })));
    expect(pf.status.code).toBe(Code.Unschedulable);
    expect(pf.status.message).toBe('preemption: 0/1 nodes are available: 1 Insufficient cpu.');
  });

  it('says preemption is not helpful on every node when all are UnschedulableAndUnresolvable', () => {
    const taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }];
    const cluster = makeCluster(
      [makeNode('x', { taints }), makeNode('y', { taints })],
      [running('x1', 'x', 0, '1')],
    );
    const pf = postFilter(unschedulable(cluster, podInfo('web', { cpu: '1', priority: 1000 })));
    expect(pf.status.message).toBe('preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    expect(pf.nominatedNodeName).toBe('');
  });
});

describe('DefaultPreemption: eligibility', () => {
  it('preemptionPolicy Never: not eligible, nothing evicted', () => {
    const cluster = makeCluster([makeNode('n', { cpu: '1' })], [running('low', 'n', -10, '1')]);
    const pod = podInfo('never', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } });
    const result = unschedulable(cluster, pod);
    const pf = postFilter(result);
    expect(pf.status.code).toBe(Code.Unschedulable);
    expect(pf.status.message).toBe('preemption: not eligible due to preemptionPolicy=Never.');
    expect(pf.victims).toBeUndefined();
    expect(result.message).toBe(
      // v1.37.2 appends the PostFilter message with " %v": its own period ends the message.
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    );
    // The same pod with the default policy does preempt.
    const eligible = podInfo('eligible', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'PreemptLowerPriority' } });
    expect(postFilter(unschedulable(cluster, eligible)).victims?.map((v) => v.name)).toEqual(['low']);
  });

  it('not eligible while a victim on its nominated node is terminating by preemption', () => {
    const victim = running('low', 'n', 0, '1');
    victim.metadata!.deletionTimestamp = '2026-01-01T00:10:00Z';
    victim.status = {
      phase: 'Running',
      conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }],
    };
    const cluster = makeCluster([makeNode('n', { cpu: '1' })], [victim]);
    const pod = makePod('pre', { cpu: '1', priority: 10 });
    pod.status = { nominatedNodeName: 'n' };
    const pf = postFilter(unschedulable(cluster, new PodInfo(pod)));
    expect(pf.status.message).toBe('preemption: not eligible due to a terminating pod on the nominated node.');
  });
});

describe('DefaultPreemption: victims and node choice', () => {
  it('a higher-priority pod preempts the lowest-priority pod on the best node; reprieve keeps the victim set minimal', () => {
    const cluster = makeCluster(
      [makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })],
      [
        running('n1-p5', 'n1', 5, '1'),
        running('n1-p1', 'n1', 1, '1'),
        running('n2-p3', 'n2', 3, '1'),
        running('n2-p4', 'n2', 4, '1'),
      ],
    );
    const result = unschedulable(cluster, podInfo('urgent', { cpu: '1', priority: 10 }));
    const pf = postFilter(result);
    expect(pf.status.code).toBe(Code.Success);
    expect(pf.status.message).toBe('preemption: found a potential placement for pod on node n1, preempting 1 victims');
    // n1's only victim has priority 1, n2's has 3: the lower highest-victim priority wins.
    expect(pf.nominatedNodeName).toBe('n1');
    expect(pf.victims?.map((v) => v.name)).toEqual(['n1-p1']);
    // The victims are the PodInfos accounted on the node.
    expect(pf.victims?.[0]).toBe(cluster.getPod('uid-n1-p1'));
    // On success the FailedScheduling message carries upstream's nomination text.
    expect(result.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: found a potential placement for pod on node n1, preempting 1 victims',
    );
  });

  it('evicts several pods when one is not enough, keeping the most important ones', () => {
    const cluster = makeCluster(
      [makeNode('n', { cpu: '4' })],
      [
        running('p1', 'n', 1, '1'),
        running('p2', 'n', 2, '1'),
        running('p3', 'n', 3, '1'),
        running('p4', 'n', 4, '1'),
      ],
    );
    const pf = postFilter(unschedulable(cluster, podInfo('big', { cpu: '2', priority: 10 })));
    expect(pf.nominatedNodeName).toBe('n');
    // Reprieve order p4, p3 (kept: 2 CPUs), p2, p1 (evicted); victims listed most important first.
    expect(pf.victims?.map((v) => v.name)).toEqual(['p2', 'p1']);
  });

  it('JupyterHub: user placeholders at priority -10 make way for a user pod at priority 0', () => {
    const cluster = makeCluster(
      [makeNode('user-1', { cpu: '2' }), makeNode('user-2', { cpu: '2' })],
      [
        // user-1: one real user pod and one placeholder; user-2: two placeholders.
        running('jupyter-alice', 'user-1', 0, '1', '2026-01-01T08:00:00Z'),
        running('user-placeholder-0', 'user-1', -10, '1', '2026-01-01T07:00:00Z'),
        running('user-placeholder-1', 'user-2', -10, '1', '2026-01-01T09:00:00Z'),
        running('user-placeholder-2', 'user-2', -10, '1', '2026-01-01T10:00:00Z'),
      ],
    );
    const result = unschedulable(cluster, podInfo('jupyter-bob', { cpu: '1', priority: 0 }));
    const pf = postFilter(result);
    expect(pf.status.code).toBe(Code.Success);
    // Both nodes need one placeholder evicted (same priority, same count, same sum); the node whose victim started
    // latest wins: user-2's placeholder-2 (10:00; placeholder-1, started earlier, is more important and reprieved)
    // over user-1's placeholder-0 (07:00). The user pod at priority 0 is never a victim.
    expect(pf.nominatedNodeName).toBe('user-2');
    expect(pf.victims?.map((v) => v.name)).toEqual(['user-placeholder-2']);
  });

  it('prefers fewer victims via the priority sum (MaxInt32+1 added to each negative priority)', () => {
    const cluster = makeCluster(
      [makeNode('two', { cpu: '2' }), makeNode('one', { cpu: '2' })],
      [
        running('t1', 'two', -10, '1'),
        running('t2', 'two', -10, '1'),
        running('o1', 'one', -10, '2'),
      ],
    );
    const pf = postFilter(unschedulable(cluster, podInfo('p', { cpu: '2', priority: 0 })));
    // Without the offset, two victims at -10 (sum -20) would beat one (-10).
    expect(pf.nominatedNodeName).toBe('one');
    expect(pf.victims?.map((v) => v.name)).toEqual(['o1']);
  });

  it('stops the dry run after minCandidateNodesAbsolute candidates (offset 0, cluster node order)', () => {
    const nodes = [makeNode('first', { cpu: '1' }), makeNode('better', { cpu: '1' })];
    const pods = [running('f', 'first', 5, '1'), running('b', 'better', 1, '1')];
    const capped = postFilter(
      unschedulable(makeCluster(nodes, pods), podInfo('p', { cpu: '1', priority: 10 }), profile({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1 })),
    );
    expect(capped.nominatedNodeName).toBe('first');
    const full = postFilter(unschedulable(makeCluster(nodes, pods), podInfo('p2', { cpu: '1', priority: 10 })));
    expect(full.nominatedNodeName).toBe('better');
  });
});

describe('DefaultPreemption: the cluster state is restored', () => {
  function busyCluster(): ClusterState {
    const cluster = makeCluster(
      [makeNode('n1', { cpu: '3' }), makeNode('n2', { cpu: '2' })],
      [
        running('keep', 'n1', 50, '1'),
        running('v1', 'n1', 1, '1'),
        running('mid', 'n1', 20, '500m'),
        running('v2', 'n1', 2, '500m'),
        running('w1', 'n2', 3, '1'),
        running('w2', 'n2', 60, '1'),
      ],
    );
    // An assumed pod (chosen by berth, binding not confirmed) must stay assumed.
    const assumed = podInfo('assumed-low', { priority: 0, cpu: '0', uid: 'uid-assumed-low' });
    cluster.assumePod(assumed, 'n1');
    return cluster;
  }

  it('after a successful dry run: same pods, order, requests, assumed flags and PodInfo objects', () => {
    const cluster = busyCluster();
    const before = fingerprint(cluster);
    const pf = postFilter(unschedulable(cluster, podInfo('p', { cpu: '2', priority: 30 })));
    expect(pf.status.code).toBe(Code.Success);
    expect(fingerprint(cluster)).toEqual(before);
    expect(cluster.isAssumed('uid-assumed-low')).toBe(true);
    expect(cluster.podCount).toBe(7);
  });

  it('after a dry run without candidates', () => {
    const cluster = busyCluster();
    const before = fingerprint(cluster);
    const pf = postFilter(unschedulable(cluster, podInfo('p', { cpu: '3', priority: 30 })));
    expect(pf.status.code).toBe(Code.Unschedulable);
    expect(fingerprint(cluster)).toEqual(before);
  });

  it('even when a filter throws in the middle of the reprieve', () => {
    const cluster = busyCluster();
    const before = fingerprint(cluster);
    let calls = 0;
    const plugin = createPlugin(DefaultPreemption.descriptor, {
      ...makeHandle(cluster, profile(), PLUGINS),
      runFilterPluginsWithNominatedPods: () => {
        calls++;
        if (calls === 2) throw new Error('boom');
        return null;
      },
    }) as DefaultPreemption.DefaultPreemption;
    const diagnosis: Diagnosis = {
      nodeToStatus: new Map([['n1', { plugin: 'NodeResourcesFit', status: Status.unschedulable('Insufficient cpu') }]]),
      absentNodesStatus: null,
      unschedulablePlugins: new Set(),
      preFilterMsg: '',
      postFilterMsg: '',
    };
    expect(() => plugin.postFilter(new CycleState(), podInfo('p', { priority: 30 }), diagnosis, 2)).toThrow('boom');
    expect(calls).toBe(2);
    expect(fingerprint(cluster)).toEqual(before);
  });

  it('the filters see a copy of the node without the lower-priority pods (and with reprieved ones back)', () => {
    const cluster = busyCluster();
    const before = fingerprint(cluster);
    const seen: string[][] = [];
    const plugin = createPlugin(DefaultPreemption.descriptor, {
      ...makeHandle(cluster, profile(), PLUGINS),
      runFilterPluginsWithNominatedPods: (_state, _pod, node) => {
        seen.push(node.pods.map((p) => p.name).sort());
        // Fits only while v2 (priority 2) is gone.
        return node.pods.some((p) => p.name === 'v2') ? { plugin: 'X', status: Status.unschedulable('x') } : null;
      },
    }) as DefaultPreemption.DefaultPreemption;
    const diagnosis: Diagnosis = {
      nodeToStatus: new Map([['n1', { plugin: 'X', status: Status.unschedulable('x') }]]),
      absentNodesStatus: null,
      unschedulablePlugins: new Set(),
      preFilterMsg: '',
      postFilterMsg: '',
    };
    const pf = plugin.postFilter(new CycleState(), podInfo('p', { priority: 10 }), diagnosis, 2);
    // Potential victims v1 (1), v2 (2), assumed-low (0); reprieve order v2, v1, assumed-low.
    expect(seen).toEqual([
      ['keep', 'mid'],
      ['keep', 'mid', 'v2'],
      ['keep', 'mid', 'v1'],
      ['assumed-low', 'keep', 'mid', 'v1'],
    ]);
    expect(pf.nominatedNodeName).toBe('n1');
    expect(pf.victims?.map((v) => v.name)).toEqual(['v2']);
    expect(fingerprint(cluster)).toEqual(before);
  });
});

describe('DefaultPreemption: helpers', () => {
  const victim = (priority: number, startTime?: string): PodInfo => {
    const pod = makePod(`v${priority}-${startTime ?? 'none'}`, { priority });
    if (startTime) pod.status = { startTime };
    return new PodInfo(pod);
  };
  const cand = (node: string, ...victims: PodInfo[]): PreemptionCandidate => ({ node, victims, numPDBViolations: 0 });

  it('numCandidates: max(percentage of nodes, absolute), capped at the node count', () => {
    expect(numCandidates(5000, 10, 100)).toBe(500);
    expect(numCandidates(500, 10, 100)).toBe(100);
    expect(numCandidates(50, 10, 100)).toBe(50);
    expect(numCandidates(999, 1, 0)).toBe(9);
  });

  it('moreImportantPod: priority first, then the earlier start time; no start time counts as latest', () => {
    expect(moreImportantPod(victim(2), victim(1))).toBe(true);
    expect(moreImportantPod(victim(1, '2026-01-01T00:00:00Z'), victim(2, '2020-01-01T00:00:00Z'))).toBe(false);
    expect(moreImportantPod(victim(1, '2026-01-01T00:00:00Z'), victim(1, '2026-01-02T00:00:00Z'))).toBe(true);
    expect(moreImportantPod(victim(1, '2026-01-01T00:00:00Z'), victim(1))).toBe(true);
    expect(moreImportantPod(victim(1), victim(1))).toBe(false);
  });

  it('pickOneNodeForPreemption: tie-break chain', () => {
    // Highest victim priority.
    expect(pickOneNodeForPreemption([cand('a', victim(5)), cand('b', victim(3), victim(2))])?.node).toBe('b');
    // Sum of priorities (+2^31 each).
    expect(pickOneNodeForPreemption([cand('a', victim(5), victim(1)), cand('b', victim(5))])?.node).toBe('b');
    expect(pickOneNodeForPreemption([cand('a', victim(-10), victim(-10)), cand('b', victim(-10))])?.node).toBe('b');
    // Latest earliest-start among the highest-priority victims.
    expect(
      pickOneNodeForPreemption([
        cand('a', victim(5, '2026-01-01T10:00:00Z')),
        cand('b', victim(5, '2026-01-01T11:00:00Z')),
        cand('c', victim(5, '2026-01-01T09:00:00Z')),
      ])?.node,
    ).toBe('b');
    // Full tie: the first.
    expect(pickOneNodeForPreemption([cand('a', victim(5)), cand('b', victim(5))])?.node).toBe('a');
    expect(pickOneNodeForPreemption([])).toBeUndefined();
  });
});
