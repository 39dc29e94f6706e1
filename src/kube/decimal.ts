/**
 * Exact decimal arithmetic on resource quantities, for the places that compare and add them as upstream's
 * resource.Quantity does (Cmp, Add, Sub) instead of rounding to whole units: DRA's CEL `quantity` values and
 * consumable device capacity. A value is `num / 10^scale` with a BigInt numerator, so "1.5Gi", "1500m" and "2e3"
 * are all held exactly.
 */
import { parseExactQuantity, QuantityError } from './quantity.js';

export class Decimal {
  private constructor(
    /** Signed numerator. */
    readonly num: bigint,
    /** Power of ten in the denominator (>= 0). */
    readonly scale: number,
  ) {}

  static readonly ZERO = new Decimal(0n, 0);

  /** Parses a quantity ("1.5Gi", "100m", "2e3"); throws QuantityError for bad input. */
  static parse(input: string | number): Decimal {
    // The API server's parse (binary suffixes folded into the coefficient, rounded to nano units as Go rounds).
    const q = parseExactQuantity(input);
    let num = q.coefficient;
    let scale = 0;
    if (q.exp10 >= 0) num *= 10n ** BigInt(q.exp10);
    else scale = -q.exp10;
    return new Decimal(q.negative ? -num : num, scale).normalized();
  }

  /** Like parse, but undefined for bad input. */
  static tryParse(input: string | number | undefined): Decimal | undefined {
    if (input === undefined) return undefined;
    try {
      return Decimal.parse(input);
    } catch (err) {
      if (err instanceof QuantityError) return undefined;
      throw err;
    }
  }

  static fromBigInt(value: bigint): Decimal {
    return new Decimal(value, 0);
  }

  /** Drops trailing zeros of the fraction, so equal values have equal representations. */
  private normalized(): Decimal {
    let { num, scale } = this;
    while (scale > 0 && num % 10n === 0n) {
      num /= 10n;
      scale--;
    }
    return num === this.num && scale === this.scale ? this : new Decimal(num, scale);
  }

  private aligned(other: Decimal): [bigint, bigint, number] {
    const scale = Math.max(this.scale, other.scale);
    return [this.num * 10n ** BigInt(scale - this.scale), other.num * 10n ** BigInt(scale - other.scale), scale];
  }

  cmp(other: Decimal): -1 | 0 | 1 {
    const [a, b] = this.aligned(other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  add(other: Decimal): Decimal {
    const [a, b, scale] = this.aligned(other);
    return new Decimal(a + b, scale).normalized();
  }

  sub(other: Decimal): Decimal {
    const [a, b, scale] = this.aligned(other);
    return new Decimal(a - b, scale).normalized();
  }

  get sign(): -1 | 0 | 1 {
    return this.num < 0n ? -1 : this.num > 0n ? 1 : 0;
  }

  get isInteger(): boolean {
    return this.scale === 0;
  }

  /** The value as an integer when it is one within int64 (upstream AsInt64), else undefined. */
  toInt64(): bigint | undefined {
    if (this.scale !== 0) return undefined;
    if (this.num > 9223372036854775807n || this.num < -9223372036854775808n) return undefined;
    return this.num;
  }

  /** The value in milli-units when that is exact (upstream MilliValue with a lossless check), else undefined. */
  toMilli(): bigint | undefined {
    if (this.scale > 3) return undefined;
    return this.num * 10n ** BigInt(3 - this.scale);
  }

  static fromMilli(milli: bigint): Decimal {
    return new Decimal(milli, 3).normalized();
  }

  toNumber(): number {
    return Number(this.num) / 10 ** this.scale;
  }

  /** A canonical quantity string: an integer, or a milli-quantity ("1500m"), or a plain decimal fraction. */
  toString(): string {
    if (this.scale === 0) return this.num.toString();
    if (this.scale <= 3) return `${(this.num * 10n ** BigInt(3 - this.scale)).toString()}m`;
    const negative = this.num < 0n;
    const digits = (negative ? -this.num : this.num).toString().padStart(this.scale + 1, '0');
    const text = `${digits.slice(0, digits.length - this.scale)}.${digits.slice(digits.length - this.scale)}`;
    return negative ? `-${text}` : text;
  }
}
