import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../src/config/types.js';
import type { ClusterState } from '../../src/scheduler/cache/clusterState.js';
import { type FilterPlugin, type ScorePlugin, Status } from '../../src/scheduler/framework/types.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import { SeededRandom } from '../../src/scheduler/random.js';
import * as DefaultBinder from '../../src/scheduler/plugins/DefaultBinder.js';
import * as NodeResourcesFit from '../../src/scheduler/plugins/NodeResourcesFit.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { MemoryPort } from '../../src/adapters/simulator/memoryPort.js';
import { VirtualClock } from '../../src/adapters/simulator/virtualClock.js';
import { emptyProfile, makeCluster, makeNode, makePod, testDescriptor } from '../helpers/builders.js';

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

function makeScheduler(cluster: ClusterState, clock = new VirtualClock(), port = new MemoryPort(cluster)): Scheduler {
  const profile = emptyProfile();
  profile.plugins.filter.push({ name: fit.name, weight: 1 });
  profile.plugins.score.push({ name: leastCpu.name, weight: 1 });
  profile.plugins.bind.push({ name: DefaultBinder.NAME, weight: 1 });
  const config = {
    source: 'test',
    parallelism: 16,
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: [profile],
    effective: {},
  } as unknown as SchedulerConfig;
  // `fit` stands in for NodeResourcesFit, so the queue retries the pods it rejected on NodeResourcesFit's events.
  const plugins = new PluginCatalog([testDescriptor(fit, NodeResourcesFit.descriptor), testDescriptor(leastCpu), DefaultBinder.descriptor]);
  const s = new Scheduler({ cluster, config, plugins, random: new SeededRandom(7), clock, port });
  port.attach((event) => s.notify(event));
  return s;
}

const pending = (name: string, opts: Parameters<typeof makePod>[1] = {}) => new PodInfo(makePod(name, { uid: `u-${name}`, ...opts }));

