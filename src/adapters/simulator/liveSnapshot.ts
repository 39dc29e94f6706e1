/**
 * Reads a snapshot straight from a cluster for `berth simulate --kubeconfig`: one paginated list (GET only) of every
 * kind the live scheduler watches (KIND_SPECS, so the list of kinds is kept once), slimmed as the live scheduler slims
 * them, handed to the same buildSnapshot the file snapshots go through. Nothing is written to the cluster.
 */
import type { KubeClient, Response, Status } from '../live/kubeClient.js';
import { ALL_WATCH_KINDS, KIND_SPECS, type WatchKind } from '../live/informers.js';
import type { SnapshotObject } from './snapshot.js';

/** A failure to read the cluster, worded for the person who has to fix it (credentials, RBAC, address). */
export class ClusterReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

export interface LiveObjects {
  objects: SnapshotObject[];
  /** Kinds the server does not serve (404 on the list), e.g. CSIStorageCapacity on an old cluster. */
  warnings: string[];
}

interface ListBody {
  metadata?: { continue?: string };
  items?: unknown[];
}

/** Items per page: small enough to keep a page's JSON modest on a big cluster, as client-go's pager does. */
const PAGE_SIZE = 500;

/** The RBAC resource and API group a list path names: /apis/storage.k8s.io/v1/csinodes → csinodes, storage.k8s.io. */
export function rbacTarget(listPath: string): { resource: string; group: string } {
  const parts = listPath.split('/').filter((p) => p !== '');
  const resource = parts[parts.length - 1] ?? listPath;
  const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
  return { resource, group };
}

function statusText(body: unknown): string {
  const s = body as Status | undefined;
  return typeof s?.message === 'string' && s.message !== '' ? s.message : 'no message';
}

function forbidden(kind: WatchKind, listPath: string, body: unknown): ClusterReadError {
  const { resource, group } = rbacTarget(listPath);
  return new ClusterReadError(
    `forbidden to list ${kind} (${statusText(body)}): the simulation needs "list" on ${resource} in API group ` +
      `"${group}" cluster-wide; grant it with a ClusterRole (berth's own, deploy/clusterrole.yaml, has every kind), ` +
      `e.g. kubectl create clusterrole berth-preview --verb=list --resource=${resource}${group ? `.${group}` : ''}`,
  );
}

/** A request that never got an HTTP answer: the server's address, TLS or credentials file is wrong. */
function unreachable(server: string, err: unknown): ClusterReadError {
  const e = err as NodeJS.ErrnoException;
  // The client reads credentials before it connects: a bad certificate file or exec plugin fails here, not the network.
  if (e.message.startsWith('loading credentials')) {
    return new ClusterReadError(`${e.message}; fix the kubeconfig's user or cluster entry (certificate, token, exec plugin)`);
  }
  const detail = e.code ? `${e.code}: ${e.message}` : e.message;
  return new ClusterReadError(
    `cannot reach the API server at ${server} (${detail}); check that the cluster is up and that the kubeconfig's ` +
      'server, certificate authority and credentials are right (kubectl --kubeconfig FILE get nodes tells the same)',
  );
}

/** Lists one kind, every page; returns undefined when the server does not serve the kind. */
async function listKind(client: Pick<KubeClient, 'request' | 'server'>, kind: WatchKind): Promise<unknown[] | undefined> {
  const spec = KIND_SPECS[kind];
  const items: unknown[] = [];
  let cont: string | undefined;
  do {
    const query: Record<string, string | number> = { limit: PAGE_SIZE };
    if (spec.fieldSelector) query['fieldSelector'] = spec.fieldSelector;
    if (cont) query['continue'] = cont;
    let res: Response<ListBody>;
    try {
      res = await client.request<ListBody>('GET', spec.listPath, { query });
    } catch (err) {
      throw unreachable(client.server, err);
    }
    if (res.status === 404) return undefined;
    if (res.status === 401) {
      throw new ClusterReadError(`the API server at ${client.server} rejected the kubeconfig's credentials (401: ${statusText(res.body)}); renew the token or certificate`);
    }
    if (res.status === 403) throw forbidden(kind, spec.listPath, res.body);
    // The continue token expired mid-list (410): start over, as a fresh consistent list.
    if (res.status === 410 && cont) return listKind(client, kind);
    if (res.status !== 200) throw new ClusterReadError(`listing ${kind} (GET ${spec.listPath}) failed: HTTP ${res.status}: ${statusText(res.body)}`);
    const body = res.body as ListBody;
    items.push(...(body.items ?? []));
    cont = body.metadata?.continue || undefined;
  } while (cont);
  return items;
}

function locator(obj: Record<string, unknown>, kind: string): string {
  const meta = (obj['metadata'] ?? {}) as { name?: string; namespace?: string };
  return `${kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? '(unnamed)'}`;
}

/**
 * Reads every watched kind, nodes first (the live order). Each object is slimmed by the live scheduler's transform,
 * so the simulation sees exactly the fields berth run would.
 */
export async function readClusterObjects(client: Pick<KubeClient, 'request' | 'server'>): Promise<LiveObjects> {
  const objects: SnapshotObject[] = [];
  const warnings: string[] = [];
  for (const kind of ALL_WATCH_KINDS) {
    const items = await listKind(client, kind);
    if (items === undefined) {
      warnings.push(`${kind}: the API server does not serve ${KIND_SPECS[kind].listPath}; simulated without ${kind} objects`);
      continue;
    }
    const transform = KIND_SPECS[kind].transform as (raw: unknown) => unknown;
    for (const raw of items) {
      const obj = transform(raw) as Record<string, unknown>;
      objects.push({ file: client.server, where: locator(obj, kind), obj });
    }
  }
  return { objects, warnings };
}
