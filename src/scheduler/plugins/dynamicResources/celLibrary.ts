/**
 * The CEL environment DRA device selectors are evaluated in, as Kubernetes v1.37 builds it
 * (k8s.io/dynamic-resource-allocation/cel on the apiserver base environment): a `device` variable, optional types,
 * `cel.bind`, and the Kubernetes extension libraries selectors use, added here to the JavaScript CEL library
 * (@marcbachmann/cel-js):
 *
 * - quantity: `quantity(s)`, `isQuantity(s)`, `sign(q)`, `q.isGreaterThan/isLessThan/compareTo(q)`,
 *   `q.asApproximateFloat()`, `q.asInteger()`, `q.isInteger()`, `q.add/sub(q|int)`, and `==` by value (exact);
 * - semver: `semver(s[, normalize])`, `isSemver(s[, normalize])`, `v.isGreaterThan/isLessThan/compareTo(v)`,
 *   `v.major/minor/patch()`, `==` ignoring build metadata;
 * - the string extensions the library lacks: `charAt`, `replace` (2 and 3 arguments).
 *
 * Values are wrapped in their own classes so CEL sees the types `kubernetes.Quantity` and `kubernetes.Semver`.
 */
import { Environment } from '@marcbachmann/cel-js';
import { Decimal } from '../../../kube/decimal.js';
import { QuantityError } from '../../../kube/quantity.js';
import { parseSemver, parseSemverNormalized, type Semver } from '../../../kube/semver.js';

export class CelQuantity {
  constructor(readonly value: Decimal) {}
}

export class CelSemver {
  constructor(readonly value: Semver) {}
}

const Q = 'kubernetes.Quantity';
const S = 'kubernetes.Semver';

function sign(n: number): bigint {
  return BigInt(n);
}

function toQuantity(text: string): CelQuantity {
  try {
    return new CelQuantity(Decimal.parse(text));
  } catch (err) {
    if (err instanceof QuantityError) throw new Error('quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'');
    throw err;
  }
}

function registerQuantity(env: Environment): void {
  env
    .registerType(Q, CelQuantity)
    .registerFunction(`quantity(string): ${Q}`, toQuantity)
    .registerFunction('isQuantity(string): bool', (s: string) => Decimal.tryParse(s) !== undefined)
    .registerFunction(`sign(${Q}): int`, (q: CelQuantity) => sign(q.value.sign))
    .registerFunction(`${Q}.isGreaterThan(${Q}): bool`, (a: CelQuantity, b: CelQuantity) => a.value.cmp(b.value) === 1)
    .registerFunction(`${Q}.isLessThan(${Q}): bool`, (a: CelQuantity, b: CelQuantity) => a.value.cmp(b.value) === -1)
    .registerFunction(`${Q}.compareTo(${Q}): int`, (a: CelQuantity, b: CelQuantity) => sign(a.value.cmp(b.value)))
    .registerFunction(`${Q}.asApproximateFloat(): double`, (q: CelQuantity) => q.value.toNumber())
    .registerFunction(`${Q}.isInteger(): bool`, (q: CelQuantity) => q.value.toInt64() !== undefined)
    .registerFunction(`${Q}.asInteger(): int`, (q: CelQuantity) => {
      const v = q.value.toInt64();
      if (v === undefined) throw new Error('cannot convert value to integer');
      return v;
    })
    .registerFunction(`${Q}.add(${Q}): ${Q}`, (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.value.add(b.value)))
    .registerFunction(`${Q}.add(int): ${Q}`, (a: CelQuantity, b: bigint) => new CelQuantity(a.value.add(Decimal.fromBigInt(b))))
    .registerFunction(`${Q}.sub(${Q}): ${Q}`, (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.value.sub(b.value)))
    .registerFunction(`${Q}.sub(int): ${Q}`, (a: CelQuantity, b: bigint) => new CelQuantity(a.value.sub(Decimal.fromBigInt(b))))
    .registerOperator(`${Q} == ${Q}`, (a: CelQuantity, b: CelQuantity) => a.value.cmp(b.value) === 0);
}

function toSemver(text: string, normalize: boolean): CelSemver {
  return new CelSemver(normalize ? parseSemverNormalized(text) : parseSemver(text));
}

function isSemver(text: string, normalize: boolean): boolean {
  try {
    toSemver(text, normalize);
    return true;
  } catch {
    return false;
  }
}

function registerSemver(env: Environment): void {
  env
    .registerType(S, CelSemver)
    .registerFunction(`semver(string): ${S}`, (s: string) => toSemver(s, false))
    .registerFunction(`semver(string, bool): ${S}`, (s: string, n: boolean) => toSemver(s, n))
    .registerFunction('isSemver(string): bool', (s: string) => isSemver(s, false))
    .registerFunction('isSemver(string, bool): bool', (s: string, n: boolean) => isSemver(s, n))
    .registerFunction(`${S}.isGreaterThan(${S}): bool`, (a: CelSemver, b: CelSemver) => a.value.compare(b.value) === 1)
    .registerFunction(`${S}.isLessThan(${S}): bool`, (a: CelSemver, b: CelSemver) => a.value.compare(b.value) === -1)
    .registerFunction(`${S}.compareTo(${S}): int`, (a: CelSemver, b: CelSemver) => sign(a.value.compare(b.value)))
    .registerFunction(`${S}.major(): int`, (v: CelSemver) => v.value.major)
    .registerFunction(`${S}.minor(): int`, (v: CelSemver) => v.value.minor)
    .registerFunction(`${S}.patch(): int`, (v: CelSemver) => v.value.patch)
    .registerOperator(`${S} == ${S}`, (a: CelSemver, b: CelSemver) => a.value.compare(b.value) === 0);
}

/** cel-go's ext.Strings charAt and replace (charAt indexes code points, as cel-go). */
function registerStrings(env: Environment): void {
  env
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
      const chars = [...s];
      if (i < 0n || i > BigInt(chars.length)) throw new Error(`index out of range: ${i}`);
      return chars[Number(i)] ?? '';
    })
    .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) => s.split(from).join(to))
    .registerFunction('string.replace(string, string, int): string', (s: string, from: string, to: string, n: bigint) => replaceN(s, from, to, n));
}

function replaceN(s: string, from: string, to: string, n: bigint): string {
  if (n < 0n) return s.split(from).join(to);
  const parts = s.split(from);
  const limit = Number(n);
  if (parts.length - 1 <= limit) return parts.join(to);
  return parts.slice(0, limit + 1).join(to) + from + parts.slice(limit + 1).join(from);
}

/** A fresh environment with the `device` variable and the extension libraries. */
export function newSelectorEnvironment(): Environment {
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: true });
  registerQuantity(env);
  registerSemver(env);
  registerStrings(env);
  env.registerVariable('device', 'map');
  return env;
}
