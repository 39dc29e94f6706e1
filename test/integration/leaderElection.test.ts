// Leader election against the real control plane: two electors on one Lease through the project's KubeClient.
// One leads; stopping it releases the Lease and the other takes over.
import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { type Lease, LeaderElector, leaseApiFromRequester, type LeaderElectorOptions } from '../../src/adapters/live/leaderElection.js';

const leaseName = `berth-le-${randomBytes(3).toString('hex')}`;
const namespace = 'kube-system';

let kc: KubeConfig;
let client: KubeClient;

async function waitUntil(what: string, timeoutMs: number, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads the Lease as JSON (MicroTime fields stay strings). */
async function readLease(name = leaseName): Promise<Lease> {
  const r = await client.request<Lease>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`);
  if (r.status !== 200) throw new Error(`GET lease ${name}: HTTP ${r.status}`);
  return r.body as Lease;
}

function elector(identity: string, events: string[], name = leaseName, extra: Partial<LeaderElectorOptions> = {}): LeaderElector {
  const opts: LeaderElectorOptions = {
    leaderElect: true,
    leaseApi: leaseApiFromRequester(client, 2_000),
    namespace,
    name,
    // Short but client-go-valid timings: leaseDuration > renewDeadline > 1.2 × retryPeriod.
    leaseDurationMs: 3_000,
    renewDeadlineMs: 2_000,
    retryPeriodMs: 500,
    identity,
    onStartedLeading: () => events.push(`${identity}:started`),
    onStoppedLeading: () => events.push(`${identity}:stopped`),
    onNewLeader: (id) => events.push(`${identity}:leader=${id}`),
    ...extra,
  };
  return new LeaderElector(opts);
}

beforeAll(() => {
  kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  client = createKubeClient(kc, { qps: 0, burst: 0 });
});

afterAll(async () => {
  await kc.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ name: leaseName, namespace }).catch(() => undefined);
  client.close();
});

describe('leader election on a real Lease', () => {
  it('one of two electors leads; stopping it hands the Lease to the other', async () => {
    const events: string[] = [];
    const a = elector('berth-a', events);
    const b = elector('berth-b', events);
    const aDone = a.start();
    await waitUntil('a to lead', 10_000, () => a.isLeader());
    const bDone = b.start();
    await waitUntil('b to observe a', 10_000, () => b.getLeader() === 'berth-a');

    let lease = await readLease();
    expect(lease.spec?.holderIdentity).toBe('berth-a');
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(lease.spec?.leaseTransitions).toBe(0);
    const firstRenew = lease.spec?.renewTime ?? '';
    expect(firstRenew).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // a keeps renewing past the lease duration and b stays a candidate; never both leaders.
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      expect(a.isLeader() && b.isLeader()).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    lease = await readLease();
    expect(lease.spec?.holderIdentity).toBe('berth-a');
    expect(Date.parse(lease.spec?.renewTime ?? '')).toBeGreaterThan(Date.parse(firstRenew));
    expect(a.check()).toEqual({ ok: true });

    // Stop a: it releases the Lease (ReleaseOnCancel), b takes over at its next try.
    const stoppedAt = Date.now();
    await a.stop();
    await aDone;
    expect(a.isLeader()).toBe(false);
    await waitUntil('b to lead', 10_000, () => b.isLeader());
    // Well before a's 3 s lease would have expired, thanks to the release.
    expect(Date.now() - stoppedAt).toBeLessThan(2_500);
    lease = await readLease();
    expect(lease.spec?.holderIdentity).toBe('berth-b');
    expect(lease.spec?.leaseTransitions).toBe(1);

    await b.stop();
    await bDone;
    lease = await readLease();
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    expect(events).toEqual(
      expect.arrayContaining(['berth-a:leader=berth-a', 'berth-a:started', 'berth-a:stopped', 'berth-b:leader=berth-a', 'berth-b:started', 'berth-b:stopped']),
    );
    expect(events.indexOf('berth-a:stopped')).toBeLessThan(events.indexOf('berth-b:started'));
  });

  it('a candidate takes over an abandoned (unreleased) Lease only after it expired', async () => {
    const events: string[] = [];
    const a = elector('berth-c', events, `${leaseName}-2`, { releaseOnCancel: false });
    const aDone = a.start();
    await waitUntil('c to lead', 10_000, () => a.isLeader());
    await a.stop(); // no release: the Lease still names c, as after a crash
    await aDone;
    const b = elector('berth-d', events, `${leaseName}-2`);
    const bDone = b.start();
    const t0 = Date.now();
    await waitUntil('d to lead', 15_000, () => b.isLeader());
    // d must have observed the record unchanged for the 3 s lease duration first.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3_000);
    const lease = await readLease(`${leaseName}-2`);
    expect(lease.spec?.holderIdentity).toBe('berth-d');
    await b.stop();
    await bDone;
    await kc.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ name: `${leaseName}-2`, namespace }).catch(() => undefined);
  });
});
