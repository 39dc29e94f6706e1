// The live adapter against a fake API server: watches feed the cache, the core's cycles write through the LivePort
// (bindings, events, status patches), failed bindings are re-read and requeued or dropped, deletions abort binding
// cycles, only the leader schedules, and stop() finishes the bindings in flight without closing the client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../../src/adapters/live/kubeClient.js';
import type { LeaderElector } from '../../../src/adapters/live/leaderElection.js';
import { LiveScheduler } from '../../../src/adapters/live/liveScheduler.js';
import { parseSchedulerConfig } from '../../../src/config/index.js';
import type { PodDisruptionBudget } from '../../../src/kube/api.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { SeededRandom } from '../../../src/scheduler/random.js';
import type { AttemptEnd, CycleOutcome } from '../../../src/scheduler/scheduler.js';
import { type FakeAnswer, FakeApiServer, type FakeObject, makeLogger, waitFor } from './fakeApiServer.js';

const PODS = '/api/v1/pods';
const NODES = '/api/v1/nodes';
const CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
profiles:
  - schedulerName: berth
`;

let server: FakeApiServer;
let client: KubeClient;
let live: LiveScheduler | undefined;
let decisions: Array<{ pod: string; kind: string; end: AttemptEnd }>;

function node(name: string, cpu = '4'): FakeObject {
  return { metadata: { name }, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
}

function pod(name: string, cpu = '1'): FakeObject {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { schedulerName: 'berth', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }] },
    status: { phase: 'Pending' },
  };
}

/** What the last start() call's LiveScheduler.start() settles to. */
let started: Promise<void> | undefined;

function start(elector?: Pick<LeaderElector, 'isLeader'>): LiveScheduler {
  live = new LiveScheduler({
    config: parseSchedulerConfig(CONFIG, 'test.yaml'),
    client,
    plugins: IN_TREE_CATALOG,
    logger: makeLogger(),
    random: new SeededRandom(1),
    ...(elector ? { elector: elector as LeaderElector } : {}),
    onDecision: (outcome: CycleOutcome, end: AttemptEnd) =>
      decisions.push({ pod: outcome.queued.pod.name, kind: outcome.result.kind, end }),
  });
  started = live.start();
  return live;
}

/** The writes the scheduler made, as "METHOD path-suffix" with the interesting part of the body. */
function writes(): string[] {
  return server.writes.map((w) => {
    const body = w.body as { reason?: string; action?: string; note?: string; status?: { conditions?: Array<{ reason?: string }>; nominatedNodeName?: string } } | undefined;
    if (w.path.includes('/events')) return `event ${body?.reason} ${body?.action}: ${body?.note}`;
    if (w.path.endsWith('/binding')) return `bind ${w.path.split('/')[6]}`;
    if (w.path.endsWith('/status')) return `status ${w.path.split('/')[6]} ${body?.status?.conditions?.[0]?.reason ?? ''}`.trim();
    return `${w.method} ${w.path}`;
  });
}

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0 });
  decisions = [];
});

afterEach(async () => {
  await live?.stop();
  live = undefined;
  client.close();
  await server.close();
});

describe('LiveScheduler', () => {
  it('binds a pending pod, writes Scheduled (action Binding), and the watch confirms the assumption', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    const s = start();
    await waitFor('bound', () => decisions.length === 1);
    expect(decisions[0]).toMatchObject({ pod: 'a', kind: 'scheduled', end: { bound: true, result: 'scheduled' } });
    await waitFor('the watch shows it bound', () => s.cluster.getPod('uid-a')?.nodeName === 'n1' && !s.cluster.isAssumed('uid-a'));
    expect((server.pod('ns', 'a')?.['spec'] as { nodeName?: string }).nodeName).toBe('n1');
    await waitFor('the event', () => writes().length === 2);
    expect(writes()).toEqual(['bind a', 'event Scheduled Binding: Successfully assigned ns/a to n1']);
    expect(s.counters).toMatchObject({ scheduled: 1, bindFailures: 0 });
  });

  it('stopped before its caches sync, start() returns cleanly (a SIGTERM during start-up is no failure)', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
    server.intercept = (req) => (req.method === 'GET' && req.path === NODES ? held : undefined);
    const s = start();
    await waitFor('the node list asked for', () => server.listRequests(NODES).length > 0);
    await s.stop();
    release();
    await expect(started).resolves.toBeUndefined();
    expect(s.synced).toBe(false);
  });

  it('an unschedulable pod gets FailedScheduling and PodScheduled=False (Unschedulable), and is not bound', async () => {
    server.upsert(NODES, node('n1', '1'));
    server.upsert(PODS, pod('big', '2'));
    start();
    await waitFor('the failure reported', () => writes().length === 2);
    expect(writes().sort()).toEqual([
      'event FailedScheduling Scheduling: 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
      'status big Unschedulable',
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['unschedulable']);
  });

  it('a refused Binding is reported as upstream does, the pod re-read, requeued with backoff and bound at its retry', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    let refusals = 1;
    server.intercept = (req) => {
      if (req.path.endsWith('/binding') && refusals > 0) {
        refusals--;
        return { status: 500, body: { kind: 'Status', code: 500, message: 'etcdserver: request timed out' } };
      }
      return undefined;
    };
    start();
    await waitFor('bound at the retry', () => decisions.length === 2, 10_000);
    expect(decisions.map((d) => d.end.bound)).toEqual([false, true]);
    expect(decisions[0]!.end.message).toBe('running Bind plugin "DefaultBinder": etcdserver: request timed out');
    await waitFor('the Scheduled event', () => writes().some((w) => w.startsWith('event Scheduled')));
    expect(writes()).toEqual([
      'bind a',
      'event FailedScheduling Scheduling: running Bind plugin "DefaultBinder": etcdserver: request timed out',
      'status a SchedulerError',
      'bind a',
      'event Scheduled Binding: Successfully assigned ns/a to n1',
    ]);
    // The condition patch was conditional on the pod as re-read after the failure.
    const patch = server.writes.find((w) => w.path.endsWith('/status'))?.body as { metadata?: { resourceVersion?: string } };
    expect(patch.metadata?.resourceVersion).toBeDefined();
  });

  it('a 409 because the pod was bound elsewhere meanwhile drops it: no retry, no FailedScheduling', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(NODES, node('n2'));
    server.upsert(PODS, pod('a'));
    server.intercept = (req) => {
      if (!req.path.endsWith('/binding')) return undefined;
      // Another scheduler bound it a moment ago; berth's watch has not seen it yet.
      const current = server.pod('ns', 'a')!;
      server.upsertSilently(PODS, { ...current, spec: { ...(current['spec'] as object), nodeName: 'n2' } });
      return { status: 409, body: { kind: 'Status', code: 409, message: 'pod a is already assigned to node "n2"' } };
    };
    const s = start();
    await waitFor('the attempt ended', () => decisions.length === 1);
    expect(decisions[0]!.end.bound).toBe(false);
    // Dropped: not queued for a retry, not assumed, nothing reported.
    expect(s.scheduler.queue.contains('uid-a')).toBe(false);
    expect(s.cluster.isAssumed('uid-a')).toBe(false);
    expect(writes()).toEqual(['bind a']);
  });

  it('a Binding whose answer is lost after the watch showed the pod bound: the pod stays accounted on its node, never requeued (liveFaults, protobuf)', async () => {
    // Seen in test/integration/liveFaults.test.ts: the API server wrote the Binding and its watch event reached berth,
    // then the server died before answering. Requeued, the pod was assumed on another node at its next attempt (taking
    // it off its real node), the second Binding got 409 and the forget dropped the pod from the cache: room missed.
    server.upsert(NODES, node('n1'));
    server.upsert(NODES, node('n2'));
    server.upsert(PODS, pod('a'));
    let release: (a: FakeAnswer) => void = () => {};
    let apiDown = false;
    server.intercept = (req) => {
      if (apiDown && req.method === 'GET') return { status: 503, body: { kind: 'Status', code: 503, message: 'the server is restarting' } };
      return req.path.endsWith('/binding') && !apiDown ? new Promise<FakeAnswer>((r) => (release = r)) : undefined;
    };
    const s = start();
    await waitFor('the binding in flight', () => writes().includes('bind a'));
    const first = s.cluster.getPod('uid-a')?.nodeName as string;
    // The API server binds the pod (as the Binding asked) and the watch delivers it before any answer.
    const current = server.pod('ns', 'a')!;
    server.upsert(PODS, { ...current, spec: { ...(current['spec'] as object), nodeName: first } });
    await waitFor('the watch confirms the binding', () => s.cluster.getPod('uid-a') !== undefined && !s.cluster.isAssumed('uid-a'));
    // Then the answer is lost and the re-read fails too (the API server is down).
    apiDown = true;
    release({ status: 503, body: { kind: 'Status', code: 503, message: 'connection dropped mid-response' } });
    await waitFor('the attempt ended', () => decisions.length === 1);
    expect(decisions[0]!.end.bound).toBe(false);
    // Not queued for another attempt (which would assume it elsewhere), and still accounted where the API has it.
    expect(s.scheduler.queue.contains('uid-a')).toBe(false);
    expect(s.cluster.isAssumed('uid-a')).toBe(false);
    expect(s.cluster.getPod('uid-a')?.nodeName).toBe(first);
    expect(s.cluster.getNode(first)!.requested.milliCpu).toBe(1000);
  });

  it('a pod deleted while its binding is in flight is dropped, never requeued or reported', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    let release: (a: FakeAnswer) => void = () => {};
    server.intercept = (req) => (req.path.endsWith('/binding') ? new Promise<FakeAnswer>((r) => (release = r)) : undefined);
    const s = start();
    await waitFor('the binding in flight', () => writes().includes('bind a'));
    server.delete(PODS, 'a', 'ns');
    await waitFor('the deletion seen', () => s.cluster.getPod('uid-a') === undefined);
    // The Binding in flight is not aborted by the deletion: it ends with the API server's answer.
    expect(decisions).toEqual([]);
    release({ status: 404, body: { kind: 'Status', code: 404, message: 'pods "a" not found' } });
    await waitFor('the attempt ended', () => decisions.length === 1);
    expect(decisions[0]!.end.bound).toBe(false);
    expect(s.scheduler.queue.contains('uid-a')).toBe(false);
    expect(s.cluster.getPod('uid-a')).toBeUndefined();
    expect(writes().filter((w) => w.startsWith('event'))).toEqual([]);
  });

  it('a pod deleted while its Binding is in flight, which the API server applied, counts as bound (not a failure)', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    let release: (a: FakeAnswer | undefined) => void = () => {};
    server.intercept = (req) => (req.path.endsWith('/binding') ? new Promise<FakeAnswer | undefined>((r) => (release = r)) : undefined);
    const s = start();
    await waitFor('the binding in flight', () => writes().includes('bind a'));
    server.delete(PODS, 'a', 'ns');
    await waitFor('the deletion seen', () => s.cluster.getPod('uid-a') === undefined);
    release({ status: 201, body: { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 } });
    await waitFor('the attempt ended', () => decisions.length === 1);
    expect(decisions[0]!.end.bound).toBe(true);
    expect(s.scheduler.queue.contains('uid-a')).toBe(false);
    expect(s.cluster.getPod('uid-a')).toBeUndefined();
    expect(writes().filter((w) => w.includes('FailedScheduling'))).toEqual([]);
  });

  it('only the leader schedules', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    let leading = false;
    const s = start({ isLeader: () => leading });
    await waitFor('synced', () => s.synced);
    await new Promise((r) => setTimeout(r, 300));
    expect(decisions).toEqual([]);
    leading = true;
    s.poke();
    await waitFor('bound once leading', () => decisions.length === 1);
  });

  it('stop() lets a binding in flight finish and leaves the client open (the Lease is released after)', async () => {
    server.upsert(NODES, node('n1'));
    server.upsert(PODS, pod('a'));
    let release: () => void = () => {};
    server.intercept = (req) => {
      if (!req.path.endsWith('/binding')) return undefined;
      return new Promise<undefined>((r) => (release = () => r(undefined)));
    };
    const s = start();
    await waitFor('the binding in flight', () => writes().includes('bind a'));
    const stopped = s.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(decisions).toEqual([]);
    release();
    await stopped;
    live = undefined;
    expect(decisions.map((d) => d.end.bound)).toEqual([true]);
    expect(writes()).toContain('event Scheduled Binding: Successfully assigned ns/a to n1');
    const res = await client.request('GET', '/api/v1/namespaces/ns/pods/a');
    expect(res.status).toBe(200);
  });

  it('re-accounts a bound pod when its resize status changes, and ignores status changes that hold no resources', async () => {
    server.upsert(NODES, node('n1'));
    const running = (cpu: string, status: Record<string, unknown>): FakeObject => ({
      ...pod('r', cpu),
      spec: { ...(pod('r', cpu).spec as object), nodeName: 'n1' },
      status: { phase: 'Running', startTime: '2026-01-01T00:00:05Z', ...status },
    });
    const allocated = (cpu: string, ready: boolean): Record<string, unknown> => ({
      containerStatuses: [{ name: 'c', ready, restartCount: 0, allocatedResources: { cpu }, resources: { requests: { cpu } } }],
    });
    server.upsert(PODS, running('1', allocated('1', false)));
    server.upsert('/apis/policy/v1/poddisruptionbudgets', { metadata: { name: 'budget', namespace: 'ns' }, spec: { selector: { matchLabels: { app: 'r' } } }, status: { disruptionsAllowed: 0 } });
    const s = start();
    await waitFor('synced', () => s.synced);
    const requested = (): number => s.cluster.getNode('n1')!.requested.milliCpu;
    expect(requested()).toBe(1000);
    expect(s.cluster.podDisruptionBudgets.get('ns/budget')?.status?.disruptionsAllowed).toBe(0);
    const before = s.cluster.getPod('uid-r');
    expect(before?.pod.status?.startTime).toBe('2026-01-01T00:00:05Z');
    // Readiness flips: nothing scheduling reads changed, the PodInfo stays.
    server.upsert(PODS, running('1', allocated('1', true)));
    await new Promise((r) => setTimeout(r, 200));
    expect(s.cluster.getPod('uid-r')).toBe(before);
    // A resize to 3 cpu the kubelet defers: upstream charges the new spec at once.
    const deferred = { type: 'PodResizePending', status: 'True', reason: 'Deferred', message: 'Node did not have enough capacity' };
    server.upsert(PODS, running('3', { ...allocated('1', true), conditions: [deferred] }));
    await waitFor('the deferred resize counted', () => requested() === 3000);
    // Marked Infeasible: back to what the kubelet allocated.
    server.upsert(PODS, running('3', { ...allocated('1', true), conditions: [{ ...deferred, reason: 'Infeasible' }] }));
    await waitFor('the infeasible resize dropped', () => requested() === 1000);
  });

  it('keeps PodDisruptionBudgets in the cache through updates and deletes', async () => {
    const PDBS = '/apis/policy/v1/poddisruptionbudgets';
    const budget = (allowed: number): FakeObject => ({
      metadata: { name: 'budget', namespace: 'ns' },
      spec: { selector: { matchLabels: { app: 'r' } } },
      status: { disruptionsAllowed: allowed, currentHealthy: 3 },
    });
    server.upsert(PDBS, budget(0));
    const s = start();
    await waitFor('synced', () => s.synced);
    const cached = (): PodDisruptionBudget | undefined => s.cluster.podDisruptionBudgets.get('ns/budget');
    // Slimmed to what preemption reads.
    expect(cached()?.status).toEqual({ disruptionsAllowed: 0 });
    server.upsert(PDBS, budget(2));
    await waitFor('the update cached', () => cached()?.status?.disruptionsAllowed === 2);
    server.delete(PDBS, 'budget', 'ns');
    await waitFor('the delete applied', () => cached() === undefined);
  });
});
