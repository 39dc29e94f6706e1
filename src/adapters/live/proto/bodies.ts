/**
 * The request bodies berth writes in protobuf, built with the generated message types: a Binding (POST
 * pods/binding) and an events.k8s.io/v1 Event (POST events), each also kept as the JSON the client sends when it
 * does not speak protobuf.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { WireBody } from '../kubeClient.js';
import { BindingSchema } from './gen/k8s.io/api/core/v1/generated_pb.js';
import { EventSchema } from './gen/k8s.io/api/events/v1/generated_pb.js';
import { encodeObject } from './codec.js';

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
  return new WireBody(json, () =>
    encodeObject(
      'v1',
      'Binding',
      toBinary(BindingSchema, create(BindingSchema, { metadata: json.metadata, target: json.target })),
    ),
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
  return new WireBody(json, () => {
    const seconds = Math.floor(e.eventTimeMs / 1000);
    const msg = create(EventSchema, {
      metadata: json.metadata,
      eventTime: { seconds: BigInt(seconds), nanos: (e.eventTimeMs - seconds * 1000) * 1_000_000 },
      reportingController: e.reportingController,
      reportingInstance: e.reportingInstance,
      action: e.action,
      reason: e.reason,
      note: e.note,
      type: e.type,
      regarding: e.regarding,
      ...(e.related ? { related: e.related } : {}),
    });
    return encodeObject('events.k8s.io/v1', 'Event', toBinary(EventSchema, msg));
  });
}
