import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateControlPlaneCerts, type ControlPlaneCerts } from '../../../tools/devcluster/certs.js';
import { startRecordingTlsServer, type RecordingTlsServer, type SeenRequest } from './recordingTlsServer.js';
import { createKubeClient, isStatus, type KubeClient, TokenBucket, type WatchEvent } from '../../../src/adapters/live/kubeClient.js';
import { FakeApiServer } from './fakeApiServer.js';

describe('TokenBucket (client-go token bucket)', () => {
  it('allows a burst, then paces at qps', () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBeCloseTo(100); // 1 token short at 10/s
    expect(b.reserve()).toBeCloseTo(200); // FIFO reservations queue up
    now = 1000; // 10 tokens refilled, 2 owed, capped at burst
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBeCloseTo(100);
  });

  it('qps <= 0 is unlimited', () => {
    const b = new TokenBucket(0, 0);
    for (let i = 0; i < 1000; i++) expect(b.reserve()).toBe(0);
  });

  it('an aborted wait gives its token back', async () => {
    let now = 0;
    const b = new TokenBucket(1, 1, () => now);
    await b.acquire();
    const ac = new AbortController();
    const p = b.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    now = 1000;
    expect(b.reserve()).toBe(0);
  });
});

async function waitForRequests(server: FakeApiServer, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.requests.length < n) {
    if (Date.now() > deadline) throw new Error(`the fake API server saw ${server.requests.length} requests, not ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('KubeClient over http (fake API server)', () => {
  let server: FakeApiServer;
  let client: KubeClient;
  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    client = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0, userAgent: 'berth-test/1' });
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('sends JSON with the bearer token and user agent, returns status and parsed body', async () => {
    const res = await client.request<{ echo: unknown; contentType: string; authorization: string; userAgent: string }>(
      'POST',
      '/api/v1/namespaces/ns/configmaps',
      { body: { kind: 'ConfigMap', data: { a: '1' } } },
    );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      echo: { kind: 'ConfigMap', data: { a: '1' } },
      contentType: 'application/json',
      authorization: 'Bearer test-token',
      userAgent: 'berth-test/1',
    });
  });

  it('returns HTTP failures as a Status instead of throwing, and encodes the query', async () => {
    server.failNext({ status: 409, on: 'list' });
    const res = await client.request('GET', '/api/v1/pods', { query: { fieldSelector: 'a!=b,c=d', limit: 5, skip: undefined } });
    expect(res.status).toBe(409);
    expect(isStatus(res.body) && res.body.code).toBe(409);
    expect(server.requests[0]!.query.get('fieldSelector')).toBe('a!=b,c=d');
    expect(server.requests[0]!.query.has('skip')).toBe(false);
    const notFound = await client.request('GET', '/api/v1/missing');
    expect(notFound.status).toBe(404);
    expect(isStatus(notFound.body) && notFound.body.reason).toBe('NotFound');
  });

  it('discardSuccessBody: a 2xx comes back without its body decoded, a failure with its Status', async () => {
    const created = await client.request('POST', '/api/v1/namespaces/ns/configmaps', { body: { kind: 'ConfigMap' }, discardSuccessBody: true });
    expect(created).toEqual({ status: 201, body: {} });
    server.failNext({ status: 409 });
    const conflict = await client.request('POST', '/api/v1/namespaces/ns/configmaps', { body: { kind: 'ConfigMap' }, discardSuccessBody: true });
    expect(conflict.status).toBe(409);
    expect(isStatus(conflict.body) && conflict.body.code).toBe(409);
  });

  it('exposes Retry-After when it does not retry (maxRetries 0)', async () => {
    const once = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0, maxRetries: 0 });
    server.failNext({ status: 429, retryAfter: 3 });
    const res = await once.request('GET', '/api/v1/pods');
    expect(res).toMatchObject({ status: 429, retryAfterSeconds: 3 });
    expect(server.requests).toHaveLength(1);
    once.close();
  });

  it('retries a 429 or 5xx with Retry-After after that many seconds, replaying the body (client-go withRetry)', async () => {
    server.failNext({ status: 429, retryAfter: 1 }, { status: 500, retryAfter: 0 });
    const t0 = Date.now();
    const res = await client.request<{ echo: unknown }>('POST', '/api/v1/namespaces/ns/configmaps', { body: { data: { a: '1' } } });
    const took = Date.now() - t0;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ echo: { data: { a: '1' } } });
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(took).toBeGreaterThanOrEqual(950); // the 429's Retry-After: 1; the 500's is 0
    expect(took).toBeLessThan(10_000);
  });

  it('does not retry a 5xx without Retry-After, a 4xx, or past maxRetries', async () => {
    server.failNext({ status: 500 });
    expect((await client.request('GET', '/api/v1/pods')).status).toBe(500);
    server.failNext({ status: 409, retryAfter: 0 });
    expect((await client.request('GET', '/api/v1/pods')).status).toBe(409);
    expect(server.requests).toHaveLength(2);
    const twice = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0, maxRetries: 2 });
    server.failNext(...Array.from({ length: 5 }, () => ({ status: 503, retryAfter: 0 })));
    const res = await twice.request('GET', '/api/v1/pods');
    expect(res).toMatchObject({ status: 503, retryAfterSeconds: 0 });
    expect(server.requests).toHaveLength(5); // the first try and 2 retries
    twice.close();
  });

  it('an abort during the Retry-After wait ends the request at once', async () => {
    server.failNext({ status: 429, retryAfter: 30 });
    const ac = new AbortController();
    const p = client.request('POST', '/api/v1/namespaces/ns/configmaps', { body: {}, signal: ac.signal });
    await waitForRequests(server, 1);
    const abortedAt = Date.now();
    ac.abort();
    // Usually the 429 has reached the client and it waits out the 30 s; on a loaded machine the abort may come while
    // the answer is still on its way. Either way the request ends at once, and is never sent again.
    await expect(p).rejects.toThrow(/aborted( while waiting for Retry-After)?$/);
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
  });

  it('throws a clear error on network failures and timeouts', async () => {
    const port = new URL(server.url).port;
    const deadServer = new FakeApiServer();
    deadServer.url = `http://127.0.0.1:1`;
    const dead = createKubeClient(deadServer.kubeConfig(), { qps: 0, burst: 0 });
    await expect(dead.request('GET', '/api/v1/pods')).rejects.toThrow(/GET \/api\/v1\/pods to http:\/\/127\.0\.0\.1:1 failed: .*ECONNREFUSED/);
    // A server that never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const kc = server.kubeConfig();
    kc.clusters[0] = { ...kc.clusters[0]!, server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` };
    const slow = createKubeClient(kc, { qps: 0, burst: 0 });
    await expect(slow.request('GET', '/api/v1/pods', { timeoutMs: 100 })).rejects.toThrow(/timed out after 100 ms/);
    slow.close();
    silent.closeAllConnections();
    silent.close();
    expect(port).not.toBe('1');
  });

  it('resends a GET that a kept-alive socket lost before any response, but not a POST the server may have read', async () => {
    // The server answers the first request on each socket and closes the socket when a second one arrives on it,
    // as a server does when its idle timeout and the client's next request cross.
    const seen: Array<{ socket: number; method: string; path: string }> = [];
    const sockets = new Map<object, number>();
    const closing = http.createServer((req, res) => {
      const socket = req.socket;
      const first = !sockets.has(socket);
      if (first) sockets.set(socket, sockets.size);
      req.resume();
      req.on('end', () => {
        seen.push({ socket: sockets.get(socket) ?? -1, method: req.method ?? '', path: req.url ?? '' });
        if (!first) {
          socket.destroy();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end('{"kind":"Pod"}');
      });
    });
    closing.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    const kc = server.kubeConfig();
    kc.clusters[0] = { ...kc.clusters[0]!, server: `http://127.0.0.1:${(closing.address() as AddressInfo).port}` };
    const c = createKubeClient(kc, { qps: 0, burst: 0, maxSockets: 1 });
    try {
      expect((await c.request('GET', '/api/v1/namespaces/ns/pods/a')).status).toBe(200);
      // Lost on the kept-alive socket 0, sent again on a new socket 1.
      expect((await c.request('GET', '/api/v1/namespaces/ns/pods/b')).status).toBe(200);
      expect(seen.map((r) => [r.socket, r.path])).toEqual([
        [0, '/api/v1/namespaces/ns/pods/a'],
        [0, '/api/v1/namespaces/ns/pods/b'],
        [1, '/api/v1/namespaces/ns/pods/b'],
      ]);
      // The server read this POST before the socket went: sending it again could create a second object.
      await expect(c.request('POST', '/api/v1/namespaces/ns/pods', { body: { n: 1 } })).rejects.toThrow(/POST \/api\/v1\/namespaces\/ns\/pods .* failed: socket hang up/);
      expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);
    } finally {
      c.close();
      closing.closeAllConnections();
      closing.close();
    }
  });

  it('rate-limits non-watch requests (qps, burst)', async () => {
    const limited = createKubeClient(server.kubeConfig(), { qps: 20, burst: 2 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => limited.request('GET', '/api/v1/pods')));
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(180); // 2 at once, 4 more at 50 ms each
    expect(took).toBeLessThan(1000);
    limited.close();
  });

  it('streams watch events, reassembling lines split across chunks', async () => {
    const ac = new AbortController();
    const got: WatchEvent[] = [];
    const p = client.watch('/api/v1/pods', { resourceVersion: '100' }, (e) => got.push(e), ac.signal);
    await waitForCount(() => server.openWatchCount(), 1);
    const line = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'ü-pod', resourceVersion: '5' } } }) + '\n';
    const buf = Buffer.from(line + line);
    const cut = buf.indexOf(Buffer.from('ü')) + 1; // inside the two-byte character
    for (const piece of [buf.subarray(0, cut), buf.subarray(cut, cut + 40), buf.subarray(cut + 40)]) {
      server.sendRaw('/api/v1/pods', piece);
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitForCount(() => got.length, 2);
    expect(got.map((e) => (e.object as { metadata: { name: string } }).metadata.name)).toEqual(['ü-pod', 'ü-pod']);
    expect(server.watchRequests('/api/v1/pods')[0]!.query.get('watch')).toBe('true');
    ac.abort();
    await expect(p).resolves.toEqual({ reason: 'aborted', events: 2 });
  });

  it('reports clean close, dropped connection, non-200 status, idle and total timeouts', async () => {
    const ac = new AbortController();
    const noop = (): void => undefined;
    let p = client.watch('/api/v1/pods', {}, noop, ac.signal);
    await waitForCount(() => server.openWatchCount(), 1);
    server.endWatches();
    await expect(p).resolves.toEqual({ reason: 'closed', events: 0 });

    p = client.watch('/api/v1/pods', {}, noop, ac.signal);
    await waitForCount(() => server.openWatchCount(), 1);
    server.dropWatches();
    const dropped = await p;
    expect(dropped.reason).toBe('error');

    server.failNext({ status: 503, on: 'watch', retryAfter: 2 });
    const st = await client.watch('/api/v1/pods', {}, noop, ac.signal);
    expect(st).toMatchObject({ reason: 'status', status: 503, retryAfterSeconds: 2, body: { code: 503 } });

    expect(await client.watch('/api/v1/pods', {}, noop, ac.signal, { idleTimeoutMs: 80 })).toEqual({ reason: 'idle', events: 0 });
    // Bytes keep the idle timer from firing; the total timeout still ends it. A byte every 50 ms against a 2 s idle
    // timeout: only a 2 s stall of the event loop could fire it.
    const keepAlive = setInterval(() => server.sendRaw('/api/v1/pods', '\n'), 50);
    const t = await client.watch('/api/v1/pods', {}, noop, ac.signal, { idleTimeoutMs: 2_000, timeoutMs: 1_000 });
    clearInterval(keepAlive);
    expect(t).toEqual({ reason: 'timeout', events: 0 });
    await waitForCount(() => server.openWatchCount(), 0);
  });

  it('ends the watch with an error on an undecodable line or a throwing callback', async () => {
    const ac = new AbortController();
    let p = client.watch('/api/v1/pods', {}, () => undefined, ac.signal);
    await waitForCount(() => server.openWatchCount(), 1);
    server.sendRaw('/api/v1/pods', '{not json\n');
    const bad = await p;
    expect(bad.reason === 'error' && bad.error.message).toMatch(/undecodable watch event/);
    p = client.watch('/api/v1/pods', {}, () => {
      throw new Error('handler boom');
    }, ac.signal);
    await waitForCount(() => server.openWatchCount(), 1);
    server.upsert('/api/v1/pods', { metadata: { name: 'x' } });
    const thrown = await p;
    expect(thrown.reason === 'error' && thrown.error.message).toBe('handler boom');
  });
});

