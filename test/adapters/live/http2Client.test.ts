// berth's client over HTTP/2 against a local TLS HTTP/2 server: one multiplexed connection, client certificates,
// Retry-After, protobuf watch frames split across DATA frames, a dropped connection ending the watch and the next
// request dialling again, and the whole-request timeout.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { create, toBinary } from '@bufbuild/protobuf';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateControlPlaneCerts } from '../../../tools/devcluster/certs.js';
import { createKubeClient, type KubeClient, type WatchEvent } from '../../../src/adapters/live/kubeClient.js';
import { encodeObject, PROTOBUF_MEDIA_TYPE } from '../../../src/adapters/live/proto/codec.js';
import { PodSchema } from '../../../src/adapters/live/proto/gen/k8s.io/api/core/v1/generated_pb.js';
import { WatchEventSchema } from '../../../src/adapters/live/proto/gen/k8s.io/apimachinery/pkg/apis/meta/v1/generated_pb.js';

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

let dir: string;
let server: http2.Http2SecureServer;
let port: number;
let handler: Handler = (s) => s.respond({ ':status': 404 });
const sessions = new Set<http2.ServerHttp2Session>();
const peers: Array<string | undefined> = [];
let kc: KubeConfig;

function frame(type: string, name: string, rv: string): Buffer {
  const pod = encodeObject('v1', 'Pod', toBinary(PodSchema, create(PodSchema, { metadata: { name, namespace: 'ns', resourceVersion: rv } })));
  const ev = toBinary(WatchEventSchema, create(WatchEventSchema, { type, object: { raw: pod } }));
  const out = Buffer.alloc(4 + ev.length);
  out.writeUInt32BE(ev.length, 0);
  out.set(ev, 4);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-h2-'));
  const certs = await generateControlPlaneCerts(dir);
  server = http2.createSecureServer({
    cert: await readFile(certs.servingCert),
    key: await readFile(certs.servingKey),
    ca: await readFile(certs.caCert),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('session', (s) => {
    sessions.add(s);
    peers.push(((s.socket as TLSSocket).getPeerCertificate().subject?.CN as string | undefined) ?? undefined);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => handler(stream, headers));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: certs.caCert, skipTLSVerify: false }],
    users: [{ name: 'admin', certData: (await readFile(certs.adminCert)).toString('base64'), keyData: (await readFile(certs.adminKey)).toString('base64') }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'admin' }],
    currentContext: 'ctx',
  });
}, 60_000);

