/**
 * berth's own kubeconfig model (kubeCredentials.ts, built by loadKubeconfig): for each kind of credential it reads
 * itself, it must give the TLS options and headers @kubernetes/client-node's KubeConfig gives for the same file (the
 * library is the oracle); $KUBECONFIG is merged as kubectl merges it (kubectl is the oracle); the in-cluster config
 * is client-node's loadFromCluster's; and a user that needs a plugin (exec, an auth provider) goes to client-node,
 * imported then and once.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { createKubeClient } from '../../../src/adapters/live/kubeClient.js';
import { BerthKubeConfig, inClusterEntries, SERVICEACCOUNT_ROOT, type KubeCredentialSource } from '../../../src/adapters/live/kubeCredentials.js';
import { loadKubeconfig } from '../../../src/adapters/live/kubeconfig.js';
import type { ControlPlaneCerts } from '../../../tools/devcluster/certs.js';
import { startRecordingTlsServer, type RecordingTlsServer, type SeenRequest } from './recordingTlsServer.js';
import { kubeconfigText } from './kubeconfigText.js';

let tls: RecordingTlsServer;
let dir: string;
let certs: ControlPlaneCerts;
let port: number;
let seen: SeenRequest[];
let count = 0;

beforeAll(async () => {
  tls = await startRecordingTlsServer('berth-kubecreds-');
  ({ dir, certs, port, seen } = tls);
}, 60_000);

afterAll(() => tls.close());

afterEach(() => vi.unstubAllEnvs());

/** A kubeconfig file in its own folder (relative paths in it resolve there); `files` are copied beside it. */
function kubeconfigFile(cluster: Record<string, unknown>, user: Record<string, unknown> | undefined, files: Record<string, string> = {}): string {
  const folder = join(dir, `k${count++}`);
  mkdirSync(folder);
  for (const [name, from] of Object.entries(files)) copyFileSync(from, join(folder, name));
  const path = join(folder, 'config');
  writeFileSync(path, kubeconfigText(cluster, user));
  return path;
}

/** The parts of https.RequestOptions berth's client takes from a kubeconfig (kubeClient.ts readCredentials). */
async function applied(kc: KubeCredentialSource): Promise<Record<string, unknown>> {
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const { ca, cert, key, rejectUnauthorized, servername, auth, headers } = opts;
  return { ca, cert, key, rejectUnauthorized, servername, auth, headers };
}

