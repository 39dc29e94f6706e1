// `berth run` against the real control plane, in-process (startBerth): binding, events and conditions, the exact
// FailedScheduling message, taints, node affinity, host ports, ImageLocality weights, /metrics and health endpoints,
// and a graceful stop. Everything here is unique to this file (namespace, schedulerNames, node names and labels,
// Lease), so it shares the control plane with the other integration files; pods select this file's nodes only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { Pod } from '../../src/kube/api.js';
import type { FakeNodeSpec } from '../../tools/devcluster/index.js';
import { createLogger } from '../../src/observe/logging.js';
import { AFFINITY_MISMATCH, Cluster, type EventV1, failedSchedulingMessage, httpGet, NO_VICTIMS, nodesInMessage, NOT_HELPFUL, parsePrometheus, pod, podScheduledCondition, PORTS_TAKEN, select, suffix, sum, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `live-${sfx}`;
const schedulerName = `berth-live-${sfx}`;
const otherScheduler = `other-scheduler-${sfx}`;
const leaseName = `berth-live-${sfx}`;
const GROUP = 'live.berth.test/group';
const CASE = 'live.berth.test/case';
const tmp = mkdtempSync(join(tmpdir(), 'berth-live-'));

let cluster: Cluster;
let berth: RunningBerth | undefined;
const logLines: string[] = [];

const nodeName = (c: string, i: number): string => `live-${sfx}-${c}-${i}`;
const selector = (c: string): Record<string, string> => ({ [GROUP]: sfx, [CASE]: c });
const node = (c: string, i: number, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec => ({
  name: nodeName(c, i),
  cpu: '8',
  memory: '32Gi',
  ...extra,
  labels: { ...selector(c), ...(extra.labels ?? {}) },
});
const mine = (name: string, c: string, extra: Partial<Parameters<typeof pod>[2]> = {}): Pod =>
  pod(ns, name, { schedulerName, nodeSelector: selector(c), ...extra });

function writeConfig(name: string, leaderElection: string, profiles: string): string {
  const path = join(tmp, name);
  writeFileSync(
    path,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
${leaderElection}
profiles:
${profiles}
`,
  );
  return path;
}

async function start(configPath: string, lines: string[]): Promise<RunningBerth> {
  const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
  const b = await startBerth(
    { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16 },
    undefined,
    logger,
  );
  await untilReadyAndLeading(b);
  return b;
}

async function eventsFor(name: string): Promise<EventV1[]> {
  return (await cluster.events(ns)).filter((e) => e.regarding?.name === name);
}

/** Waits for the pod's latest FailedScheduling event and its PodScheduled=False condition; returns both messages. */
async function failure(name: string): Promise<{ event: EventV1; condition: { reason?: string; message?: string; status: string } }> {
  return waitFor(`FailedScheduling event and condition of ${name}`, 15_000, async () => {
    const event = (await eventsFor(name)).find((e) => e.reason === 'FailedScheduling');
    const condition = podScheduledCondition(await cluster.getPod(ns, name));
    return event && condition ? { event, condition } : undefined;
  });
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  const config = writeConfig(
    'main.yaml',
    `  leaderElect: true
  leaseDuration: 4s
  renewDeadline: 3s
  retryPeriod: 1s
  resourceName: ${leaseName}
  resourceNamespace: ${ns}`,
    `  - schedulerName: ${schedulerName}`,
  );
  berth = await start(config, logLines);
});

afterAll(async () => {
  await berth?.shutdown('test over');
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('berth run against the real control plane', () => {
  it('binds pods naming berth, with one Scheduled event each, and leaves pods of other schedulers alone', async () => {
    await cluster.createNodes([node('basic', 1), node('basic', 2)]);
    // The other scheduler's pod comes first: the pod watch is one ordered stream, so once berth bound the later pods
    // it has seen this one too.
    await cluster.createPod(pod(ns, 'foreign', { schedulerName: otherScheduler, nodeSelector: selector('basic') }));
    // No kube-scheduler runs in the test control plane: a default-scheduler pod stays pending unless berth took it.
    await cluster.createPod(pod(ns, 'default', { schedulerName: 'default-scheduler', nodeSelector: selector('basic') }));
    const names = ['basic-0', 'basic-1', 'basic-2', 'basic-3', 'basic-4'];
    for (const n of names) await cluster.createPod(mine(n, 'basic'));
    const bound = await cluster.waitBound(ns, names, 15_000);
    for (const n of names) expect([nodeName('basic', 1), nodeName('basic', 2)]).toContain(bound.get(n));

    const scheduled = await waitFor('a Scheduled event per pod', 10_000, async () => {
      const events = (await cluster.events(ns)).filter((e) => e.reason === 'Scheduled');
      return names.every((n) => events.some((e) => e.regarding?.name === n)) ? events : undefined;
    });
    for (const n of names) {
      const mineEvents = scheduled.filter((e) => e.regarding?.name === n);
      expect(mineEvents).toHaveLength(1);
      const e = mineEvents[0] as EventV1;
      expect(e.type).toBe('Normal');
      // Upstream finishBinding writes Scheduled with the action "Binding".
      expect(e.action).toBe('Binding');
      expect(e.reportingController).toBe(schedulerName);
      expect(e.regarding?.kind).toBe('Pod');
      expect(e.note).toBe(`Successfully assigned ${ns}/${n} to ${bound.get(n)}`);
    }

    for (const name of ['foreign', 'default']) {
      const other = await cluster.getPod(ns, name);
      expect(other.spec?.nodeName, name).toBeFalsy();
      expect(podScheduledCondition(other), name).toBeUndefined();
      expect(await eventsFor(name), name).toEqual([]);
      expect(berth?.scheduler.scheduler.queue.contains(other.metadata?.uid ?? ''), name).toBe(false);
    }
  });

  it('writes the exact FailedScheduling event and condition, then binds the pod within 10 s of a fitting node appearing', async () => {
    const widget = `berth.test/widget-${sfx}`;
    await cluster.createNodes([node('unsched', 1)]);
    const before = await cluster.nodeCount();
    // Tolerating every taint makes other files' tainted or cordoned nodes fail on the nodeSelector like the rest.
    await cluster.createPod(mine('needs-widget', 'unsched', { extended: { [widget]: '1' }, tolerations: [{ operator: 'Exists' }] }));
    const { event, condition } = await failure('needs-widget');
    const after = await cluster.nodeCount();

    // N counts every node of the shared cluster: the one of ours lacks the widget, all others miss the selector;
    // both are unresolvable (the widget request exceeds the node's total), so preemption cannot help anywhere.
    const expected = (n: number): string =>
      failedSchedulingMessage(n, { [`Insufficient ${widget}`]: 1, [AFFINITY_MISMATCH]: n - 1 }, { [NOT_HELPFUL]: n });
    const n = nodesInMessage(event.note ?? '');
    expect(n).toBeGreaterThanOrEqual(Math.min(before, after));
    expect(n).toBeLessThanOrEqual(Math.max(before, after));
    expect(event.note).toBe(expected(n));
    expect(event.type).toBe('Warning');
    expect(event.action).toBe('Scheduling');
    expect(event.reportingController).toBe(schedulerName);
    expect(condition.status).toBe('False');
    expect(condition.reason).toBe('Unschedulable');
    expect(condition.message).toBe(expected(nodesInMessage(condition.message ?? '')));

    const t0 = Date.now();
    await cluster.createNodes([node('unsched', 2, { extended: { [widget]: '1' } })]);
    const bound = await cluster.waitBound(ns, ['needs-widget'], 10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(bound.get('needs-widget')).toBe(nodeName('unsched', 2));
    const scheduled = await waitFor('Scheduled event', 5_000, async () =>
      (await eventsFor('needs-widget')).find((e) => e.reason === 'Scheduled'),
    );
    expect(scheduled.note).toBe(`Successfully assigned ${ns}/needs-widget to ${nodeName('unsched', 2)}`);
  });

  it('never places a pod on a node with an untolerated NoSchedule taint; a tolerating pod may go there', async () => {
    // The tainted node is the roomier one, so without the taint the resource scores would prefer it.
    await cluster.createNodes([
      node('taint', 1, { cpu: '64', memory: '256Gi', taints: [{ key: `berth.test/dedicated-${sfx}`, value: 'x', effect: 'NoSchedule' }] }),
      node('taint', 2),
    ]);
    const names = ['taint-0', 'taint-1', 'taint-2', 'taint-3'];
    for (const n of names) await cluster.createPod(mine(n, 'taint'));
    await cluster.createPod(
      mine('taint-tolerating', 'taint', {
        tolerations: [{ key: `berth.test/dedicated-${sfx}`, operator: 'Equal', value: 'x', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName('taint', 1)] }] }],
            },
          },
        },
      }),
    );
    const bound = await cluster.waitBound(ns, [...names, 'taint-tolerating'], 15_000);
    for (const n of names) expect(bound.get(n)).toBe(nodeName('taint', 2));
    expect(bound.get('taint-tolerating')).toBe(nodeName('taint', 1));
  });

  it('honours required node affinity and follows preferred node affinity', async () => {
    const zone = `berth.test/zone-${sfx}`;
    // The preferred node is the smallest, so only the preference can make it win.
    await cluster.createNodes([
      node('aff', 1, { cpu: '32', memory: '128Gi', labels: { [zone]: 'z1' } }),
      node('aff', 2, { labels: { [zone]: 'z2' } }),
      node('aff', 3, { cpu: '2', memory: '8Gi', labels: { [zone]: 'z3' } }),
    ]);
    await cluster.createPod(
      mine('aff-required', 'aff', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: zone, operator: 'In', values: ['z2'] }] }] },
          },
        },
      }),
    );
    await cluster.createPod(
      mine('aff-preferred', 'aff', {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, preference: { matchExpressions: [{ key: zone, operator: 'In', values: ['z3'] }] } },
            ],
          },
        },
      }),
    );
    await cluster.createPod(mine('aff-none', 'aff'));
    const bound = await cluster.waitBound(ns, ['aff-required', 'aff-preferred', 'aff-none'], 15_000);
    expect(bound.get('aff-required')).toBe(nodeName('aff', 2));
    expect(bound.get('aff-preferred')).toBe(nodeName('aff', 3));
    // Without a preference the least-allocated (biggest) node wins: the preference above was what moved the pod.
    expect(bound.get('aff-none')).toBe(nodeName('aff', 1));
  });

  it('never puts two pods with the same hostPort on one node; a third waits with the ports message', async () => {
    await cluster.createNodes([node('hp', 1), node('hp', 2)]);
    await cluster.createPod(mine('hp-0', 'hp', { hostPort: 18080 }));
    await cluster.createPod(mine('hp-1', 'hp', { hostPort: 18080 }));
    const bound = await cluster.waitBound(ns, ['hp-0', 'hp-1'], 15_000);
    expect(new Set(bound.values())).toEqual(new Set([nodeName('hp', 1), nodeName('hp', 2)]));

    // Tolerating every taint makes tainted nodes (this file's taint test, other files) fail on the nodeSelector too.
    await cluster.createPod(mine('hp-2', 'hp', { hostPort: 18080, tolerations: [{ operator: 'Exists' }] }));
    const { event, condition } = await failure('hp-2');
    // Our two nodes are taken (resolvable: preemption looks there but finds no lower-priority victims).
    const expected = (n: number): string =>
      failedSchedulingMessage(n, { [PORTS_TAKEN]: 2, [AFFINITY_MISMATCH]: n - 2 }, { [NO_VICTIMS]: 2, [NOT_HELPFUL]: n - 2 });
    expect(event.note).toBe(expected(nodesInMessage(event.note ?? '')));
    expect(condition.reason).toBe('Unschedulable');
    expect(condition.message).toBe(expected(nodesInMessage(condition.message ?? '')));
    expect((await cluster.getPod(ns, 'hp-2')).spec?.nodeName).toBeFalsy();
  });

  it('serves /metrics as Prometheus text whose counters match what happened, and healthy health endpoints', async () => {
    const b = berth as RunningBerth;
    const pods = (await cluster.listPods(ns)).filter((p) => p.spec?.schedulerName === schedulerName);
    const boundPods = pods.filter((p) => p.spec?.nodeName);
    const pending = pods.filter((p) => !p.spec?.nodeName);
    expect(boundPods.length).toBe(5 + 1 + 5 + 3 + 2);
    expect(pending.map((p) => p.metadata?.name)).toEqual(['hp-2']);
    expect(pods.map((p) => p.metadata?.name)).not.toContain('default');

    // Every bound pod has exactly one Scheduled event from berth; nothing else was bound twice or failed to bind.
    const events = await cluster.events(ns);
    for (const p of boundPods) {
      const scheduled = events.filter((e) => e.reason === 'Scheduled' && e.regarding?.name === p.metadata?.name);
      expect(scheduled.map((e) => [e.reportingController, e.series?.count ?? 1])).toEqual([[schedulerName, 1]]);
    }

    const url = `${b.server.address}/metrics`;
    const scrape = async (): Promise<ReturnType<typeof parsePrometheus>> => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheus(await res.text());
    };
    // The counter moves when the binding response arrives, which may trail the pod's nodeName by a moment.
    const exp = await waitFor('scheduled attempts to reach the bound pods', 5_000, async () => {
      const e = await scrape();
      return sum(select(e, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile: schedulerName })) === boundPods.length
        ? e
        : undefined;
    });
    expect(exp.types.get('scheduler_schedule_attempts_total')).toBe('counter');
    expect(select(exp, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile: schedulerName })).toHaveLength(1);
    // Every unschedulable attempt wrote a FailedScheduling event (or bumped its series) and a decision line: the counter
    // lies between what reached the API server and what was logged by now; needs-widget and hp-2 failed at least once.
    const unschedulable = sum(select(exp, 'scheduler_schedule_attempts_total', { result: 'unschedulable', profile: schedulerName }));
    const unschedulableLogged = logLines.filter((l) => (JSON.parse(l) as { decision?: string }).decision === 'unschedulable').length;
    const failedEvents = (await cluster.events(ns)).filter((e) => e.reason === 'FailedScheduling');
    expect(unschedulable).toBeGreaterThanOrEqual(2);
    expect(unschedulable).toBeGreaterThanOrEqual(failedEvents.reduce((n, e) => n + (e.series?.count ?? 1), 0));
    expect(unschedulable).toBeLessThanOrEqual(unschedulableLogged);
    expect(sum(select(exp, 'scheduler_schedule_attempts_total', { result: 'error' }))).toBe(0);
    expect(select(exp, 'scheduler_schedule_attempts_total').every((s) => s.labels['profile'] === schedulerName)).toBe(true);
    expect(
      sum(select(exp, 'scheduler_scheduling_attempt_duration_seconds_count', { result: 'scheduled', profile: schedulerName })),
    ).toBe(boundPods.length);

    // berth_pods_placed_total: per node exactly the pods the API server shows there.
    const placed = select(exp, 'berth_pods_placed_total', { profile: schedulerName });
    expect(sum(placed)).toBe(boundPods.length);
    const perNode = new Map<string, number>();
    for (const p of boundPods) perNode.set(p.spec?.nodeName ?? '', (perNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    expect(new Map(placed.map((s) => [s.labels['node'] ?? '', s.value]))).toEqual(perNode);

    // The four queues; hp-2 is the only pod of ours still pending.
    const queues = select(exp, 'scheduler_pending_pods');
    expect(exp.types.get('scheduler_pending_pods')).toBe('gauge');
    expect(queues.map((s) => s.labels['queue']).sort()).toEqual(['active', 'backoff', 'gated', 'unschedulable']);
    expect(sum(queues)).toBe(1);
    expect(exp.types.get('scheduler_framework_extension_point_duration_seconds')).toBe('histogram');
    expect(select(exp, 'scheduler_framework_extension_point_duration_seconds_count', { extension_point: 'Filter', profile: schedulerName }).length).toBeGreaterThan(0);
    expect(sum(select(exp, 'berth_plugin_weighted_score_count', { profile: schedulerName }))).toBeGreaterThan(0);

    for (const path of ['/healthz', '/livez', '/readyz']) {
      expect(await httpGet(`${b.server.address}${path}`), path).toEqual({ status: 200, body: 'ok' });
    }

    // One decision log line per bound pod, naming the node the API server shows.
    const decisions = logLines.map((l) => JSON.parse(l) as { decision?: string; pod?: string; node?: string }).filter((d) => d.decision === 'scheduled');
    expect(decisions.map((d) => `${d.pod}@${d.node}`).sort()).toEqual(
      boundPods.map((p) => `${ns}/${p.metadata?.name}@${p.spec?.nodeName}`).sort(),
    );
  });

  it('stops gracefully: in-flight bindings finish, no pod is left assumed but unbound, the Lease is released', async () => {
    const b = berth as RunningBerth;
    await cluster.createNodes([node('stop', 1, { cpu: '64', memory: '256Gi' }), node('stop', 2, { cpu: '64', memory: '256Gi' })]);
    const scheduledBefore = b.scheduler.counters.scheduled;
    const names = Array.from({ length: 40 }, (_, i) => `stop-${i}`);
    await Promise.all(names.map((n) => cluster.createPod(mine(n, 'stop'))));
    // Stop in the middle of things: as soon as the first of these pods is bound.
    await waitFor('berth to start binding the burst', 15_000, () => (b.scheduler.counters.scheduled > scheduledBefore ? true : undefined), 5);
    const t0 = Date.now();
    await b.shutdown('test: graceful stop');
    berth = undefined;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(b.scheduler.running).toBe(false);

    const lease = await cluster.lease(ns, leaseName);
    expect(lease?.spec?.holderIdentity ?? '').toBe('');
    await expect(fetch(`${b.server.address}/healthz`)).rejects.toThrow();

    const pods = (await cluster.listPods(ns)).filter((p) => names.includes(p.metadata?.name ?? ''));
    expect(pods).toHaveLength(names.length);
    for (const p of pods) {
      // An assumption berth still holds must belong to a pod the API server has bound (only the watch confirming
      // it was cut short); an unbound pod must not be assumed.
      if (b.scheduler.cluster.isAssumed(p.metadata?.uid ?? '')) expect(p.spec?.nodeName, p.metadata?.name).toBeTruthy();
    }
    // Every binding the API server accepted is one berth counted, and vice versa.
    const allBound = (await cluster.listPods(ns)).filter((p) => p.spec?.schedulerName === schedulerName && p.spec?.nodeName);
    expect(b.scheduler.counters.scheduled).toBe(allBound.length);
    expect(b.scheduler.counters.bindFailures).toBe(0);
    const boundNow = pods.filter((p) => p.spec?.nodeName).map((p) => p.metadata?.name ?? '');
    expect(boundNow.length).toBeGreaterThan(0);
    // Each of them also got its Scheduled event (written after the binding, so possibly a moment later).
    await waitFor('a Scheduled event for every pod bound before the stop', 5_000, async () => {
      const events = (await cluster.events(ns)).filter((e) => e.reason === 'Scheduled');
      return boundNow.every((n) => events.filter((e) => e.regarding?.name === n).length === 1) ? true : undefined;
    });
  });
});

describe('ImageLocality weight, live', () => {
  const high = `berth-il-high-${sfx}`;
  const low = `berth-il-low-${sfx}`;
  const lines: string[] = [];
  let il: RunningBerth | undefined;

  beforeAll(async () => {
    const config = writeConfig(
      'image-locality.yaml',
      `  leaderElect: true
  leaseDuration: 4s
  renewDeadline: 3s
  retryPeriod: 1s
  resourceName: ${leaseName}-il
  resourceNamespace: ${ns}`,
      // As examples/image-locality: weight 10 against the defaults, and weight 1 against NodeResourcesFit at 5.
      `  - schedulerName: ${high}
    plugins:
      score:
        enabled:
          - name: ImageLocality
            weight: 10
  - schedulerName: ${low}
    plugins:
      score:
        enabled:
          - name: ImageLocality
            weight: 1
          - name: NodeResourcesFit
            weight: 5`,
    );
    il = await start(config, lines);
  });

  afterAll(async () => {
    await il?.shutdown('test over');
  });

  // ImageLocality scales an image's size by the share of ALL nodes holding it, and the shared cluster has many
  // nodes from other files: an image of 4 TB keeps the holder's score at the 100 maximum for clusters up to ~4000 nodes.
  const imageSize = 4_000_000_000_000;

  async function replicas(profile: string, c: string): Promise<Map<string, string>> {
    const image = `registry.berth.test/${c}-${sfx}:1.0`;
    await cluster.createNodes([
      node(c, 1, { cpu: '20', memory: '64Gi', images: [{ names: [image], sizeBytes: imageSize }] }),
      node(c, 2, { cpu: '20', memory: '64Gi' }),
      node(c, 3, { cpu: '20', memory: '64Gi' }),
    ]);
    const names = Array.from({ length: 6 }, (_, i) => `${c}-${i}`);
    for (const n of names) {
      await cluster.createPod(pod(ns, n, { schedulerName: profile, nodeSelector: selector(c), image, cpu: '2', memory: '4Gi' }));
    }
    return cluster.waitBound(ns, names, 20_000);
  }

  it('weighted high, replicas pile onto the node holding the image; weighted low against NodeResourcesFit, they spread', async () => {
    const [piled, spread] = await Promise.all([replicas(high, 'ilhigh'), replicas(low, 'illow')]);
    expect(new Set(piled.values())).toEqual(new Set([nodeName('ilhigh', 1)]));
    expect(new Set(spread.values())).toEqual(new Set([nodeName('illow', 1), nodeName('illow', 2), nodeName('illow', 3)]));
    const counts = new Map<string, number>();
    for (const n of spread.values()) counts.set(n, (counts.get(n) ?? 0) + 1);
    // The image still draws more replicas to its holder than to either other node.
    expect(counts.get(nodeName('illow', 1)) ?? 0).toBeGreaterThan(Math.max(counts.get(nodeName('illow', 2)) ?? 0, counts.get(nodeName('illow', 3)) ?? 0));

    // Each profile counted its own six pods, and the high profile placed all of them on the image holder.
    const scheduled = (e: ReturnType<typeof parsePrometheus>, profile: string): number =>
      sum(select(e, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile }));
    const exp = await waitFor('both profiles counted', 5_000, async () => {
      const e = parsePrometheus((await httpGet(`${il?.server.address}/metrics`)).body);
      return scheduled(e, high) === 6 && scheduled(e, low) === 6 ? e : undefined;
    });
    expect(select(exp, 'berth_pods_placed_total', { profile: high }).map((s) => [s.labels['node'], s.value])).toEqual([[nodeName('ilhigh', 1), 6]]);
    expect(sum(select(exp, 'berth_pods_placed_total', { profile: low }))).toBe(6);
  });
});
