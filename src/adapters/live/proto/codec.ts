/**
 * The Kubernetes protobuf wire format, decoded straight into the objects the JSON API returns, so everything above
 * the client (slim.ts, the reflectors, the tests) sees one shape whichever format the API server sent.
 *
 * - An object is the 4-byte magic "k8s\0" and a runtime.Unknown: typeMeta (apiVersion, kind), raw (the object's
 *   message), contentType (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
 * - A watch stream is a sequence of frames: a 4-byte big-endian length, then a metav1.WatchEvent whose
 *   object.raw is an object as above (decodeWatchFrame).
 * - Messages are read field by field with the descriptors protoc-gen-es generated from the pinned .proto files
 *   (./gen), into plain objects keyed by the JSON names. What protobuf cannot express is put back as the API
 *   server's JSON encoder writes it: Quantity is its string, Time and MicroTime are RFC 3339 strings (zero: null),
 *   IntOrString is a number or a string, FieldsV1 and RawExtension hold their JSON, int64 is a number, and
 *   zero-valued scalars whose Go field is `omitempty` are left out (jsonRules.ts, derived from the Go types).
 */
import { createRegistry, type DescField, type DescMessage, ScalarType, create, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { file_k8s_io_api_core_v1_generated } from './gen/k8s.io/api/core/v1/generated_pb.js';
import { file_k8s_io_api_events_v1_generated } from './gen/k8s.io/api/events/v1/generated_pb.js';
import { file_k8s_io_apimachinery_pkg_apis_meta_v1_generated } from './gen/k8s.io/apimachinery/pkg/apis/meta/v1/generated_pb.js';
import { type Unknown, UnknownSchema } from './gen/k8s.io/apimachinery/pkg/runtime/generated_pb.js';
import { INLINE, OMIT_EMPTY, OMIT_ZERO } from './jsonRules.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

const registry = createRegistry(file_k8s_io_api_core_v1_generated, file_k8s_io_api_events_v1_generated, file_k8s_io_apimachinery_pkg_apis_meta_v1_generated);

/** apiVersion → protobuf package of its kinds (metav1.Status is served under every group version). */
const PACKAGES: ReadonlyMap<string, string> = new Map([
  ['v1', 'k8s.io.api.core.v1'],
  ['events.k8s.io/v1', 'k8s.io.api.events.v1'],
]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

const byKind = new Map<string, DescMessage | undefined>();

/** The message of a top-level kind, if berth knows it in protobuf. */
export function messageFor(apiVersion: string, kind: string): DescMessage | undefined {
  const key = `${apiVersion}/${kind}`;
  if (byKind.has(key)) return byKind.get(key);
  const pkg = kind === 'Status' ? META : PACKAGES.get(apiVersion);
  const desc = pkg === undefined ? undefined : registry.getMessage(`${pkg}.${kind}`);
  byKind.set(key, desc);
  return desc;
}

export class ProtobufDecodeError extends Error {}

// ---------------------------------------------------------------- field plans

type Json = unknown;
type Obj = Record<string, Json>;
type Special = (r: BinaryReader, end: number, o: DecodeOptions) => Json;

interface FieldPlan {
  json: string;
  kind: 'scalar' | 'message' | 'list' | 'map';
  scalar?: ScalarType;
  /** Message type of a message field, list element or map value. */
  message?: DescMessage;
  /** Map key type. */
  key?: ScalarType;
  /** A scalar the JSON omits when zero. */
  omitEmpty: boolean;
  /** A message the JSON omits when zero (omitzero; a zero Time decodes to null). */
  omitZero: boolean;
  /** A message whose fields the JSON writes into the parent object (json:",inline"). */
  inline: boolean;
  /** ObjectMeta.managedFields: left out when the caller asks (DecodeOptions.dropManagedFields). */
  managedFields: boolean;
}

export interface DecodeOptions {
  /**
   * Leave out metadata.managedFields, often the largest part of an object: a reader that never looks at them
   * (berth's caches) saves decoding their JSON.
   */
  dropManagedFields?: boolean;
}

interface MessagePlan {
  fields: Map<number, FieldPlan>;
}

const plans = new Map<string, MessagePlan>();

function planOf(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc.typeName);
  if (plan) return plan;
  const rules: FieldRules = {
    omitEmpty: new Set(OMIT_EMPTY[desc.typeName] ?? []),
    omitZero: new Set(OMIT_ZERO[desc.typeName] ?? []),
    inline: new Set(INLINE[desc.typeName] ?? []),
  };
  plan = { fields: new Map() };
  plans.set(desc.typeName, plan);
  for (const f of desc.fields) plan.fields.set(f.number, fieldPlan(f, rules, desc.typeName === `${META}.ObjectMeta` && f.name === 'managedFields'));
  return plan;
}

interface FieldRules {
  omitEmpty: ReadonlySet<string>;
  omitZero: ReadonlySet<string>;
  inline: ReadonlySet<string>;
}

function fieldPlan(f: DescField, rules: FieldRules, managedFields: boolean): FieldPlan {
  const base = { json: f.name, omitEmpty: rules.omitEmpty.has(f.name), omitZero: rules.omitZero.has(f.name), inline: rules.inline.has(f.name), managedFields };
  switch (f.fieldKind) {
    case 'scalar':
      return { ...base, kind: 'scalar', scalar: f.scalar };
    case 'enum':
      return { ...base, kind: 'scalar', scalar: ScalarType.INT32 };
    case 'message':
      return { ...base, kind: 'message', message: f.message };
    case 'list':
      return f.listKind === 'message'
        ? { ...base, kind: 'list', message: f.message }
        : { ...base, kind: 'list', scalar: f.listKind === 'enum' ? ScalarType.INT32 : f.scalar };
    case 'map':
      return f.mapKind === 'message'
        ? { ...base, kind: 'map', key: f.mapKey, message: f.message }
        : { ...base, kind: 'map', key: f.mapKey, scalar: f.mapKind === 'enum' ? ScalarType.INT32 : f.scalar };
  }
}

// ---------------------------------------------------------------- scalars

function readScalar(r: BinaryReader, t: ScalarType): Json {
  switch (t) {
    case ScalarType.STRING:
      return r.string();
    case ScalarType.BOOL:
      return r.bool();
    case ScalarType.INT32:
      return r.int32();
    case ScalarType.UINT32:
      return r.uint32();
    case ScalarType.SINT32:
      return r.sint32();
    case ScalarType.INT64:
      return Number(r.int64());
    case ScalarType.UINT64:
      return Number(r.uint64());
    case ScalarType.SINT64:
      return Number(r.sint64());
    case ScalarType.FIXED32:
      return r.fixed32();
    case ScalarType.SFIXED32:
      return r.sfixed32();
    case ScalarType.FIXED64:
      return Number(r.fixed64());
    case ScalarType.SFIXED64:
      return Number(r.sfixed64());
    case ScalarType.DOUBLE:
      return r.double();
    case ScalarType.FLOAT:
      return r.float();
    case ScalarType.BYTES:
      return Buffer.from(r.bytes()).toString('base64');
  }
}

function isZero(v: Json): boolean {
  return v === '' || v === 0 || v === false;
}

/** A decoded message that is its type's zero: null (a zero Time) or an object with no fields. */
function isZeroMessage(v: Json): boolean {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  for (const _ in v) return false;
  return true;
}

/** Wire type of a packed-capable scalar. */
function isPackable(t: ScalarType): boolean {
  return t !== ScalarType.STRING && t !== ScalarType.BYTES;
}

// ---------------------------------------------------------------- special messages

/** Reads a message's fields as number → raw reader callback (small messages with a fixed shape). */
function readFields(r: BinaryReader, end: number, each: (no: number, wt: WireType) => void): void {
  while (r.pos < end) {
    const tag = r.uint32();
    each(tag >>> 3, (tag & 7) as WireType);
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Go's time.RFC3339 in UTC, with `fraction` digits of the nanoseconds (metav1.Time: 0, MicroTime: 6). */
function rfc3339(seconds: number, nanos: number, fraction: number): string {
  const d = new Date(seconds * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const frac = fraction > 0 ? `.${pad(Math.floor(nanos / 10 ** (9 - fraction)), fraction)}` : '';
  return `${date}T${time}${frac}Z`;
}

function timeReader(fraction: number): Special {
  return (r, end) => {
    let seconds = 0;
    let nanos = 0;
    while (r.pos < end) {
      const tag = r.uint32();
      const no = tag >>> 3;
      if (no === 1) seconds = Number(r.int64());
      else if (no === 2) nanos = r.int32();
      else r.skip((tag & 7) as WireType);
    }
    return seconds === 0 && nanos === 0 ? null : rfc3339(seconds, nanos, fraction);
  };
}

const decoder = new TextDecoder();

const SPECIAL: ReadonlyMap<string, Special> = new Map<string, Special>([
  [
    'k8s.io.apimachinery.pkg.api.resource.Quantity',
    (r, end) => {
      let s = '';
      while (r.pos < end) {
        const tag = r.uint32();
        if (tag === ((1 << 3) | WireType.LengthDelimited)) s = r.string();
        else r.skip((tag & 7) as WireType);
      }
      return s;
    },
  ],
  [`${META}.Time`, timeReader(0)],
  [`${META}.MicroTime`, timeReader(6)],
  [
    'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
    (r, end) => {
      let type = 0;
      let intVal = 0;
      let strVal = '';
      readFields(r, end, (no, wt) => {
        if (no === 1) type = Number(r.int64());
        else if (no === 2) intVal = r.int32();
        else if (no === 3) strVal = r.string();
        else r.skip(wt);
      });
      return type === 1 ? strVal : intVal;
    },
  ],
  [
    `${META}.FieldsV1`,
    (r, end) => {
      let raw: Uint8Array | undefined;
      readFields(r, end, (no, wt) => (no === 1 ? (raw = r.bytes()) : r.skip(wt)));
      return raw && raw.length > 0 ? (JSON.parse(decoder.decode(raw)) as Json) : null;
    },
  ],
  [
    'k8s.io.apimachinery.pkg.runtime.RawExtension',
    (r, end, o) => {
      let raw: Uint8Array | undefined;
      readFields(r, end, (no, wt) => (no === 1 ? (raw = r.bytes()) : r.skip(wt)));
      if (!raw || raw.length === 0) return null;
      return hasMagic(raw) ? decodeObject(raw, o) : (JSON.parse(decoder.decode(raw)) as Json);
    },
  ],
]);

// ---------------------------------------------------------------- messages

function readValue(r: BinaryReader, f: FieldPlan, o: DecodeOptions): Json {
  if (f.message) return readMessage(r, f.message, r.uint32(), o);
  return readScalar(r, f.scalar as ScalarType);
}

function readMapEntry(r: BinaryReader, f: FieldPlan, into: Obj, o: DecodeOptions): void {
  const end = r.uint32() + r.pos;
  let key: Json = '';
  let value: Json;
  let hasValue = false;
  while (r.pos < end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    if (no === 1) key = readScalar(r, f.key as ScalarType);
    else if (no === 2) {
      value = readValue(r, f, o);
      hasValue = true;
    } else r.skip((tag & 7) as WireType);
  }
  // A map value equal to its type's zero may be left out of the entry.
  if (!hasValue) value = f.message ? readEmpty(f.message) : f.scalar === ScalarType.STRING ? '' : f.scalar === ScalarType.BOOL ? false : 0;
  into[String(key)] = value;
}

/** The JSON of an empty message of a type (a map value that was left out on the wire). */
function readEmpty(desc: DescMessage): Json {
  return readMessage(new BinaryReader(new Uint8Array(0)), desc, 0, {});
}

/** Reads `len` bytes at r.pos as a message of type `desc`. */
function readMessage(r: BinaryReader, desc: DescMessage, len: number, o: DecodeOptions): Json {
  const end = r.pos + len;
  const special = SPECIAL.get(desc.typeName);
  if (special) return special(r, end, o);
  const plan = planOf(desc);
  const out: Obj = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = (tag & 7) as WireType;
    const f = plan.fields.get(tag >>> 3);
    if (!f || (f.managedFields && o.dropManagedFields)) {
      r.skip(wt);
      continue;
    }
    switch (f.kind) {
      case 'scalar': {
        const v = readScalar(r, f.scalar as ScalarType);
        // Each field appears once (Kubernetes' encoders never repeat one), so a zero is simply not set.
        if (!f.omitEmpty || !isZero(v)) out[f.json] = v;
        break;
      }
      case 'message': {
        const v = readMessage(r, f.message as DescMessage, r.uint32(), o);
        if (f.inline) Object.assign(out, v);
        else if (!f.omitZero || !isZeroMessage(v)) out[f.json] = v;
        break;
      }
      case 'list': {
        const list = (out[f.json] ??= []) as Json[];
        if (wt === WireType.LengthDelimited && f.scalar !== undefined && isPackable(f.scalar)) {
          const packedEnd = r.uint32() + r.pos;
          while (r.pos < packedEnd) list.push(readScalar(r, f.scalar));
        } else {
          list.push(readValue(r, f, o));
        }
        break;
      }
      case 'map':
        readMapEntry(r, f, (out[f.json] ??= {}) as Obj, o);
        break;
    }
  }
  if (r.pos !== end) throw new ProtobufDecodeError(`${desc.typeName}: field overruns its message`);
  return out;
}

/** Decodes one message (no envelope) into its JSON shape. */
export function decodeMessage(desc: DescMessage, bytes: Uint8Array, o: DecodeOptions = {}): Json {
  return readMessage(new BinaryReader(bytes), desc, bytes.length, o);
}

// ---------------------------------------------------------------- envelope

export function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x6b && bytes[1] === 0x38 && bytes[2] === 0x73 && bytes[3] === 0x00;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
}

function readEnvelope(bytes: Uint8Array): Envelope {
  if (!hasMagic(bytes)) throw new ProtobufDecodeError('not a Kubernetes protobuf object (no "k8s\\0" prefix)');
  const r = new BinaryReader(bytes.subarray(4));
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0) };
  readFields(r, r.len, (no, wt) => {
    if (no === 1) {
      const end = r.uint32() + r.pos;
      readFields(r, end, (tno, twt) => {
        if (tno === 1) env.apiVersion = r.string();
        else if (tno === 2) env.kind = r.string();
        else r.skip(twt);
      });
    } else if (no === 2) env.raw = r.bytes();
    else r.skip(wt);
  });
  return env;
}

