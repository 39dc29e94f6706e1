import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../../src/adapters/live/kubeClient.js';
import {
  ALL_WATCH_KINDS,
  type AnyKindHandlers,
  type ClusterWatches,
  KIND_SPECS,
  POD_FIELD_SELECTOR,
  startClusterWatches,
  type WatchKind,
} from '../../../src/adapters/live/informers.js';
import { FakeApiServer, makeLogger, waitFor } from './fakeApiServer.js';

let server: FakeApiServer;
let client: KubeClient;
let watches: ClusterWatches | undefined;

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0 });
});

afterEach(async () => {
  await watches?.stop();
  watches = undefined;
  client.close();
  await server.close();
});

describe('startClusterWatches', () => {
  it('watches every kind at its API path (pods with the phase field selector) and reports allSynced', async () => {
    const log: string[] = [];
    server.upsert('/api/v1/nodes', { metadata: { name: 'n1' }, status: { allocatable: { cpu: '4' }, daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } } });
    server.upsert('/api/v1/pods', { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1' } });
    server.upsert('/apis/apps/v1/replicasets', { metadata: { name: 'rs', namespace: 'ns' }, spec: { selector: { matchLabels: { a: 'b' } }, replicas: 2 } });
    const handlers: AnyKindHandlers[] = ALL_WATCH_KINDS.map(
      (kind): AnyKindHandlers => ({
        kind,
        onAdd: (o: { metadata?: { name?: string } }) => log.push(`${kind} add ${o.metadata?.name}`),
        onUpdate: () => undefined,
        onDelete: (o: { metadata?: { name?: string } }) => log.push(`${kind} delete ${o.metadata?.name}`),
      }) as AnyKindHandlers,
    );
    let allSyncedCalls = 0;
    watches = startClusterWatches(client, handlers, makeLogger(), { random: () => 0, onAllSynced: () => allSyncedCalls++ });
    await watches.waitForSync();
    expect(watches.allSynced()).toBe(true);
    expect(allSyncedCalls).toBe(1);
    expect(log).toEqual(expect.arrayContaining(['Node add n1', 'Pod add p', 'ReplicaSet add rs']));

    const listed = new Set(server.requests.filter((r) => !r.watch).map((r) => r.path));
    expect([...listed].sort()).toEqual(
      [
        '/api/v1/nodes',
        '/api/v1/pods',
        '/api/v1/persistentvolumes',
        '/api/v1/persistentvolumeclaims',
        '/apis/storage.k8s.io/v1/storageclasses',
        '/apis/storage.k8s.io/v1/csidrivers',
        '/apis/storage.k8s.io/v1/csinodes',
        '/apis/storage.k8s.io/v1/csistoragecapacities',
        '/apis/storage.k8s.io/v1/volumeattachments',
        '/apis/resource.k8s.io/v1/deviceclasses',
        '/apis/resource.k8s.io/v1/resourceslices',
        '/apis/resource.k8s.io/v1/devicetaintrules',
        '/apis/resource.k8s.io/v1/resourceclaims',
        '/api/v1/services',
        '/api/v1/replicationcontrollers',
        '/apis/apps/v1/replicasets',
        '/apis/apps/v1/statefulsets',
        '/apis/policy/v1/poddisruptionbudgets',
        '/api/v1/namespaces',
      ].sort(),
    );
    const podList = server.listRequests('/api/v1/pods')[0]!;
    expect(podList.query.get('fieldSelector')).toBe(POD_FIELD_SELECTOR);
    expect(server.listRequests('/api/v1/nodes')[0]!.query.has('fieldSelector')).toBe(false);

    // Slimmed objects reach typed handlers; a watch event flows through.
    const node = watches.reflector('Node')!.items().get('n1')!;
    expect(node.status?.allocatable).toEqual({ cpu: '4' });
    // Fields no plugin reads are dropped (addresses stay: NodeUtilization matches metrics to nodes by them).
    expect(JSON.stringify(node)).not.toContain('daemonEndpoints');
    await waitFor('pod watch', () => server.openWatchCount('/api/v1/pods') === 1);
    server.delete('/api/v1/pods', 'p', 'ns');
    await waitFor('delete', () => log.includes('Pod delete p'));
  });

  it('starts only the kinds given, typed per kind, and rejects duplicates', async () => {
    const seen: string[] = [];
    watches = startClusterWatches(
      client,
      [
        { kind: 'Node', onAdd: (n) => seen.push(n.status?.allocatable?.['cpu'] as string) },
        { kind: 'StorageClass', onAdd: (sc) => seen.push(sc.volumeBindingMode ?? '') },
      ],
      makeLogger(),
    );
    server.upsert('/api/v1/nodes', { metadata: { name: 'n' }, status: { allocatable: { cpu: '2' } } });
    await watches.waitForSync();
    expect(watches.reflector('Pod')).toBeUndefined();
    expect(new Set(server.requests.map((r) => r.path))).toEqual(new Set(['/api/v1/nodes', '/apis/storage.k8s.io/v1/storageclasses']));
    expect(() => startClusterWatches(client, [{ kind: 'Pod' }, { kind: 'Pod' }], makeLogger())).toThrow(/two handler sets/);
  });

  it('allSynced() is false until every kind has listed; stop() rejects pending waiters and ends promptly', async () => {
    server.failNext({ status: 500, on: 'list' }); // the first list (nodes) fails and backs off for a long time
    watches = startClusterWatches(client, [{ kind: 'Node' }, { kind: 'Namespace' }], makeLogger(), {
      backoff: { initialMs: 60_000 },
      random: () => 0,
    });
    const waiting = watches.waitForSync();
    await waitFor('namespace synced', () => watches!.reflector('Namespace')!.hasSynced);
    expect(watches.allSynced()).toBe(false);
    const t0 = Date.now();
    await watches.stop();
    // Promptly: it does not sit out the 60 s backoff (a generous bound, so a loaded machine cannot fail it).
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expect(waiting).rejects.toThrow(/stopped before syncing/);
  });

  it('a throwing per-kind onSynced still counts towards allSynced', async () => {
    watches = startClusterWatches(
      client,
      [
        {
          kind: 'Service',
          onSynced: () => {
            throw new Error('boom');
          },
        },
      ],
      makeLogger(),
    );
    await watches.waitForSync();
    expect(watches.allSynced()).toBe(true);
  });

  it('every kind has a path and a transform', () => {
    for (const k of ALL_WATCH_KINDS) {
      const spec = KIND_SPECS[k as WatchKind];
      expect(spec.listPath).toMatch(/^\/apis?\//);
      expect(spec.transform({ metadata: { name: 'x' } }).metadata?.name).toBe('x');
    }
  });
});