describe('Scheduler', () => {
  it('assumes on success: the node accounts the pod before binding, steering the next pod', async () => {
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
    expect((await first.binding)?.bound).toBe(true);
    expect((await second.binding)?.bound).toBe(true);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.isAssumed('u-a')).toBe(false);
    expect(cluster.getPod('u-a')?.nodeName).toBe(firstNode);
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

  it('a refused Binding forgets the assumed pod, reports it as upstream does and requeues it with backoff', async () => {
    const clock = new VirtualClock();
    const cluster = makeCluster([makeNode('n1', { cpu: '2' })]);
    const port = new MemoryPort(cluster);
    let refuse = true;
    const accept = port.bind.bind(port);
    port.bind = async (pod, node, signal) => (refuse ? 'etcdserver: request timed out' : accept(pod, node, signal));
    const s = makeScheduler(cluster, clock, port);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    const out = s.scheduleOne()!;
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(1000);
    const end = await out.binding!;
    expect(end).toMatchObject({ bound: false, result: 'error', message: 'running Bind plugin "DefaultBinder": etcdserver: request timed out' });
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(0);
    expect(cluster.isAssumed('u-a')).toBe(false);
    expect(cluster.getPod('u-a')).toBeUndefined();
    expect(port.events.map((e) => `${e.type} ${e.reason} ${e.action}: ${e.message}`)).toEqual([
      'Warning FailedScheduling Scheduling: running Bind plugin "DefaultBinder": etcdserver: request timed out',
    ]);
    expect(port.statuses.get('u-a')?.condition).toEqual({
      status: 'False',
      reason: 'SchedulerError',
      message: 'running Bind plugin "DefaultBinder": etcdserver: request timed out',
    });
    expect(s.queue.counts().backoff).toBe(1);
    expect(s.scheduleOne()).toBeUndefined();
    clock.tick(1000);
    refuse = false;
    const retry = s.scheduleOne()!;
    expect(retry.queued.attempts).toBe(2);
    expect(retry.result.kind).toBe('scheduled');
    expect((await retry.binding)?.bound).toBe(true);
  });

  it('a failed binding for a pod that is gone (or bound meanwhile) drops it without reporting', async () => {
    const cluster = makeCluster([makeNode('n1')]);
    const port = new MemoryPort(cluster);
    port.bind = async () => 'connection reset';
    port.lookupPod = async () => ({ state: 'gone' });
    const s = makeScheduler(cluster, new VirtualClock(), port);
    s.upsertPendingPod(pending('a'));
    const out = s.scheduleOne()!;
    expect((await out.binding)?.bound).toBe(false);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.getPod('u-a')).toBeUndefined();
    expect(port.events).toEqual([]);
  });

  it('a binding confirmed by the watch before the answer was lost keeps the pod accounted', async () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '2' })]);
    const port = new MemoryPort(cluster);
    port.bind = async () => {
      cluster.upsertAssignedPod(makePod('a', { uid: 'u-a', cpu: '1', nodeName: 'n1' }));
      return 'the answer was lost';
    };
    port.lookupPod = async () => ({ state: 'gone' });
    const s = makeScheduler(cluster, new VirtualClock(), port);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    await s.scheduleOne()!.binding;
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(1000);
    expect(s.queue.contains('u-a')).toBe(false);
  });

  it('a binding confirmed by the watch before the answer was lost is not requeued when the re-read fails too', async () => {
    // liveFaults: the API server died after writing the Binding (its watch event arrived) and before answering; the
    // re-read failed with it. Requeued, the pod's next attempt took it off n1 and its 409 forgot it: n1 looked free.
    const cluster = makeCluster([makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })]);
    const port = new MemoryPort(cluster);
    port.bind = async (_pod, node) => {
      cluster.upsertAssignedPod(makePod('a', { uid: 'u-a', cpu: '1', nodeName: node }));
      return 'connection dropped mid-response';
    };
    port.lookupPod = async () => ({ state: 'unknown' });
    const s = makeScheduler(cluster, new VirtualClock(), port);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    const out = s.scheduleOne()!;
    const node = out.result.kind === 'scheduled' ? out.result.nodeName : '';
    expect((await out.binding)?.bound).toBe(false);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.getPod('u-a')?.nodeName).toBe(node);
    expect(cluster.getNode(node)?.requested.milliCpu).toBe(1000);
    expect(port.events.filter((e) => e.reason === 'FailedScheduling')).toEqual([]);
  });

  it('a queued pod the cache already holds as bound is dropped, not assumed elsewhere', () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })]);
    const s = makeScheduler(cluster);
    s.upsertPendingPod(pending('a', { cpu: '1' }));
    // The watch shows it bound while it waits in the queue, in a way that did not take it out (a stale requeue).
    cluster.upsertAssignedPod(makePod('a', { uid: 'u-a', cpu: '1', nodeName: 'n2' }));
    expect(s.scheduleOne()).toBeUndefined();
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.getPod('u-a')?.nodeName).toBe('n2');
    expect(cluster.isAssumed('u-a')).toBe(false);
  });

  it('a pod deleted during its Binding whose Binding then fails (the pod was gone first) is dropped, never requeued', async () => {
    const cluster = makeCluster([makeNode('n1')]);
    const port = new MemoryPort(cluster);
    const s = makeScheduler(cluster, new VirtualClock(), port);
    let abortedByDeletion: boolean | undefined;
    port.bind = async (_pod, _node, signal) => {
      s.podDeleted('u-a');
      abortedByDeletion = signal?.aborted;
      return 'pods "a" not found';
    };
    s.upsertPendingPod(pending('a'));
    const end = await s.scheduleOne()!.binding!;
    expect(abortedByDeletion).toBe(false);
    expect(end.bound).toBe(false);
    expect(s.queue.contains('u-a')).toBe(false);
    expect(cluster.getPod('u-a')).toBeUndefined();
  });

  it('a pod deleted while its Binding is in flight is not aborted: a Binding the API server applied counts as bound', async () => {
    const cluster = makeCluster([makeNode('n1')]);
    const port = new MemoryPort(cluster);
    const s = makeScheduler(cluster, new VirtualClock(), port);
    let abortedByDeletion: boolean | undefined;
    port.bind = async (_pod, _node, signal) => {
      // The watch saw the pod bound and then deleted before the Binding's answer arrived.
      s.podDeleted('u-a');
      abortedByDeletion = signal?.aborted;
      return null;
    };
    s.upsertPendingPod(pending('a'));
    const end = await s.scheduleOne()!.binding!;
    expect(abortedByDeletion).toBe(false);
    expect(end.bound).toBe(true);
    expect(s.queue.contains('u-a')).toBe(false);
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
