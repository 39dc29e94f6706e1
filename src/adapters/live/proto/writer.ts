/**
 * A small protobuf writer for the few messages berth sends on every binding (a Binding, an Event, their envelope).
 * The generated types' create + toBinary walk the schema by reflection and cost ~100 µs a body; this writes the
 * known fields straight into one buffer. Fields must be written in field-number order, as Go and the generated
 * code write them. Nested messages reserve one byte for their length and move their content when it needs more.
 * bodies.ts is checked against the generated types (test/adapters/live/protoBodies.test.ts).
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  /** Positions of the length byte reserved by each open nested message. */
  private readonly open: number[] = [];

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Raw bytes, as they are (the envelope's magic prefix). */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A string field; undefined writes nothing, '' writes an empty field (proto2 optional, as the Go client sends). */
  string(no: number, value: string | undefined): this {
    if (value === undefined) return this;
    const len = Buffer.byteLength(value, 'utf8');
    this.ensure(len + 15);
    this.varint(no * 8 + WIRE_LENGTH_DELIMITED);
    this.varint(len);
    this.pos += this.buf.write(value, this.pos, 'utf8');
    return this;
  }

  /** A bytes field. */
  bytes(no: number, value: Uint8Array): this {
    this.ensure(value.length + 15);
    this.varint(no * 8 + WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    return this.raw(value);
  }

  /** A non-negative integer field (int32, int64) below 2^53. */
  uint(no: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf field ${no}: ${value} is not a non-negative integer`);
    this.ensure(20);
    this.varint(no * 8 + WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** Opens a nested message field; every begin needs its end. */
  begin(no: number): this {
    this.ensure(11);
    this.varint(no * 8 + WIRE_LENGTH_DELIMITED);
    this.open.push(this.pos);
    this.pos += 1;
    return this;
  }

  /** Closes the innermost nested message: writes its length, moving its content if the length takes more than a byte. */
  end(): this {
    const at = this.open.pop();
    if (at === undefined) throw new Error('ProtoWriter.end without begin');
    const len = this.pos - at - 1;
    const size = varintSize(len);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    const after = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = after;
    return this;
  }

  /** The bytes written (a view of the writer's buffer: the writer must not be used afterwards). */
  finish(): Uint8Array {
    if (this.open.length > 0) throw new Error('ProtoWriter.finish with a nested message still open');
    return this.buf.subarray(0, this.pos);
  }

  private varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