describe('KubeClient over TLS', () => {
  let tls: RecordingTlsServer;
  let dir: string;
  let certs: ControlPlaneCerts;
  let port: number;
  let seen: SeenRequest[];

  beforeAll(async () => {
    tls = await startRecordingTlsServer('berth-kubeclient-');
    ({ dir, certs, port, seen } = tls);
  }, 60_000);

  afterAll(() => tls.close());

  it('uses a client certificate (data) and a CA file from the kubeconfig', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: certs.caCert, skipTLSVerify: false }],
      users: [
        {
          name: 'admin',
          certData: (await readFile(certs.adminCert)).toString('base64'),
          keyData: (await readFile(certs.adminKey)).toString('base64'),
        },
      ],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'admin' }],
      currentContext: 'ctx',
    });
    const client = createKubeClient(kc, { qps: 0, burst: 0 });
    const res = await client.request<{ kind: string }>('GET', '/api/v1/pods');
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.cn).toBeTruthy();
    client.close();
  });

  it('rejects a server whose certificate the CA does not sign', async () => {
    const other = await mkdtemp(join(tmpdir(), 'berth-kubeclient-other-'));
    const otherCerts = await generateControlPlaneCerts(other);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: otherCerts.caCert, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const client = createKubeClient(kc, { qps: 0, burst: 0 });
    await expect(client.request('GET', '/api/v1/pods')).rejects.toThrow(/failed: .*(certificate|signature)/i);
    client.close();
    await rm(other, { recursive: true, force: true });
  }, 60_000);

  it('in-cluster config: service-account token file and CA', async () => {
    const prefix = join(dir, 'incluster');
    const saDir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(saDir, { recursive: true });
    await writeFile(join(saDir, 'token'), 'sa-token-1');
    await writeFile(join(saDir, 'ca.crt'), await readFile(certs.caCert));
    await writeFile(join(saDir, 'namespace'), 'berth-system');
    const saved = { host: process.env['KUBERNETES_SERVICE_HOST'], port: process.env['KUBERNETES_SERVICE_PORT'] };
    process.env['KUBERNETES_SERVICE_HOST'] = '127.0.0.1';
    process.env['KUBERNETES_SERVICE_PORT'] = String(port);
    try {
      const kc = new KubeConfig();
      kc.loadFromCluster(prefix);
      const client = createKubeClient(kc, { qps: 0, burst: 0 });
      const res = await client.request('GET', '/api/v1/pods');
      expect(res.status).toBe(200);
      expect(seen.at(-1)?.auth).toBe('Bearer sa-token-1');
      client.close();
    } finally {
      if (saved.host === undefined) delete process.env['KUBERNETES_SERVICE_HOST'];
      else process.env['KUBERNETES_SERVICE_HOST'] = saved.host;
      if (saved.port === undefined) delete process.env['KUBERNETES_SERVICE_PORT'];
      else process.env['KUBERNETES_SERVICE_PORT'] = saved.port;
    }
  });
});

async function waitForCount(get: () => number, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (get() !== n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} (have ${get()})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
