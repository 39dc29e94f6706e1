/**
 * Rotating bearer tokens: CachedTokenFile caches as client-go's NewCachedFileTokenSource (a minute less 10 s of
 * leeway, reset by a 401 to a request sent after the read), and berth's KubeClient, given a kubeconfig whose user has
 * `tokenFile`, sends the file's current token, re-reading it on that period and after a 401; an exec plugin's
 * credential is fetched again after a 401 too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigText } from './kubeconfigText.js';
import { createKubeClient } from '../../../src/adapters/live/kubeClient.js';
import { KubeconfigError, loadKubeconfig } from '../../../src/adapters/live/kubeconfig.js';
import { CachedTokenFile } from '../../../src/adapters/live/tokenFile.js';

describe('CachedTokenFile (client-go cachingTokenSource over a fileTokenSource)', () => {
  function fixture(initial: string | Error): { cache: CachedTokenFile; set: (v: string | Error) => void; reads: () => number; clock: { t: number }; stale: string[] } {
    let content: string | Error = initial;
    let reads = 0;
    const clock = { t: 1_000_000 };
    const stale: string[] = [];
    const cache = new CachedTokenFile('/tok', {
      now: () => clock.t,
      read: () => {
        reads++;
        if (content instanceof Error) throw content;
        return content;
      },
      onStale: (m) => stale.push(m),
    });
    return { cache, set: (v) => (content = v), reads: () => reads, clock, stale };
  }

  it('reads once, keeps the token for 50 s (a minute less 10 s leeway), then reads the file again', () => {
    const f = fixture('one\n');
    expect(f.cache.get()).toBe('one');
    f.set('two');
    f.clock.t += 49_999;
    expect(f.cache.get()).toBe('one');
    expect(f.reads()).toBe(1);
    f.clock.t += 1;
    expect(f.cache.get()).toBe('two');
    expect(f.reads()).toBe(2);
  });

  it('a 401 to a request sent after the read forgets the token; a request sent before a newer read does not', () => {
    const f = fixture('one');
    const readAt = f.clock.t;
    expect(f.cache.get()).toBe('one');
    f.set('two');
    f.clock.t += 1_000;
    // A request that started before the read (in flight with an older token) gets 401: the fresh read stays.
    f.cache.resetIfOlderThan(readAt - 1);
    expect(f.cache.get()).toBe('one');
    expect(f.reads()).toBe(1);
    // A request sent with this token gets 401: the next one reads the file again.
    f.cache.resetIfOlderThan(f.clock.t);
    expect(f.cache.get()).toBe('two');
    expect(f.reads()).toBe(2);
  });

  it('keeps the last good token when the file cannot be read again (and says so); fails when it never could', () => {
    const f = fixture('one');
    expect(f.cache.get()).toBe('one');
    f.set(new Error('ENOENT'));
    f.clock.t += 60_000;
    expect(f.cache.get()).toBe('one');
    expect(f.stale[0]).toMatch(/unable to rotate the token from \/tok .*ENOENT/);
    f.set('   \n');
    f.clock.t += 60_000;
    expect(f.cache.get()).toBe('one');
    expect(f.stale[1]).toMatch(/empty token/);
    f.set('three');
    expect(f.cache.get()).toBe('three');

    const never = fixture(new Error('EACCES'));
    expect(() => never.cache.get()).toThrow(/failed to read token file \/tok: EACCES/);
  });
});

describe('KubeClient with rotating credentials (a tokenFile, an exec plugin)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tokenfile-'));
  const tokenPath = join(dir, 'token');
  let server: http.Server;
  let port = 0;
  /** The one token the server accepts (the old one is revoked when this changes). */
  let valid = 'token-1';
  const seen: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      seen.push(auth);
      const ok = auth === `Bearer ${valid}`;
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ok ? { kind: 'PodList', items: [] } : { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  function kubeconfig(user: Record<string, unknown>): string {
    const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, kubeconfigText({ server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true }, user));
    return path;
  }

  it('sends the file token (relative to the kubeconfig, over a static token beside it), re-reads it after a 401 and every 50 s', async () => {
    writeFileSync(tokenPath, 'token-1\n');
    valid = 'token-1';
    const clock = { t: 5_000_000 };
    const kc = loadKubeconfig(kubeconfig({ tokenFile: 'token', token: 'static-ignored' }));
    const client = createKubeClient(kc, { qps: 0, burst: 0, now: () => clock.t });
    try {
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-1');

      // Rotation: the old token is revoked at once. The cached one fails once, the next request reads the file.
      writeFileSync(tokenPath, 'token-2\n');
      valid = 'token-2';
      clock.t += 1_000;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(401);
      clock.t += 1;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-2');

      // Without a 401: the file is read again once its token is 50 s old (the old one may still be valid).
      writeFileSync(tokenPath, 'token-3\n');
      clock.t += 49_000;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-2');
      valid = 'token-3';
      clock.t += 1_000;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-3');

      // A watch's 401 resets the token as well.
      writeFileSync(tokenPath, 'token-4\n');
      valid = 'token-4';
      clock.t += 1_000;
      const end = await client.watch('/api/v1/pods', {}, () => undefined, new AbortController().signal);
      expect(end.reason === 'status' && end.status).toBe(401);
      clock.t += 1;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-4');
    } finally {
      client.close();
    }
  });

  it('token-file (client-node spelling) is re-read too, and an unreadable tokenFile stops berth at start naming it', async () => {
    writeFileSync(tokenPath, 'token-5');
    valid = 'token-5';
    const clock = { t: 9_000_000 };
    const client = createKubeClient(loadKubeconfig(kubeconfig({ 'token-file': tokenPath })), { qps: 0, burst: 0, now: () => clock.t });
    try {
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      writeFileSync(tokenPath, 'token-6');
      valid = 'token-6';
      clock.t += 50_000;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer token-6');
    } finally {
      client.close();
    }
    const missing = join(dir, 'missing-token');
    expect(() => loadKubeconfig(kubeconfig({ tokenFile: missing }))).toThrow(KubeconfigError);
    expect(() => loadKubeconfig(kubeconfig({ tokenFile: missing }))).toThrow(new RegExp(`tokenFile: cannot read .*missing-token.*ENOENT`));
  });

  it('an exec plugin runs again after a 401, though its credential has not expired (client-go refreshes on 401)', async () => {
    // The plugin prints the token in tokenPath with an expiry an hour away and counts its runs.
    const runs = join(dir, 'exec-runs');
    writeFileSync(runs, '');
    writeFileSync(tokenPath, 'exec-1');
    valid = 'exec-1';
    const script = [
      `const fs = require('fs');`,
      `fs.appendFileSync(${JSON.stringify(runs)}, 'x');`,
      `const status = { token: fs.readFileSync(${JSON.stringify(tokenPath)}, 'utf8'), expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() };`,
      `console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }));`,
    ].join(' ');
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', script] };
    const clock = { t: 12_000_000 };
    const client = createKubeClient(loadKubeconfig(kubeconfig({ exec })), { qps: 0, burst: 0, now: () => clock.t });
    const runCount = (): number => readFileSync(runs, 'utf8').length;
    try {
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer exec-1');
      // Past berth's own one-minute reload, the plugin's credential (valid for an hour) is reused, not run again.
      clock.t += 61_000;
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(runCount()).toBe(1);

      // Revoked before its expiry: the request that carried it fails, the next one runs the plugin again.
      writeFileSync(tokenPath, 'exec-2');
      valid = 'exec-2';
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(401);
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer exec-2');
      expect(runCount()).toBe(2);
    } finally {
      client.close();
    }
  });
});
