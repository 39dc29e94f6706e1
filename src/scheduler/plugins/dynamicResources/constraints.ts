/**
 * Claim constraints across the devices allocated for its requests (upstream matchAttributeConstraint and
 * distinctAttributeConstraint): every device of the named requests (all requests when none is named) must have
 * the attribute, with the same value (matchAttribute) or pairwise different values (distinctAttribute). An
 * attribute named "domain/id" is also found as "id" on a device of the driver whose name is that domain.
 */
import type { Device, DeviceAttribute } from '../../../kube/resource.js';

export interface Constraint {
  /** Whether the device may join (and then it has joined); false leaves the constraint unchanged. */
  add(request: string, subRequest: string, device: Device, driver: string): boolean;
  /** Undoes exactly one successful add with the same arguments. */
  remove(request: string, subRequest: string): void;
}

export function lookupAttribute(device: Device, driver: string, name: string): DeviceAttribute | undefined {
  const attrs = device.attributes ?? {};
  if (name in attrs) return attrs[name];
  const slash = name.indexOf('/');
  if (slash < 0 || name.slice(0, slash) !== driver) return undefined;
  return attrs[name.slice(slash + 1)];
}

type Value = { kind: 'string' | 'int' | 'bool' | 'version'; value: string | number | boolean };

function valueOf(attr: DeviceAttribute): Value | undefined {
  if (attr.string !== undefined) return { kind: 'string', value: attr.string };
  if (attr.int !== undefined) return { kind: 'int', value: attr.int };
  if (attr.bool !== undefined) return { kind: 'bool', value: attr.bool };
  // semver 2.0.0 versions are in their minimal form, so string equality is version equality (as upstream).
  if (attr.version !== undefined) return { kind: 'version', value: attr.version };
  return undefined;
}

function same(a: Value, b: Value): boolean {
  return a.kind === b.kind && a.value === b.value;
}

class Scope {
  constructor(private readonly requests: ReadonlySet<string>) {}

  applies(request: string, subRequest: string): boolean {
    if (this.requests.size === 0) return true;
    return this.requests.has(request) || (subRequest !== '' && this.requests.has(`${request}/${subRequest}`));
  }
}

class MatchAttribute implements Constraint {
  private value: Value | undefined;
  private count = 0;

  constructor(
    private readonly scope: Scope,
    private readonly attribute: string,
  ) {}

  add(request: string, subRequest: string, device: Device, driver: string): boolean {
    if (!this.scope.applies(request, subRequest)) return true;
    const attr = lookupAttribute(device, driver, this.attribute);
    const value = attr && valueOf(attr);
    if (!value) return false;
    if (this.count === 0) this.value = value;
    else if (!this.value || !same(value, this.value)) return false;
    this.count++;
    return true;
  }

  remove(request: string, subRequest: string): void {
    if (this.scope.applies(request, subRequest)) this.count--;
  }
}

class DistinctAttribute implements Constraint {
  private readonly values: Value[] = [];

  constructor(
    private readonly scope: Scope,
    private readonly attribute: string,
  ) {}

  add(request: string, subRequest: string, device: Device, driver: string): boolean {
    if (!this.scope.applies(request, subRequest)) return true;
    const attr = lookupAttribute(device, driver, this.attribute);
    const value = attr && valueOf(attr);
    if (!value || this.values.some((v) => same(v, value))) return false;
    this.values.push(value);
    return true;
  }

  remove(request: string, subRequest: string): void {
    if (this.scope.applies(request, subRequest)) this.values.pop();
  }
}

/** A constraint, or undefined for a constraint of no known type (the caller reports it). */
export function newConstraint(spec: { requests?: string[]; matchAttribute?: string; distinctAttribute?: string }): Constraint | undefined {
  const scope = new Scope(new Set(spec.requests ?? []));
  if (spec.matchAttribute !== undefined) return new MatchAttribute(scope, spec.matchAttribute);
  if (spec.distinctAttribute !== undefined) return new DistinctAttribute(scope, spec.distinctAttribute);
  return undefined;
}
