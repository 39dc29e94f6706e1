// Two (then three) `berth run` replicas as separate processes on one Lease: one leads and schedules, the others stand
// by; SIGKILL of the leader in the middle of a burst hands over within the lease duration, SIGTERM hands over at once
// (the Lease is released after the bindings in flight finished); every pod ends bound exactly once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeNodeSpec } from '../../tools/devcluster/index.js';
import { Cluster, type EventV1, httpGet, pod, suffix, waitFor } from './helpers/live.js';
import { decisionLinesFor, Replica } from './helpers/replica.js';

const sfx = suffix();
const ns = `live-le-${sfx}`;
const schedulerName = `berth-le-${sfx}`;
const leaseName = `berth-le-${sfx}`;
const GROUP = 'live.berth.test/group';
const selector = { [GROUP]: `le-${sfx}` };
const tmp = mkdtempSync(join(tmpdir(), 'berth-live-le-'));
const configPath = join(tmp, 'config.yaml');
// Short but client-go-valid timings: leaseDuration > renewDeadline > 1.2 × retryPeriod.
// The lease is long enough that a takeover on release (within ~2 s) and one on expiry (≥ 8 s) cannot be confused on
// a loaded machine.
const LEASE_MS = 8_000;
const RETRY_MS = 1_000;

let cluster: Cluster;
const replicas: Replica[] = [];

function replica(label: string): Replica {
  const r = new Replica(label, configPath, inject('kubeconfigPath'));
  replicas.push(r);
  return r;
}

async function holder(): Promise<string> {
  return (await cluster.lease(ns, leaseName))?.spec?.holderIdentity ?? '';
}

async function createPods(prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((n) => cluster.createPod(pod(ns, n, { schedulerName, nodeSelector: selector }))));
  return names;
}

/** Scheduled events per pod name. */
async function scheduledEvents(): Promise<Map<string, EventV1[]>> {
  const out = new Map<string, EventV1[]>();
  for (const e of await cluster.events(ns)) {
    if (e.reason !== 'Scheduled') continue;
    const name = e.regarding?.name ?? '';
    out.set(name, [...(out.get(name) ?? []), e]);
  }
  return out;
}

/** How many replicas logged each pod ("ns/name") as scheduled. */
function decisionCounts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of replicas) for (const p of r.scheduledPods()) out.set(p, (out.get(p) ?? 0) + 1);
  return out;
}

