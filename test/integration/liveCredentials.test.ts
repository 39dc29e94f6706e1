// Rotating credentials (issue 15): `berth run` (a separate process, leader election on) authenticates with a
// kubeconfig whose user has `tokenFile`, a ServiceAccount token from the TokenRequest API. The test revokes that
// token for real (the ServiceAccount is deleted and created again: tokens bound to the old one's UID now get 401),
// writes a new one into the file, and berth keeps scheduling: it reads the file again after the 401s, as client-go's
// cached file token source does. Every pod ends bound exactly once, and berth stays up, healthy and leading.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { createKubeClient } from '../../src/adapters/live/kubeClient.js';
import type { FakeNodeSpec } from '../../tools/devcluster/index.js';
import { Cluster, type EventV1, httpGet, pod, suffix, waitFor } from './helpers/live.js';
import { decisionLinesFor, type LogLine, Replica } from './helpers/replica.js';

const sfx = suffix();
const ns = `live-creds-${sfx}`;
const sa = 'berth-rotating';
const schedulerName = `berth-creds-${sfx}`;
const leaseName = `berth-creds-${sfx}`;
const bindingName = `berth-creds-${sfx}`;
const selector = { 'live.berth.test/group': `creds-${sfx}` };
const tmp = mkdtempSync(join(tmpdir(), 'berth-live-creds-'));
const configPath = join(tmp, 'config.yaml');
const tokenPath = join(tmp, 'token');
const kubeconfigPath = join(tmp, 'kubeconfig');

let cluster: Cluster;
let berth: Replica | undefined;

