// The binding half of the framework, run by the core against the in-memory port and a virtual clock: Reserve and
// Unreserve order, Permit's Wait/allow/reject/timeout, PreBindPreFlight and PreBind, the Bind Skip chain, PostBind,
// and how each failure is handled (upstream schedule_one.go semantics).
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../src/config/types.js';
import { MemoryPort } from '../../src/adapters/simulator/memoryPort.js';
import { VirtualClock } from '../../src/adapters/simulator/virtualClock.js';
import type { ClusterState } from '../../src/scheduler/cache/clusterState.js';
import { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import {
  type BindPlugin,
  type FrameworkHandle,
  type PermitPlugin,
  type PostBindPlugin,
  type PreBindPlugin,
  type ReservePlugin,
  SKIP,
  Status,
} from '../../src/scheduler/framework/types.js';
import type { ExtensionPoint } from '../../src/scheduler/plugins/catalog.js';
import type { PluginDescriptor } from '../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import * as DefaultBinder from '../../src/scheduler/plugins/DefaultBinder.js';
import * as DefaultPreemption from '../../src/scheduler/plugins/DefaultPreemption.js';
import * as NodeResourcesFit from '../../src/scheduler/plugins/NodeResourcesFit.js';
import { SeededRandom } from '../../src/scheduler/random.js';
import { type AttemptEnd, Scheduler, type SchedulerDeps } from '../../src/scheduler/scheduler.js';
import { emptyProfile, makeCluster, makeNode, makePod, testDescriptor } from '../helpers/builders.js';

/** Calls made to the test plugins, in order. */
type Log = string[];

function reserver(name: string, log: Log, answer: () => Status | null = () => null): ReservePlugin {
  return {
    name,
    reserve: (_s, pod, node) => {
      log.push(`${name}.reserve ${pod.name}@${node}`);
      return answer();
    },
    unreserve: (_s, pod, node) => {
      log.push(`${name}.unreserve ${pod.name}@${node}`);
    },
  };
}

function permitter(name: string, log: Log, answer: () => { status: Status | null; timeoutMs?: number }): PermitPlugin {
  return {
    name,
    permit: (_s, pod) => {
      log.push(`${name}.permit ${pod.name}`);
      return answer();
    },
  };
}

function preBinder(name: string, log: Log, preFlight: Status | null, run: () => Promise<Status | null> = async () => null): PreBindPlugin {
  return {
    name,
    preBindPreFlight: (_s, pod) => {
      log.push(`${name}.preFlight ${pod.name}`);
      return preFlight;
    },
    preBind: async (_s, pod) => {
      log.push(`${name}.preBind ${pod.name}`);
      return run();
    },
  };
}

function binder(name: string, log: Log, answer: Status | null): BindPlugin {
  return {
    name,
    bind: async (_s, pod) => {
      log.push(`${name}.bind ${pod.name}`);
      return answer;
    },
  };
}

function postBinder(name: string, log: Log): PostBindPlugin {
  return { name, postBind: (_s, pod, node) => void log.push(`${name}.postBind ${pod.name}@${node}`) };
}

interface Harness {
  scheduler: Scheduler;
  cluster: ClusterState;
  port: MemoryPort;
  clock: VirtualClock;
  handle: () => FrameworkHandle;
}

/** A scheduler whose profile runs the given plugins at the given points, then DefaultBinder unless bind is given. */
function harness(
  plugins: Array<{ point: ExtensionPoint; plugin: { name: string } }>,
  cluster = makeCluster([makeNode('n1')]),
  extra: Partial<Pick<SchedulerDeps, 'observer' | 'random'>> = {},
): Harness {
  const profile = emptyProfile();
  // One descriptor per plugin name (a plugin may be listed at several points).
  const descriptors = new Map<string, PluginDescriptor<unknown>>();
  for (const { point, plugin } of plugins) {
    profile.plugins[point].push({ name: plugin.name, weight: 1 });
    descriptors.set(plugin.name, testDescriptor(plugin));
  }
  if (!plugins.some((p) => p.point === 'bind')) {
    profile.plugins.bind.push({ name: DefaultBinder.NAME, weight: 1 });
    descriptors.set(DefaultBinder.NAME, DefaultBinder.descriptor);
  }
  const config = {
    source: 'test',
    parallelism: 16,
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: [profile],
    effective: {},
  } as unknown as SchedulerConfig;
  const clock = new VirtualClock();
  const port = new MemoryPort(cluster);
  const scheduler = new Scheduler({ cluster, config, plugins: new PluginCatalog([...descriptors.values()]), random: extra.random ?? new SeededRandom(3), clock, port, ...(extra.observer ? { observer: extra.observer } : {}) });
  port.attach((event) => scheduler.notify(event));
  return {
    scheduler,
    cluster,
    port,
    clock,
    handle: () => (scheduler.profiles.get('default-scheduler')?.framework.handle as FrameworkHandle),
  };
}

function addPod(h: Harness, name: string): PodInfo {
  const pod = new PodInfo(makePod(name, { uid: `u-${name}` }));
  h.scheduler.upsertPendingPod(pod);
  return pod;
}

async function scheduleOne(h: Harness): Promise<AttemptEnd | undefined> {
  const outcome = h.scheduler.scheduleOne();
  if (!outcome) throw new Error('no pod was ready');
  return outcome.binding;
}

function eventLines(port: MemoryPort): string[] {
  return port.events.map((e) => `${e.pod} ${e.reason}: ${e.message}`);
}

/** Lets pending binding cycles run up to their next wait. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Reserve and Unreserve', () => {
  it('Reserve runs in order; a rejection unreserves every plugin in reverse order and forgets the pod', async () => {
    const log: Log = [];
    const h = harness([
      { point: 'reserve', plugin: reserver('R1', log) },
      { point: 'reserve', plugin: reserver('R2', log, () => Status.unschedulable('no room in R2')) },
      { point: 'reserve', plugin: reserver('R3', log) },
    ]);
    addPod(h, 'a');
    const outcome = h.scheduler.scheduleOne()!;
    expect(outcome.binding).toBeUndefined();
    expect(log).toEqual(['R1.reserve a@n1', 'R2.reserve a@n1', 'R3.unreserve a@n1', 'R2.unreserve a@n1', 'R1.unreserve a@n1']);
    expect(outcome.result).toMatchObject({ kind: 'unschedulable', message: '0/1 nodes are available: 1 no room in R2.', numAllNodes: 1 });
    expect(h.cluster.isAssumed('u-a')).toBe(false);
    expect(h.cluster.getNode('n1')?.pods).toEqual([]);
    // Rejected by R2: the pod waits for an event R2 cares about (unknown plugins: any event).
    expect(h.scheduler.queue.counts().unschedulable).toBe(1);
    expect(h.port.statuses.get('u-a')?.condition).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });

  it('a Reserve plugin that throws is an error naming it (SchedulerError, backoff), never a crash', async () => {
    const log: Log = [];
    const h = harness([
      {
        point: 'reserve',
        plugin: reserver('Boom', log, () => {
          throw new Error('kaput');
        }),
      },
    ]);
    addPod(h, 'a');
    const outcome = h.scheduler.scheduleOne()!;
    expect(outcome.result).toMatchObject({ kind: 'error', message: 'running Reserve plugin "Boom": kaput', plugin: 'Boom' });
    expect(log).toEqual(['Boom.reserve a@n1', 'Boom.unreserve a@n1']);
    expect(h.scheduler.queue.counts().backoff).toBe(1);
    expect(h.port.statuses.get('u-a')?.condition?.reason).toBe('SchedulerError');
  });
});

describe('Permit', () => {
  it('a rejection in Permit unreserves and reports a FitError over the chosen node', () => {
    const log: Log = [];
    const h = harness([
      { point: 'reserve', plugin: reserver('R', log) },
      { point: 'permit', plugin: permitter('P', log, () => ({ status: Status.unschedulable('not yet') })) },
    ]);
    addPod(h, 'a');
    const outcome = h.scheduler.scheduleOne()!;
    expect(outcome.result).toMatchObject({ kind: 'unschedulable', message: '0/1 nodes are available: 1 not yet.' });
    expect(log).toEqual(['R.reserve a@n1', 'P.permit a', 'R.unreserve a@n1']);
    expect(eventLines(h.port)).toEqual(['default/a FailedScheduling: 0/1 nodes are available: 1 not yet.']);
  });

  it('Wait holds the pod (nominated to its node) until the plugin allows it; then it binds and the nomination is gone', async () => {
    const log: Log = [];
    const h = harness([{ point: 'permit', plugin: permitter('Gang', log, () => ({ status: Status.wait(), timeoutMs: 10_000 })) }]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    const waiting = h.handle().getWaitingPod('u-a');
    expect(waiting?.pendingPlugins()).toEqual(['Gang']);
    expect(waiting?.nodeName).toBe('n1');
    expect(h.cluster.isAssumed('u-a')).toBe(true);
    expect(h.port.statuses.get('u-a')?.nominatedNodeName).toBe('n1');
    expect(h.port.bound.size).toBe(0);
    waiting?.allow('Gang');
    expect(await binding).toMatchObject({ bound: true, result: 'scheduled' });
    expect(h.port.bound.get('u-a')).toBe('n1');
    expect(h.port.statuses.get('u-a')?.nominatedNodeName).toBeUndefined();
    expect(eventLines(h.port)).toEqual(['default/a Scheduled: Successfully assigned default/a to n1']);
    expect(h.handle().getWaitingPod('u-a')).toBeUndefined();
  });

  it('a waiting pod is bound only once every waiting plugin allowed it', async () => {
    const log: Log = [];
    const h = harness([
      { point: 'permit', plugin: permitter('P1', log, () => ({ status: Status.wait(), timeoutMs: 5_000 })) },
      { point: 'permit', plugin: permitter('P2', log, () => ({ status: Status.wait(), timeoutMs: 5_000 })) },
    ]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    h.handle().getWaitingPod('u-a')?.allow('P1');
    await settle();
    expect(h.port.bound.size).toBe(0);
    expect(h.handle().getWaitingPod('u-a')?.pendingPlugins()).toEqual(['P2']);
    h.handle().getWaitingPod('u-a')?.allow('P2');
    expect((await binding)?.bound).toBe(true);
  });

  it('another plugin may reject a waiting pod: Unreserve, the FitError message, back to the unschedulable pool', async () => {
    const log: Log = [];
    const h = harness([
      { point: 'reserve', plugin: reserver('R', log) },
      { point: 'permit', plugin: permitter('Gang', log, () => ({ status: Status.wait(), timeoutMs: 60_000 })) },
    ]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    expect(h.handle().rejectWaitingPod('u-a', 'Gang', 'gang member failed')).toBe(true);
    const end = await binding;
    expect(end).toMatchObject({ bound: false, result: 'unschedulable', message: '0/1 nodes are available: 1 gang member failed.' });
    expect(log).toEqual(['R.reserve a@n1', 'Gang.permit a', 'R.unreserve a@n1']);
    expect(h.cluster.isAssumed('u-a')).toBe(false);
    expect(h.scheduler.queue.counts().unschedulable).toBe(1);
    expect(h.port.statuses.get('u-a')).toEqual({
      condition: { status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 gang member failed.' },
    });
    expect(h.handle().rejectWaitingPod('u-a', 'Gang', 'again')).toBe(false);
  });

  it('a wait that times out rejects the pod with upstream\'s text, on the virtual clock', async () => {
    const log: Log = [];
    const h = harness([{ point: 'permit', plugin: permitter('Gang', log, () => ({ status: Status.wait(), timeoutMs: 10_000 })) }]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    h.clock.advanceTo(9_999);
    await settle();
    expect(h.handle().getWaitingPod('u-a')).toBeDefined();
    h.clock.advanceTo(10_000);
    const end = await binding;
    expect(end?.message).toBe('0/1 nodes are available: 1 rejected due to timeout after waiting 10s at plugin Gang.');
    expect(eventLines(h.port)).toEqual([
      'default/a FailedScheduling: 0/1 nodes are available: 1 rejected due to timeout after waiting 10s at plugin Gang.',
    ]);
  });

  it('waits are capped at 15 minutes', async () => {
    const h = harness([{ point: 'permit', plugin: permitter('Slow', [], () => ({ status: Status.wait(), timeoutMs: 3_600_000 })) }]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    h.clock.advanceTo(15 * 60_000);
    expect((await binding)?.message).toBe('0/1 nodes are available: 1 rejected due to timeout after waiting 15m0s at plugin Slow.');
  });

  it('a deleted waiting pod is rejected and dropped', async () => {
    const h = harness([{ point: 'permit', plugin: permitter('Gang', [], () => ({ status: Status.wait(), timeoutMs: 60_000 })) }]);
    addPod(h, 'a');
    const binding = scheduleOne(h);
    await settle();
    h.scheduler.podDeleted('u-a');
    expect((await binding)?.bound).toBe(false);
    expect(h.scheduler.queue.contains('u-a')).toBe(false);
    expect(h.port.events).toEqual([]);
  });
});

describe('PreBind, Bind, PostBind', () => {
  it('PreBindPreFlight decides which PreBind plugins run; with work, the pod is nominated to its node first', async () => {
    const log: Log = [];
    let nominatedDuringPreBind: string | undefined;
    const h = harness([
      { point: 'preBind', plugin: preBinder('Skips', log, SKIP) },
      {
        point: 'preBind',
        plugin: preBinder('Works', log, null, async () => {
          nominatedDuringPreBind = h.port.statuses.get('u-a')?.nominatedNodeName;
          return null;
        }),
      },
      { point: 'postBind', plugin: postBinder('After', log) },
    ]);
    addPod(h, 'a');
    expect((await scheduleOne(h))?.bound).toBe(true);
    expect(log).toEqual(['Skips.preFlight a', 'Works.preFlight a', 'Works.preBind a', 'After.postBind a@n1']);
    expect(nominatedDuringPreBind).toBe('n1');
    expect(h.port.statuses.get('u-a')?.nominatedNodeName).toBeUndefined();
  });

  it('when every PreBind plugin skips, no nomination is written and PreBind does not run', async () => {
    const log: Log = [];
    const h = harness([{ point: 'preBind', plugin: preBinder('Skips', log, SKIP) }]);
    addPod(h, 'a');
    expect((await scheduleOne(h))?.bound).toBe(true);
    expect(log).toEqual(['Skips.preFlight a']);
    expect(h.port.statuses.has('u-a')).toBe(false);
  });

  it('a failing PreBind unreserves, leaves no assumed pod, clears the nomination and backs the pod off; PostBind never runs', async () => {
    const log: Log = [];
    const h = harness([
      { point: 'reserve', plugin: reserver('R', log) },
      { point: 'preBind', plugin: preBinder('Volumes', log, null, async () => Status.error('provisioning failed')) },
      { point: 'postBind', plugin: postBinder('After', log) },
    ]);
    addPod(h, 'a');
    const end = await scheduleOne(h);
    expect(end).toMatchObject({ bound: false, result: 'error', message: 'running PreBind plugin "Volumes": provisioning failed' });
    expect(log).toEqual(['R.reserve a@n1', 'Volumes.preFlight a', 'Volumes.preBind a', 'R.unreserve a@n1']);
    expect(h.cluster.isAssumed('u-a')).toBe(false);
    expect(h.cluster.getNode('n1')?.pods).toEqual([]);
    expect(h.port.bound.size).toBe(0);
    expect(h.scheduler.queue.counts().backoff).toBe(1);
    expect(h.port.statuses.get('u-a')).toEqual({
      condition: { status: 'False', reason: 'SchedulerError', message: 'running PreBind plugin "Volumes": provisioning failed' },
    });
  });

  it('Bind plugins run until one does not Skip; PostBind runs only after a successful binding', async () => {
    const log: Log = [];
    const h = harness([
      { point: 'bind', plugin: binder('Skipper', log, SKIP) },
      { point: 'bind', plugin: binder('Binder', log, null) },
      { point: 'bind', plugin: binder('Never', log, null) },
      { point: 'postBind', plugin: postBinder('After', log) },
    ]);
    addPod(h, 'a');
    expect((await scheduleOne(h))?.bound).toBe(true);
    expect(log).toEqual(['Skipper.bind a', 'Binder.bind a', 'After.postBind a@n1']);
  });

  it('a Bind plugin that rejects or fails ends the chain; when every one skips, the attempt is an error', async () => {
    const log: Log = [];
    const failing = harness([
      { point: 'bind', plugin: binder('Broken', log, Status.error('no route to host')) },
      { point: 'bind', plugin: binder('Never', log, null) },
      { point: 'postBind', plugin: postBinder('After', log) },
    ]);
    addPod(failing, 'a');
    expect((await scheduleOne(failing))?.message).toBe('running Bind plugin "Broken": no route to host');
    expect(log).toEqual(['Broken.bind a']);

    const skipping = harness([{ point: 'bind', plugin: binder('Skipper', [], SKIP) }]);
    addPod(skipping, 'b');
    expect(await scheduleOne(skipping)).toMatchObject({ bound: false, result: 'error', message: 'no Bind plugin bound the pod (every one returned Skip)' });
  });
});

describe('plugin execution times after Score', () => {
  it('a sampled cycle reports each Reserve, Permit, PreBind, Bind and PostBind plugin with its status', async () => {
    const log: Log = [];
    const seen: string[] = [];
    let t = 0;
    const h = harness(
      [
        { point: 'reserve', plugin: reserver('R', log) },
        { point: 'permit', plugin: { name: 'P', permit: () => ({ status: null }) } as PermitPlugin },
        { point: 'preBind', plugin: { name: 'PB', preBind: async () => Status.unschedulable('not yet') } as PreBindPlugin },
        { point: 'postBind', plugin: postBinder('PoB', log) },
      ],
      makeCluster([makeNode('n1')]),
      {
        // Every cycle sampled (intn(100) = 0 < 10) and each clock read 2 ms later.
        random: { intn: () => 0 },
        observer: { now: () => (t += 2), extensionPoint: () => {}, pluginExecution: (plugin, point, status) => void seen.push(`${point}/${plugin}/${status}`) },
      },
    );
    addPod(h, 'a');
    await scheduleOne(h);
    expect(seen.filter((s) => !s.startsWith('Filter') && !s.startsWith('PreFilter'))).toEqual([
      'Reserve/R/Success',
      'Permit/P/Success',
      'PreBind/PB/Unschedulable',
      'Unreserve/R/Success',
    ]);
  });
});

describe('preemption of pods in their binding cycle', () => {
  it('a victim waiting at Permit is rejected in memory (no delete), with upstream\'s event text', async () => {
    const log: Log = [];
    // Permit holds "small" only; NodeResourcesFit and DefaultPreemption are the in-tree plugins.
    const h = harness(
      [
        { point: 'permit', plugin: permitter('HoldSmall', log, () => ({ status: log.length === 1 ? Status.wait() : null, timeoutMs: 60_000 })) },
      ],
      makeCluster([makeNode('n1', { cpu: '1' })]),
    );
    const fw = h.scheduler.profiles.get('default-scheduler')!.framework;
    const inTree = [NodeResourcesFit.descriptor, DefaultPreemption.descriptor];
    // Rebuild the profile with the in-tree filter and PostFilter added.
    const profile = { ...fw.profile, plugins: { ...fw.profile.plugins } };
    profile.plugins.preFilter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
    profile.plugins.filter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
    profile.plugins.postFilter = [{ name: DefaultPreemption.NAME, weight: 1 }];
    const rebuilt = harnessWith(h, profile, inTree);
    const small = new PodInfo(makePod('small', { uid: 'u-small', cpu: '1', priority: 0 }));
    rebuilt.scheduler.upsertPendingPod(small);
    const smallBinding = rebuilt.scheduler.scheduleOne()!.binding;
    await settle();
    expect(rebuilt.handle().getWaitingPod('u-small')).toBeDefined();
    rebuilt.scheduler.upsertPendingPod(new PodInfo(makePod('big', { uid: 'u-big', cpu: '1', priority: 100 })));
    const big = rebuilt.scheduler.scheduleOne()!;
    expect(big.result).toMatchObject({ kind: 'unschedulable', postFilter: { nominatedNodeName: 'n1' } });
    const end = await smallBinding;
    expect(end).toMatchObject({ bound: false, result: 'unschedulable' });
    expect(rebuilt.port.deleted.size).toBe(0);
    expect(eventLines(rebuilt.port)).toContain('default/small Preempted: Preempted by pod u-big on node n1 (in kube-scheduler memory).');
    // The room is free again and the preemptor holds the nomination: it binds at its next attempt.
    expect(rebuilt.cluster.getNode('n1')?.pods).toEqual([]);
    rebuilt.clock.tick(1_000);
    rebuilt.scheduler.queue.flush();
    const retry = rebuilt.scheduler.scheduleOne()!;
    expect(retry.queued.pod.name).toBe('big');
    expect((await retry.binding)?.bound).toBe(true);
  });

  it('a bound victim gets DisruptionTarget and is deleted through the port', async () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '1' })], [makePod('low', { uid: 'u-low', cpu: '1', priority: 0, nodeName: 'n1' })]);
    const h = harness([], cluster);
    const fw = h.scheduler.profiles.get('default-scheduler')!.framework;
    const profile = { ...fw.profile, plugins: { ...fw.profile.plugins } };
    profile.plugins.preFilter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
    profile.plugins.filter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
    profile.plugins.postFilter = [{ name: DefaultPreemption.NAME, weight: 1 }];
    const rebuilt = harnessWith(h, profile, [NodeResourcesFit.descriptor, DefaultPreemption.descriptor]);
    rebuilt.scheduler.upsertPendingPod(new PodInfo(makePod('high', { uid: 'u-high', cpu: '1', priority: 10 })));
    const out = rebuilt.scheduler.scheduleOne()!;
    expect(out.result.kind === 'unschedulable' && out.result.message).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: found a potential placement for pod on node n1, preempting 1 victims',
    );
    await settle();
    expect([...rebuilt.port.deleted]).toEqual(['u-low']);
    expect(rebuilt.port.statuses.get('u-high')).toMatchObject({ nominatedNodeName: 'n1', condition: { reason: 'Unschedulable' } });
    expect(eventLines(rebuilt.port)).toContain('default/low Preempted: Preempted by pod u-high on node n1');
  });
});

/** The same harness with another profile and more plugins (DefaultBinder and the harness's test plugins kept). */
function harnessWith(h: Harness, profile: import('../../src/config/types.js').ProfileConfig, more: PluginDescriptor<unknown>[]): Harness {
  const all = new Map<string, PluginDescriptor<unknown>>([DefaultBinder.descriptor, ...more].map((d) => [d.name, d]));
  for (const point of Object.keys(profile.plugins) as ExtensionPoint[]) {
    for (const { name } of profile.plugins[point]) {
      const existing = h.scheduler.profiles.get('default-scheduler')!.framework;
      if (all.has(name)) continue;
      const instance = [
        ...existing.reserve, ...existing.permit, ...existing.preBind, ...existing.bind, ...existing.postBind, ...existing.filter,
      ].find((p) => p.name === name);
      if (instance) all.set(name, testDescriptor(instance));
    }
  }
  const config = {
    source: 'test',
    parallelism: 16,
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: [profile],
    effective: {},
  } as unknown as SchedulerConfig;
  const clock = new VirtualClock();
  const port = new MemoryPort(h.cluster);
  const scheduler = new Scheduler({ cluster: h.cluster, config, plugins: new PluginCatalog([...all.values()]), random: new SeededRandom(3), clock, port });
  port.attach((event) => scheduler.notify(event));
  return { scheduler, cluster: h.cluster, port, clock, handle: () => scheduler.profiles.get('default-scheduler')!.framework.handle };
}
