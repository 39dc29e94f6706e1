/**
 * Go time.Duration text, as metav1.Duration carries it in YAML/JSON ("15s", "1m30s", "1.5h", "300ms", "0").
 * Values are handled in seconds (fractions allowed).
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6, // U+00B5 micro sign
  'μs': 1e-6, // U+03BC Greek mu
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Parses Go duration syntax; returns seconds, or undefined when the text is not a valid Go duration. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  const part = /^(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)/;
  let total = 0;
  while (s.length > 0) {
    const m = part.exec(s);
    if (m === null) return undefined;
    const unit = UNIT_SECONDS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return sign * total;
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
