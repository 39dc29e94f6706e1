/**
 * Reads cluster snapshots as kubectl prints them: `kubectl get nodes,pods -A -o yaml` (a v1 List), JSON, or
 * multi-document YAML of single objects. Everything is validated up front (src/kube/validate.ts: the API server's
 * schema for the fields berth reads) into a ClusterState plus the pending pods, so that a malformed object is reported
 * (file, object, field) before anything is simulated or printed. All problems are collected and reported together.
 */
import { Composer, LineCounter, Parser, type Document } from 'yaml';
import type { Node, Pod } from '../../kube/api.js';
import {
  duplicateKeys,
  formatBytesLimit,
  InputFileError,
  MAX_REPORTED_ISSUES,
  MAX_YAML_ALIASES,
  MAX_YAML_DOCUMENT_BYTES,
  oversizedYamlDocument,
  readInputFile,
} from '../../kube/input.js';
import { describeValue, formatPath, quote, validateObject, VALIDATED_KINDS } from '../../kube/validate.js';
import { QuantityError } from '../../kube/quantity.js';
import { ResourceParseError } from '../../kube/resources.js';
import { NodeInfoError } from '../../scheduler/cache/nodeInfo.js';
import { PodInfoError } from '../../scheduler/cache/podInfo.js';
import { ClusterState } from '../../scheduler/cache/clusterState.js';
import { PodInfo } from '../../scheduler/cache/podInfo.js';

export interface SnapshotIssue {
  file: string;
  /** The object or position: "items[3] (Pod jhub/jupyter-ada)", "line 4, column 2". */
  where: string;
  /** The field and what is wrong with it: "spec.tolerations: expected an array, got a string". */
  detail: string;
  hint: string;
}

function formatSnapshotIssue(i: SnapshotIssue): string {
  return `${i.file}: ${i.where}: ${i.detail}${i.hint ? ` (${i.hint})` : ''}`;
}

export class SnapshotError extends Error {
  readonly issues: readonly SnapshotIssue[];
  /** All problems found, including those not kept in `issues` (at most MAX_REPORTED_ISSUES are). */
  readonly total: number;

  constructor(issues: SnapshotIssue[], total = issues.length) {
    if (issues.length === 0) throw new Error('SnapshotError needs at least one issue');
    const lines = issues.slice(0, MAX_REPORTED_ISSUES).map(formatSnapshotIssue);
    const more = total - lines.length;
    const first = issues[0] as SnapshotIssue;
    super(
      total === 1
        ? (lines[0] as string)
        : [`${first.file}: ${total} errors in the snapshot:`, ...lines.map((l) => `  ${l}`), ...(more > 0 ? [`  … and ${more} more`] : [])].join('\n'),
    );
    this.name = 'SnapshotError';
    this.issues = issues;
    this.total = total;
  }

  static single(file: string, where: string, detail: string, hint = ''): SnapshotError {
    return new SnapshotError([{ file, where, detail, hint }]);
  }

  get file(): string {
    return (this.issues[0] as SnapshotIssue).file;
  }
  get where(): string {
    return (this.issues[0] as SnapshotIssue).where;
  }
  get detail(): string {
    return (this.issues[0] as SnapshotIssue).detail;
  }
  get hint(): string {
    return (this.issues[0] as SnapshotIssue).hint;
  }
}

/** Collects issues, keeping the first MAX_REPORTED_ISSUES and counting the rest. */
class IssueList {
  readonly kept: SnapshotIssue[] = [];
  total = 0;

  add(issue: SnapshotIssue): void {
    this.total++;
    if (this.kept.length < MAX_REPORTED_ISSUES) this.kept.push(issue);
  }

  addAll(err: SnapshotError): void {
    for (const issue of err.issues) if (this.kept.length < MAX_REPORTED_ISSUES) this.kept.push(issue);
    this.total += err.total;
  }

