/**
 * Small API helpers for the fidelity harness and the throughput benchmark, over berth's own KubeClient.
 */
import type { KubeClient, Response, Status } from '../../src/adapters/live/kubeClient.js';

export interface KindPath {
  /** Collection path for a namespace (or the cluster, for cluster-scoped kinds). */
  collection(namespace: string | undefined): string;
  namespaced: boolean;
}

/** Kinds a scenario may carry: the group/version used when the manifest names none, the plural, the scope. */
const KINDS: Record<string, { apiVersion: string; plural: string; namespaced: boolean }> = {
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  ReplicationController: { apiVersion: 'v1', plural: 'replicationcontrollers', namespaced: true },
  PersistentVolume: { apiVersion: 'v1', plural: 'persistentvolumes', namespaced: false },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  ReplicaSet: { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', plural: 'storageclasses', namespaced: false },
  CSINode: { apiVersion: 'storage.k8s.io/v1', plural: 'csinodes', namespaced: false },
  CSIDriver: { apiVersion: 'storage.k8s.io/v1', plural: 'csidrivers', namespaced: false },
  CSIStorageCapacity: { apiVersion: 'storage.k8s.io/v1', plural: 'csistoragecapacities', namespaced: true },
  PriorityClass: { apiVersion: 'scheduling.k8s.io/v1', plural: 'priorityclasses', namespaced: false },
  RuntimeClass: { apiVersion: 'node.k8s.io/v1', plural: 'runtimeclasses', namespaced: false },
  PodDisruptionBudget: { apiVersion: 'policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
  DeviceClass: { apiVersion: 'resource.k8s.io/v1', plural: 'deviceclasses', namespaced: false },
  ResourceSlice: { apiVersion: 'resource.k8s.io/v1', plural: 'resourceslices', namespaced: false },
  DeviceTaintRule: { apiVersion: 'resource.k8s.io/v1', plural: 'devicetaintrules', namespaced: false },
  ResourceClaim: { apiVersion: 'resource.k8s.io/v1', plural: 'resourceclaims', namespaced: true },
  ResourceClaimTemplate: { apiVersion: 'resource.k8s.io/v1', plural: 'resourceclaimtemplates', namespaced: true },
};

export const SUPPORTED_KINDS = Object.keys(KINDS);

/**
 * Kinds whose objects a scheduling run changes (claimRef, selected-node, allocations) or creates (provisioned PVs):
 * every one of them is deleted between runs, not only those the scenario listed.
 */
export const RUN_MUTATED_KINDS: readonly string[] = ['PersistentVolumeClaim', 'PersistentVolume', 'ResourceClaim'];

/** The API path of a kind's collection; `apiVersion` (a manifest's) overrides the default version, e.g. a beta. */
export function kindPath(kind: string, apiVersion?: string): KindPath {
  const k = KINDS[kind];
  if (!k) throw new Error(`unsupported kind ${kind} (supported: ${SUPPORTED_KINDS.join(', ')})`);
  const gv = apiVersion ?? k.apiVersion;
  const prefix = gv === 'v1' ? '/api/v1' : `/apis/${gv}`;
  return {
    namespaced: k.namespaced,
    collection: (ns) => (k.namespaced ? `${prefix}/namespaces/${ns ?? 'default'}/${k.plural}` : `${prefix}/${k.plural}`),
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

/**
 * Creates an object; sets its status through the status subresource when the manifest carries one (the create
 * ignores status: a PV's phase, a PDB's disruptionsAllowed, a pod's resize state are status).
 */
export async function createObject(client: KubeClient, obj: Record<string, unknown>): Promise<Record<string, unknown>> {
  const kind = String(obj['kind']);
  const meta = obj['metadata'] as { name: string; namespace?: string };
  const path = kindPath(kind, typeof obj['apiVersion'] === 'string' ? obj['apiVersion'] : undefined).collection(meta.namespace);
  const created = await must<Record<string, unknown>>(`create ${kind} ${meta.name}`, client.request('POST', path, { body: obj }));
  if (obj['status'] !== undefined) {
    return must<Record<string, unknown>>(
      `set status of ${kind} ${meta.name}`,
      client.request('PUT', `${path}/${meta.name}/status`, { body: { ...created, status: obj['status'] } }),
    );
  }
  return created;
}

export async function deleteObject(client: KubeClient, kind: string, name: string, namespace?: string): Promise<void> {
  const path = `${kindPath(kind).collection(namespace)}/${name}`;
  if (RUN_MUTATED_KINDS.includes(kind)) {
    // No controller is left to release them between runs: drop the protection finalizers (pv/pvc-protection, a
    // claim's delete-protection), or the object would stay Terminating and its name taken.
    await client.request('PATCH', path, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
  }
  await must(`delete ${kind} ${name}`, client.request('DELETE', path, { query: { gracePeriodSeconds: 0 } }), [404]);
}

/** Deletes every object of the kinds a run changes or creates: cluster-wide, or in the namespaces. */
export async function deleteRunMutated(client: KubeClient, namespaces: string[]): Promise<void> {
  for (const kind of RUN_MUTATED_KINDS) {
    const path = kindPath(kind);
    const scopes = path.namespaced ? namespaces : [undefined];
    for (const ns of scopes) {
      const items = await listItems<{ metadata?: { name?: string } }>(client, path.collection(ns));
      for (const o of items) await deleteObject(client, kind, o.metadata?.name ?? '', ns);
    }
  }
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
