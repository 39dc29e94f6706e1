import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { decodeObject, decodeWatchEvent, encodeObject, hasMagic, ProtobufDecodeError } from '../../../src/adapters/live/proto/codec.js';
import { bindingBody, eventBody } from '../../../src/adapters/live/proto/bodies.js';
import { PodSchema, ServiceSchema } from '../../../src/adapters/live/proto/gen/k8s.io/api/core/v1/generated_pb.js';
import { StatusSchema, WatchEventSchema } from '../../../src/adapters/live/proto/gen/k8s.io/apimachinery/pkg/apis/meta/v1/generated_pb.js';

/** A Pod as the API server's (gogo) encoder writes it: every non-pointer scalar present, zero or not. */
function encodedPod(): Uint8Array {
  const pod = create(PodSchema, {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u',
      resourceVersion: '7',
      generateName: '',
      creationTimestamp: { seconds: 0n, nanos: 0 },
      deletionTimestamp: { seconds: 1767323045n, nanos: 0 },
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'r', controller: false }],
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { Raw: new TextEncoder().encode('{"f:spec":{}}') } }],
    },
    spec: {
      nodeName: '',
      schedulerName: 'default-scheduler',
      priority: 0,
      hostNetwork: false,
      containers: [
        {
          name: 'c',
          image: 'i',
          ports: [{ containerPort: 80, hostPort: 0, protocol: 'TCP', name: '' }],
          resources: { requests: { cpu: { string: '100m' }, memory: { string: '500Mi' } } },
        },
      ],
      volumes: [{ name: 'data', volumeSource: { persistentVolumeClaim: { claimName: 'claim', readOnly: false } } }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: { seconds: 0n, nanos: 0 } }] },
  });
  return encodeObject('v1', 'Pod', toBinary(PodSchema, pod));
}

describe('Kubernetes protobuf codec', () => {
  it('decodes a Pod into the JSON the API server writes', () => {
    const bytes = encodedPod();
    expect(hasMagic(bytes)).toBe(true);
    expect(decodeObject(bytes)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '7',
        // creationTimestamp is omitzero: a zero Time is left out; deletionTimestamp is RFC 3339 in seconds.
        deletionTimestamp: '2026-01-02T03:04:05Z',
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'r', controller: false }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
      },
      spec: {
        // nodeName "" and hostNetwork false are omitempty: left out; priority is a pointer: 0 stays.
        schedulerName: 'default-scheduler',
        priority: 0,
        containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
        // VolumeSource is embedded in Volume: its fields sit in the volume's object.
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'claim' } }],
      },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null }] },
    });
  });

  it('leaves managedFields out when asked', () => {
    const pod = decodeObject(encodedPod(), { dropManagedFields: true }) as { metadata: Record<string, unknown> };
    expect(pod.metadata['managedFields']).toBeUndefined();
    expect(pod.metadata['name']).toBe('p');
  });

  it('IntOrString is a number or a string', () => {
    const svc = create(ServiceSchema, {
      spec: { ports: [{ port: 80, targetPort: { type: 1n, strVal: 'http' } }, { port: 81, targetPort: { type: 0n, intVal: 8081 } }] },
    });
    const decoded = decodeObject(encodeObject('v1', 'Service', toBinary(ServiceSchema, svc))) as { spec: { ports: Array<{ targetPort: unknown }> } };
    expect(decoded.spec.ports.map((p) => p.targetPort)).toEqual(['http', 8081]);
  });

  it('decodes a watch event whose object is an enveloped object, and Status', () => {
    const status = encodeObject('v1', 'Status', toBinary(StatusSchema, create(StatusSchema, { status: 'Failure', reason: 'Expired', code: 410, message: 'too old' })));
    const frame = toBinary(WatchEventSchema, create(WatchEventSchema, { type: 'ERROR', object: { raw: status } }));
    expect(decodeWatchEvent(frame)).toEqual({ type: 'ERROR', object: { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old' } });
  });

  it('refuses bytes without the envelope and kinds it has no type for', () => {
    expect(() => decodeObject(new TextEncoder().encode('{"kind":"Pod"}'))).toThrow(ProtobufDecodeError);
    expect(() => decodeObject(encodeObject('apps/v1', 'Deployment', new Uint8Array(0)))).toThrow(/no protobuf type for apps\/v1 Deployment/);
  });

  it('Binding and Event bodies carry the same content in both forms', () => {
    const b = bindingBody({ namespace: 'ns', name: 'p', uid: 'u', node: 'n1' });
    expect(decodeObject(b.protobuf())).toEqual(b.json);
    const e = eventBody({
      name: 'p.1',
      namespace: 'ns',
      eventTimeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      reportingController: 'berth',
      reportingInstance: 'berth-h',
      action: 'Binding',
      reason: 'Scheduled',
      note: 'Successfully assigned ns/p to n1',
      type: 'Normal',
      regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u', resourceVersion: '3' },
    });
    expect(decodeObject(e.protobuf())).toEqual(e.json);
    expect((e.json as { eventTime: string }).eventTime).toBe('2026-01-02T03:04:05.678000Z');
  });
});
