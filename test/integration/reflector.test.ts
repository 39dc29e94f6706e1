// berth's own client and list/watch loops against the real control plane: events for pods and nodes, pagination,
// a killed watch connection resumed from the last resourceVersion (no relist), every kind syncing.
// (410 → relist is covered by the unit tests: a fresh control plane has not compacted etcd yet.)
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Node, Pod } from '../../src/kube/api.js';
import { createKubeClient, isStatus, type KubeClient, type WatchEnd } from '../../src/adapters/live/kubeClient.js';
import { DEFAULT_TRANSPORT, transportOptions } from '../../src/adapters/live/transportFlags.js';
import { startClusterWatches } from '../../src/adapters/live/informers.js';
import { Reflector } from '../../src/adapters/live/reflector.js';
import { objectKey, slimNode, slimPod } from '../../src/adapters/live/slim.js';

const suffix = randomBytes(3).toString('hex');
const ns = `reflector-${suffix}`;
const label = `berth-reflector-test=${suffix}`;
const nodeNames: string[] = [];

let client: KubeClient;

const logger = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (obj: object, msg?: string): void => {
    process.stderr.write(`[reflector warn] ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  },
  error: (obj: object, msg?: string): void => {
    process.stderr.write(`[reflector error] ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  },
};

async function ok<T>(p: Promise<{ status: number; body: unknown }>, ...accept: number[]): Promise<T> {
  const res = await p;
  if (!(res.status >= 200 && res.status < 300) && !accept.includes(res.status)) {
    throw new Error(`HTTP ${res.status}: ${isStatus(res.body) ? res.body.message : JSON.stringify(res.body)}`);
  }
  return res.body as T;
}

function createPod(name: string, labels: Record<string, string> = {}): Promise<Pod> {
  return ok<Pod>(
    client.request('POST', `/api/v1/namespaces/${ns}/pods`, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { 'berth-reflector-test': suffix, ...labels } },
        spec: {
          schedulerName: 'berth-test-nobody',
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', env: [{ name: 'A', value: 'b' }], resources: { requests: { cpu: '100m' } } }],
        },
      },
    }),
  );
}

function deletePod(name: string): Promise<unknown> {
  return ok(client.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, { query: { gracePeriodSeconds: 0 } }), 404);
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Wraps a client so the test can kill open watch connections as a network failure would. */
function killableClient(inner: KubeClient): { client: KubeClient; kill(): void; watchQueries: Array<Record<string, unknown>> } {
  const open = new Set<AbortController>();
  const watchQueries: Array<Record<string, unknown>> = [];
  return {
    watchQueries,
    kill: () => {
      for (const ac of open) ac.abort();
    },
    client: {
      server: inner.server,
      request: (m, p, o) => inner.request(m, p, o),
      close: () => inner.close(),
      watch: async (path, query, onEvent, signal, opts): Promise<WatchEnd> => {
        watchQueries.push({ path, ...query });
        const ac = new AbortController();
        const onOuter = (): void => ac.abort();
        signal.addEventListener('abort', onOuter, { once: true });
        open.add(ac);
        try {
          const end = await inner.watch(path, query, onEvent, ac.signal, opts);
          if (end.reason === 'aborted' && !signal.aborted) {
            return { reason: 'error', events: end.events, error: new Error('connection killed by the test') };
          }
          return end;
        } finally {
          open.delete(ac);
          signal.removeEventListener('abort', onOuter);
        }
      },
    },
  };
}

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  // The wire berth runs with by default (protobuf for core/v1 kinds); the JSON path is what the test helpers use.
  client = createKubeClient(kc, { qps: 50, burst: 100, userAgent: 'berth-integration', ...transportOptions(DEFAULT_TRANSPORT) });
  await ok(client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } }));
});

afterAll(async () => {
  await client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  for (const n of nodeNames) await client.request('DELETE', `/api/v1/nodes/${n}`).catch(() => undefined);
  client.close();
});

