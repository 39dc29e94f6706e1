/**
 * Small API helpers for the fidelity harness and the throughput benchmark, over berth's own KubeClient.
 */
import type { KubeClient, Response, Status } from '../../src/adapters/live/kubeClient.js';

export interface KindPath {
  /** Collection path for a namespace (or the cluster, for cluster-scoped kinds). */
  collection(namespace: string | undefined): string;
  namespaced: boolean;
}

const KINDS: Record<string, { group: string; plural: string; namespaced: boolean }> = {
  Pod: { group: '/api/v1', plural: 'pods', namespaced: true },
  Node: { group: '/api/v1', plural: 'nodes', namespaced: false },
  Namespace: { group: '/api/v1', plural: 'namespaces', namespaced: false },
  Service: { group: '/api/v1', plural: 'services', namespaced: true },
  ReplicationController: { group: '/api/v1', plural: 'replicationcontrollers', namespaced: true },
  PersistentVolume: { group: '/api/v1', plural: 'persistentvolumes', namespaced: false },
  PersistentVolumeClaim: { group: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true },
  ReplicaSet: { group: '/apis/apps/v1', plural: 'replicasets', namespaced: true },
  StatefulSet: { group: '/apis/apps/v1', plural: 'statefulsets', namespaced: true },
  StorageClass: { group: '/apis/storage.k8s.io/v1', plural: 'storageclasses', namespaced: false },
  PriorityClass: { group: '/apis/scheduling.k8s.io/v1', plural: 'priorityclasses', namespaced: false },
  RuntimeClass: { group: '/apis/node.k8s.io/v1', plural: 'runtimeclasses', namespaced: false },
};

export const SUPPORTED_KINDS = Object.keys(KINDS);

export function kindPath(kind: string): KindPath {
  const k = KINDS[kind];
  if (!k) throw new Error(`unsupported kind ${kind} (supported: ${SUPPORTED_KINDS.join(', ')})`);
  return {
    namespaced: k.namespaced,
    collection: (ns) => (k.namespaced ? `${k.group}/namespaces/${ns ?? 'default'}/${k.plural}` : `${k.group}/${k.plural}`),
  };
}

function message(res: Response<unknown>): string {
  const b = res.body as Status;
  return b?.message ?? `HTTP ${res.status}`;
}

export async function must<T>(what: string, p: Promise<Response<T>>, okStatuses: number[] = []): Promise<T> {
  const res = await p;
  if ((res.status < 200 || res.status >= 300) && !okStatuses.includes(res.status)) {
    throw new Error(`${what}: ${message(res as Response<unknown>)}`);
  }
  return res.body as T;
}

/** Creates an object; sets its status through the status subresource when the manifest carries one. */
export async function createObject(client: KubeClient, obj: Record<string, unknown>): Promise<Record<string, unknown>> {
  const kind = String(obj['kind']);
  const meta = obj['metadata'] as { name: string; namespace?: string };
  const path = kindPath(kind).collection(meta.namespace);
  const created = await must<Record<string, unknown>>(`create ${kind} ${meta.name}`, client.request('POST', path, { body: obj }));
  if (obj['status'] !== undefined && kind !== 'Pod') {
    return must<Record<string, unknown>>(
      `set status of ${kind} ${meta.name}`,
      client.request('PUT', `${path}/${meta.name}/status`, { body: { ...created, status: obj['status'] } }),
    );
  }
  return created;
}

export async function deleteObject(client: KubeClient, kind: string, name: string, namespace?: string): Promise<void> {
  const path = `${kindPath(kind).collection(namespace)}/${name}`;
  if (kind === 'PersistentVolume' || kind === 'PersistentVolumeClaim') {
    // No controller manager runs: drop the protection finalizers, or the object would stay Terminating.
    await client.request('PATCH', path, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
  }
  await must(`delete ${kind} ${name}`, client.request('DELETE', path, { query: { gracePeriodSeconds: 0 } }), [404]);
}

export async function listItems<T>(client: KubeClient, path: string, query: Record<string, string | number> = {}): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const body = await must<{ items?: T[]; metadata?: { continue?: string } }>(
      `list ${path}`,
      client.request('GET', path, { query: { limit: 5000, ...query, ...(cont ? { continue: cont } : {}) }, timeoutMs: 120_000 }),
    );
    out.push(...(body.items ?? []));
    cont = body.metadata?.continue || undefined;
  } while (cont);
  return out;
}

/** Force-deletes every pod in the namespaces (grace period 0) and waits until none is left. */
export async function deleteAllPods(client: KubeClient, namespaces: string[], timeoutMs = 120_000): Promise<void> {
  for (const ns of namespaces) {
    await must(
      `delete pods in ${ns}`,
      client.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { gracePeriodSeconds: 0 }, timeoutMs }),
      [404],
    );
  }
  const deadline = Date.now() + timeoutMs;
  for (const ns of namespaces) {
    for (;;) {
      const body = await must<{ items?: unknown[] }>(`list pods in ${ns}`, client.request('GET', `/api/v1/namespaces/${ns}/pods`, { query: { limit: 1 } }), [404]);
      if ((body.items ?? []).length === 0) break;
      if (Date.now() > deadline) throw new Error(`pods in ${ns} still present after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates the namespace if missing and sets exactly the given labels (plus the API server's own name label). */
export async function ensureNamespace(client: KubeClient, name: string, labels: Record<string, string> = {}): Promise<void> {
  const res = await client.request<Record<string, unknown>>('GET', `/api/v1/namespaces/${name}`);
  const wanted = { ...labels, 'kubernetes.io/metadata.name': name };
  if (res.status === 404) {
    await must(`create namespace ${name}`, client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: wanted } } }), [409]);
    return;
  }
  const ns = res.body as { metadata?: { labels?: Record<string, string> } };
  const current = ns.metadata?.labels ?? {};
  if (JSON.stringify(Object.entries(current).sort()) === JSON.stringify(Object.entries(wanted).sort())) return;
  await must(
    `label namespace ${name}`,
    client.request('PUT', `/api/v1/namespaces/${name}`, { body: { ...(res.body as object), metadata: { ...(ns.metadata ?? {}), labels: wanted } } }),
  );
}