/** Decodes a Kubernetes protobuf object ("k8s\0" + runtime.Unknown) into the JSON the API server would have sent. */
export function decodeObject(bytes: Uint8Array, o: DecodeOptions = {}): Json {
  const env = readEnvelope(bytes);
  const desc = messageFor(env.apiVersion, env.kind);
  if (!desc) throw new ProtobufDecodeError(`berth has no protobuf type for ${env.apiVersion} ${env.kind}`);
  const obj = decodeMessage(desc, env.raw, o) as Obj;
  return { apiVersion: env.apiVersion, kind: env.kind, ...obj };
}

const watchEventDesc = registry.getMessage(`${META}.WatchEvent`) as DescMessage;

/** Decodes one watch frame's metav1.WatchEvent: { type, object } with the object decoded as decodeObject does. */
export function decodeWatchEvent(frame: Uint8Array, o: DecodeOptions = {}): { type: string; object: Json } {
  const ev = decodeMessage(watchEventDesc, frame, o) as { type?: string; object?: Json };
  return { type: ev.type ?? '', object: ev.object ?? null };
}

/** Wraps a message of apiVersion/kind in the envelope, for request bodies. */
export function encodeObject(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const unknown: Unknown = create(UnknownSchema, { typeMeta: { apiVersion, kind }, raw });
  const body = toBinary(UnknownSchema, unknown);
  const out = new Uint8Array(MAGIC.length + body.length);
  out.set(MAGIC, 0);
  out.set(body, MAGIC.length);
  return out;
}