  throwIfAny(): void {
    if (this.total > 0) throw new SnapshotError(this.kept, this.total);
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
  'DeviceClass',
  'ResourceSlice',
  'DeviceTaintRule',
  'ResourceClaim',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "Pod jhub/jupyter-ada" from whatever the object holds (names are cut short: they may be anything). */
function describe(obj: Record<string, unknown>): string {
  const short = (s: string): string => (s.length > 80 ? `${s.slice(0, 79)}…` : s);
  const kind = typeof obj.kind === 'string' ? short(obj.kind) : '(no kind)';
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? short(meta.name) : '(unnamed)';
  const ns = typeof meta.namespace === 'string' ? `${short(meta.namespace)}/` : '';
  return `${kind} ${ns}${name}`;
}

function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

type Parsed = { value: unknown } | undefined;

/**
 * JSON (kubectl get -o json) is parsed natively: it is valid YAML, and the YAML library would need ~100 times its size
 * in memory. Returns undefined when the text is not JSON, so that YAML parsing reports the problem with a line.
 */
function parseJson(text: string, file: string, issues: IssueList): Parsed | 'handled' {
  const start = /^\uFEFF?\s*[{[]/.exec(text);
  if (start === null) return undefined;
  try {
    return { value: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
  } catch (err) {
    if (text.length * 3 <= MAX_YAML_DOCUMENT_BYTES) return undefined;
    // Too large for the YAML parser's precise message: locate JSON.parse's position instead.
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    const at = pos ? lineColumn(text, Number(pos[1])) : undefined;
    issues.add({ file, where: at ? `line ${at.line}, column ${at.col}` : 'file', detail: 'malformed JSON', hint: 'fix the JSON syntax; kubectl get ... -o json output is accepted as is' });
    return 'handled';
  }
}

const YAML_HINT = 'fix the YAML syntax; kubectl get ... -o yaml output is accepted as is';

/** Parses each YAML document in turn (one syntax tree in memory at a time) and hands its value to `visit`. */
function parseYaml(text: string, file: string, issues: IssueList, visit: (value: unknown, index: number) => void): void {
  const over = oversizedYamlDocument(text);
  if (over) {
    issues.add({
      file,
      where: `line ${over.line}`,
      detail: `this YAML document is ${formatBytesLimit(over.bytes)}, more than the ${formatBytesLimit(MAX_YAML_DOCUMENT_BYTES)} berth parses as YAML`,
      hint: 'save the snapshot as JSON (kubectl get ... -o json), or split it into several files or documents',
    });
    return;
  }
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  // Repeated keys: duplicateKeys (linear) rather than the YAML library's uniqueKeys (quadratic in a mapping's size).
  const composer = new Composer({ merge: true, uniqueKeys: false });
  let index = 0;
  const handle = (doc: Document.Parsed): void => {
    const d = index++;
    const error = doc.errors[0];
    if (error !== undefined) {
      const at = lines.linePos(error.pos[0]);
      issues.add({ file, where: `line ${at.line}, column ${at.col}`, detail: `malformed YAML: ${error.message.split('\n')[0] ?? ''}`, hint: YAML_HINT });
      return;
    }
    const duplicate = duplicateKeys(doc)[0];
    if (duplicate !== undefined) {
      const at = lines.linePos(duplicate.offset);
      issues.add({ file, where: `line ${at.line}, column ${at.col}`, detail: `malformed YAML: Map keys must be unique (${quote(duplicate.key)} appears more than once)`, hint: 'remove the repeated key' });
      return;
    }
    try {
      visit(doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }), d);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const excessive = message.startsWith('Excessive alias count');
      issues.add({
        file,
        where: `document ${d + 1}`,
        detail: excessive ? `more than ${MAX_YAML_ALIASES.toLocaleString('en-US')} YAML alias expansions` : `malformed YAML: ${message.split('\n')[0] ?? ''}`,
        hint: excessive ? 'berth expands at most that many aliases per document (a guard against alias bombs); split the document' : YAML_HINT,
      });
    }
  };
  for (const doc of composer.compose(parser.parse(text))) handle(doc);
}

/** Parses one file's text into objects, flattening v1 Lists (kind: List / *List with items). */
export function parseSnapshotText(text: string, file: string): SnapshotObject[] {
  const issues = new IssueList();
  const values: unknown[] = [];
  const json = parseJson(text, file, issues);
  if (json === undefined) parseYaml(text, file, issues, (value) => values.push(value));
  else if (json !== 'handled') values.push(json.value);
  const out: SnapshotObject[] = [];
  values.forEach((value, d) => addDocument(value, values.length > 1 ? `document ${d + 1}` : 'document', file, out, issues));
  issues.throwIfAny();
  return out;
}

function addDocument(value: unknown, docWhere: string, file: string, out: SnapshotObject[], issues: IssueList): void {
  if (value === null || value === undefined) return;
  if (!isRecord(value)) {
    issues.add({ file, where: docWhere, detail: `expected a Kubernetes object or a List, got ${describeValue(value)}`, hint: 'each YAML document must be a mapping with a kind' });
    return;
  }
  const kind = value.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && value.items !== undefined && value.items !== null) {
    const items = value.items;
    if (!Array.isArray(items)) {
      issues.add({ file, where: `${docWhere} (${describe(value)})`, detail: `items: expected an array, got ${describeValue(items)}`, hint: 'a List holds its objects under items' });
      return;
    }
    // A plain loop: a million items must not become a million call arguments.
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      const where = `${docWhere}, items[${i}]`;
      if (!isRecord(item)) {
        issues.add({ file, where, detail: `expected an object, got ${describeValue(item)}`, hint: 'each item of a List is a Kubernetes object' });
        continue;
      }
      // kubectl omits kind on items of typed lists (NodeList, PodList).
      if (item.kind === undefined && kind !== 'List') item.kind = kind.slice(0, -'List'.length);
      out.push({ file, where: `${where} (${describe(item)})`, obj: item });
    }
    return;
  }
  out.push({ file, where: `${docWhere} (${describe(value)})`, obj: value });
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

/**
 * Runs a build step on a validated object. Only the scheduler's own input errors are expected here (a quantity too
 * large to account exactly); anything else is a bug and propagates as one.
 */
function guarded(o: SnapshotObject, issues: IssueList, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof QuantityError || err instanceof ResourceParseError || err instanceof PodInfoError || err instanceof NodeInfoError) {
      const e = err as Error & { field?: string; detail?: string };
      const detail = e.detail ?? e.message;
      issues.add({ file: o.file, where: o.where, detail: e.field ? `${e.field}: ${detail}` : detail, hint: 'use Kubernetes quantities such as 100m, 512Mi' });
      return false;
    }
    throw err;
  }
}

