import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/kube/api.js';
import { createKubeClient, type KubeClient } from '../../../src/adapters/live/kubeClient.js';
import { Reflector, type ReflectorOptions } from '../../../src/adapters/live/reflector.js';
import { objectKey, slimPod } from '../../../src/adapters/live/slim.js';
import { FakeApiServer, type FakeObject, makeLogger, waitFor } from './fakeApiServer.js';

const PODS = '/api/v1/pods';

function pod(name: string, extra: Record<string, unknown> = {}): FakeObject {
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'x' }, managedFields: [{ manager: 'kubectl' }] },
    spec: { containers: [{ name: 'c', image: 'img', env: [{ name: 'A', value: 'b' }] }], ...extra },
  };
}

let server: FakeApiServer;
let client: KubeClient;
let reflectors: Array<Reflector<Pod>>;
let events: string[];
let logger: ReturnType<typeof makeLogger>;

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0 });
  reflectors = [];
  events = [];
  logger = makeLogger();
});

afterEach(async () => {
  await Promise.all(reflectors.map((r) => r.stop()));
  client.close();
  await server.close();
});

function start(over: Partial<ReflectorOptions<Pod>> = {}): Reflector<Pod> {
  const r = new Reflector<Pod>({
    client,
    listPath: PODS,
    transform: slimPod,
    key: objectKey,
    logger,
    random: () => 0,
    backoff: { initialMs: 20, maxMs: 200 },
    handlers: {
      onAdd: (p) => events.push(`add ${objectKey(p)} ${p.metadata?.resourceVersion}`),
      onUpdate: (o, n) => events.push(`update ${objectKey(n)} ${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`),
      onDelete: (p) => events.push(`delete ${objectKey(p)}`),
      onSynced: () => events.push('synced'),
    },
    ...over,
  });
  reflectors.push(r);
  return r.start();
}

