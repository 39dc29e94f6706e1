/**
 * Semantic versions (semver 2.0.0) as Kubernetes' CEL semver library parses and compares them (blang/semver v4):
 * strict MAJOR.MINOR.PATCH with optional pre-release and build metadata, no leading zeros; build metadata does not
 * take part in comparisons. `normalize` is the library's tolerant form: a leading "v" is dropped, missing minor and
 * patch numbers become 0 and leading zeros are removed.
 */

export class Semver {
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: readonly string[],
    readonly build: readonly string[],
  ) {}

  /** -1, 0 or 1, as blang's Version.Compare. */
  compare(other: Semver): -1 | 0 | 1 {
    for (const [a, b] of [
      [this.major, other.major],
      [this.minor, other.minor],
      [this.patch, other.patch],
    ] as const) {
      if (a !== b) return a < b ? -1 : 1;
    }
    if (this.pre.length === 0 || other.pre.length === 0) {
      if (this.pre.length === other.pre.length) return 0;
      return this.pre.length === 0 ? 1 : -1;
    }
    for (let i = 0; i < Math.min(this.pre.length, other.pre.length); i++) {
      const c = comparePrerelease(this.pre[i] ?? '', other.pre[i] ?? '');
      if (c !== 0) return c;
    }
    if (this.pre.length === other.pre.length) return 0;
    return this.pre.length < other.pre.length ? -1 : 1;
  }

  toString(): string {
    const pre = this.pre.length > 0 ? `-${this.pre.join('.')}` : '';
    const build = this.build.length > 0 ? `+${this.build.join('.')}` : '';
    return `${this.major}.${this.minor}.${this.patch}${pre}${build}`;
  }
}

const NUMERIC = /^[0-9]+$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;
const MAX_UINT64 = 18446744073709551615n;

function comparePrerelease(a: string, b: string): -1 | 0 | 1 {
  const an = NUMERIC.test(a);
  const bn = NUMERIC.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (an !== bn) return an ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function parseNumber(part: string, what: string): bigint {
  if (!NUMERIC.test(part)) throw new Error(`Invalid character(s) found in ${what} number "${part}"`);
  if (part.length > 1 && part.startsWith('0')) throw new Error(`${what[0]?.toUpperCase() ?? ''}${what.slice(1)} number must not contain leading zeroes "${part}"`);
  const n = BigInt(part);
  if (n > MAX_UINT64) throw new Error(`${what} number out of range "${part}"`);
  return n;
}

/** Strict parse (blang semver.Parse); throws Error with blang's wording for invalid input. */
export function parseSemver(input: string): Semver {
  if (input.length === 0) throw new Error('Version string empty');
  const parts = input.split('.');
  if (parts.length < 3) throw new Error('No Major.Minor.Patch elements found');
  const [majorText = '', minorText = ''] = parts;
  const rest = parts.slice(2).join('.');
  const major = parseNumber(majorText, 'major');
  const minor = parseNumber(minorText, 'minor');
  let patchText = rest;
  let pre: string[] = [];
  let build: string[] = [];
  const plus = patchText.indexOf('+');
  if (plus >= 0) {
    build = patchText.slice(plus + 1).split('.');
    patchText = patchText.slice(0, plus);
    for (const b of build) if (!IDENTIFIER.test(b)) throw new Error(`Invalid character(s) found in build meta data "${b}"`);
  }
  const dash = patchText.indexOf('-');
  if (dash >= 0) {
    pre = patchText.slice(dash + 1).split('.');
    patchText = patchText.slice(0, dash);
    for (const p of pre) {
      if (!IDENTIFIER.test(p)) throw new Error(`Invalid character(s) found in prerelease "${p}"`);
      if (NUMERIC.test(p) && p.length > 1 && p.startsWith('0')) throw new Error(`Numeric PreRelease version must not contain leading zeroes "${p}"`);
    }
  }
  const patch = parseNumber(patchText, 'patch');
  return new Semver(major, minor, patch, pre, build);
}

/** The library's tolerant parse (normalizeAndParse): "v1.2" → 1.2.0, "01.002.3" → 1.2.3. */
export function parseSemverNormalized(input: string): Semver {
  const s = input.startsWith('v') ? input.slice(1) : input;
  const parts = splitN(s, '.', 3).map((p) => {
    if (p.length <= 1) return p;
    const trimmed = p.replace(/^0+/, '');
    return trimmed.length === 0 || !/^[0-9]/.test(trimmed) ? `0${trimmed}` : trimmed;
  });
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1] ?? '')) throw new Error('short version cannot contain PreRelease/Build meta data');
    while (parts.length < 3) parts.push('0');
  }
  return parseSemver(parts.join('.'));
}

function splitN(s: string, sep: string, n: number): string[] {
  const all = s.split(sep);
  if (all.length <= n) return all;
  return [...all.slice(0, n - 1), all.slice(n - 1).join(sep)];
}