/** Schema validation of the kinds berth reads; true when the object is valid. */
function validated(o: SnapshotObject, kind: string, issues: IssueList): boolean {
  if (!VALIDATED_KINDS.has(kind)) return true;
  const found = validateObject(kind, o.obj);
  for (const f of found) issues.add({ file: o.file, where: o.where, detail: `${formatPath(f.path)}: ${f.message}`, hint: f.hint });
  return found.length === 0;
}

interface BuildState {
  cluster: ClusterState;
  pendingPods: PodInfo[];
  ignored: Snapshot['ignored'];
  assigned: Array<{ o: SnapshotObject; pod: Pod }>;
  seenNodes: Set<string>;
  seenPods: Set<string>;
  issues: IssueList;
}

function addNode(o: SnapshotObject, s: BuildState): void {
  const node = o.obj as Node;
  const name = node.metadata?.name ?? '';
  if (s.seenNodes.has(name)) {
    s.issues.add({ file: o.file, where: o.where, detail: `node "${name}" appears twice`, hint: 'remove the duplicate' });
    return;
  }
  s.seenNodes.add(name);
  if (!node.status?.allocatable && !node.status?.capacity) {
    s.issues.add({ file: o.file, where: o.where, detail: 'status.allocatable is missing', hint: 'give the node its allocatable cpu, memory and pods' });
    return;
  }
  guarded(o, s.issues, () => s.cluster.upsertNode(node));
}

