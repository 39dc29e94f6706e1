/**
 * Differential test: berth's quantity parser against k8s.io/apimachinery's resource.ParseQuantity (v0.37.2, what the
 * v1.37.2 API server runs), built with the machine's Go from the module cache — or, when the cache lacks it, through
 * the module proxy. Each input is parsed as the API server decodes a JSON quantity (TrimSpace, then ParseQuantity);
 * both sides must agree on accept/refuse and on the exact value.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExactQuantity, type ExactQuantity } from '../../src/kube/quantity.js';

const APIMACHINERY = 'v0.37.2';
const HELPER_SOURCE = new URL('./goquantity/main.go', import.meta.url).pathname;

function haveGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Builds the helper in a temporary module: from the module cache first (offline), then through the proxy. */
function buildHelper(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-goquantity-'));
  copyFileSync(HELPER_SOURCE, join(dir, 'main.go'));
  writeFileSync(join(dir, 'go.mod'), `module berth.test/goquantity\n\ngo 1.24\n\nrequire k8s.io/apimachinery ${APIMACHINERY}\n`);
  const base = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  const attempts: Array<Record<string, string | undefined>> = [
    // The cache's modules were verified against go.sum when they were downloaded.
    { ...base, GOPROXY: 'off', GOSUMDB: 'off' },
    base,
  ];
  let last = '';
  for (const env of attempts) {
    const r = spawnSync('go', ['build', '-o', 'goquantity', '.'], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
    if (r.status === 0) return join(dir, 'goquantity');
    last = `${r.stderr}${r.error ? String(r.error) : ''}`;
  }
  throw new Error(`cannot build the Go helper:\n${last}`);
}

/** mantissa × 10^exp with the mantissa's trailing zeros moved into the exponent. */
function normalize(mantissa: bigint, exp: number): string {
  if (mantissa === 0n) return '0';
  let m = mantissa;
  let e = exp;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  return `${m}e${e}`;
}

function berth(input: string): string {
  let q: ExactQuantity;
  try {
    q = parseExactQuantity(input);
  } catch {
    return 'err';
  }
  return `ok ${normalize(q.negative ? -q.coefficient : q.coefficient, q.exp10)}`;
}

function fromGo(line: string): string {
  if (line === 'err') return 'err';
  const [, mantissa, exp] = line.split(' ');
  return `ok ${normalize(BigInt(mantissa as string), Number(exp))}`;
}

/** Hand-picked edge cases: suffixes, signs, fractions, exponents, whitespace, caps and Go's int32 truncation. */
const EDGE_CASES = [
  '', ' ', '0', '-0', '+0', '-', '+', '.', '-.', '+.', '..', '1.', '.5', '-.5', '00100', '0.000', '1.5', '1.50', '12.345',
  '100m', '0.1m', '1n', '1u', '0.5n', '1k', '1K', '1M', '1G', '1T', '1P', '1E', '9E', '10E', '1Ki', '1Mi', '1Gi', '1Ti',
  '1Pi', '1Ei', '7Ei', '8Ei', '9Ei', '16Ei', '0.5Ki', '.5Ki', '0.001Ki', '0.0000000001Ki', '1.5Gi', '-1.5Gi', '-8Ei',
  'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'm', 'k', 'E', 'e', 'e5', 'E5', '.Ki', '.Ei', '-Ei', '0Ei', '-e-20', '-e-5',
  '.e-20', '1e', '1e3', '1E3', '1e+3', '1e-3', '1E-3', '1e-9', '1e-10', '1e-12', '1.5e-3', '12e-1', '1e18', '1e19',
  '1e100', '1e-100', '1e999', '5e-999', '1e3.5', '1e3Gi', '1ei3', '1Kb', '1kb', '1mi', '1.2.3', '--1', '-+1', '+-1',
  '1 Gi', ' 1Gi', '1Gi ', '\t100m\n', '\u00a0100m', '100m\u00a0', '\u0085100m', '\ufeff100m', '\u2028100m\u3000',
  'Gi1', '1Gi1', '0x10', '1_000', 'NaN', 'Infinity', '-Infinity', '1e+', '1e-', '1e+-3', '1E++3', 'm3', 'k-5', 'Mi+1',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '99999999999999999999', '123456789012345678',
  '1234567890123456789', '0.123456789012345678', '0.1234567890123456789', '1.23456789012345678901234567890',
  '9223372036854775807Ki', '9223372036854775807k', '1e9223372036854775807', '1e9223372036854775808', '1e4294967296',
  '1e4294967295', '1e4294967297', '1.5e4294967296', '0e99999', '0.0e-99999', '0Ei', '0.0Ki',
  '000000000000000000000000001', '1.000000000000000000000000', '100000000000000000000m', '3.14159265358979323846',
];

/** Random strings: quantity-shaped and arbitrary ones over the scanner's alphabet (seeded: the same every run). */
function randomCorpus(count: number): string[] {
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = (s: string): string => s[next(s.length)] as string;
  const digits = (max: number): string => Array.from({ length: next(max + 1) }, () => pick('0123456789')).join('');
  const suffixes = ['', '', 'm', 'n', 'u', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'K', 'mi', 'e', 'E', 'i'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (next(3) === 0) {
      out.push(Array.from({ length: next(9) }, () => pick('0123456789.+-eEinumkKMGTP \t')).join(''));
      continue;
    }
    const sign = ['', '', '-', '+'][next(4)] as string;
    const frac = next(2) === 0 ? `.${digits(12)}` : '';
    const exp = next(5) === 0 ? `${pick('eE')}${['', '+', '-'][next(3)] as string}${digits(3)}` : (suffixes[next(suffixes.length)] as string);
    const pad = next(8) === 0 ? ' ' : '';
    out.push(`${pad}${sign}${digits(21)}${frac}${exp}${pad}`);
  }
  return out;
}

describe.skipIf(!haveGo())('quantities agree with Go resource.ParseQuantity', () => {
  it('on edge cases and 20 000 random strings', { timeout: 600_000 }, () => {
    const helper = buildHelper();
    const corpus = [...EDGE_CASES, ...randomCorpus(20_000)];
    const input = corpus.map((s) => JSON.stringify(s)).join('\n') + '\n';
    const output = execFileSync(helper, { input, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 300_000 }).trimEnd().split('\n');
    expect(output).toHaveLength(corpus.length);
    const mismatches = corpus
      .map((s, i) => ({ input: s, go: fromGo(output[i] as string), berth: berth(s) }))
      .filter((m) => m.go !== m.berth);
    expect(mismatches.slice(0, 20)).toEqual([]);
    // Both outcomes are exercised.
    expect(output.filter((l) => l === 'err').length).toBeGreaterThan(1000);
    expect(output.filter((l) => l !== 'err').length).toBeGreaterThan(1000);
  });
});
