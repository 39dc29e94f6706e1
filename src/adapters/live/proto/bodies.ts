/**
 * The request bodies berth writes in protobuf: a Binding (POST pods/binding) and an events.k8s.io/v1 Event (POST
 * events), each also kept as the JSON the client sends when it does not speak protobuf. Two of these go out per
 * pod, so they are written field by field (writer.ts) rather than through the generated types' reflection; the
 * field numbers are those of the pinned .proto files (proto/), and a test decodes the bytes with the generated
 * types.
 */
import { WireBody } from '../kubeClient.js';
import { ProtoWriter } from './writer.js';

/** The "k8s\0" prefix of a Kubernetes protobuf object. */
const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** runtime.Unknown around the object's own message: typeMeta (1: apiVersion 1, kind 2), raw (2). */
function envelope(apiVersion: string, kind: string, writeObject: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  w.raw(MAGIC).begin(1).string(1, apiVersion).string(2, kind).end().begin(2);
  writeObject(w);
  return w.end().finish();
}

interface MetaFields {
  name: string;
  namespace: string;
  uid?: string;
  annotations?: Record<string, string>;
}

/** ObjectMeta: name 1, namespace 3, uid 5, annotations 12 (map entries key 1, value 2, sorted as Go writes them). */
function objectMeta(w: ProtoWriter, no: number, m: MetaFields): void {
  w.begin(no).string(1, m.name).string(3, m.namespace).string(5, m.uid);
  const annotations = m.annotations ?? {};
  for (const key of Object.keys(annotations).sort()) w.begin(12).string(1, key).string(2, annotations[key]).end();
  w.end();
}

interface RefFields {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

/** core/v1 ObjectReference: kind 1, namespace 2, name 3, uid 4, apiVersion 5, resourceVersion 6. */
function objectReference(w: ProtoWriter, no: number, r: RefFields): void {
  w.begin(no).string(1, r.kind).string(2, r.namespace).string(3, r.name).string(4, r.uid).string(5, r.apiVersion).string(6, r.resourceVersion).end();
}

export interface BindingTarget {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** Copied onto the pod by the API server with the binding (berth.dev/decision). */
  annotations?: Record<string, string>;
}

export function bindingBody(b: BindingTarget): WireBody {
  const json = {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: b.name, namespace: b.namespace, uid: b.uid, ...(b.annotations ? { annotations: b.annotations } : {}) },
    target: { apiVersion: 'v1', kind: 'Node', name: b.node },
  };
  // Binding: metadata 1, target 2.
  return new WireBody(json, () =>
    envelope('v1', 'Binding', (w) => {
      objectMeta(w, 1, json.metadata);
      objectReference(w, 2, json.target);
    }),
  );
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export interface NewEvent {
  name: string;
  namespace: string;
  /** Milliseconds since the epoch; written as a MicroTime. */
  eventTimeMs: number;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: string;
  regarding: ObjectRef;
  related?: ObjectRef;
}

/** Go's metav1.MicroTime JSON: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

export function eventBody(e: NewEvent): WireBody {
  const json = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: e.namespace },
    eventTime: microTime(e.eventTimeMs),
    reportingController: e.reportingController,
    reportingInstance: e.reportingInstance,
    action: e.action,
    reason: e.reason,
    note: e.note,
    type: e.type,
    regarding: e.regarding,
    ...(e.related ? { related: e.related } : {}),
  };
  // events.k8s.io/v1 Event: metadata 1, eventTime 2 (MicroTime: seconds 1, nanos 2), reportingController 4,
  // reportingInstance 5, action 6, reason 7, regarding 8, related 9, note 10, type 11.
  return new WireBody(json, () =>
    envelope('events.k8s.io/v1', 'Event', (w) => {
      const seconds = Math.floor(e.eventTimeMs / 1000);
      objectMeta(w, 1, json.metadata);
      w.begin(2).uint(1, seconds).uint(2, (e.eventTimeMs - seconds * 1000) * 1_000_000).end();
      w.string(4, e.reportingController).string(5, e.reportingInstance).string(6, e.action).string(7, e.reason);
      objectReference(w, 8, e.regarding);
      if (e.related) objectReference(w, 9, e.related);
      w.string(10, e.note).string(11, e.type);
    }),
  );
}
