/**
 * A read-only snapshot of a live cluster for the simulator: one paginated list per kind the scheduler watches
 * (informers.ts KIND_SPECS: the same paths, field selectors and slimming as `berth run`), built into the same
 * ClusterState the live adapter keeps. Nothing is written to the cluster. `berth explain` uses it to recompute one
 * pod's decision when the running berth has no record of it.
 */
import type { Node, Pod } from '../../kube/api.js';
import { ClusterState } from '../../scheduler/cache/clusterState.js';
import { PodInfo } from '../../scheduler/cache/podInfo.js';
import type { Snapshot } from '../simulator/snapshot.js';
import { ALL_WATCH_KINDS, KIND_SPECS, type WatchKind } from './informers.js';
import type { KubeClient } from './kubeClient.js';
import { slimPod } from './slim.js';

const PAGE_SIZE = 500;
const LIST_TIMEOUT_MS = 60_000;

/** The cluster could not be read: the message names the request and what to do. */
export class LiveSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiveSnapshotError';
  }
}

interface ListBody {
  items?: unknown[];
  metadata?: { continue?: string };
}

function failure(what: string, status: number, body: unknown): LiveSnapshotError {
  const message = typeof body === 'object' && body !== null && 'message' in body ? `: ${String(body.message)}` : '';
  const hint = status === 401 || status === 403 ? ' (the kubeconfig\'s user needs get/list on the kinds berth watches; see deploy/clusterrole.yaml)' : '';
  return new LiveSnapshotError(`${what}: HTTP ${status}${message}${hint}`);
}

/** Every object of one kind, slimmed as the live adapter slims it. */
async function listKind(client: Pick<KubeClient, 'request'>, kind: WatchKind): Promise<unknown[]> {
  const spec = KIND_SPECS[kind];
  const items: unknown[] = [];
  let cont: string | undefined;
  do {
    const query = { limit: PAGE_SIZE, ...(cont ? { continue: cont } : {}), ...(spec.fieldSelector ? { fieldSelector: spec.fieldSelector } : {}) };
    const res = await client.request<ListBody>('GET', spec.listPath, { query, timeoutMs: LIST_TIMEOUT_MS });
    if (res.status !== 200) throw failure(`listing ${spec.listPath}`, res.status, res.body);
    const body = res.body as ListBody;
    for (const raw of body.items ?? []) items.push(spec.transform(raw));
    cont = body.metadata?.continue || undefined;
  } while (cont);
  return items;
}

/** The pod as the API server has it now; undefined when it does not exist. */
export async function readPod(client: Pick<KubeClient, 'request'>, namespace: string, name: string): Promise<Pod | undefined> {
  const res = await client.request<Pod>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`, { timeoutMs: LIST_TIMEOUT_MS });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw failure(`reading pod ${namespace}/${name}`, res.status, res.body);
  return slimPod(res.body);
}

export interface OnePodSnapshot {
  snapshot: Snapshot;
  /** The node the pod is bound to now, when it is: the snapshot leaves it off that node and schedules it afresh. */
  boundTo: string | null;
}

/**
 * The cluster as berth would see it, with `target` as the only pending pod (other pending pods are not in the
 * queue: the recomputation answers for this pod alone). A bound target is taken off its node first, so the answer
 * is where berth would put it now.
 */
export async function readOnePodSnapshot(client: Pick<KubeClient, 'request'>, target: Pod): Promise<OnePodSnapshot> {
  const cluster = new ClusterState();
  const targetUid = target.metadata?.uid ?? '';
  const assigned: Pod[] = [];
  let nodeCount = 0;
  // ALL_WATCH_KINDS lists nodes first, so bound pods land on known nodes.
  for (const kind of ALL_WATCH_KINDS) {
    const objects = await listKind(client, kind);
    if (kind === 'Node') {
      for (const node of objects) cluster.upsertNode(node as Node);
      nodeCount = objects.length;
    } else if (kind === 'Pod') {
      for (const pod of objects as Pod[]) if (pod.spec?.nodeName && pod.metadata?.uid !== targetUid) assigned.push(pod);
    } else {
      for (const o of objects) cluster.upsertObject(kind, o as { metadata?: { name?: string; namespace?: string } });
    }
  }
  for (const pod of assigned) cluster.upsertAssignedPod(pod);
  const boundTo = target.spec?.nodeName ?? null;
  const spec = { ...target.spec };
  delete spec.nodeName;
  const pending: Pod = { ...target, spec };
  return {
    snapshot: { cluster, pendingPods: [new PodInfo(pending)], ignored: [], nodeCount, assignedPodCount: assigned.length },
    boundTo,
  };
}