afterAll(async () => {
  for (const s of sessions) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function client(maxRetries?: number): KubeClient {
  return createKubeClient(kc, { qps: 0, burst: 0, http2: true, protobuf: true, ...(maxRetries !== undefined ? { maxRetries } : {}) });
}

describe('KubeClient over HTTP/2', () => {
  it('multiplexes concurrent requests on one connection, with the client certificate', async () => {
    handler = (s, h) => {
      s.respond({ ':status': 200, 'content-type': 'application/json' });
      s.end(JSON.stringify({ path: h[':path'], accept: h['accept'] }));
    };
    const c = client();
    const before = peers.length;
    const res = await Promise.all(Array.from({ length: 20 }, (_, i) => c.request<{ path: string; accept: string }>('GET', `/api/v1/pods/${i}`, { protobuf: i === 0 })));
    expect(res.map((r) => (r.body as { path: string }).path)).toEqual(Array.from({ length: 20 }, (_, i) => `/api/v1/pods/${i}`));
    expect((res[0]?.body as { accept: string }).accept).toBe(`${PROTOBUF_MEDIA_TYPE}, application/json`);
    expect((res[1]?.body as { accept: string }).accept).toBe('application/json');
    expect(peers.length - before).toBe(1);
    expect(peers.at(-1)).toBeTruthy();
    c.close();
  });

  it('reports Retry-After and decodes a protobuf Status', async () => {
    handler = (s) => {
      s.respond({ ':status': 429, 'content-type': 'application/json', 'retry-after': '3' });
      s.end(JSON.stringify({ kind: 'Status', status: 'Failure', message: 'slow down', code: 429 }));
    };
    const c = client(0); // no retries: the 429 itself is the answer
    const res = await c.request('GET', '/api/v1/pods');
    expect(res).toMatchObject({ status: 429, retryAfterSeconds: 3, body: { message: 'slow down' } });
    c.close();
  });

  it('reads protobuf watch frames split anywhere across DATA frames', async () => {
    const bytes = Buffer.concat([frame('ADDED', 'a', '1'), frame('MODIFIED', 'a', '2'), frame('DELETED', 'a', '3')]);
    handler = (s) => {
      s.respond({ ':status': 200, 'content-type': `${PROTOBUF_MEDIA_TYPE};stream=watch` });
      // 7-byte writes split lengths and messages alike.
      for (let i = 0; i < bytes.length; i += 7) s.write(bytes.subarray(i, i + 7));
      s.end();
    };
    const c = client();
    const events: WatchEvent[] = [];
    const end = await c.watch('/api/v1/pods', {}, (e) => void events.push(e), new AbortController().signal, { protobuf: true });
    expect(end).toEqual({ reason: 'closed', events: 3 });
    expect(events.map((e) => [e.type, (e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion])).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['DELETED', '3'],
    ]);
    c.close();
  });

  it('a dropped connection ends the watch with an error, and the next request dials again', async () => {
    let dropNow: (() => void) | undefined;
    handler = (s, h) => {
      if (String(h[':path']).includes('watch=true')) {
        s.respond({ ':status': 200, 'content-type': `${PROTOBUF_MEDIA_TYPE};stream=watch` });
        s.write(frame('ADDED', 'b', '5'));
        dropNow = () => s.session?.destroy();
        return;
      }
      s.respond({ ':status': 200, 'content-type': 'application/json' });
      s.end('{}');
    };
    const c = client();
    const events: WatchEvent[] = [];
    const before = peers.length;
    const watching = c.watch('/api/v1/pods', {}, (e) => {
      events.push(e);
      dropNow?.();
    }, new AbortController().signal, { protobuf: true });
    const end = await watching;
    expect(end.reason).toBe('error');
    expect(events).toHaveLength(1);
    expect((await c.request('GET', '/api/v1/nodes')).status).toBe(200);
    expect(peers.length - before).toBe(2);
    c.close();
  });

  it('a connection dropped in the middle of an error response ends the watch with an error', async () => {
    handler = (s) => {
      s.respond({ ':status': 500, 'content-type': 'application/json' });
      s.write('{"kind":"Status","message":"half');
      setImmediate(() => s.session?.destroy());
    };
    const c = client();
    const end = await c.watch('/api/v1/pods', {}, () => undefined, new AbortController().signal, { protobuf: true });
    expect(end.reason).toBe('error');
    c.close();
  });

  it('a stream the server resets before any response (RST_STREAM NO_ERROR) fails the request and the watch, with no wait', async () => {
    // liveFaults on HTTP/2 (before c7baff5): after the API server's restart a relist's stream closed this way; the
    // request never settled, not even at its timeout (destroying a closed stream emits nothing), so the Pod reflector
    // waited forever without a log line and berth never saw the pods created during the outage.
    handler = (s) => s.close(http2.constants.NGHTTP2_NO_ERROR);
    const c = client();
    const started = Date.now();
    await expect(c.request('GET', '/api/v1/pods', { timeoutMs: 30_000 })).rejects.toThrow(/stream closed before a response/);
    const end = await c.watch('/api/v1/pods', {}, () => undefined, new AbortController().signal, { protobuf: true, timeoutMs: 30_000 });
    expect(end.reason).toBe('error');
    // Settled by the reset itself, long before either timeout (generous for a loaded machine).
    expect(Date.now() - started).toBeLessThan(20_000);
    c.close();
  });

  it('sends a request the server refused (REFUSED_STREAM: not acted on) again, three times at most', async () => {
    let streams = 0;
    let refuse = 1;
    handler = (s) => {
      streams++;
      if (streams <= refuse) {
        s.on('error', () => undefined); // the server's own side of the refused stream ends in an error too
        s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      s.respond({ ':status': 201, 'content-type': 'application/json' });
      s.end('{"kind":"Binding"}');
    };
    const c = client();
    // A POST too: the protocol says the server did not process a refused stream.
    const res = await c.request('POST', '/api/v1/namespaces/ns/pods/p/binding', { body: { kind: 'Binding' } });
    expect(res.status).toBe(201);
    expect(streams).toBe(2);
    // A server that keeps refusing: the first attempt and three resends (after 0, 1 and 2 s), then the error.
    streams = 0;
    refuse = Infinity;
    await expect(c.request('POST', '/api/v1/namespaces/ns/pods/q/binding', { body: { kind: 'Binding' } })).rejects.toThrow(/REFUSED_STREAM/);
    expect(streams).toBe(4);
    c.close();
  }, 30_000);

  it('times a request out and aborts it on the signal', async () => {
    handler = () => undefined; // never answers
    const c = client();
    await expect(c.request('GET', '/api/v1/pods', { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
    const ac = new AbortController();
    const p = c.request('GET', '/api/v1/pods', { signal: ac.signal });
    setImmediate(() => ac.abort());
    await expect(p).rejects.toThrow(/aborted/);
    c.close();
  });
});
