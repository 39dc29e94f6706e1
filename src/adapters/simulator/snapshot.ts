/**
 * Reads cluster snapshots as kubectl prints them: `kubectl get nodes,pods -A -o yaml` (a v1 List), JSON, or
 * multi-document YAML of single objects. Everything is validated up front into a ClusterState plus the pending
 * pods, so that a malformed object is reported (file, object, field) before anything is simulated or printed.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { Node, Pod } from '../../kube/api.js';
import { ClusterState } from '../../scheduler/cache/clusterState.js';
import { PodInfo } from '../../scheduler/cache/podInfo.js';

export class SnapshotError extends Error {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly detail: string,
    readonly hint = '',
  ) {
    super(`${file}: ${where}: ${detail}${hint ? ` (${hint})` : ''}`);
    this.name = 'SnapshotError';
  }
}

export interface SnapshotObject {
  file: string;
  /** Human locator: "document 2, items[5] (Pod jhub/jupyter-alice)". */
  where: string;
  obj: Record<string, unknown>;
}

const OTHER_KINDS = new Set([
  'PersistentVolume',
  'PersistentVolumeClaim',
  'StorageClass',
  'Service',
  'ReplicationController',
  'ReplicaSet',
  'StatefulSet',
  'Namespace',
  'CSIDriver',
  'CSINode',
  'CSIStorageCapacity',
  'VolumeAttachment',
  'PodDisruptionBudget',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(obj: Record<string, unknown>): string {
  const kind = typeof obj.kind === 'string' ? obj.kind : '(no kind)';
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `${kind} ${ns}${name}`;
}

/** Parses one file's text into objects, flattening v1 Lists (kind: List / *List with items). */
export function parseSnapshotText(text: string, file: string): SnapshotObject[] {
  const out: SnapshotObject[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, d) => {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      const pos = err.linePos?.[0];
      throw new SnapshotError(
        file,
        pos ? `line ${pos.line}, column ${pos.col}` : `document ${d + 1}`,
        `malformed YAML: ${err.message.split('\n')[0]}`,
        'fix the YAML syntax; kubectl get ... -o yaml output is accepted as is',
      );
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const docWhere = list.length > 1 ? `document ${d + 1}` : 'document';
    if (!isRecord(value)) {
      throw new SnapshotError(file, docWhere, 'expected a Kubernetes object or a List', 'each YAML document must be a mapping with a kind');
    }
    const kind = value.kind;
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value.items)) {
      value.items.forEach((item: unknown, i: number) => {
        const where = `${docWhere}, items[${i}]`;
        if (!isRecord(item)) throw new SnapshotError(file, where, 'expected an object');
        // kubectl omits kind on items of typed lists (NodeList, PodList).
        if (item.kind === undefined && kind !== 'List') item.kind = kind.slice(0, -'List'.length);
        out.push({ file, where: `${where} (${describe(item)})`, obj: item });
      });
      return;
    }
    out.push({ file, where: `${docWhere} (${describe(value)})`, obj: value });
  });
  return out;
}

export interface Snapshot {
  cluster: ClusterState;
  /** Unassigned pods in the order given (the simulator orders them as the queue would). */
  pendingPods: PodInfo[];
  /** Pods that were skipped with the reason (completed, terminating). */
  ignored: Array<{ where: string; reason: string }>;
  nodeCount: number;
  assignedPodCount: number;
}

function wrap<T>(o: SnapshotObject, fn: () => T, hint: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    const e = err as Error & { field?: string; detail?: string };
    const detail = e.detail ?? e.message;
    throw new SnapshotError(o.file, o.where, e.field ? `${e.field}: ${detail}` : detail, hint);
  }
}

