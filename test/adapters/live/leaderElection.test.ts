import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../src/adapters/live/kubeClient.js';
import {
  type Clock,
  formatMicroTime,
  type Lease,
  type LeaseApi,
  type LeaseResponse,
  LeaderElector,
  type LeaderElectorOptions,
  leaseApiFromRequester,
  validateTimings,
} from '../../../src/adapters/live/leaderElection.js';

/** Lets every pending promise chain run (the fake API answers synchronously-resolved promises). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

class FakeClock implements Clock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      const timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward, firing timers in order and letting the code they wake run before the next one. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

type Mode = 'up' | 'fail' | 'hang';

class FakeLeaseApi implements LeaseApi {
  leases = new Map<string, Lease>();
  private rv = 1;
  mode: Mode = 'up';
  calls: Array<{ op: string; status: number }> = [];
  conflictNextUpdate = false;

  private key(ns: string, name: string): string {
    return `${ns}/${name}`;
  }

  private answer(op: string, r: LeaseResponse): Promise<LeaseResponse> {
    if (this.mode === 'hang') return new Promise<LeaseResponse>(() => undefined);
    if (this.mode === 'fail') r = { status: 503, message: 'unavailable' };
    this.calls.push({ op, status: r.status });
    return Promise.resolve(structuredClone(r));
  }

  get(ns: string, name: string): Promise<LeaseResponse> {
    if (this.mode !== 'up') return this.answer('get', { status: 0 });
    const l = this.leases.get(this.key(ns, name));
    return this.answer('get', l ? { status: 200, lease: l } : { status: 404, message: 'not found' });
  }

  create(ns: string, lease: Lease): Promise<LeaseResponse> {
    if (this.mode !== 'up') return this.answer('create', { status: 0 });
    const k = this.key(ns, lease.metadata?.name ?? '');
    if (this.leases.has(k)) return this.answer('create', { status: 409, message: 'already exists' });
    const stored: Lease = structuredClone(lease);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv++) };
    this.leases.set(k, stored);
    return this.answer('create', { status: 201, lease: stored });
  }

  update(ns: string, name: string, lease: Lease): Promise<LeaseResponse> {
    if (this.mode !== 'up') return this.answer('update', { status: 0 });
    const k = this.key(ns, name);
    const cur = this.leases.get(k);
    if (!cur) return this.answer('update', { status: 404 });
    if (this.conflictNextUpdate || lease.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      this.conflictNextUpdate = false;
      return this.answer('update', { status: 409, message: 'the object has been modified' });
    }
    const stored: Lease = structuredClone(lease);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv++) };
    this.leases.set(k, stored);
    return this.answer('update', { status: 200, lease: stored });
  }

  spec(): NonNullable<Lease['spec']> {
    return this.leases.get('kube-system/berth')?.spec ?? {};
  }
}

/** A per-elector link to a shared fake API that can fail or hang on its own. */
function linked(shared: FakeLeaseApi): { api: LeaseApi; link: { mode: Mode } } {
  const link: { mode: Mode } = { mode: 'up' };
  const down = (): Promise<LeaseResponse> =>
    link.mode === 'hang' ? new Promise<LeaseResponse>(() => undefined) : Promise.resolve({ status: 0, message: 'connection refused' });
  return {
    link,
    api: {
      get: (ns, name) => (link.mode === 'up' ? shared.get(ns, name) : down()),
      create: (ns, lease) => (link.mode === 'up' ? shared.create(ns, lease) : down()),
      update: (ns, name, lease) => (link.mode === 'up' ? shared.update(ns, name, lease) : down()),
    },
  };
}

interface Harness {
  elector: LeaderElector;
  events: string[];
  done: Promise<void>;
}

function makeElector(api: LeaseApi, clock: FakeClock, identity: string, extra: Partial<LeaderElectorOptions> = {}): Harness {
  const events: string[] = [];
  const elector = new LeaderElector({
    leaderElect: true,
    leaseApi: api,
    namespace: 'kube-system',
    name: 'berth',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    identity,
    clock,
    random: () => 0.5,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (id) => events.push(`leader:${id}`),
    ...extra,
  });
  return { elector, events, done: elector.start() };
}

/** Compile-time check: the project's KubeClient plugs into leaseApiFromRequester. */
export const acceptsKubeClient = (c: KubeClient): LeaseApi => leaseApiFromRequester(c);

