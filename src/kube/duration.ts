/**
 * Go time.Duration text, as metav1.Duration carries it in YAML/JSON ("15s", "1m30s", "1.5h", "300ms", "0").
 * Values are handled in seconds (fractions allowed).
 */

const UNIT_NANOS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const TWO_63 = 1n << 63n;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Go's leadingInt: the digits at the start as a uint64; 'range' past 2^63. */
function leadingInt(s: string): { x: bigint; rest: string } | 'range' {
  let i = 0;
  let x = 0n;
  for (; isDigit(s[i]); i++) {
    if (x > TWO_63 / 10n) return 'range';
    x = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (x > TWO_63) return 'range';
  }
  return { x, rest: s.slice(i) };
}

/** Go's leadingFraction: digits after the point, ignored past uint64 precision; value = x / scale. */
function leadingFraction(s: string): { x: bigint; scale: number; rest: string } {
  let i = 0;
  let x = 0n;
  let scale = 1;
  let overflow = false;
  for (; isDigit(s[i]); i++) {
    if (overflow) continue;
    if (x > (TWO_63 - 1n) / 10n) {
      overflow = true;
      continue;
    }
    const y = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (y > TWO_63) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  return { x, scale, rest: s.slice(i) };
}

/**
 * Go's time.ParseDuration, exactly (metav1.Duration decodes with it): nanoseconds, 'syntax' for text that is not a
 * duration, 'range' outside Go's int64 nanoseconds (about ±292 years), which Go reports as an invalid duration too.
 */
export function parseGoDurationNanos(text: string): bigint | 'syntax' | 'range' {
  let s = text;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return 'syntax';
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return 'syntax';
    const before = s.length;
    const int = leadingInt(s);
    if (int === 'range') return 'range';
    s = int.rest;
    const pre = before !== s.length;
    let frac = { x: 0n, scale: 1 };
    let post = false;
    if (s[0] === '.') {
      const rest = s.slice(1);
      const f = leadingFraction(rest);
      post = f.rest.length !== rest.length;
      frac = f;
      s = f.rest;
    }
    if (!pre && !post) return 'syntax';
    let i = 0;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    const unit = UNIT_NANOS[s.slice(0, i)];
    if (i === 0 || unit === undefined) return 'syntax';
    s = s.slice(i);
    if (int.x > TWO_63 / unit) return 'range';
    let v = int.x * unit;
    if (frac.x > 0n) {
      // Go computes the fraction in float64, as here.
      v += BigInt(Math.trunc(Number(frac.x) * (Number(unit) / frac.scale)));
      if (v > TWO_63) return 'range';
    }
    d += v;
    if (d > TWO_63) return 'range';
  }
  if (negative) return -d;
  return d > TWO_63 - 1n ? 'range' : d;
}

/** Parses Go duration syntax; returns seconds, or undefined when Go's time.ParseDuration would fail. */
export function parseGoDuration(text: string): number | undefined {
  const ns = parseGoDurationNanos(text);
  return typeof ns === 'bigint' ? Number(ns) / 1e9 : undefined;
}

/** Formats seconds the way Go's Duration.String() does ("15s", "1m30s", "2h0m0s", "300ms", "0s"). */
export function formatGoDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const negative = seconds < 0;
  const abs = Math.abs(seconds);
  let out: string;
  if (abs < 1) {
    const ns = Math.round(abs * 1e9);
    if (ns < 1000) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trimNumber(ns / 1e3)}µs`;
    else out = `${trimNumber(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(abs / 3600);
    const m = Math.floor((abs - h * 3600) / 60);
    const s = abs - h * 3600 - m * 60;
    const sText = `${trimNumber(s)}s`;
    if (h > 0) out = `${h}h${m}m${sText}`;
    else if (m > 0) out = `${m}m${sText}`;
    else out = sText;
  }
  return negative ? `-${out}` : out;
}

function trimNumber(n: number): string {
  // At most nanosecond precision, without trailing zeros.
  return String(Number(n.toFixed(9)));
}
