// Scheduler.replaceProfiles, the core of a configuration hot reload: new weights decide the next cycles, queued pods
// keep their place, pods of a removed profile leave the queue (reported, never bound), and pods held at Permit by a
// replaced framework are still reached by deletion and stopping.
import { describe, expect, it } from 'vitest';
import type { ProfileConfig, SchedulerConfig } from '../../src/config/types.js';
import type { ClusterState } from '../../src/scheduler/cache/clusterState.js';
import { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import { type FilterPlugin, type PermitPlugin, type ScorePlugin, Status } from '../../src/scheduler/framework/types.js';
import * as DefaultBinder from '../../src/scheduler/plugins/DefaultBinder.js';
import { SeededRandom } from '../../src/scheduler/random.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { MemoryPort } from '../../src/adapters/simulator/memoryPort.js';
import { VirtualClock } from '../../src/adapters/simulator/virtualClock.js';
import { emptyProfile, makeCluster, makeNode, makePod, testDescriptor } from '../helpers/builders.js';

const prefers = (name: string, node: string): ScorePlugin => ({ name, score: (_s, _p, n) => (n.name === node ? 100 : 0) });
const onlyLabelled: FilterPlugin = {
  name: 'OnlyLabelled',
  filter: (_s, _p, n) => (n.node.metadata?.labels?.['ok'] ? null : Status.unschedulable('node(s) not ok')),
};
const holdAtPermit: PermitPlugin = { name: 'Hold', permit: () => ({ status: Status.wait('held'), timeoutMs: 60_000 }) };
let failBuild = false;
const fragile = testDescriptor({ name: 'Fragile', filter: () => null } as FilterPlugin);
const plugins = new PluginCatalog([
  testDescriptor(prefers('PreferN1', 'n1')),
  testDescriptor(prefers('PreferN2', 'n2')),
  testDescriptor(onlyLabelled),
  testDescriptor(holdAtPermit),
  {
    ...fragile,
    create: () => {
      if (failBuild) throw new Error('Fragile: cannot start');
      return { name: 'Fragile', filter: () => null } as FilterPlugin;
    },
  },
  DefaultBinder.descriptor,
]);

interface ProfileSpec {
  n1: number;
  n2: number;
  filter?: boolean;
  hold?: boolean;
  fragile?: boolean;
}

function profileOf(schedulerName: string, spec: ProfileSpec): ProfileConfig {
  const p = emptyProfile({ schedulerName });
  p.plugins.score.push({ name: 'PreferN1', weight: spec.n1 }, { name: 'PreferN2', weight: spec.n2 });
  if (spec.filter) p.plugins.filter.push({ name: 'OnlyLabelled', weight: 1 });
  if (spec.hold) p.plugins.permit.push({ name: 'Hold', weight: 1 });
  if (spec.fragile) p.plugins.filter.push({ name: 'Fragile', weight: 1 });
  p.plugins.bind.push({ name: DefaultBinder.NAME, weight: 1 });
  return p;
}

function configOf(profiles: Record<string, ProfileSpec>): SchedulerConfig {
  return {
    source: 'test',
    parallelism: 16,
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: Object.entries(profiles).map(([name, spec]) => profileOf(name, spec)),
    effective: {},
  } as unknown as SchedulerConfig;
}

function setup(profiles: Record<string, ProfileSpec>, cluster: ClusterState = makeCluster([makeNode('n1'), makeNode('n2')])) {
  const port = new MemoryPort(cluster);
  const clock = new VirtualClock();
  const orphans: string[] = [];
  const s = new Scheduler({
    cluster,
    config: configOf(profiles),
    plugins,
    random: new SeededRandom(1),
    clock,
    port,
    observer: { podWithoutProfile: (pod) => orphans.push(pod.name) },
  });
  port.attach((event) => s.notify(event));
  return { s, orphans, cluster, clock };
}

const pending = (name: string, schedulerName: string) => new PodInfo(makePod(name, { uid: `u-${name}`, spec: { schedulerName } }));

function placed(s: Scheduler): string {
  const out = s.scheduleOne();
  if (out?.result.kind !== 'scheduled') throw new Error(`not scheduled: ${JSON.stringify(out?.result)}`);
  return out.result.nodeName;
}

describe('Scheduler.replaceProfiles', () => {
  it('new weights decide the pods queued before the reload', () => {
    const { s } = setup({ berth: { n1: 5, n2: 1 } });
    for (const name of ['a', 'b', 'c']) s.upsertPendingPod(pending(name, 'berth'));
    expect(placed(s)).toBe('n1');
    const result = s.replaceProfiles(configOf({ berth: { n1: 1, n2: 5 } }));
    expect(result).toEqual({ added: [], removed: [], orphaned: 0 });
    expect(placed(s)).toBe('n2');
    expect(placed(s)).toBe('n2');
  });

  it('pods of a removed profile leave the queue and are reported; the kept profile goes on', () => {
    const { s, orphans } = setup({ berth: { n1: 1, n2: 1 }, 'berth-pack': { n1: 1, n2: 1 } });
    s.upsertPendingPod(pending('kept', 'berth'));
    s.upsertPendingPod(pending('gone1', 'berth-pack'));
    s.upsertPendingPod(pending('gone2', 'berth-pack'));
    const result = s.replaceProfiles(configOf({ berth: { n1: 1, n2: 1 }, 'berth-spread': { n1: 1, n2: 1 } }));
    expect(result).toEqual({ added: ['berth-spread'], removed: ['berth-pack'], orphaned: 2 });
    expect(orphans.sort()).toEqual(['gone1', 'gone2']);
    expect(s.isResponsibleFor(pending('later', 'berth-pack'))).toBe(false);
    expect(s.isResponsibleFor(pending('new', 'berth-spread'))).toBe(true);
    s.upsertPendingPod(pending('later', 'berth-pack'));
    expect(s.scheduleOne()?.queued.pod.name).toBe('kept');
    expect(s.scheduleOne()).toBeUndefined();
  });

  it('unschedulable pods are retried at once, since the new plugins may admit them', () => {
    const { s } = setup({ berth: { n1: 1, n2: 1, filter: true } });
    s.upsertPendingPod(pending('a', 'berth'));
    expect(s.scheduleOne()?.result.kind).toBe('unschedulable');
    expect(s.queue.counts().unschedulable).toBe(1);
    s.replaceProfiles(configOf({ berth: { n1: 1, n2: 1 } }));
    expect(s.queue.counts().unschedulable).toBe(0);
  });

  it('a pod held at Permit by the replaced framework is still rejected when it is deleted', async () => {
    const { s, cluster } = setup({ berth: { n1: 1, n2: 1, hold: true } });
    s.upsertPendingPod(pending('held', 'berth'));
    const out = s.scheduleOne();
    expect(out?.result.kind).toBe('scheduled');
    s.replaceProfiles(configOf({ berth: { n1: 1, n2: 1 } }));
    s.podDeleted('u-held');
    const end = await out!.binding!;
    expect(end.bound).toBe(false);
    expect(cluster.isAssumed('u-held')).toBe(false);
  });

  it('a binding that ends after its profile was removed leaves the pod pending and reports it', async () => {
    const { s, orphans, clock } = setup({ berth: { n1: 1, n2: 1, hold: true } });
    s.upsertPendingPod(pending('held', 'berth'));
    const out = s.scheduleOne()!;
    s.replaceProfiles(configOf({ other: { n1: 1, n2: 1 } }));
    expect(orphans).toEqual([]);
    s.rejectWaitingPods('test: Permit refused');
    expect((await out.binding!).bound).toBe(false);
    // The failed attempt requeued it with backoff; once due, the pop finds no profile and drops it from the queue.
    expect(s.queue.contains('u-held')).toBe(true);
    clock.tick(1000);
    expect(s.scheduleOne()).toBeUndefined();
    expect(orphans).toEqual(['held']);
    expect(s.queue.contains('u-held')).toBe(false);
  });

  it('a new profile whose plugin cannot be built changes nothing', () => {
    const { s } = setup({ berth: { n1: 5, n2: 1 } });
    failBuild = true;
    try {
      expect(() => s.replaceProfiles(configOf({ berth: { n1: 1, n2: 5, fragile: true } }))).toThrow('Fragile: cannot start');
    } finally {
      failBuild = false;
    }
    s.upsertPendingPod(pending('a', 'berth'));
    expect(placed(s)).toBe('n1');
  });
});