function clientNodeFrom(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

describe('each kind of credential berth reads itself gives what client-node gives', () => {
  const url = (): string => `https://127.0.0.1:${port}`;
  const cases: Array<{ name: string; file: () => string; set: string[] }> = [
    {
      name: 'client certificate and key files, CA file (paths relative to the kubeconfig)',
      file: () =>
        kubeconfigFile({ server: url(), 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' }, {
          'ca.crt': certs.caCert,
          'admin.crt': certs.adminCert,
          'admin.key': certs.adminKey,
        }),
      set: ['ca', 'cert', 'key'],
    },
    {
      name: 'certificate, key and CA data, tls-server-name',
      file: () =>
        kubeconfigFile(
          { server: url(), 'certificate-authority-data': b64(certs.caCert), 'tls-server-name': 'localhost' },
          { 'client-certificate-data': b64(certs.adminCert), 'client-key-data': b64(certs.adminKey) },
        ),
      set: ['ca', 'cert', 'key', 'servername'],
    },
    { name: 'bearer token, insecure-skip-tls-verify', file: () => kubeconfigFile({ server: url(), 'insecure-skip-tls-verify': true }, { token: 'tok-1' }), set: ['rejectUnauthorized', 'headers'] },
    {
      name: 'token-file (client-node reads it at load, berth when credentials are read)',
      file: () => {
        writeFileSync(join(dir, 'token-file'), 'from-file');
        return kubeconfigFile({ server: url(), 'certificate-authority-data': b64(certs.caCert) }, { 'token-file': join(dir, 'token-file') });
      },
      set: ['ca', 'headers'],
    },
    {
      name: 'basic username and password, impersonation (as)',
      file: () => kubeconfigFile({ server: url(), 'certificate-authority-data': b64(certs.caCert) }, { username: 'alice', password: 'pw', as: 'bob' }),
      set: ['ca', 'auth', 'headers'],
    },
    { name: 'plain http with insecure-skip-tls-verify', file: () => kubeconfigFile({ server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true }, { token: 't' }), set: ['rejectUnauthorized'] },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const path = c.file();
      const ours = await applied(loadKubeconfig(path));
      expect(ours).toEqual(await applied(clientNodeFrom(path)));
      for (const field of c.set) expect(ours[field], field).not.toEqual(field === 'headers' ? {} : undefined);
    });
  }

  it('plain http without insecure-skip-tls-verify is refused with client-node\'s message', async () => {
    const path = kubeconfigFile({ server: 'http://127.0.0.1:1' }, { token: 't' });
    const theirs = await applied(clientNodeFrom(path)).catch((e: unknown) => e as Error);
    expect(theirs).toBeInstanceOf(Error);
    await expect(applied(loadKubeconfig(path))).rejects.toThrow((theirs as Error).message);
  });

  it('a context without a user still gets its cluster\'s CA (client-go applies it; client-node sets nothing then)', async () => {
    const ours = await applied(loadKubeconfig(kubeconfigFile({ server: `https://127.0.0.1:${port}`, 'certificate-authority-data': b64(certs.caCert) }, undefined)));
    expect(ours['ca']).toEqual(readFileSync(certs.caCert));
  });

  it('a client certificate and a token reach the API server over TLS', async () => {
    const path = kubeconfigFile(
      { server: `https://127.0.0.1:${port}`, 'certificate-authority': certs.caCert },
      { 'client-certificate': certs.adminCert, 'client-key': certs.adminKey, token: 'tok-2', as: 'bob' },
    );
    const client = createKubeClient(loadKubeconfig(path), { qps: 0, burst: 0 });
    try {
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)).toEqual({ cn: expect.any(String), auth: 'Bearer tok-2', impersonate: 'bob' });
    } finally {
      client.close();
    }
  });
});

