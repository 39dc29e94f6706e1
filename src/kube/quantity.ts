/**
 * Kubernetes resource quantities ("100m", "1.5Gi", "2e3", "500Mi"), parsed exactly.
 *
 * A quantity is held as an exact rational (BigInt numerator over a power-of-ten / power-of-two scale) while parsing,
 * then turned into the integers the scheduler accounts in: CPU in milli-units (upstream MilliValue) and everything
 * else in whole units (upstream Value). Both round up, as upstream does, so "0.1m" CPU counts as 1m and "1.5" bytes
 * as 2. Results are plain JS numbers: every realistic request or capacity is far below 2^53, and we refuse anything
 * above it rather than lose precision silently.
 */

export class QuantityError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid quantity ${JSON.stringify(input)}: ${reason}`);
    this.name = 'QuantityError';
  }
}

export interface ExactQuantity {
  /** value = numerator × 10^pow10 × 2^pow2 / denominatorPow10 */
  negative: boolean;
  numerator: bigint;
  pow10: number; // may be negative
  pow2: number; // >= 0
}

const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

export function parseExact(input: string): ExactQuantity {
  const text = input.trim();
  const match = QUANTITY_RE.exec(text);
  if (!match) {
    throw new QuantityError(input, 'expected a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, ..., or e<exponent>)');
  }
  const [, sign, number, suffix, exponent] = match;
  const [whole = '', fraction = ''] = (number ?? '').split('.');
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '') || '0';
  let pow10 = -fraction.length;
  let pow2 = 0;
  if (exponent !== undefined) {
    const exp = Number(exponent);
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1000) throw new QuantityError(input, 'exponent out of range');
    pow10 += exp;
  } else if (suffix !== undefined && suffix in BINARY_SUFFIXES) {
    pow2 = BINARY_SUFFIXES[suffix] ?? 0;
  } else {
    pow10 += DECIMAL_SUFFIXES[suffix ?? ''] ?? 0;
  }
  return { negative: sign === '-', numerator: BigInt(digits), pow10, pow2 };
}

/** Scales by 10^scalePow10 and rounds away from zero to an integer magnitude, as upstream's Value() does. */
function scaledMagnitude(q: ExactQuantity, scalePow10: number): bigint {
  let num = q.numerator * (1n << BigInt(q.pow2));
  const p = q.pow10 + scalePow10;
  if (p >= 0) return num * 10n ** BigInt(p);
  const div = 10n ** BigInt(-p);
  const rounded = num / div;
  num = num % div === 0n ? rounded : rounded + 1n;
  return num;
}

/** Scales by 10^scalePow10 and rounds away from zero to an integer, as upstream's Value()/MilliValue() do. */
function toScaledInteger(q: ExactQuantity, scalePow10: number, input: string): number {
  const num = scaledMagnitude(q, scalePow10);
  if (num > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(input, 'too large to account exactly');
  }
  const value = Number(num);
  return q.negative ? -value : value;
}

/** Whole units, rounded up (memory in bytes, pods, extended resources). Upstream: Quantity.Value(). */
export function parseQuantity(input: string | number): number {
  const text = typeof input === 'number' ? String(input) : input;
  return toScaledInteger(parseExact(text), 0, text);
}

/**
 * Whole units as a BigInt, rounded up: for sizes that may pass 2^53 (storage capacities in exabytes), where only
 * comparisons are needed. Upstream: Quantity.Value() / Cmp().
 */
export function parseQuantityBig(input: string | number): bigint {
  const text = typeof input === 'number' ? String(input) : input;
  const q = parseExact(text);
  const magnitude = scaledMagnitude(q, 0);
  return q.negative ? -magnitude : magnitude;
}

/** Milli-units, rounded up (CPU). Upstream: Quantity.MilliValue(). */
export function parseMilliQuantity(input: string | number): number {
  const text = typeof input === 'number' ? String(input) : input;
  return toScaledInteger(parseExact(text), 3, text);
}

/** True when the string is a syntactically valid quantity. */
export function isQuantity(input: string): boolean {
  return QUANTITY_RE.test(input.trim());
}

/** Renders milli-CPU the way operators read it: "1500m" → "1.5", "100m" → "100m", "20000m" → "20". */
export function formatMilliCpu(milli: number): string {
  if (milli % 1000 === 0) return String(milli / 1000);
  if (Math.abs(milli) < 1000) return `${milli}m`;
  return String(Number((milli / 1000).toFixed(3)));
}

/** Renders bytes in the largest binary unit that fits: exact when it divides ("32Gi"), else one decimal ("62.7Gi"). */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  for (const [suffix, size] of units) {
    if (Math.abs(bytes) >= size) {
      return bytes % size === 0 ? `${bytes / size}${suffix}` : `${(bytes / size).toFixed(1)}${suffix}`;
    }
  }
  return String(bytes);
}
