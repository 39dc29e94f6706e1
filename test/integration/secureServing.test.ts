// berth's secure port against the real API server, as kube-scheduler's: HTTPS (a self-signed certificate made at
// start, or the given files), /healthz /livez /readyz open, /metrics only for a Bearer token that the API server
// authenticates (TokenReview) and authorizes (SubjectAccessReview). berth runs under the chart's ServiceAccount and
// ClusterRole (so the chart's RBAC is what lets it review tokens), and the scraper is bound to the chart's
// <release>-metrics-reader ClusterRole the way an operator binds their Prometheus.
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBerth, type RunningBerth } from '../../src/cli/run.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { createLogger } from '../../src/observe/logging.js';
import { kubeconfigForServiceAccount } from '../../tools/devcluster/index.js';
import { createAll, deleteAll } from '../ship/apply.js';
import { findObject, helmTemplate, type K8sObject } from '../ship/helpers.js';

const suffix = randomBytes(3).toString('hex');
const namespace = `secure-serving-${suffix}`;
const release = `sec-${suffix}`;
const readerBinding = `${release}-metrics-reader-scraper`;

let adminKc: KubeConfig;
let admin: KubeClient;
let tmp: string;
let rbac: K8sObject[];
let berthKubeconfig: string;
let configPath: string;
let scraperToken: string;
let strangerToken: string;
const running: RunningBerth[] = [];
const logLines: string[] = [];

interface Reply {
  status: number;
  body: string;
  /** The server's certificate, PEM. */
  certificate: string;
}

/** GET over HTTPS; `ca` verifies the server against it, without it verification is skipped (self-signed). */
function get(url: string, opts: { token?: string; ca?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        agent: false,
      },
      (res) => {
        const raw = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw;
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), certificate: new X509Certificate(raw).toString() }),
        );
      },
    );
    req.on('error', reject);
  });
}

async function start(extra: { tlsCertFile?: string; tlsPrivateKeyFile?: string } = {}): Promise<string> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const berth = await startBerth(
    { config: configPath, kubeconfig: berthKubeconfig, bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 4, leaderElect: false, secureServing: true, ...extra },
    undefined,
    createLogger('info', sink),
  );
  running.push(berth);
  return berth.server.address;
}

beforeAll(async () => {
  adminKc = new KubeConfig();
  adminKc.loadFromFile(inject('kubeconfigPath'));
  admin = createKubeClient(adminKc, { qps: 0, burst: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'berth-secure-serving-'));
  expect((await admin.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } })).status).toBe(201);
  // Only the chart's identity and RBAC: berth runs in-process here, not as the chart's Deployment.
  const objs = await helmTemplate(inject('controlPlaneBinDir'), release, namespace);
  rbac = objs.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind));
  rbac.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: readerBinding },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${release}-berth-metrics-reader` },
    subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace }],
  });
  expect((await createAll(admin, rbac)).filter((r) => r.status !== 201)).toEqual([]);
  const berthSa = findObject<K8sObject>(objs, 'ServiceAccount').metadata.name;
  berthKubeconfig = join(tmp, 'kubeconfig');
  await kubeconfigForServiceAccount(adminKc, namespace, berthSa, { create: false, writeTo: berthKubeconfig });
  scraperToken = (await kubeconfigForServiceAccount(adminKc, namespace, 'scraper')).token;
  strangerToken = (await kubeconfigForServiceAccount(adminKc, namespace, 'stranger')).token;
  configPath = join(tmp, 'config.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nleaderElection:\n  leaderElect: false\nprofiles:\n  - schedulerName: secure-${suffix}\n`,
  );
}, 60_000);

afterAll(async () => {
  for (const b of running) await b.shutdown('test end');
  await deleteAll(admin, rbac.filter((o) => o.kind.startsWith('Cluster')));
  await admin.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  admin.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('secure serving with a self-signed certificate', () => {
  let base: string;
  let certificate: string;

  it('serves HTTPS; the probe paths answer without a token', async () => {
    base = await start();
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ['/healthz', '/livez', '/readyz?exclude=informer-sync']) {
      const r = await get(`${base}${path}`);
      expect(r.status, path).toBe(200);
    }
    certificate = (await get(`${base}/healthz`)).certificate;
    // Self-signed, and valid for the address dialled: pinning the certificate as the CA verifies.
    const x509 = new X509Certificate(certificate);
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect((await get(`${base}/healthz`, { ca: certificate })).status).toBe(200);
  });

  it('refuses /metrics without a token (401) and with a token that is not one (401)', async () => {
    const anonymous = await get(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(anonymous.body).not.toMatch(/^# (HELP|TYPE) /m);
    expect((await get(`${base}/metrics`, { token: 'not-a-real-token' })).status).toBe(401);
  });

  it('refuses /metrics to a ServiceAccount without the nonResource rule (403)', async () => {
    const r = await get(`${base}/metrics`, { token: strangerToken });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'Forbidden', code: 403 });
    expect(r.body).toContain(`system:serviceaccount:${namespace}:stranger`);
    expect(r.body).toContain('/metrics');
  });

  it('serves /metrics to a ServiceAccount bound to the chart\'s metrics-reader ClusterRole (200, Prometheus text)', async () => {
    const r = await get(`${base}/metrics`, { token: scraperToken, ca: certificate });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^# (HELP|TYPE) scheduler_/m);
    // The reader may get /metrics only: other paths (e.g. /debug/...) are reviewed too and refused.
    expect((await get(`${base}/debug/pprof/`, { token: scraperToken })).status).toBe(403);
  });

  it('asked the API server under berth\'s own identity without being refused', () => {
    expect(logLines.filter((l) => /cannot authorize|forbidden/i.test(l))).toEqual([]);
  });
});

describe('secure serving with --tls-cert-file and --tls-private-key-file', () => {
  it('serves the given certificate, which verifies against itself; /metrics still needs an authorized token', async () => {
    const certFile = join(tmp, 'tls.crt');
    const keyFile = join(tmp, 'tls.key');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=berth-test-${suffix}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ]);
    const pem = readFileSync(certFile, 'utf8');
    const base = await start({ tlsCertFile: certFile, tlsPrivateKeyFile: keyFile });
    const health = await get(`${base}/healthz`, { ca: pem });
    expect(health.status).toBe(200);
    expect(new X509Certificate(health.certificate).fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
    expect((await get(`${base}/metrics`, { ca: pem })).status).toBe(401);
    expect((await get(`${base}/metrics`, { ca: pem, token: strangerToken })).status).toBe(403);
    const metrics = await get(`${base}/metrics`, { ca: pem, token: scraperToken });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^# (HELP|TYPE) scheduler_/m);
  });
});