describe('$KUBECONFIG merging follows clientcmd (kubectl is the oracle)', () => {
  function files(): string {
    const a = join(dir, `merge-a-${count}`);
    const b = join(dir, `merge-b-${count++}`);
    mkdirSync(b);
    copyFileSync(certs.caCert, join(b, 'ca.crt'));
    writeFileSync(
      a,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'shared', cluster: { server: 'https://a.example:6443' } }],
        users: [{ name: 'u', user: { token: 'token-a' } }],
        contexts: [{ name: 'ctx-a', context: { cluster: 'shared', user: 'u' } }],
      }),
    );
    const second = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'ctx-b',
      clusters: [
        { name: 'shared', cluster: { server: 'https://b.example:6443' } },
        { name: 'only-b', cluster: { server: 'https://only-b.example:6443', 'certificate-authority': 'ca.crt' } },
      ],
      users: [{ name: 'u', user: { token: 'token-b' } }],
      contexts: [{ name: 'ctx-b', context: { cluster: 'only-b', user: 'u' } }],
    };
    writeFileSync(join(b, 'config'), stringify(second));
    const c = join(dir, `merge-c-${count++}`);
    writeFileSync(c, stringify({ ...second, 'current-context': 'ctx-a', clusters: [], users: [] }));
    return [a, join(b, 'config'), c].join(':');
  }

  it('the first file to name an entry, or to set current-context, wins; paths resolve against their own file', () => {
    const list = files();
    const kc = loadKubeconfig(undefined, { env: { KUBECONFIG: list } });
    const merged = {
      current: kc.getCurrentContext(),
      clusters: Object.fromEntries(kc.entries.clusters.map((c) => [c.name, { server: c.server, ca: c.caFile }])),
      users: Object.fromEntries(kc.entries.users.map((u) => [u.name, u.token])),
    };
    // What clientcmd's rules give, written out: a fixed expectation that does not need kubectl.
    expect(merged).toEqual({
      current: 'ctx-b',
      clusters: { shared: { server: 'https://a.example:6443', ca: undefined }, 'only-b': { server: 'https://only-b.example:6443', ca: join(list.split(':')[1] ?? '', '..', 'ca.crt') } },
      users: { u: 'token-a' },
    });
    expect(kc.getCurrentCluster()?.name).toBe('only-b');
    expect(kc.getCurrentUser()?.token).toBe('token-a');
  });

  it.skipIf(!hasKubectl())('kubectl config view merges the same files the same way', () => {
    const list = files();
    const kc = loadKubeconfig(undefined, { env: { KUBECONFIG: list } });
    const view = JSON.parse(execFileSync('kubectl', ['config', 'view', '--flatten', '-o', 'json'], { env: { ...process.env, KUBECONFIG: list }, encoding: 'utf8' })) as {
      'current-context': string;
      clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
      users: Array<{ name: string; user: { token?: string } }>;
    };
    expect(kc.getCurrentContext()).toBe(view['current-context']);
    const byName = <T extends { name: string }>(l: T[]): T[] => [...l].sort((x, y) => x.name.localeCompare(y.name));
    // --flatten embeds each CA file's bytes, read from where kubectl resolved its path.
    expect(byName(kc.entries.clusters).map((c) => ({ name: c.name, server: c.server, ca: c.caFile === undefined ? undefined : b64(c.caFile) }))).toEqual(
      byName(view.clusters).map((c) => ({ name: c.name, server: c.cluster.server, ca: c.cluster['certificate-authority-data'] })),
    );
    expect(byName(kc.entries.users).map((u) => ({ name: u.name, token: u.token }))).toEqual(byName(view.users).map((u) => ({ name: u.name, token: u.user.token })));
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the in-cluster ServiceAccount config', () => {
  /** A pod's mounted ServiceAccount under a temporary prefix, as client-node's loadFromCluster(prefix) reads it. */
  function mounted(token: string): { prefix: string; root: string } {
    const prefix = join(dir, `pod-${count++}`);
    const root = join(prefix, SERVICEACCOUNT_ROOT);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'token'), token);
    copyFileSync(certs.caCert, join(root, 'ca.crt'));
    writeFileSync(join(root, 'namespace'), 'berth-system');
    return { prefix, root };
  }

  it('is client-node\'s loadFromCluster: server, CA, token file; its token is re-read by berth\'s client', async () => {
    const { prefix, root } = mounted('sa-token-1');
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) };
    const ours = loadKubeconfig(undefined, { env, serviceAccountRoot: root });
    vi.stubEnv('KUBERNETES_SERVICE_HOST', env.KUBERNETES_SERVICE_HOST);
    vi.stubEnv('KUBERNETES_SERVICE_PORT', env.KUBERNETES_SERVICE_PORT);
    const theirs = new KubeConfig();
    theirs.loadFromCluster(prefix);
    expect(ours.getCurrentCluster()).toEqual(theirs.getCurrentCluster());
    expect(ours.getCurrentUser()).toEqual(theirs.getCurrentUser());
    expect(ours.getCurrentContextObject()).toEqual(theirs.getContextObject(theirs.getCurrentContext()));
    expect(await applied(ours)).toEqual(await applied(theirs));

    const clock = { t: 1_000_000 };
    const client = createKubeClient(ours, { qps: 0, burst: 0, now: () => clock.t });
    try {
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)?.auth).toBe('Bearer sa-token-1');
      writeFileSync(join(root, 'token'), 'sa-token-2');
      clock.t += 50_000; // client-go's cached file token source: a minute less 10 s of leeway
      expect((await client.request('GET', '/api/v1/pods')).status).toBe(200);
      expect(seen.at(-1)?.auth).toBe('Bearer sa-token-2');
    } finally {
      client.close();
    }
  });

  it('an IPv6 host is bracketed and ports 80, 8080 and 8001 are plain http, as in client-node', () => {
    for (const [host, p] of [
      ['fd00::1', '443'],
      ['10.0.0.1', '8080'],
      ['10.0.0.1', '8001'],
      ['::1', '80'],
    ] as const) {
      vi.stubEnv('KUBERNETES_SERVICE_HOST', host);
      vi.stubEnv('KUBERNETES_SERVICE_PORT', p);
      const theirs = new KubeConfig();
      theirs.loadFromCluster('/nonexistent');
      const ours = inClusterEntries({ env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: p } });
      expect(ours.clusters[0]?.server).toBe(theirs.getCurrentCluster()?.server);
    }
  });
});

