import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../src/config/types.js';
import type { ClusterState } from '../../src/scheduler/cache/clusterState.js';
import { type FilterPlugin, type PluginFactory, type ScorePlugin, Status } from '../../src/scheduler/framework/types.js';
import { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import { SeededRandom } from '../../src/scheduler/random.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { emptyProfile, makeCluster, makeNode, makePod } from '../helpers/builders.js';

/** A fit filter on real requests (what NodeResourcesFit checks), rejecting as upstream words it. */
const fit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter: (_s, pod, node) =>
    node.requested.milliCpu + pod.requests.milliCpu > node.allocatable.milliCpu ? Status.unschedulable('Insufficient cpu') : null,
};

/** Prefers the emptiest node (by CPU), so assumed pods visibly steer the next decision. */
const leastCpu: ScorePlugin = {
  name: 'LeastCpu',
  score: (_s, _p, node) => Math.trunc(((node.allocatable.milliCpu - node.requested.milliCpu) * 100) / node.allocatable.milliCpu),
};

function makeScheduler(cluster: ClusterState, clock = { t: 0 }): Scheduler {
  const profile = emptyProfile();
  profile.plugins.filter.push({ name: fit.name, weight: 1 });
  profile.plugins.score.push({ name: leastCpu.name, weight: 1 });
  const config = {
    source: 'test',
    parallelism: 16,
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: [profile],
    effective: {},
  } as unknown as SchedulerConfig;
  const registry = new Map<string, PluginFactory>([
    [fit.name, () => fit],
    [leastCpu.name, () => leastCpu],
  ]);
  return new Scheduler({ cluster, config, registry, random: new SeededRandom(7), now: () => clock.t });
}

const pending = (name: string, opts: Parameters<typeof makePod>[1] = {}) => new PodInfo(makePod(name, { uid: `u-${name}`, ...opts }));

describe('Scheduler', () => {
  it('assumes on success: the node accounts the pod before binding, steering the next pod', () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })]);
    const s = makeScheduler(cluster);
    s.upsertPendingPod(pending('a', { cpu: '1500m' }));
    s.upsertPendingPod(pending('b', { cpu: '1500m' }));
    const first = s.scheduleOne()!;
    expect(first.result.kind).toBe('scheduled');
    const firstNode = first.result.kind === 'scheduled' ? first.result.nodeName : '';
    expect(first.assumed?.nodeName).toBe(firstNode);
    expect(cluster.isAssumed('u-a')).toBe(true);
    expect(cluster.getNode(firstNode)?.requested.milliCpu).toBe(1500);
    // Binding not confirmed yet, but b must go to the other node.
    const second = s.scheduleOne()!;
    expect(second.result.kind === 'scheduled' && second.result.nodeName).toBe(firstNode === 'n1' ? 'n2' : 'n1');
    s.bindingFinished(first);
    s.bindingFinished(second);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(s.scheduleOne()).toBeUndefined();
  });

  it('unschedulable pods go to the pool with their rejecting plugins and return on a relevant event', () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '1' })]);
    const s = makeScheduler(cluster);
    s.upsertPendingPod(pending('big', { cpu: '2' }));
    const out = s.scheduleOne()!;
    expect(out.result.kind === 'unschedulable' && out.result.message).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    expect(out.assumed).toBeUndefined();
    expect(s.queue.counts().unschedulable).toBe(1);
    s.notify('AssignedPodAdd');
    expect(s.queue.counts().unschedulable).toBe(1);
    cluster.upsertNode(makeNode('n2', { cpu: '4' }));
    s.notify('NodeAdd');
    expect(s.queue.counts().unschedulable).toBe(0);
  });

  it('bindingFailed forgets the assumed pod and requeues it with backoff', () => {
    const clock = { t: 0 };
    const cluster = makeCluster([makeNode('n1', { cpu: '2' })]);
    const s = makeScheduler(cluster, clock);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    const out = s.scheduleOne()!;
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(1000);
    s.bindingFailed(out, true);
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(0);
    expect(cluster.isAssumed('u-a')).toBe(false);
    expect(cluster.getPod('u-a')).toBeUndefined();
    expect(s.queue.counts().backoff).toBe(1);
    expect(s.scheduleOne()).toBeUndefined();
    clock.t += 1000;
    const retry = s.scheduleOne()!;
    expect(retry.queued.attempts).toBe(2);
    expect(retry.result.kind).toBe('scheduled');
  });

  it('bindingFailed for a pod no longer pending drops it', () => {
    const cluster = makeCluster([makeNode('n1')]);
    const s = makeScheduler(cluster);
    s.upsertPendingPod(pending('a'));
    const out = s.scheduleOne()!;
    s.bindingFailed(out, false);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.getPod('u-a')).toBeUndefined();
  });

  it('a binding confirmed by the API server before it failed keeps the pod accounted', () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '2' })]);
    const s = makeScheduler(cluster);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    const out = s.scheduleOne()!;
    cluster.upsertAssignedPod(makePod('a', { uid: 'u-a', cpu: '1', nodeName: 'n1' }));
    s.bindingFailed(out, false);
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(1000);
  });

  it('ignores pods for other schedulers', () => {
    const s = makeScheduler(makeCluster([makeNode('n1')]));
    const other = pending('x', { spec: { schedulerName: 'someone-else' } });
    expect(s.isResponsibleFor(other)).toBe(false);
    s.upsertPendingPod(other);
    expect(s.queue.contains(other.uid)).toBe(false);
    expect(s.scheduleOne()).toBeUndefined();
  });

  it('does not schedule terminating pods, and drops them if already queued', () => {
    const s = makeScheduler(makeCluster([makeNode('n1')]));
    const pod = makePod('t', { uid: 'u-t' });
    s.upsertPendingPod(new PodInfo(pod));
    expect(s.queue.contains('u-t')).toBe(true);
    s.upsertPendingPod(new PodInfo({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }));
    expect(s.queue.contains('u-t')).toBe(false);
    expect(s.scheduleOne()).toBeUndefined();
    const fresh = makePod('t2', { uid: 'u-t2' });
    s.upsertPendingPod(new PodInfo({ ...fresh, metadata: { ...fresh.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }));
    expect(s.queue.contains('u-t2')).toBe(false);
  });

  it('removePendingPod takes a pod out of the queue', () => {
    const s = makeScheduler(makeCluster([makeNode('n1')]));
    s.upsertPendingPod(pending('a'));
    s.removePendingPod('u-a');
    expect(s.scheduleOne()).toBeUndefined();
  });

  it('a failure without rejecting plugins (no nodes at all) backs the pod off', () => {
    const s = makeScheduler(makeCluster([]));
    s.upsertPendingPod(pending('a'));
    const out = s.scheduleOne()!;
    expect(out.result.kind).toBe('unschedulable');
    expect(s.queue.counts().backoff).toBe(1);
  });
});