function addPod(o: SnapshotObject, s: BuildState): void {
  // Validated: metadata.name is a string.
  const pod = o.obj as unknown as Pod & { metadata: { name: string } };
  if (!pod.spec || !pod.spec.containers || pod.spec.containers.length === 0) {
    s.issues.add({ file: o.file, where: o.where, detail: 'spec.containers must list at least one container', hint: '' });
    return;
  }
  const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
  if (s.seenPods.has(key)) {
    s.issues.add({ file: o.file, where: o.where, detail: `pod "${key}" appears twice`, hint: 'remove the duplicate' });
    return;
  }
  s.seenPods.add(key);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    s.ignored.push({ where: o.where, reason: `phase ${phase} holds no resources` });
    return;
  }
  // Pods in a snapshot often lack a uid (hand-written files); the key stands in, as it is unique here.
  if (!pod.metadata.uid) pod.metadata.uid = key;
  if (pod.spec.nodeName) {
    s.assigned.push({ o, pod });
    return;
  }
  guarded(o, s.issues, () => {
    const info = new PodInfo(pod, o.where);
    if (info.terminating) s.ignored.push({ where: o.where, reason: 'being deleted; not scheduled' });
    else s.pendingPods.push(info);
  });
}

function addOther(o: SnapshotObject, kind: string, s: BuildState): void {
  const obj = o.obj as { metadata?: { name?: string; namespace?: string; uid?: string } };
  // As for pods: a stand-in uid, unique here. A claim needs one, or the PV a scheduler binds to it has a
  // claimRef without uid, which the PV controller (and VolumeBinding's check) treat as reset.
  if (isRecord(obj.metadata) && typeof obj.metadata.name === 'string' && !obj.metadata.uid) {
    obj.metadata.uid = `${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  }
  s.cluster.upsertObject(kind, obj);
}

/** Builds the cluster state and pending pods from the parsed objects; throws SnapshotError listing the bad input. */
export function buildSnapshot(objects: SnapshotObject[]): Snapshot {
  const s: BuildState = {
    cluster: new ClusterState(),
    pendingPods: [],
    ignored: [],
    assigned: [],
    seenNodes: new Set(),
    seenPods: new Set(),
    issues: new IssueList(),
  };
  for (const o of objects) {
    const kind = o.obj.kind;
    if (typeof kind !== 'string') {
      const detail = kind === undefined || kind === null ? 'kind is missing' : `kind: expected a string, got ${describeValue(kind)}`;
      s.issues.add({ file: o.file, where: o.where, detail, hint: 'each object needs a kind (Node, Pod, ...)' });
      continue;
    }
    if (!validated(o, kind, s.issues)) continue;
    if (kind === 'Node') addNode(o, s);
    else if (kind === 'Pod') addPod(o, s);
    else if (OTHER_KINDS.has(kind)) addOther(o, kind, s);
    // Other kinds (Deployments, Events, ...) carry nothing the scheduler reads: skipped.
  }
  for (const { o, pod } of s.assigned) guarded(o, s.issues, () => s.cluster.upsertAssignedPod(pod));
  s.issues.throwIfAny();
  return { cluster: s.cluster, pendingPods: s.pendingPods, ignored: s.ignored, nodeCount: s.seenNodes.size, assignedPodCount: s.assigned.length };
}

/** Reads and parses one or more snapshot files (nodes and pods may be split across them), without building. */
export function readSnapshotFiles(files: string[]): SnapshotObject[] {
  const objects: SnapshotObject[] = [];
  const issues = new IssueList();
  for (const file of files) {
    let text: string;
    try {
      text = readInputFile(file);
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      issues.add({ file, where: 'file', detail: err.detail, hint: err.hint });
      continue;
    }
    try {
      const parsed = parseSnapshotText(text, file);
      // A plain loop: push(...parsed) passes every object as an argument and overflows the stack at ~125 000.
      for (let i = 0; i < parsed.length; i++) objects.push(parsed[i] as SnapshotObject);
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      issues.addAll(err);
    }
  }
  issues.throwIfAny();
  return objects;
}

/** Reads and builds a snapshot from one or more files (nodes and pods may be split across them). */
export function loadSnapshot(files: string[]): Snapshot {
  return buildSnapshot(readSnapshotFiles(files));
}