/** Builds the cluster state and pending pods from the parsed objects; throws SnapshotError on bad input. */
export function buildSnapshot(objects: SnapshotObject[]): Snapshot {
  const cluster = new ClusterState();
  const pendingPods: PodInfo[] = [];
  const ignored: Snapshot['ignored'] = [];
  const assigned: Array<{ o: SnapshotObject; pod: Pod }> = [];
  const seenNodes = new Set<string>();
  const seenPods = new Set<string>();
  for (const o of objects) {
    const kind = o.obj.kind;
    if (kind === 'Node') {
      const node = o.obj as Node;
      const name = node.metadata?.name;
      if (!name) throw new SnapshotError(o.file, o.where, 'metadata.name is required');
      if (seenNodes.has(name)) throw new SnapshotError(o.file, o.where, `node "${name}" appears twice`, 'remove the duplicate');
      seenNodes.add(name);
      if (!node.status?.allocatable && !node.status?.capacity) {
        throw new SnapshotError(o.file, o.where, 'status.allocatable is missing', 'give the node its allocatable cpu, memory and pods');
      }
      wrap(o, () => cluster.upsertNode(node), 'use Kubernetes quantities such as 4, 500m, 32Gi');
    } else if (kind === 'Pod') {
      const pod = o.obj as Pod;
      if (!isRecord(pod.metadata) || typeof pod.metadata.name !== 'string') {
        throw new SnapshotError(o.file, o.where, 'metadata.name is required');
      }
      if (!isRecord(pod.spec) || !Array.isArray(pod.spec.containers) || pod.spec.containers.length === 0) {
        throw new SnapshotError(o.file, o.where, 'spec.containers must list at least one container');
      }
      const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
      if (seenPods.has(key)) throw new SnapshotError(o.file, o.where, `pod "${key}" appears twice`, 'remove the duplicate');
      seenPods.add(key);
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') {
        ignored.push({ where: o.where, reason: `phase ${phase} holds no resources` });
        continue;
      }
      // Pods in a snapshot often lack a uid (hand-written files); the key stands in, as it is unique here.
      if (!pod.metadata.uid) pod.metadata.uid = key;
      if (pod.spec.nodeName) {
        assigned.push({ o, pod });
      } else {
        const info = wrap(o, () => new PodInfo(pod, o.where), 'use Kubernetes quantities such as 100m, 512Mi');
        if (info.terminating) ignored.push({ where: o.where, reason: 'being deleted; not scheduled' });
        else pendingPods.push(info);
      }
    } else if (typeof kind === 'string' && OTHER_KINDS.has(kind)) {
      const obj = o.obj as { metadata?: { name?: string; namespace?: string; uid?: string } };
      // As for pods: a stand-in uid, unique here. A claim needs one, or the PV a scheduler binds to it has a
      // claimRef without uid, which the PV controller (and VolumeBinding's check) treat as reset.
      if (isRecord(obj.metadata) && typeof obj.metadata.name === 'string' && !obj.metadata.uid) {
        obj.metadata.uid = `${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
      }
      cluster.upsertObject(kind, obj);
    } else if (typeof kind !== 'string') {
      throw new SnapshotError(o.file, o.where, 'kind is missing', 'each object needs a kind (Node, Pod, ...)');
    }
    // Other kinds (Deployments, Events, ...) carry nothing the scheduler reads: skipped silently.
  }
  for (const { o, pod } of assigned) {
    wrap(o, () => cluster.upsertAssignedPod(pod), 'use Kubernetes quantities such as 100m, 512Mi');
  }
  return { cluster, pendingPods, ignored, nodeCount: seenNodes.size, assignedPodCount: assigned.length };
}

/** Reads and parses one or more snapshot files (nodes and pods may be split across them), without building. */
export function readSnapshotFiles(files: string[]): SnapshotObject[] {
  const objects: SnapshotObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SnapshotError(file, 'file', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
    }
    objects.push(...parseSnapshotText(text, file));
  }
  return objects;
}

/** Reads and builds a snapshot from one or more files (nodes and pods may be split across them). */
export function loadSnapshot(files: string[]): Snapshot {
  return buildSnapshot(readSnapshotFiles(files));
}
