/**
 * Kubernetes resource quantities ("100m", "1.5Gi", "2e3", "500Mi"), parsed exactly as the API server parses them:
 * a port of k8s.io/apimachinery resource.ParseQuantity, after Quantity.UnmarshalJSON's strings.TrimSpace. Its quirks
 * are kept on purpose, so that berth accepts what the API server accepts and refuses what it refuses: sign-only and
 * digit-less forms ("-", ".", "Ki") are zero, "1." is one, exponents are int64 then truncated to int32, values are
 * rounded up (away from zero) to nano units, binary-suffixed values are capped at 2^63-1. test/kube/quantityGo.test.ts
 * checks this port against Go's ParseQuantity built from the module cache.
 *
 * The scheduler then accounts in integers: CPU in milli-units (upstream MilliValue) and everything else in whole
 * units (upstream Value), both rounded up. Results are plain JS numbers: every realistic request or capacity is far
 * below 2^53, and berth refuses anything above it rather than lose precision silently.
 */

export class QuantityError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid quantity ${JSON.stringify(input.length > 80 ? `${input.slice(0, 79)}…` : input)}: ${reason}`);
    this.name = 'QuantityError';
  }
}

/** An exact quantity: magnitude = coefficient × 10^exp10, exp10 ≥ -9 (Go rounds to nano units). */
export interface ExactQuantity {
  negative: boolean;
  coefficient: bigint;
  exp10: number;
}

const FORMAT_HINT = 'expected a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or e<exponent>)';
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Go's maxAllowed: binary-suffixed values are capped at max int64, in nano units here. */
const BINARY_CAP_NANOS = INT64_MAX * 10n ** 9n;
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { '': 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
/** Go's unicode.IsSpace (strings.TrimSpace): unlike String.prototype.trim, U+0085 is a space and U+FEFF is not. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

export function goTrimSpace(text: string): string {
  return text.replace(GO_SPACE, '');
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

interface Scanned {
  negative: boolean;
  /** The numeric text with its sign (Go's `value`), which the slow path hands to inf.Dec.SetString. */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Go's parseQuantityString: sign, leading zeros, numerator, optional fraction, suffix. */
function scan(str: string): Scanned | undefined {
  let pos = 0;
  const end = str.length;
  let negative = false;
  if (str[0] === '-' || str[0] === '+') {
    negative = str[0] === '-';
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { negative, value: '0', num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (isDigit(str[pos])) pos++;
  const num = str.slice(numStart, pos) || '0';
  let denom = '';
  if (str[pos] === '.') {
    const start = ++pos;
    while (isDigit(str[pos])) pos++;
    denom = str.slice(start, pos);
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos] as string)) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (isDigit(str[pos])) pos++;
  if (pos < end) return undefined;
  return { negative, value, num, denom, suffix: str.slice(suffixStart) };
}

/** Go's suffixer.interpret: the table, or e/E and a strconv.ParseInt int64 truncated to int32. */
function interpret(suffix: string): { base: 2 | 10; exponent: number } | undefined {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(digits)) return undefined;
    const parsed = BigInt(digits);
    if (parsed < INT64_MIN || parsed > INT64_MAX) return undefined;
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)) };
  }
  return undefined;
}

const int32 = (n: number): number => Number(BigInt.asIntN(32, BigInt(n)));

/** magnitude × 10^pow10 rounded up to nano units, without expanding huge powers of ten. */
function toNanos(negative: boolean, unscaled: bigint, pow10: number): ExactQuantity {
  if (unscaled === 0n) return { negative: false, coefficient: 0n, exp10: 0 };
  if (pow10 >= -9) return { negative, coefficient: unscaled, exp10: pow10 };
  const shift = -9 - pow10;
  // Far below one nano unit: rounds up to exactly 1n (inf.RoundUp), whatever the digits.
  if (shift > unscaled.toString().length + 1) return { negative, coefficient: 1n, exp10: -9 };
  const div = 10n ** BigInt(shift);
  const q = unscaled / div;
  return { negative, coefficient: unscaled % div === 0n ? q : q + 1n, exp10: -9 };
}

/** Go's ParseQuantity on already trimmed text; undefined where Go returns an error. */
function parseGo(str: string): ExactQuantity | undefined {
  if (str.length === 0) return undefined;
  const s = scan(str);
  if (s === undefined) return undefined;
  const suffix = interpret(s.suffix);
  if (suffix === undefined) return undefined;
  const unscaled = BigInt(s.num + s.denom);
  if (suffix.base === 2) return parseBinary(s, unscaled, suffix.exponent);
  const precision = 18 - s.num.length - s.denom.length;
  if (precision >= 0) {
    const scale = int32(suffix.exponent - s.denom.length);
    if (scale >= -9) return toNanos(s.negative, unscaled, scale);
  }
  // Slow path: inf.Dec.SetString needs a digit; the scale arithmetic is Go's int32 arithmetic.
  if (!/[0-9]/.test(s.value)) return undefined;
  const infScale = int32(s.denom.length + int32(-suffix.exponent));
  return toNanos(s.negative, unscaled, -infScale);
}

/**
 * Binary suffixes: Go multiplies exactly when there is no fraction and the product fits an int64 (the fast path);
 * otherwise inf.Dec takes over (it needs a digit: "Ei" alone fails where "Ki" is zero), rounds up to nano units and
 * caps the magnitude at max int64.
 */
function parseBinary(s: Scanned, unscaled: bigint, exponent: number): ExactQuantity | undefined {
  const product = unscaled << BigInt(exponent);
  const precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1;
  if (s.denom.length === 0 && precision >= 0 && product <= INT64_MAX) return toNanos(s.negative, product, 0);
  if (!/[0-9]/.test(s.value)) return undefined;
  const rounded = toNanos(s.negative, product, -s.denom.length);
  return toNanosCapped(rounded.negative, rounded.coefficient * 10n ** BigInt(rounded.exp10 + 9));
}

function toNanosCapped(negative: boolean, nanos: bigint): ExactQuantity {
  if (nanos === 0n) return { negative: false, coefficient: 0n, exp10: 0 };
  return { negative, coefficient: nanos > BINARY_CAP_NANOS ? BINARY_CAP_NANOS : nanos, exp10: -9 };
}

/** Parsed quantities by text: the same few strings ("100m", "1Gi") recur across thousands of pods. */
const cache = new Map<string, ExactQuantity | undefined>();
const CACHE_LIMIT = 4096;
export const MAX_QUANTITY_LENGTH = 1024;

/** Parses a quantity as the API server decodes it from JSON/YAML; throws QuantityError where it would fail. */
export function parseExactQuantity(input: string | number): ExactQuantity {
  const text = typeof input === 'number' ? numberText(input) : input;
  // Go would build a number of that many digits; berth refuses it rather than spend seconds on it.
  if (text.length > MAX_QUANTITY_LENGTH) throw new QuantityError(text, `longer than ${MAX_QUANTITY_LENGTH} characters`);
  let q = cache.get(text);
  if (q === undefined && !cache.has(text)) {
    // Longer texts are never realistic quantities: parse them without caching (and without keeping them alive).
    q = parseGo(goTrimSpace(text));
    if (text.length <= 64) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(text, q);
    }
  }
  if (q === undefined) throw new QuantityError(text, FORMAT_HINT);
  return q;
}

/** A YAML/JSON number as the API server sees it: its JSON text (JS and Go print numbers alike; NaN fails). */
function numberText(n: number): string {
  return String(n);
}

/** The number of decimal digits of magnitude × 10^scale before the point (an upper bound on its size). */
function integerDigits(q: ExactQuantity, scale: number): number {
  return q.coefficient.toString().length + q.exp10 + scale;
}

/** magnitude × 10^scale rounded up (away from zero), as upstream's Value()/MilliValue() round. */
function scaledMagnitude(q: ExactQuantity, scale: number): bigint {
  const p = q.exp10 + scale;
  if (p >= 0) return q.coefficient * 10n ** BigInt(p);
  const div = 10n ** BigInt(-p);
  const whole = q.coefficient / div;
  return q.coefficient % div === 0n ? whole : whole + 1n;
}

function toScaledInteger(q: ExactQuantity, scale: number, input: string): number {
  if (q.coefficient === 0n) return 0;
  if (integerDigits(q, scale) > 17) throw new QuantityError(input, 'too large to account exactly (berth accounts up to 2^53)');
  const magnitude = scaledMagnitude(q, scale);
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuantityError(input, 'too large to account exactly (berth accounts up to 2^53)');
  return q.negative ? -Number(magnitude) : Number(magnitude);
}

const inputText = (input: string | number): string => (typeof input === 'number' ? numberText(input) : input);

/** Whole units, rounded up (memory in bytes, pods, extended resources). Upstream: Quantity.Value(). */
export function parseQuantity(input: string | number): number {
  return toScaledInteger(parseExactQuantity(input), 0, inputText(input));
}

/** Milli-units, rounded up (CPU). Upstream: Quantity.MilliValue(). */
export function parseMilliQuantity(input: string | number): number {
  return toScaledInteger(parseExactQuantity(input), 3, inputText(input));
}

/**
 * Whole units as a BigInt, rounded up: for sizes that may pass 2^53 (storage capacities in exabytes), where only
 * comparisons are needed. Upstream: Quantity.Value() / Cmp(). Refuses magnitudes above 10^40, which no storage has.
 */
export function parseQuantityBig(input: string | number): bigint {
  const q = parseExactQuantity(input);
  if (q.coefficient === 0n) return 0n;
  if (integerDigits(q, 0) > 40) throw new QuantityError(inputText(input), 'too large (berth compares sizes up to 10^40)');
  const magnitude = scaledMagnitude(q, 0);
  return q.negative ? -magnitude : magnitude;
}

/** True when the text is a quantity the API server accepts. */
export function isQuantity(input: string): boolean {
  try {
    parseExactQuantity(input);
    return true;
  } catch {
    return false;
  }
}

/** -1, 0 or 1: the quantity's sign (Quantity.Sign()). */
export function quantitySign(q: ExactQuantity): -1 | 0 | 1 {
  if (q.coefficient === 0n) return 0;
  return q.negative ? -1 : 1;
}

/** True when the quantity is a whole number (upstream: MilliValue() % 1000 == 0, for integer resources). */
export function isWholeQuantity(q: ExactQuantity): boolean {
  if (q.exp10 >= 0 || q.coefficient === 0n) return true;
  return q.coefficient % 10n ** BigInt(-q.exp10) === 0n;
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
