import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ALL_WATCH_KINDS, KIND_SPECS } from '../../../src/adapters/live/informers.js';
import { createKubeClient, type KubeClient, type RequestOptions, type Response } from '../../../src/adapters/live/kubeClient.js';
import { ClusterReadError, rbacTarget, readClusterObjects } from '../../../src/adapters/simulator/liveSnapshot.js';
import { buildSnapshot } from '../../../src/adapters/simulator/snapshot.js';
import { runSimulate } from '../../../src/cli/main.js';

type Answer = (path: string, query: RequestOptions['query']) => Response<unknown>;

function fakeClient(answer: Answer): Pick<KubeClient, 'request' | 'server'> & { calls: string[] } {
  const calls: string[] = [];
  return {
    server: 'https://cluster.example:6443',
    calls,
    request: <T>(method: string, path: string, opts?: RequestOptions) => {
      calls.push(`${method} ${path} ${opts?.query?.['continue'] ?? ''}`.trim());
      return Promise.resolve(answer(path, opts?.query) as Response<T>);
    },
  };
}

const empty = (): Response<unknown> => ({ status: 200, body: { items: [] } });
const NODES = KIND_SPECS.Node.listPath;

function node(name: string): Record<string, unknown> {
  return { metadata: { name, uid: name }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } };
}

describe('readClusterObjects', () => {
  it('lists every watched kind once, nodes first, following continue tokens', async () => {
    const client = fakeClient((path, query) => {
      if (path !== NODES) return empty();
      return query?.['continue'] === 'page2'
        ? { status: 200, body: { metadata: {}, items: [node('n2')] } }
        : { status: 200, body: { metadata: { continue: 'page2' }, items: [node('n1')] } };
    });
    const live = await readClusterObjects(client);
    expect(client.calls).toEqual([`GET ${NODES}`, `GET ${NODES} page2`, ...ALL_WATCH_KINDS.slice(1).map((k) => `GET ${KIND_SPECS[k].listPath}`)]);
    expect(live.objects.map((o) => o.where)).toEqual(['Node n1', 'Node n2']);
    expect(buildSnapshot(live.objects).nodeCount).toBe(2);
  });

  it('starts a kind over when its continue token expired (410)', async () => {
    let expired = false;
    const client = fakeClient((path, query) => {
      if (path !== NODES) return empty();
      if (query?.['continue'] === 'old' && !expired) {
        expired = true;
        return { status: 410, body: { kind: 'Status', code: 410, message: 'continue expired' } };
      }
      return query?.['continue'] ? { status: 200, body: { items: [node('n2')] } } : { status: 200, body: { metadata: { continue: 'old' }, items: [node('n1')] } };
    });
    const live = await readClusterObjects(client);
    expect(live.objects.map((o) => o.where)).toEqual(['Node n1', 'Node n2']);
  });

  it('names the kind and the RBAC rule when a list is forbidden', async () => {
    const csi = KIND_SPECS.CSINode.listPath;
    const client = fakeClient((path) => (path === csi ? { status: 403, body: { kind: 'Status', code: 403, message: 'csinodes is forbidden' } } : empty()));
    const err = await readClusterObjects(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterReadError);
    expect((err as Error).message).toContain('forbidden to list CSINode (csinodes is forbidden)');
    expect((err as Error).message).toContain('"list" on csinodes in API group "storage.k8s.io"');
    expect((err as Error).message).toContain('--resource=csinodes.storage.k8s.io');
  });

  it('says the credentials were rejected on 401', async () => {
    const client = fakeClient(() => ({ status: 401, body: { kind: 'Status', code: 401, message: 'Unauthorized' } }));
    await expect(readClusterObjects(client)).rejects.toThrow(/rejected the kubeconfig's credentials \(401: Unauthorized\)/);
  });

  it('skips a kind the server does not serve, with a warning', async () => {
    const capacity = KIND_SPECS.CSIStorageCapacity.listPath;
    const client = fakeClient((path) => (path === capacity ? { status: 404, body: { kind: 'Status', code: 404 } } : empty()));
    const live = await readClusterObjects(client);
    expect(live.warnings).toEqual([`CSIStorageCapacity: the API server does not serve ${capacity}; simulated without CSIStorageCapacity objects`]);
  });

  it('says the server is unreachable, with its address, when nothing answers', async () => {
    const kc = new KubeConfig();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    kc.loadFromClusterAndUser({ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }, { name: 'u' });
    const client = createKubeClient(kc, { qps: 0, burst: 0 });
    await expect(readClusterObjects(client)).rejects.toThrow(/cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED/);
    client.close();
  });

  it('says the credentials cannot be loaded, not that the network failed', async () => {
    const kc = new KubeConfig();
    // client-node refuses plain http without skipTLSVerify while reading credentials, before any connection.
    kc.loadFromClusterAndUser({ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: false }, { name: 'u' });
    const client = createKubeClient(kc, { qps: 0, burst: 0 });
    await expect(readClusterObjects(client)).rejects.toThrow(/^loading credentials for http:\/\/127\.0\.0\.1:1: .*; fix the kubeconfig's user or cluster entry/);
    client.close();
  });
});

describe('rbacTarget', () => {
  it('reads the resource and group from core and named-group paths', () => {
    expect(rbacTarget('/api/v1/nodes')).toEqual({ resource: 'nodes', group: '' });
    expect(rbacTarget('/apis/policy/v1/poddisruptionbudgets')).toEqual({ resource: 'poddisruptionbudgets', group: 'policy' });
  });
});

describe('simulate flags for a live snapshot', () => {
  const flags = { output: 'table' as const, seed: 1 };

  it('names the kubeconfig file it cannot load', async () => {
    await expect(runSimulate([], { ...flags, kubeconfig: '/nonexistent/kubeconfig' }, () => undefined)).rejects.toThrow(
      /\/nonexistent\/kubeconfig: cannot read: ENOENT .*--kubeconfig/,
    );
  });

  it('refuses snapshot files together with --kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-live-flags-'));
    writeFileSync(join(dir, 'kc'), '');
    await expect(runSimulate(['snap.yaml'], { ...flags, kubeconfig: join(dir, 'kc') }, () => undefined)).rejects.toThrow(/either snapshot files or --kubeconfig/);
  });
});
