import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { decodeObject, encodeObject } from '../../../src/adapters/live/proto/codec.js';
import { bindingBody, eventBody, type NewEvent } from '../../../src/adapters/live/proto/bodies.js';
import { ProtoWriter } from '../../../src/adapters/live/proto/writer.js';
import { BindingSchema } from '../../../src/adapters/live/proto/gen/k8s.io/api/core/v1/generated_pb.js';
import { EventSchema } from '../../../src/adapters/live/proto/gen/k8s.io/api/events/v1/generated_pb.js';
import { UnknownSchema } from '../../../src/adapters/live/proto/gen/k8s.io/apimachinery/pkg/runtime/generated_pb.js';

// The oracle is the generated types' own encoder (protobuf-es, from the pinned .proto files): the hand-written
// bodies must give the same bytes, which then also decode to the same messages.

function event(over: Partial<NewEvent> = {}): NewEvent {
  return {
    name: 'p.18a2b3c4d5e6f708',
    namespace: 'ns',
    eventTimeMs: Date.UTC(2026, 11, 2, 11, 50, 7, 123),
    reportingController: 'berth',
    reportingInstance: 'berth-host',
    action: 'Binding',
    reason: 'Scheduled',
    note: 'Successfully assigned ns/p to node-1',
    type: 'Normal',
    regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u-1', resourceVersion: '42' },
    ...over,
  };
}

function generatedEvent(e: NewEvent): Uint8Array {
  const seconds = Math.floor(e.eventTimeMs / 1000);
  const msg = create(EventSchema, {
    metadata: { name: e.name, namespace: e.namespace },
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
}

describe('protobuf request bodies', () => {
  it('a Binding is byte for byte what the generated types write', () => {
    for (const b of [
      { namespace: 'ns', name: 'p', uid: 'u', node: 'n1' },
      { namespace: 'ns', name: 'p', uid: '', node: 'n1' },
      { namespace: 'team-a', name: 'jupyter-ünïcode', uid: 'x'.repeat(36), node: 'worker-2', annotations: { 'berth.dev/decision': 'node worker-2: '.repeat(40) } },
    ]) {
      const body = bindingBody(b);
      const json = body.json as { metadata: object; target: object };
      const expected = encodeObject('v1', 'Binding', toBinary(BindingSchema, create(BindingSchema, { metadata: json.metadata, target: json.target })));
      expect(Buffer.from(body.protobuf()).equals(Buffer.from(expected))).toBe(true);
      // The API server's JSON leaves an empty uid out (omitempty); the protobuf still carries it.
      if (b.uid !== '') expect(decodeObject(body.protobuf())).toEqual(body.json);
    }
  });

  it('annotations are written in key order, as Go writes maps', () => {
    const body = bindingBody({ namespace: 'ns', name: 'p', uid: 'u', node: 'n', annotations: { b: '2', a: '1' } });
    const unknown = fromBinary(UnknownSchema, body.protobuf().subarray(4));
    const bytes = Buffer.from(unknown.raw);
    // Map entries: key (field 1, one byte) then value (field 2).
    expect(bytes.indexOf(Buffer.from([0x0a, 1, 0x61, 0x12, 1, 0x31]))).toBeGreaterThan(0);
    expect(bytes.indexOf(Buffer.from([0x0a, 1, 0x61]))).toBeLessThan(bytes.indexOf(Buffer.from([0x0a, 1, 0x62])));
    expect(fromBinary(BindingSchema, unknown.raw).metadata?.annotations).toEqual({ a: '1', b: '2' });
  });

  it('an Event is byte for byte what the generated types write, with or without related, short or long', () => {
    const cases = [
      event(),
      event({ eventTimeMs: Date.UTC(2026, 0, 1, 0, 0, 0, 0) }),
      event({ related: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'preemptor', uid: 'u-2' }, reason: 'Preempted', action: 'Preempting', type: 'Normal' }),
      event({ type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: `0/5000 nodes are available: ${'2 Insufficient cpu. '.repeat(50)}` }),
    ];
    for (const e of cases) {
      const body = eventBody(e);
      expect(Buffer.from(body.protobuf()).equals(Buffer.from(generatedEvent(e)))).toBe(true);
      expect(decodeObject(body.protobuf())).toEqual(body.json);
    }
  });
});

describe('ProtoWriter', () => {
  it('moves a nested message whose length needs two or three bytes, at every level', () => {
    for (const len of [0, 1, 120, 127, 128, 300, 16_375, 16_383, 16_384, 70_000]) {
      const value = 'v'.repeat(len);
      // Binding.metadata (1) → ObjectMeta.annotations (12) → entry key (1), value (2): two levels around the value.
      const w = new ProtoWriter(16);
      w.begin(1).begin(12).string(1, 'k').string(2, value).end().end();
      const expected = toBinary(BindingSchema, create(BindingSchema, { metadata: { annotations: { k: value } } }));
      expect(Buffer.from(w.finish()).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it('writes integers up to 2^53 as varints, and refuses negative ones', () => {
    const w = new ProtoWriter();
    w.begin(2).uint(1, 2 ** 40 + 5).uint(2, 999_999_999).end();
    const msg = fromBinary(EventSchema, w.finish());
    expect(msg.eventTime?.seconds).toBe(BigInt(2 ** 40 + 5));
    expect(msg.eventTime?.nanos).toBe(999_999_999);
    expect(() => new ProtoWriter().uint(1, -1)).toThrow(/non-negative/);
  });

  it('refuses unbalanced nesting', () => {
    expect(() => new ProtoWriter().end()).toThrow(/without begin/);
    expect(() => new ProtoWriter().begin(1).finish()).toThrow(/still open/);
  });
});