describe('Reflector', () => {
  it('lists with pagination (consistent list, limit/continue), adds everything, then syncs once', async () => {
    for (let i = 0; i < 7; i++) server.upsert(PODS, pod(`p${i}`));
    const r = start({ pageSize: 3 });
    await waitFor('synced', () => r.hasSynced);
    expect(events).toEqual(['add ns/p0 101', 'add ns/p1 102', 'add ns/p2 103', 'add ns/p3 104', 'add ns/p4 105', 'add ns/p5 106', 'add ns/p6 107', 'synced']);
    const lists = server.listRequests(PODS);
    expect(lists).toHaveLength(3);
    expect(lists.map((l) => l.query.get('limit'))).toEqual(['3', '3', '3']);
    expect(lists[0]!.query.has('resourceVersion')).toBe(false); // consistent read
    expect(lists[0]!.query.has('continue')).toBe(false);
    expect(lists[1]!.query.get('continue')).toMatch(/^3:/);
    // Then a watch from the list's resourceVersion, with bookmarks and a 5–10 min timeout.
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    const w = server.watchRequests(PODS)[0]!;
    expect(w.query.get('resourceVersion')).toBe('107');
    expect(w.query.get('allowWatchBookmarks')).toBe('true');
    expect(Number(w.query.get('timeoutSeconds'))).toBe(300); // random() = 0
    expect(r.resourceVersion).toBe('107');
    // Objects are slimmed before they are stored or delivered.
    const stored = r.items().get('ns/p0')!;
    expect(JSON.stringify(stored)).not.toContain('managedFields');
    expect(JSON.stringify(stored)).not.toContain('env');
  });

  it('passes field and label selectors to list and watch', async () => {
    start({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', labelSelector: 'app=x' });
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    for (const req of [server.listRequests(PODS)[0]!, server.watchRequests(PODS)[0]!]) {
      expect(req.query.get('fieldSelector')).toBe('status.phase!=Succeeded,status.phase!=Failed');
      expect(req.query.get('labelSelector')).toBe('app=x');
    }
  });

  it('delivers watch events in order, synchronously, and advances the resourceVersion', async () => {
    server.upsert(PODS, pod('a'));
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.upsert(PODS, pod('b'));
    server.upsert(PODS, pod('a', { nodeName: 'n1' }));
    server.delete(PODS, 'b', 'ns');
    await waitFor('events', () => events.length === 5);
    expect(events).toEqual(['add ns/a 101', 'synced', 'add ns/b 102', 'update ns/a 101->103', 'delete ns/b']);
    expect(r.resourceVersion).toBe('104');
    expect(r.items().get('ns/a')?.spec?.nodeName).toBe('n1');
    expect(r.items().has('ns/b')).toBe(false);
  });

  it('bookmarks advance the resourceVersion a resumed watch starts from', async () => {
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    for (let i = 0; i < 5; i++) server.tick(); // activity in other collections
    server.bookmark(PODS);
    await waitFor('bookmark', () => r.resourceVersion === '105');
    expect(events).toEqual(['synced']); // bookmarks reach no handler
    server.endWatches(PODS); // timeoutSeconds elapsed: re-watch at once, from the bookmark
    await waitFor('second watch', () => server.watchRequests(PODS).length === 2 && server.openWatchCount(PODS) === 1);
    expect(server.watchRequests(PODS)[1]!.query.get('resourceVersion')).toBe('105');
    expect(server.listRequests(PODS)).toHaveLength(1); // no relist
  });

  it('resumes from the last seen resourceVersion after a dropped connection, without relisting', async () => {
    server.upsert(PODS, pod('a'));
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.upsert(PODS, pod('b'));
    await waitFor('b', () => events.includes('add ns/b 102'));
    server.dropWatches(PODS);
    server.upsert(PODS, pod('c')); // happens while disconnected: replayed from the log
    await waitFor('resumed', () => events.includes('add ns/c 103'));
    expect(server.watchRequests(PODS)[1]!.query.get('resourceVersion')).toBe('102');
    expect(server.listRequests(PODS)).toHaveLength(1);
    expect(events).toEqual(['add ns/a 101', 'synced', 'add ns/b 102', 'add ns/c 103']);
    const warn = logger.entries.find((e) => e.level === 'warn');
    expect(warn?.msg).toMatch(/retrying in \d+ ms/);
    expect(warn?.obj).toMatchObject({ reflector: PODS, delayMs: 20 });
    expect(String((warn?.obj as { err: string }).err)).toMatch(/dropped/);
    expect(r.stats.relists).toBe(0);
  });

  it('on 410 Gone (ERROR event) relists and reconciles: deletes for missing, updates for changed, adds for new', async () => {
    server.upsert(PODS, pod('keep'));
    server.upsert(PODS, pod('change'));
    server.upsert(PODS, pod('gone'));
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    events.length = 0;
    // While the reflector is disconnected, the cluster changes and history is compacted.
    server.dropWatches(PODS);
    server.upsertSilently(PODS, pod('change', { nodeName: 'n2' }));
    server.delete(PODS, 'gone', 'ns', { silently: true });
    server.upsertSilently(PODS, pod('new'));
    server.compact();
    await waitFor('reconciled', () => events.length === 3);
    expect(events).toEqual(['delete ns/gone', 'update ns/change 102->104', 'add ns/new 106']);
    expect(r.stats.relists).toBe(1);
    expect(server.listRequests(PODS)).toHaveLength(2);
    await waitFor('watch again', () => server.openWatchCount(PODS) === 1);
    expect(server.watchRequests(PODS).at(-1)!.query.get('resourceVersion')).toBe('106');
    expect(events).not.toContain('synced'); // onSynced fires once
    expect(logger.entries.some((e) => e.level === 'info' && /relisting/.test(e.msg ?? ''))).toBe(true);
  });

  it('on HTTP 410 for the watch request relists too', async () => {
    server.goneAsErrorEvent = false;
    server.upsert(PODS, pod('a'));
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.dropWatches(PODS);
    server.delete(PODS, 'a', 'ns', { silently: true });
    server.compact();
    await waitFor('delete', () => events.includes('delete ns/a'));
    expect(r.stats.relists).toBe(1);
  });

  it('a recreated object (same name, new uid) is a delete plus an add, not an update', async () => {
    server.upsert(PODS, pod('a'));
    start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.dropWatches(PODS);
    server.delete(PODS, 'a', 'ns', { silently: true });
    const recreated = pod('a');
    recreated.metadata.uid = 'uid-a-2';
    server.upsertSilently(PODS, recreated);
    server.compact();
    await waitFor('reconciled', () => events.length === 4);
    expect(events).toEqual(['add ns/a 101', 'synced', 'delete ns/a', 'add ns/a 103']);
  });

  it('an expired continue token falls back to an unpaginated list', async () => {
    for (let i = 0; i < 5; i++) server.upsert(PODS, pod(`p${i}`));
    server.continueExpiredBefore = Number.MAX_SAFE_INTEGER;
    const r = start({ pageSize: 2 });
    await waitFor('synced', () => r.hasSynced);
    expect(events.filter((e) => e.startsWith('add'))).toHaveLength(5);
    const lists = server.listRequests(PODS);
    expect(lists.map((l) => l.query.get('limit'))).toEqual(['2', '2', null]);
  });

  it('the stall watchdog aborts a silent watch and re-watches from the last resourceVersion', async () => {
    server.upsert(PODS, pod('a'));
    const r = start({ stallTimeoutMs: 600 });
    await waitFor('two watches', () => server.watchRequests(PODS).length >= 2, 10_000);
    expect(r.stats.stalls).toBeGreaterThanOrEqual(1);
    expect(server.watchRequests(PODS)[1]!.query.get('resourceVersion')).toBe('101');
    expect(server.listRequests(PODS)).toHaveLength(1);
    expect(logger.entries.some((e) => e.level === 'warn' && /stalled/.test(e.msg ?? ''))).toBe(true);
    // Events keep the watchdog from firing: a bookmark every 30 ms against a 600 ms watchdog.
    const before = r.stats.stalls;
    const stopAt = Date.now() + 1_500;
    while (Date.now() < stopAt) {
      server.bookmark(PODS);
      await new Promise((res) => setTimeout(res, 30));
    }
    expect(r.stats.stalls).toBe(before);
  });

  it('backs off exponentially on 429 and 500 (honouring Retry-After), then recovers', async () => {
    server.upsert(PODS, pod('a'));
    server.failNext({ status: 500, on: 'list' }, { status: 500, on: 'list' }, { status: 429, on: 'list' });
    const t0 = Date.now();
    const r = start({ backoff: { initialMs: 50, maxMs: 1000 } });
    await waitFor('synced', () => r.hasSynced, 5000);
    const warns = logger.entries.filter((e) => e.level === 'warn').map((e) => e.obj as { delayMs: number; err: string });
    expect(warns.map((w) => w.delayMs)).toEqual([50, 100, 200]);
    expect(warns[0]!.err).toMatch(/HTTP 500/);
    expect(warns[2]!.err).toMatch(/HTTP 429/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(340);

    // Retry-After on a watch 429 stretches the delay.
    server.failNext({ status: 429, on: 'watch', retryAfter: 1 });
    server.bookmark(PODS);
    await waitFor('bookmark', () => r.resourceVersion === String(server.currentRv));
    server.endWatches(PODS);
    await waitFor('retry-after warn', () => logger.entries.filter((e) => e.level === 'warn').length === 4);
    expect((logger.entries.filter((e) => e.level === 'warn')[3]!.obj as { delayMs: number }).delayMs).toBe(1000);
  });

  it('backoff caps at maxMs and applies jitter from the injected random', async () => {
    server.failNext(...Array.from({ length: 6 }, () => ({ status: 503, on: 'list' as const })));
    const r = start({ backoff: { initialMs: 10, maxMs: 60, jitter: 0.5 }, random: () => 0.5 });
    await waitFor('synced', () => r.hasSynced, 5000);
    const delays = logger.entries.filter((e) => e.level === 'warn').map((e) => (e.obj as { delayMs: number }).delayMs);
    expect(delays).toEqual([13, 25, 50, 60, 60, 60]); // 10·2^n · 1.25, capped at 60
  });

  it('keeps retrying when the server is unreachable, and stop() ends it promptly', async () => {
    const port = new URL(server.url).port;
    await server.close();
    const dead = new FakeApiServer();
    dead.url = `http://127.0.0.1:${port}`;
    client = createKubeClient(dead.kubeConfig(), { qps: 0, burst: 0 });
    const r = start({ backoff: { initialMs: 5, maxMs: 20 } });
    await waitFor('several retries', () => r.stats.retries >= 5, 5000);
    expect(String((logger.entries.find((e) => e.level === 'warn')!.obj as { err: string }).err)).toMatch(/ECONNREFUSED/);
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000); // "promptly": far below any timeout or backoff, with room for a loaded CI machine
    server = new FakeApiServer(); // for afterEach
    await server.start();
  });

  it('stop() aborts an open watch promptly, leaves no timers, and no handler runs afterwards', async () => {
    const timers = (): number =>
      (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((h) => h === 'Timeout').length;
    const baseline = timers();
    server.upsert(PODS, pod('a'));
    const r = start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000); // "promptly": far below any timeout or backoff, with room for a loaded CI machine
    await waitFor('server saw the close', () => server.openWatchCount(PODS) === 0);
    server.upsert(PODS, pod('b'));
    await new Promise((res) => setTimeout(res, 50));
    expect(events).toEqual(['add ns/a 101', 'synced']);
    // Nothing of the reflector's is pending on the event loop: once the client's keep-alive sockets (and their
    // socket timers) are gone, the timers are back to what they were before it started. A leaked watchdog or
    // backoff timer (seconds to minutes long) would keep the count up past the 5 s bound.
    client.close();
    await waitFor('timers back to the baseline', () => timers() <= baseline, 5_000);
  });

  it('stop() during a backoff sleep returns at once', async () => {
    server.failNext({ status: 500, on: 'list' });
    const r = start({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await waitFor('backing off', () => r.stats.retries === 1);
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000); // "promptly": far below any timeout or backoff, with room for a loaded CI machine
  });

  it('a throwing handler is logged and does not stop the loop', async () => {
    const errors: Error[] = [];
    const r = start({
      onError: (e) => errors.push(e),
      handlers: {
        onAdd: (p) => {
          if (p.metadata?.name === 'bad') throw new Error('boom');
          events.push(`add ${objectKey(p)}`);
        },
      },
    });
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.upsert(PODS, pod('bad'));
    server.upsert(PODS, pod('good'));
    await waitFor('good', () => events.includes('add ns/good'));
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(logger.entries.some((e) => e.level === 'error' && e.msg === 'event handler threw')).toBe(true);
    expect(r.items().has('ns/bad')).toBe(true);
  });

  it('a non-410 ERROR event backs off and re-watches from the last resourceVersion', async () => {
    server.upsert(PODS, pod('a'));
    start();
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    server.sendRaw(PODS, JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, message: 'internal error' } }) + '\n');
    await waitFor('second watch', () => server.watchRequests(PODS).length === 2);
    expect(server.watchRequests(PODS)[1]!.query.get('resourceVersion')).toBe('101');
    expect(server.listRequests(PODS)).toHaveLength(1);
  });

  it('backs off instead of spinning when watches close immediately', async () => {
    const r = start({ backoff: { initialMs: 30, maxMs: 30 } });
    await waitFor('watch', () => server.openWatchCount(PODS) === 1);
    for (let i = 0; i < 3; i++) {
      server.endWatches(PODS);
      await waitFor('re-watch', () => server.openWatchCount(PODS) === 1);
    }
    expect(r.stats.retries).toBeGreaterThanOrEqual(3);
    expect(server.watchRequests(PODS).length).toBe(4);
  });
});