/** Waits until one of the given replicas leads: the Lease names it and it logged "started leading". */
async function leaderAmong(candidates: Array<{ r: Replica; identity: string }>, timeoutMs: number): Promise<{ r: Replica; identity: string }> {
  return waitFor('a leader', timeoutMs, async () => {
    const h = await holder();
    const c = candidates.find((x) => x.identity === h);
    return c && c.r.has('started leading: scheduling') ? c : undefined;
  }, 50);
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  const nodes: FakeNodeSpec[] = Array.from({ length: 4 }, (_, i) => ({
    name: `live-le-${sfx}-${i}`,
    cpu: '64',
    memory: '256Gi',
    pods: '110',
    labels: selector,
  }));
  await cluster.createNodes(nodes);
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  leaseDuration: ${LEASE_MS / 1000}s
  renewDeadline: 5s
  retryPeriod: ${RETRY_MS / 1000}s
  resourceName: ${leaseName}
  resourceNamespace: ${ns}
profiles:
  - schedulerName: ${schedulerName}
`,
  );
});

afterAll(async () => {
  for (const r of replicas) r.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('berth replicas with leader election (separate processes)', () => {
  let survivor: { r: Replica; identity: string };
  const allPods: string[] = [];

  it('one leads and the other stands by; after SIGKILL of the leader mid-burst the other takes over; no pod bound twice', async () => {
    const a = replica('a');
    const b = replica('b');
    const [ia, ib] = await Promise.all([a.started(), b.started()]);
    expect(ia.identity).not.toBe(ib.identity);
    const candidates = [
      { r: a, ...ia },
      { r: b, ...ib },
    ];
    const leader = await leaderAmong(candidates, 15_000);
    const standby = candidates.find((c) => c !== leader) as (typeof candidates)[number];
    // The standby syncs its caches (ready) but does not schedule.
    await waitFor('the standby to be ready', 15_000, async () => ((await httpGet(`${standby.address}/readyz`)).status === 200 ? true : undefined));

    const first = await createPods('first', 20);
    allPods.push(...first);
    await cluster.waitBound(ns, first, 20_000);
    expect(standby.r.scheduledPods()).toEqual([]);
    expect(standby.r.has('started leading: scheduling')).toBe(false);
    await waitFor('the leader to log every first-batch decision', 5_000, () =>
      first.every((n) => leader.r.scheduledPods().includes(`${ns}/${n}`)) ? true : undefined,
    );

    // A burst; kill the leader as soon as it has bound a few of it, bindings possibly in flight.
    const burst = await createPods('burst', 60);
    allPods.push(...burst);
    await waitFor('the leader to bind part of the burst', 15_000, () =>
      leader.r.scheduledPods().filter((p) => p.startsWith(`${ns}/burst-`)).length >= 5 ? true : undefined,
    5);
    leader.r.kill('SIGKILL');
    const killed = await leader.r.exited;
    expect(killed.signal).toBe('SIGKILL');
    const boundByLeader = new Set(leader.r.scheduledPods());
    expect(boundByLeader.size).toBeLessThan(first.length + burst.length);

    // The standby takes over once the unreleased Lease expired: leaseDuration after it last saw the dead leader renew
    // (≤ retryPeriod before the kill), plus up to one jittered retry (retryPeriod × 2.2). Measured on the Lease's own
    // times, written by the two replicas on this machine's clock, so neither this test's polling nor a replica's log
    // pipe adds to it. Never sooner than leaseDuration after the last renewal (that would be two leaders at once);
    // the upper bound is generous, for a loaded machine: what it rules out is waiting for anything but the Lease.
    const lastRenewal = Date.parse((await cluster.lease(ns, leaseName))?.spec?.renewTime ?? '');
    const taken = await leaderAmong([standby], LEASE_MS + RETRY_MS * 2.2 + 15_000);
    const acquired = Date.parse((await cluster.lease(ns, leaseName))?.spec?.acquireTime ?? '');
    expect(taken.identity).toBe(standby.identity);
    expect(acquired - lastRenewal).toBeGreaterThanOrEqual(LEASE_MS);
    expect(acquired - killed.at).toBeLessThan(LEASE_MS + RETRY_MS * 2.2 + 5_000);
    const bound = await cluster.waitBound(ns, allPods, 30_000);
    expect(bound.size).toBe(allPods.length);
    // The survivor's decision lines may still be in its stdout pipe: wait until they match what it counted.
    await standby.r.decisionsSettled(standby.address);

    // No pod bound twice: never two "scheduled" decisions for one pod across the replicas, never two Scheduled events,
    // and no binding was refused (a second Binding for a bound pod is a 409 the replica would log).
    const decisions = decisionCounts();
    for (const [p, n] of decisions) expect(n, p).toBe(1);
    expect(a.bindFailures()).toEqual([]);
    expect(b.bindFailures()).toEqual([]);
    // Every pod fits: no FailedScheduling at all (a refused Binding would be reported as one: running Bind plugin "DefaultBinder": ...).
    expect((await cluster.events(ns)).filter((e) => e.reason !== 'Scheduled').map((e) => `${e.reason}: ${e.note}`)).toEqual([]);
    const events = await waitFor('Scheduled events of the pods the survivor bound', 5_000, async () => {
      const ev = await scheduledEvents();
      return standby.r.scheduledPods().every((p) => ev.get(p.slice(ns.length + 1))?.length === 1) ? ev : undefined;
    });
    for (const n of allPods) {
      const list = events.get(n) ?? [];
      expect(list.length, n).toBeLessThanOrEqual(1);
      for (const e of list) expect(e.note).toBe(`Successfully assigned ${ns}/${n} to ${bound.get(n)}`);
      if (!decisions.has(`${ns}/${n}`)) {
        // Only the killed leader can have bound a pod without logging it: the kill fell between the Binding's
        // answer and the log line (or the Scheduled event). The survivor accounts for every other pod.
        expect(standby.r.scheduledPods(), n).not.toContain(`${ns}/${n}`);
      }
    }
    // Pods without a decision line are at most the bindings the killed leader had in flight (--bind-concurrency 16).
    expect(allPods.filter((n) => !decisions.has(`${ns}/${n}`)).length).toBeLessThanOrEqual(16);
    expect(standby.r.scheduledPods().length).toBeGreaterThan(0);
    expect(standby.r.alive).toBe(true);
    survivor = standby;
  });

  it('SIGTERM: the leader finishes its bindings, releases the Lease and exits 0; the standby takes over at once', async () => {
    expect(survivor).toBeDefined();
    const c = replica('c');
    const ic = await c.started();
    await waitFor('c to be ready', 15_000, async () => ((await httpGet(`${ic.address}/readyz`)).status === 200 ? true : undefined));
    expect(await holder()).toBe(survivor.identity);

    const names = await createPods('term', 60);
    allPods.push(...names);
    await waitFor('the leader to bind part of the batch', 15_000, () =>
      survivor.r.scheduledPods().filter((p) => p.startsWith(`${ns}/term-`)).length >= 5 ? true : undefined,
    5);
    const t0 = Date.now();
    survivor.r.kill('SIGTERM');
    const exit = await survivor.r.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(10_000);
    // Released on the way out: no holder (or already c, if it was that quick).
    expect(['', ic.identity]).toContain(await holder());
    expect(survivor.r.has('stopped')).toBe(true);

    // c acquires at its next try (retryPeriod × up to 2.2) after it sees the released Lease, not leaseDuration after
    // the survivor's last renewal. Measured on c's acquireTime, not on this test's polling.
    await leaderAmong([{ r: c, identity: ic.identity }], LEASE_MS + 10_000);
    const acquired = Date.parse((await cluster.lease(ns, leaseName))?.spec?.acquireTime ?? '');
    expect(acquired - exit.at).toBeLessThan(LEASE_MS);
    const bound = await cluster.waitBound(ns, names, 30_000);
    await c.decisionsSettled(ic.address);
    await decisionLinesFor(replicas, names.map((n) => `${ns}/${n}`));

    // Every pod of this batch bound exactly once, by exactly one replica, with exactly one Scheduled event: the
    // leader's last bindings got their events written before it exited.
    const decisions = decisionCounts();
    for (const n of names) expect(decisions.get(`${ns}/${n}`), n).toBe(1);
    expect(survivor.r.scheduledPods().filter((p) => p.startsWith(`${ns}/term-`)).length).toBeGreaterThanOrEqual(5);
    expect(c.scheduledPods().length).toBeGreaterThan(0);
    expect(survivor.r.bindFailures()).toEqual([]);
    expect(c.bindFailures()).toEqual([]);
    const events = await waitFor('one Scheduled event per pod of the batch', 5_000, async () => {
      const ev = await scheduledEvents();
      return names.every((n) => (ev.get(n)?.length ?? 0) >= 1) ? ev : undefined;
    });
    for (const n of names) {
      expect(events.get(n)?.map((e) => e.note), n).toEqual([`Successfully assigned ${ns}/${n} to ${bound.get(n)}`]);
    }

    c.kill('SIGTERM');
    expect(await c.exited).toMatchObject({ code: 0 });
    expect(await holder()).toBe('');
  });
});
