/**
 * Consumable device capacity (DRAConsumableCapacity and DRAFractionalCapacityRange, on by default in v1.37;
 * upstream incubating consumable_capacity.go): how much of each capacity a request consumes (its request rounded up
 * by the device's request policy, or the policy default, or the whole capacity), and whether that still fits beside
 * what is consumed already. Arithmetic is exact (berth's Decimal), which is upstream's milli-value path for every
 * value that has one.
 */
import { Decimal } from '../../../kube/decimal.js';
import type { CapacityRequestPolicy, CapacityRequirements, DeviceCapacity } from '../../../kube/resource.js';

/** Capacity name → amount. */
export type Consumed = Map<string, Decimal>;

export class CapacityError extends Error {}

function parse(text: string | undefined, what: string): Decimal {
  const d = Decimal.tryParse(text);
  if (!d) throw new CapacityError(`${what}: invalid quantity ${JSON.stringify(text ?? '')}`);
  return d;
}

/** ceil(a / b) for positive exact decimals. */
function ceilDiv(a: Decimal, b: Decimal): bigint {
  const scale = Math.max(a.scale, b.scale);
  const x = a.num * 10n ** BigInt(scale - a.scale);
  const y = b.num * 10n ** BigInt(scale - b.scale);
  const q = x / y;
  return x % y === 0n ? q : q + 1n;
}

function times(d: Decimal, n: bigint): Decimal {
  let out = Decimal.ZERO;
  // n is small (a step count), but use doubling to stay cheap for large ones.
  let base = d;
  let k = n;
  while (k > 0n) {
    if (k & 1n) out = out.add(base);
    base = base.add(base);
    k >>= 1n;
  }
  return out;
}

/** Upstream calculateConsumedCapacity. */
function consumedFor(requested: Decimal | undefined, capacity: DeviceCapacity, name: string): Decimal {
  const policy = capacity.requestPolicy;
  if (requested === undefined) return policy?.default !== undefined ? parse(policy.default, `capacity ${name} default`) : parse(capacity.value, `capacity ${name}`);
  if (!policy) return requested;
  const range = policy.validRange;
  if (range?.min !== undefined) {
    const min = parse(range.min, `capacity ${name} validRange.min`);
    if (requested.cmp(min) < 0) return min;
    if (range.step === undefined) return requested;
    const step = parse(range.step, `capacity ${name} validRange.step`);
    if (step.sign <= 0) return requested;
    return min.add(times(step, ceilDiv(requested.sub(min), step)));
  }
  if (policy.validValues !== undefined) {
    for (const v of policy.validValues) {
      const valid = parse(v, `capacity ${name} validValues`);
      if (requested.cmp(valid) <= 0) return valid;
    }
  }
  return requested;
}

/** Upstream violatesPolicy. */
function violatesPolicy(value: Decimal, policy: CapacityRequestPolicy | undefined, name: string): boolean {
  if (!policy) return false;
  if (policy.default !== undefined && value.cmp(parse(policy.default, `capacity ${name} default`)) === 0) return false;
  const range = policy.validRange;
  if (range) {
    if (range.max !== undefined && value.cmp(parse(range.max, `capacity ${name} validRange.max`)) > 0) return true;
    if (range.step !== undefined) {
      const step = parse(range.step, `capacity ${name} validRange.step`);
      const min = range.min !== undefined ? parse(range.min, `capacity ${name} validRange.min`) : Decimal.ZERO;
      const offset = value.sub(min);
      if (step.sign > 0 && offset.sign >= 0 && times(step, ceilDiv(offset, step)).cmp(offset) !== 0) return true;
    }
    return false;
  }
  if ((policy.validValues?.length ?? 0) > 0) return !policy.validValues?.some((v) => parse(v, `capacity ${name} validValues`).cmp(value) === 0);
  return false;
}

/** Upstream GetConsumedCapacityFromRequest: what the request consumes of each of the device's capacities. */
export function consumedCapacity(requests: CapacityRequirements | undefined, capacity: Readonly<Record<string, DeviceCapacity>>): Consumed {
  const out: Consumed = new Map();
  for (const [name, cap] of Object.entries(capacity)) {
    const requested = requests?.requests?.[name];
    out.set(name, consumedFor(requested === undefined ? undefined : parse(requested, `request capacity ${name}`), cap, name));
  }
  return out;
}

/**
 * Upstream CmpRequestOverCapacity: true when the request fits the device beside `current` (already allocated) and
 * `allocating` (this attempt). A request for a capacity the device does not have does not fit; a negative value
 * is an error.
 */
export function fitsCapacity(
  current: Consumed | undefined,
  requests: CapacityRequirements | undefined,
  capacity: Readonly<Record<string, DeviceCapacity>> | undefined,
  allocating: Consumed | undefined,
): boolean {
  const caps = capacity ?? {};
  for (const name of Object.keys(requests?.requests ?? {})) if (!(name in caps)) return false;
  const consumed = consumedCapacity(requests, caps);
  for (const [name, value] of consumed) if (value.sign < 0) throw new CapacityError(`capacity "${name}": capacity value is negative`);
  for (const [name, cap] of Object.entries(caps)) {
    const value = consumed.get(name) ?? Decimal.ZERO;
    if (violatesPolicy(value, cap.requestPolicy, name)) return false;
    const total = value.add(current?.get(name) ?? Decimal.ZERO).add(allocating?.get(name) ?? Decimal.ZERO);
    if (total.cmp(parse(cap.value, `capacity ${name}`)) > 0) return false;
  }
  return true;
}

/** Adds `b` into `a`. */
export function addConsumed(a: Consumed, b: ReadonlyMap<string, Decimal>): void {
  for (const [name, v] of b) a.set(name, (a.get(name) ?? Decimal.ZERO).add(v));
}

/** Subtracts `b` from `a`, dropping names that reach zero. */
export function subConsumed(a: Consumed, b: ReadonlyMap<string, Decimal>): void {
  for (const [name, v] of b) {
    const left = (a.get(name) ?? Decimal.ZERO).sub(v);
    if (left.sign === 0) a.delete(name);
    else a.set(name, left);
  }
}