describe('Reflector against a real API server', () => {
  it('sees pods added, updated and deleted; slimmed; paginated initial list', async () => {
    for (let i = 0; i < 5; i++) await createPod(`pre-${i}`);
    const events: string[] = [];
    const r = new Reflector<Pod>({
      client,
      listPath: '/api/v1/pods',
      fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
      labelSelector: label,
      pageSize: 2,
      transform: slimPod,
      key: objectKey,
      logger,
      handlers: {
        onAdd: (p) => events.push(`add ${p.metadata?.name}`),
        onUpdate: (o, n) => {
          if (o.metadata?.labels?.['phase'] !== n.metadata?.labels?.['phase']) events.push(`update ${n.metadata?.name} ${n.metadata?.labels?.['phase']}`);
        },
        onDelete: (p) => events.push(`delete ${p.metadata?.name}`),
        onSynced: () => events.push('synced'),
      },
    }).start();
    try {
      await waitUntil('synced', () => r.hasSynced);
      expect(events.slice(0, 6)).toEqual(['add pre-0', 'add pre-1', 'add pre-2', 'add pre-3', 'add pre-4', 'synced']);
      expect(r.stats.lists).toBe(1);
      const stored = r.items().get(`${ns}/pre-0`)!;
      expect(stored.spec?.containers?.[0]).toEqual({ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } });
      expect(JSON.stringify(stored)).not.toMatch(/managedFields|"env"|terminationMessagePath|dnsPolicy/);

      await createPod('live');
      await waitUntil('add live', () => events.includes('add live'));
      await ok(
        client.request('PATCH', `/api/v1/namespaces/${ns}/pods/live`, {
          body: { metadata: { labels: { phase: 'two' } } },
          contentType: 'application/merge-patch+json',
        }),
      );
      await waitUntil('update live', () => events.includes('update live two'));
      await deletePod('live');
      await waitUntil('delete live', () => events.includes('delete live'));
      expect(r.items().has(`${ns}/live`)).toBe(false);
      expect(events.indexOf('add live')).toBeLessThan(events.indexOf('update live two'));
      expect(events.indexOf('update live two')).toBeLessThan(events.indexOf('delete live'));
    } finally {
      await r.stop();
    }
    for (let i = 0; i < 5; i++) await deletePod(`pre-${i}`);
  });

  it('sees nodes added, updated and deleted', async () => {
    const name = `reflector-node-${suffix}`;
    const events: string[] = [];
    const r = new Reflector<Node>({
      client,
      listPath: '/api/v1/nodes',
      labelSelector: label,
      transform: slimNode,
      key: objectKey,
      logger,
      handlers: {
        onAdd: (n) => events.push(`add ${n.metadata?.name}`),
        onUpdate: (o, n) => {
          if (!o.spec?.unschedulable && n.spec?.unschedulable) events.push(`cordon ${n.metadata?.name}`);
        },
        onDelete: (n) => events.push(`delete ${n.metadata?.name}`),
      },
    }).start();
    try {
      await waitUntil('synced', () => r.hasSynced);
      nodeNames.push(name);
      await ok(
        client.request('POST', '/api/v1/nodes', {
          body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'berth-reflector-test': suffix } } },
        }),
      );
      await waitUntil('node add', () => events.includes(`add ${name}`));
      await ok(
        client.request('PATCH', `/api/v1/nodes/${name}`, { body: { spec: { unschedulable: true } }, contentType: 'application/merge-patch+json' }),
      );
      await waitUntil('node cordon', () => events.includes(`cordon ${name}`));
      await ok(client.request('DELETE', `/api/v1/nodes/${name}`));
      await waitUntil('node delete', () => events.includes(`delete ${name}`));
    } finally {
      await r.stop();
    }
  });

  it('resumes from the last resourceVersion after the watch connection is killed, without relisting', async () => {
    const k = killableClient(client);
    const events: string[] = [];
    const r = new Reflector<Pod>({
      client: k.client,
      listPath: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: label,
      transform: slimPod,
      key: objectKey,
      logger,
      backoff: { initialMs: 300, maxMs: 1000 },
      handlers: {
        onAdd: (p) => events.push(`add ${p.metadata?.name}`),
        onDelete: (p) => events.push(`delete ${p.metadata?.name}`),
      },
    }).start();
    try {
      await waitUntil('synced', () => r.hasSynced);
      await createPod('before-kill');
      await waitUntil('add before-kill', () => events.includes('add before-kill'));
      const rvBeforeKill = r.resourceVersion;
      k.kill();
      // Changes while disconnected (during the backoff) arrive once the watch resumes.
      await createPod('during-gap');
      await deletePod('before-kill');
      await waitUntil('resumed', () => events.includes('add during-gap') && events.includes('delete before-kill'));
      expect(k.watchQueries.length).toBeGreaterThanOrEqual(2);
      expect(k.watchQueries[1]!['resourceVersion']).toBe(rvBeforeKill);
      expect(k.watchQueries[1]!['allowWatchBookmarks']).toBe(true);
      expect(r.stats.lists).toBe(1);
      expect(r.stats.retries).toBe(1);
      expect(events.filter((e) => e === 'add during-gap')).toHaveLength(1);
      expect(events.filter((e) => e === 'add before-kill')).toHaveLength(1);
      await deletePod('during-gap');
      await waitUntil('delete during-gap', () => events.includes('delete during-gap'));
    } finally {
      await r.stop();
    }
  });

  it('startClusterWatches syncs every kind against the real API (paths, groups, RBAC as admin)', async () => {
    const kinds = ['Node', 'Pod', 'PersistentVolume', 'PersistentVolumeClaim', 'StorageClass', 'Service', 'ReplicationController', 'ReplicaSet', 'StatefulSet', 'Namespace'] as const;
    let namespaces = 0;
    const w = startClusterWatches(
      client,
      kinds.map((kind) => (kind === 'Namespace' ? { kind, onAdd: () => namespaces++ } : { kind })),
      logger,
    );
    try {
      await w.waitForSync();
      expect(w.allSynced()).toBe(true);
      expect(namespaces).toBeGreaterThanOrEqual(4); // default, kube-system, kube-public, kube-node-lease, ours
      expect(w.reflector('Namespace')!.items().has(ns)).toBe(true);
    } finally {
      await w.stop();
    }
  });
});
