// The server's secure mode: HTTPS with the given certificate, and each request put to the authorizer before it is
// served; refusals are upstream's Status JSON and a failing authorizer is logged (the real reviews are in
// test/observe/delegatedAuth.test.ts and, against the API server, test/integration/secureServing.test.ts).
import https from 'node:https';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDecision } from '../../src/observe/delegatedAuth.js';
import { createLogger } from '../../src/observe/logging.js';
import { SchedulerMetrics } from '../../src/observe/metrics.js';
import { type RunningServer, startServer } from '../../src/observe/server.js';
import { selfSignedCertificate } from '../../src/observe/tls.js';

let server: RunningServer;
let cert: string;
const asked: string[] = [];
const logLines: string[] = [];

/** Allows token "good", refuses "bad" (403), fails on "boom" (500), and wants a token (401) otherwise. */
async function authorize(path: string, method: string, authorization: string | undefined): Promise<AuthDecision> {
  asked.push(`${method} ${path}`);
  if (authorization === 'Bearer good') return { allowed: true };
  if (authorization === 'Bearer bad') return { allowed: false, status: 403, message: `forbidden: User "bad" cannot get path "${path}"` };
  if (authorization === 'Bearer boom') return { allowed: false, status: 500, message: 'Internal Server Error: TokenReview failed: HTTP 403' };
  return { allowed: false, status: 401, message: 'Unauthorized: no Bearer token' };
}

function get(path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${server.address}${path}`, { ca: cert, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  const tls = selfSignedCertificate('127.0.0.1');
  cert = tls.cert;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const pass = { name: 'x', ok: true };
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    metrics: new SchedulerMetrics({ defaultMetrics: false }),
    checks: { healthz: () => pass, livez: () => pass, readyz: () => pass },
    logger: createLogger('info', sink),
    tls: { cert: tls.cert, key: tls.key },
    authorize,
  });
}, 30_000);

afterAll(async () => {
  await server.close();
});

describe('startServer in secure mode', () => {
  it('serves HTTPS with the given certificate (verified against it)', async () => {
    expect(server.address).toBe(`https://127.0.0.1:${server.port}`);
    expect(await get('/healthz', 'good')).toEqual({ status: 200, body: 'ok' });
  });

  it('asks the authorizer with the path (no query) and method, and serves only what it allows', async () => {
    expect((await get('/metrics', 'good')).status).toBe(200);
    expect(asked.at(-1)).toBe('GET /metrics');
    await get('/readyz?verbose', 'good');
    expect(asked.at(-1)).toBe('GET /readyz');
    const unauthorized = await get('/metrics');
    expect(unauthorized.status).toBe(401);
    expect(JSON.parse(unauthorized.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized: no Bearer token',
      reason: 'Unauthorized',
      code: 401,
    });
    const forbidden = await get('/debug/pprof/', 'bad');
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body)).toMatchObject({ reason: 'Forbidden', message: 'forbidden: User "bad" cannot get path "/debug/pprof/"' });
  });

  it('answers 500 and logs the cause when the authorizer cannot decide', async () => {
    const r = await get('/metrics', 'boom');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'InternalError', code: 500 });
    const line = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: string }).find((l) => l.msg.startsWith('cannot authorize'));
    expect(line).toMatchObject({ msg: 'cannot authorize a request for /metrics', err: expect.stringContaining('TokenReview failed') });
    // Still serving afterwards.
    expect((await get('/metrics', 'good')).status).toBe(200);
  });
});