describe('LeaderElector with a fake Lease API and clock', () => {
  it('creates a missing Lease and leads, with client-go record fields', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader:a', 'started']);
    const spec = api.spec();
    expect(spec.holderIdentity).toBe('a');
    expect(spec.leaseDurationSeconds).toBe(15);
    expect(spec.leaseTransitions).toBe(0);
    expect(spec.acquireTime).toBe(formatMicroTime(clock.now()));
    expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await a.elector.stop();
  });

  it('renews every retryPeriod, keeping acquireTime and leaseTransitions', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    const acquired = api.spec().acquireTime;
    api.calls = [];
    await clock.advance(2_000);
    expect(api.calls).toEqual([{ op: 'update', status: 200 }]); // fast path: no GET
    expect(api.spec().renewTime).toBe(formatMicroTime(clock.now()));
    await clock.advance(6_000);
    expect(api.calls.filter((c) => c.op === 'update')).toHaveLength(4);
    expect(api.spec().acquireTime).toBe(acquired);
    expect(api.spec().leaseTransitions).toBe(0);
    expect(a.elector.check()).toEqual({ ok: true });
    await a.elector.stop();
  });

  it('a second candidate waits while the leader renews, and takes over after the leader is partitioned away', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const aLink = linked(api);
    const a = makeElector(aLink.api, clock, 'a');
    await clock.advance(0);
    const b = makeElector(api, clock, 'b');
    await clock.advance(0);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('a');
    await clock.advance(60_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(a.elector.isLeader()).toBe(true);
    // a's requests now hang (partition): a must step down before b can take over.
    aLink.link.mode = 'hang';
    const cutAt = clock.now();
    let aLostAt = 0;
    let bLedAt = 0;
    for (let i = 0; i < 60 && !bLedAt; i++) {
      await clock.advance(500);
      expect(a.elector.isLeader() && b.elector.isLeader()).toBe(false);
      if (!aLostAt && !a.elector.isLeader()) aLostAt = clock.now();
      if (b.elector.isLeader()) bLedAt = clock.now();
    }
    expect(aLostAt - cutAt).toBeLessThanOrEqual(12_000);
    expect(bLedAt - cutAt).toBeGreaterThanOrEqual(15_000);
    expect(api.spec().holderIdentity).toBe('b');
    expect(api.spec().leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('takes over an expired Lease only after leaseDuration of local observation, incrementing leaseTransitions', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    // A foreign holder wrote the Lease long ago (remote renewTime far in the past) and then vanished.
    api.leases.set('kube-system/berth', {
      metadata: { name: 'berth', namespace: 'kube-system', resourceVersion: '100' },
      spec: {
        holderIdentity: 'ghost',
        leaseDurationSeconds: 15,
        acquireTime: formatMicroTime(0),
        renewTime: formatMicroTime(0),
        leaseTransitions: 3,
      },
    });
    const b = makeElector(api, clock, 'b');
    await clock.advance(0);
    // The remote renewTime is ancient, but client-go judges expiry from when it first observed the record.
    expect(b.elector.isLeader()).toBe(false);
    expect(b.events).toEqual(['leader:ghost']);
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    // Retries are jittered: retryPeriod × (1 + 0.5 × 1.2) = 3.2 s; the first try after 15 s wins.
    await clock.advance(4_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(api.spec().holderIdentity).toBe('b');
    expect(api.spec().leaseTransitions).toBe(4);
    expect(b.events).toEqual(['leader:ghost', 'leader:b', 'started']);
    await b.elector.stop();
  });

  it('loses leadership at once when renewals fail for renewDeadline', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    const t0 = clock.now();
    api.mode = 'fail';
    await clock.advance(2_000); // renewal window opens at t0+2s, deadline t0+12s
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(9_999);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(1);
    expect(clock.now() - t0).toBe(12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(['leader:a', 'started', 'stopped']);
    await a.done; // the elector is done, as client-go's Run returns
  });

  it('loses leadership at the deadline even when a renewal request hangs', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    api.mode = 'hang';
    await clock.advance(2_000 + 9_999);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(1);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events.at(-1)).toBe('stopped');
  });

  it('recovers from a transient renewal failure within renewDeadline', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    api.mode = 'fail';
    await clock.advance(8_000);
    api.mode = 'up';
    await clock.advance(30_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader:a', 'started']);
    await a.elector.stop();
  });

  it('on a 409 conflict re-reads the Lease and renews with the fresh resourceVersion', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    // Someone bumps the resourceVersion without changing the record (e.g. a label edit).
    const cur = api.leases.get('kube-system/berth') as Lease;
    api.leases.set('kube-system/berth', { ...cur, metadata: { ...cur.metadata, resourceVersion: '999' } });
    api.calls = [];
    await clock.advance(2_000);
    expect(api.calls.map((c) => `${c.op}:${c.status}`)).toEqual(['update:409', 'get:200', 'update:200']);
    expect(a.elector.isLeader()).toBe(true);
    expect(api.spec().leaseTransitions).toBe(0);
    await a.elector.stop();
  });

  it('falls back to the slow path when the optimistic update throws (transport error)', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    let throwOnce = false;
    const flaky: LeaseApi = {
      get: (ns, name) => api.get(ns, name),
      create: (ns, lease) => api.create(ns, lease),
      update: (ns, name, lease) => {
        if (throwOnce) {
          throwOnce = false;
          return Promise.reject(new Error('socket hang up'));
        }
        return api.update(ns, name, lease);
      },
    };
    const a = makeElector(flaky, clock, 'a');
    await clock.advance(0);
    throwOnce = true;
    api.calls = [];
    await clock.advance(2_000);
    expect(api.calls.map((c) => `${c.op}:${c.status}`)).toEqual(['get:200', 'update:200']);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  it('does not steal the Lease when a conflict reveals a new holder', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    const cur = api.leases.get('kube-system/berth') as Lease;
    api.leases.set('kube-system/berth', {
      ...cur,
      metadata: { ...cur.metadata, resourceVersion: '999' },
      spec: { ...cur.spec, holderIdentity: 'intruder', leaseTransitions: 1 },
    });
    await clock.advance(2_000);
    // The Lease names someone else and is valid as observed now: a cannot renew, and loses after renewDeadline.
    expect(a.events).toContain('leader:intruder');
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(api.spec().holderIdentity).toBe('intruder');
  });

  it('a 409 on create (lost race) is retried and then waits for the winner', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    const b = makeElector(api, clock, 'b');
    await clock.advance(0);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(api.calls.some((c) => c.op === 'create' && c.status === 409)).toBe(true);
    await a.elector.stop();
    await b.elector.stop();
  });

  it('releases the Lease on stop as ReleaseOnCancel, letting a waiting candidate in at its next try', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a');
    await clock.advance(0);
    const b = makeElector(api, clock, 'b');
    await clock.advance(0);
    await clock.advance(10_000);
    await a.elector.stop();
    await a.done;
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(['leader:a', 'started', 'stopped', 'leader:']);
    expect(api.spec().holderIdentity).toBe('');
    expect(api.spec().leaseDurationSeconds).toBe(1);
    expect(api.spec().leaseTransitions).toBe(0);
    await clock.advance(3_200); // b's next jittered try
    expect(b.elector.isLeader()).toBe(true);
    expect(api.spec().holderIdentity).toBe('b');
    expect(api.spec().leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('releases even when a renewal stop() cut short was applied by the server (stale resourceVersion: re-read, release)', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    // The server applies every update but the answer to the next renewal never arrives.
    let swallowNext = false;
    const lossy: LeaseApi = {
      get: (ns, name) => api.get(ns, name),
      create: (ns, lease) => api.create(ns, lease),
      update: (ns, name, lease, signal) => {
        const applied = api.update(ns, name, lease);
        if (!swallowNext) return applied;
        swallowNext = false;
        return new Promise<LeaseResponse>((resolve) => signal?.addEventListener('abort', () => resolve({ status: 0 }), { once: true }));
      },
    };
    const a = makeElector(lossy, clock, 'a');
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    swallowNext = true;
    await clock.advance(2_000); // the renewal is in flight, applied, unanswered
    await a.elector.stop();
    await a.done;
    expect(api.spec().holderIdentity).toBe('');
    expect(api.calls.filter((c) => c.op === 'update').map((c) => c.status)).toEqual([200, 200, 409, 200]);
  });

  it('two electors are never both leader at the same fake time, through crashes and partitions', async () => {
    const clock = new FakeClock();
    const shared = new FakeLeaseApi();
    const links = new Map<string, { mode: Mode }>();
    const linkApi = (id: string): LeaseApi => {
      const l = linked(shared);
      links.set(id, l.link);
      return l.api;
    };
    let seq = 0;
    const rand = (): number => ((seq = (seq * 1103515245 + 12345) % 2147483648), seq / 2147483648);
    const leaders = (hs: Harness[]): number => hs.filter((h) => h.elector.isLeader()).length;
    const a = makeElector(linkApi('a'), clock, 'a', { random: rand });
    const b = makeElector(linkApi('b'), clock, 'b', { random: rand });
    const hs = [a, b];
    const everLed = new Set<string>();
    for (let step = 0; step < 400; step++) {
      // Toggle a link now and then; each step is 500 ms of fake time.
      if (step % 37 === 0) {
        const id = step % 74 === 0 ? 'a' : 'b';
        const link = links.get(id) as { mode: Mode };
        link.mode = link.mode === 'up' ? (step % 3 === 0 ? 'hang' : 'fail') : 'up';
      }
      await clock.advance(500);
      expect(leaders(hs)).toBeLessThanOrEqual(1);
      for (const h of hs) if (h.elector.isLeader()) everLed.add(h.elector.identity);
      // Restart electors that lost leadership (as a restarted process would).
      for (const h of hs) {
        if (!h.elector.isLeader() && h.events.at(-1) === 'stopped') {
          h.events.push('restarted');
          h.done = h.elector.start();
        }
      }
    }
    expect(everLed.size).toBe(2);
    for (const l of links.values()) l.mode = 'up';
    await a.elector.stop();
    await b.elector.stop();
  });

  it('health check: unhealthy when leading but not renewed for leaseDuration + 20 s', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = makeElector(api, clock, 'a', { releaseOnCancel: false });
    await clock.advance(0);
    expect(a.elector.check()).toEqual({ ok: true });
    api.mode = 'fail';
    await clock.advance(34_000);
    expect(a.elector.isLeader()).toBe(false); // lost at 12 s, but the Lease still names us
    expect(a.elector.check()).toEqual({ ok: true });
    await clock.advance(1_001);
    expect(a.elector.check()).toEqual({ ok: false, reason: 'failed election to renew leadership on lease kube-system/berth' });
  });

  it('leaderElect false: always leader, no API needed', async () => {
    const events: string[] = [];
    const e = new LeaderElector({
      leaderElect: false,
      namespace: 'kube-system',
      name: 'berth',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    });
    const done = e.start();
    expect(e.isLeader()).toBe(true);
    expect(e.check()).toEqual({ ok: true });
    await e.stop();
    await done;
    expect(events).toEqual(['started', 'stopped']);
  });

  it('identity defaults to hostname_uuid; timings validated as client-go', () => {
    const e = new LeaderElector({
      leaderElect: true,
      leaseApi: new FakeLeaseApi(),
      namespace: 'kube-system',
      name: 'berth',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(e.identity).toMatch(/^.+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(validateTimings(10_000, 10_000, 2_000)).toBe('leaseDuration must be greater than renewDeadline');
    expect(validateTimings(15_000, 2_400, 2_000)).toBe('renewDeadline must be greater than retryPeriod*JitterFactor');
    expect(validateTimings(15_000, 10_000, 2_000)).toBeUndefined();
    expect(
      () =>
        new LeaderElector({
          leaderElect: true,
          leaseApi: new FakeLeaseApi(),
          namespace: 'n',
          name: 'x',
          leaseDurationMs: 5_000,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 2_000,
        }),
    ).toThrow(/leaseDuration must be greater than renewDeadline/);
  });

  it('leaseApiFromRequester maps methods, paths and statuses', async () => {
    const seen: string[] = [];
    const api = leaseApiFromRequester({
      request(method: string, path: string, options?: { body?: unknown; timeoutMs?: number }) {
        seen.push(`${method} ${path} ${options?.body ? 'body' : ''}`.trim());
        const body = method === 'GET' ? { kind: 'Status', message: 'leases "x" not found' } : { metadata: { name: 'x' } };
        return Promise.resolve({ status: method === 'GET' ? 404 : 201, body });
      },
    });
    expect(await api.get('kube-system', 'x')).toEqual({ status: 404, message: 'leases "x" not found' });
    expect(await api.create('kube-system', { metadata: { name: 'x' } })).toEqual({ status: 201, lease: { metadata: { name: 'x' } } });
    await api.update('kube-system', 'x', { metadata: { name: 'x' } });
    expect(seen).toEqual([
      'GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x',
      'POST /apis/coordination.k8s.io/v1/namespaces/kube-system/leases body',
      'PUT /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x body',
    ]);
  });
});
