/**
 * Compiling and running DRA device selectors (upstream k8s.io/dynamic-resource-allocation/cel): each expression
 * is compiled once per plugin (a small cache, as upstream's LRU of 10 compiled expressions, sized larger because
 * berth keeps no other per-expression state) and run against one device at a time.
 *
 * The device variable is built as upstream builds it: `device.driver`, `device.allowMultipleAllocations`, and
 * `device.attributes` / `device.capacity` as maps from domain to maps from id to value, where an attribute or
 * capacity named without a domain belongs to the driver's domain, and looking up a domain the device does not have
 * yields an empty map instead of an error.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import { Decimal } from '../../../kube/decimal.js';
import type { DeviceAttribute, DeviceCapacity } from '../../../kube/resource.js';
import { parseSemver } from '../../../kube/semver.js';
import { CelQuantity, CelSemver, newSelectorEnvironment } from './celLibrary.js';
import { rewriteSelector } from './celRewrite.js';

/** What a selector sees of a device. */
export interface CelDevice {
  driver: string;
  allowMultipleAllocations?: boolean;
  attributes?: Readonly<Record<string, DeviceAttribute>>;
  capacity?: Readonly<Record<string, DeviceCapacity>>;
}

export type CompiledSelector = { program: ParseResult; error?: undefined } | { program?: undefined; error: string };

/** The evaluation outcome: a boolean, or the runtime error's text (upstream's wording where it differs). */
export type SelectorResult = { matches: boolean; error?: undefined } | { matches?: undefined; error: string };

const CACHE_SIZE = 100;
const EMPTY: ReadonlyMap<string, unknown> = new Map();

export class SelectorCompiler {
  private readonly env = newSelectorEnvironment();
  private readonly cache = new Map<string, CompiledSelector>();

  /** The compiled expression, or the compile error (upstream: "compilation failed: ..."). */
  compile(expression: string): CompiledSelector {
    const hit = this.cache.get(expression);
    if (hit) {
      // Most recently used last.
      this.cache.delete(expression);
      this.cache.set(expression, hit);
      return hit;
    }
    const compiled = this.compileUncached(expression);
    this.cache.set(expression, compiled);
    if (this.cache.size > CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return compiled;
  }

  private compileUncached(expression: string): CompiledSelector {
    try {
      const program = this.env.parse(rewriteSelector(expression, (e) => this.env.parse(e)));
      const checked = program.check();
      if (!checked.valid) return { error: `compilation failed: ${firstLine(checked.error?.message ?? 'invalid expression')}` };
      if (checked.type !== 'bool' && checked.type !== 'dyn') {
        return { error: `must evaluate to bool or the unknown type, not ${checked.type ?? 'unknown'}` };
      }
      return { program };
    } catch (err) {
      return { error: `compilation failed: ${firstLine(err instanceof Error ? err.message : String(err))}` };
    }
  }

  /** Runs a compiled selector on one device. */
  matches(selector: ParseResult, device: CelDevice): SelectorResult {
    let input: Record<string, unknown>;
    try {
      input = deviceInput(device);
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
    try {
      const result: unknown = selector({ device: input });
      if (typeof result !== 'boolean') return { error: `CEL result of type ${typeof result} could not be converted to bool` };
      return { matches: result };
    } catch (err) {
      return { error: runtimeMessage(err) };
    }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** cel-go's text for a missing key, and upstream's hint after it (cel.EnhanceRuntimeError). */
function runtimeMessage(err: unknown): string {
  const text = firstLine(err instanceof Error ? err.message : String(err));
  const missing = /^No such key: (.*)$/.exec(text);
  if (missing) {
    return `no such key: ${missing[1] ?? ''}. consider using CEL optional chaining (.? followed by orValue()) or guarding the check with has() for optional fields`;
  }
  return text;
}

/** Upstream parseQualifiedName: "domain/id", or the driver's domain for a bare id. */
function splitName(name: string, driver: string): [string, string] {
  const slash = name.indexOf('/');
  return slash < 0 ? [driver, name] : [name.slice(0, slash), name.slice(slash + 1)];
}

function attributeValue(name: string, attr: DeviceAttribute): unknown {
  if (attr.int !== undefined) return BigInt(Math.trunc(attr.int));
  if (attr.bool !== undefined) return attr.bool;
  if (attr.string !== undefined) return attr.string;
  if (attr.version !== undefined) {
    try {
      return new CelSemver(parseSemver(attr.version));
    } catch (err) {
      throw new Error(`attribute ${name}: parse semantic version: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`attribute ${name}: unsupported attribute value`);
}

/** A map whose lookups of absent keys yield an empty map (upstream newStringInterfaceMapWithDefault). */
function withDefault(map: Map<string, unknown>): Map<string, unknown> {
  map.get = (key: string): unknown => (Map.prototype.get.call(map, key) as unknown) ?? EMPTY;
  return map;
}

function deviceInput(device: CelDevice): Record<string, unknown> {
  const attributes = new Map<string, Map<string, unknown>>();
  for (const [name, attr] of Object.entries(device.attributes ?? {})) {
    const [domain, id] = splitName(name, device.driver);
    let inner = attributes.get(domain);
    if (!inner) attributes.set(domain, (inner = new Map()));
    inner.set(id, attributeValue(name, attr));
  }
  const capacity = new Map<string, Map<string, unknown>>();
  for (const [name, cap] of Object.entries(device.capacity ?? {})) {
    const [domain, id] = splitName(name, device.driver);
    let inner = capacity.get(domain);
    if (!inner) capacity.set(domain, (inner = new Map()));
    const value = Decimal.tryParse(cap.value);
    if (!value) throw new Error(`capacity ${name}: invalid quantity ${JSON.stringify(cap.value)}`);
    inner.set(id, new CelQuantity(value));
  }
  return {
    driver: device.driver,
    allowMultipleAllocations: device.allowMultipleAllocations ?? false,
    attributes: withDefault(attributes as Map<string, unknown>),
    capacity: withDefault(capacity as Map<string, unknown>),
  };
}