async function requestToken(): Promise<string> {
  const tr = await cluster.req<{ status?: { token?: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  return token;
}

async function createServiceAccount(): Promise<void> {
  await cluster.req('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } });
}

/** The status a GET of the namespace's pods gets with `token` (a client of its own: no cached credentials). */
async function statusWith(token: string): Promise<number> {
  const admin = cluster.kc.getCurrentCluster();
  if (!admin) throw new Error('no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: admin.server, caData: admin.caData, skipTLSVerify: false }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = createKubeClient(kc, { qps: 0, burst: 0 });
  try {
    return (await client.request('GET', `/api/v1/namespaces/${ns}/pods`)).status;
  } finally {
    client.close();
  }
}

function boundLines(r: Replica): LogLine[] {
  return r.lines.filter((l) => l.decision === 'scheduled' && l.profile === schedulerName && l.bound === true);
}

async function createPods(names: string[]): Promise<void> {
  await Promise.all(names.map((n) => cluster.createPod(pod(ns, n, { schedulerName, nodeSelector: selector }))));
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  const nodes: FakeNodeSpec[] = Array.from({ length: 3 }, (_, i) => ({ name: `live-creds-${sfx}-${i}`, cpu: '64', memory: '256Gi', pods: '110', labels: selector }));
  await cluster.createNodes(nodes);
  await createServiceAccount();
  // cluster-admin: this test is about authentication; berth's least privileges are shipRbac.test.ts's subject.
  await cluster.req('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: bindingName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  writeFileSync(tokenPath, await requestToken());
  const admin = cluster.kc.getCurrentCluster();
  writeFileSync(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sa',
      clusters: [{ name: 'c', cluster: { server: admin?.server, 'certificate-authority-data': admin?.caData } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa' } }],
      // Relative to the kubeconfig's folder, as clientcmd resolves it.
      users: [{ name: 'sa', user: { tokenFile: 'token' } }],
    }),
  );
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  resourceName: ${leaseName}
  resourceNamespace: ${ns}
profiles:
  - schedulerName: ${schedulerName}
`,
  );
});

afterAll(async () => {
  berth?.kill('SIGKILL');
  if (berth) await berth.exited;
  await cluster?.client.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${bindingName}`).catch(() => undefined);
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('rotating credentials (berth run as a process, kubeconfig tokenFile)', () => {
  it('the token is revoked and replaced in the file: berth reads it again and keeps scheduling; every pod bound once', async () => {
    const r = new Replica('creds', configPath, kubeconfigPath);
    berth = r;
    const { address, identity } = await r.started();
    await waitFor('berth to lead and be ready', 60_000, async () =>
      r.has('started leading: scheduling') && (await httpGet(`${address}/readyz`)).status === 200 ? true : undefined,
    );
    const first = Array.from({ length: 20 }, (_, i) => `before-${i}`);
    await createPods(first);
    await cluster.waitBound(ns, first, 60_000);

    // Revoke: the ServiceAccount goes and comes back with a new UID; the old token must really fail now (the API
    // server may cache a successful authentication for a few seconds).
    const oldToken = readFileSync(tokenPath, 'utf8');
    await cluster.req('DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}`);
    await createServiceAccount();
    await waitFor('the old token to be refused (401)', 60_000, async () => ((await statusWith(oldToken)) === 401 ? true : undefined), 500);
    const revokedAt = Date.now();
    // Pods created while berth only has the revoked token: its bindings get 401 until the file holds a new token.
    const during = Array.from({ length: 10 }, (_, i) => `revoked-${i}`);
    await createPods(during);
    const newToken = await requestToken();
    expect(await statusWith(newToken)).toBe(200);
    writeFileSync(tokenPath, newToken);
    const rotatedAt = Date.now();
    const after = Array.from({ length: 20 }, (_, i) => `after-${i}`);
    await createPods(after);

    // Well within client-go's minute: the 401s make berth read the file again at once.
    const all = [...first, ...during, ...after];
    const nodes = await waitFor('every pod bound', 90_000, async () => {
      if (!r.alive) throw new Error(`berth exited: ${r.other.join('')}`);
      const pods = await cluster.listPods(ns);
      const m = new Map(pods.filter((p) => p.spec?.nodeName).map((p) => [p.metadata?.name ?? '', p.spec?.nodeName ?? '']));
      return all.every((n) => m.has(n)) ? m : undefined;
    }, 500);
    process.stderr.write(`[liveCredentials] every pod bound ${((Date.now() - rotatedAt) / 1000).toFixed(1)}s after the rotation (old token refused ${((rotatedAt - revokedAt) / 1000).toFixed(1)}s before)\n`);

    await r.decisionsSettled(address, 30_000);
    await decisionLinesFor([r], all.map((n) => `${ns}/${n}`), 30_000);
    const byPod = new Map<string, number>();
    for (const l of boundLines(r)) byPod.set(l.pod ?? '', (byPod.get(l.pod ?? '') ?? 0) + 1);
    for (const n of all) expect(byPod.get(`${ns}/${n}`), `bound decision lines of ${n}`).toBe(1);
    for (const l of boundLines(r)) expect(l.node).toBe(nodes.get((l.pod ?? '').slice(ns.length + 1)));
    const events = await cluster.req<{ items: EventV1[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
    const scheduled = new Map<string, number>();
    for (const e of events.items) if (e.reason === 'Scheduled') scheduled.set(e.regarding?.name ?? '', (scheduled.get(e.regarding?.name ?? '') ?? 0) + 1);
    for (const [n, c] of scheduled) expect(c, `Scheduled events of ${n}`).toBe(1);

    // Berth is up, healthy and (again, or still) holds its Lease, renewed with the new token.
    expect(r.alive).toBe(true);
    await waitFor('berth to hold its Lease', 60_000, async () => ((await cluster.lease(ns, leaseName))?.spec?.holderIdentity === identity ? true : undefined), 250);
    expect((await httpGet(`${address}/healthz`)).status).toBe(200);
    expect((await httpGet(`${address}/readyz`)).status).toBe(200);
    expect(r.other.join('')).not.toMatch(/uncaught|unhandled|FATAL/i);
  }, 240_000);
});