describe('a user that needs a plugin goes to client-node, imported then and once', () => {
  /** berth's model of `path`, with client-node's import counted. */
  function counted(path: string): { kc: BerthKubeConfig; imports: () => number } {
    let imports = 0;
    const kc = new BerthKubeConfig(loadKubeconfig(path).entries, () => {
      imports++;
      return import('@kubernetes/client-node');
    });
    return { kc, imports: () => imports };
  }

  const caData = (): Record<string, unknown> => ({ server: `https://127.0.0.1:${port}`, 'certificate-authority-data': b64(certs.caCert) });

  it('a token, certificate or basic-auth user does not import it', async () => {
    for (const user of [{ token: 't' }, { 'client-certificate-data': b64(certs.adminCert), 'client-key-data': b64(certs.adminKey) }, { username: 'a', password: 'b' }]) {
      const { kc, imports } = counted(kubeconfigFile(caData(), user));
      await applied(kc);
      expect(imports()).toBe(0);
    }
  });

  it('exec: the plugin\'s token, as client-node gives it; the plugin runs once while its credential is valid', async () => {
    const runs = join(dir, `exec-runs-${count++}`);
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'exec-token', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    };
    const script = `require('fs').appendFileSync(${JSON.stringify(runs)}, 'x'); console.log(${JSON.stringify(JSON.stringify(credential))})`;
    const path = kubeconfigFile(caData(), { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', script] } });
    const { kc, imports } = counted(path);
    const ours = await applied(kc);
    expect(ours['headers']).toEqual({ Authorization: 'Bearer exec-token' });
    expect(ours).toEqual(await applied(clientNodeFrom(path)));
    expect(imports()).toBe(1);
    const runsBefore = readFileSync(runs, 'utf8').length;
    await applied(kc);
    expect(imports()).toBe(1);
    expect(readFileSync(runs, 'utf8').length).toBe(runsBefore);
  });

  it('an auth provider other than berth\'s token file (gcp with a cached access token)', async () => {
    const provider = { name: 'gcp', config: { 'access-token': 'gcp-token', expiry: new Date(Date.now() + 3_600_000).toISOString() } };
    const path = kubeconfigFile(caData(), { 'auth-provider': provider });
    const { kc, imports } = counted(path);
    const ours = await applied(kc);
    expect(ours['headers']).toEqual({ Authorization: 'Bearer gcp-token' });
    expect(ours).toEqual(await applied(clientNodeFrom(path)));
    expect(imports()).toBe(1);
  });

  it('loadKubeconfig\'s own model reaches the exec plugin too (the default import)', async () => {
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'exec-2' } };
    const path = kubeconfigFile(caData(), { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `console.log(${JSON.stringify(JSON.stringify(credential))})`] } });
    expect((await applied(loadKubeconfig(path)))['headers']).toEqual({ Authorization: 'Bearer exec-2' });
  });
});
