/**
 * DRA selectors on berth's CEL environment, with upstream's own cases (k8s.io/dynamic-resource-allocation/cel
 * compile_test.go, the ones that apply with v1.37's default features: list-type attributes are off), plus the
 * Kubernetes quantity, semver and string extensions.
 */
import { describe, expect, it } from 'vitest';
import { SelectorCompiler, type CelDevice } from '../../../../src/scheduler/plugins/dynamicResources/cel.js';

const compiler = new SelectorCompiler();

function run(expression: string, device: Partial<CelDevice> = {}): { matches?: boolean; error?: string } {
  const compiled = compiler.compile(expression);
  if (compiled.error !== undefined) return { error: `compile: ${compiled.error}` };
  return compiler.matches(compiled.program, { driver: '', ...device });
}

const DRA = 'dra.example.com';

interface Case {
  expression: string;
  device?: Partial<CelDevice>;
  match?: boolean;
  error?: string;
}

const upstream: Record<string, Case> = {
  true: { expression: 'true', match: true },
  false: { expression: 'false', match: false },
  'syntax-error': { expression: '?!', error: 'compile: compilation failed' },
  'type-error': { expression: '1', error: 'compile: must evaluate to bool or the unknown type, not int' },
  'runtime-error-lookup-identifier': {
    expression: 'device.attributes["no-such-domain"].noSuchAttr.isGreaterThan(quantity("0"))',
    error: 'no such key: noSuchAttr',
  },
  'runtime-error-lookup-map': {
    expression: 'device.attributes["no-such-domain"]["noSuchAttr"].isGreaterThan(quantity("0"))',
    error: 'no such key: noSuchAttr',
  },
  'domain-check-negative': { expression: '"no-such-domain" in device.attributes', match: false },
  'domain-check-positive': {
    expression: '"dra.example.com" in device.attributes',
    device: { attributes: { 'dra.example.com/something': { bool: true } } },
    match: true,
  },
  'empty-driver-name': { expression: 'device.driver == ""', match: true },
  'real-driver-name': { expression: 'device.driver == "dra.example.com"', device: { driver: DRA }, match: true },
  'driver-name-qualifier': { expression: 'device.attributes["dra.example.com"].name', device: { driver: DRA, attributes: { name: { bool: true } } }, match: true },
  'driver-name-qualifier-map-lookup': {
    expression: 'device.attributes["dra.example.com"]["name"]',
    device: { driver: DRA, attributes: { name: { bool: true } } },
    match: true,
  },
  bind: { expression: 'cel.bind(dra, device.attributes["dra.example.com"], dra.name)', device: { driver: DRA, attributes: { name: { bool: true } } }, match: true },
  'qualified-attribute-name': {
    expression: 'device.attributes["other.example.com"].name',
    device: { driver: DRA, attributes: { 'other.example.com/name': { bool: true } } },
    match: true,
  },
  int: { expression: 'device.attributes["dra.example.com"].name > 0', device: { driver: DRA, attributes: { name: { int: 1 } } }, match: true },
  string: { expression: 'device.attributes["dra.example.com"].name == "fish"', device: { driver: DRA, attributes: { name: { string: 'fish' } } }, match: true },
  version: {
    expression: 'device.attributes["dra.example.com"].name.isGreaterThan(semver("0.0.1"))',
    device: { driver: DRA, attributes: { name: { version: '1.0.0' } } },
    match: true,
  },
  version_v: {
    expression: 'device.attributes["dra.example.com"].name.isGreaterThan(semver("v0.0.1", true)) && isSemver("v1.0.0", true)',
    device: { driver: DRA, attributes: { name: { version: '1.0.0' } } },
    match: true,
  },
  quantity: {
    expression: 'device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
    device: { driver: DRA, capacity: { name: { value: '1Mi' } } },
    match: true,
  },
  'check-positive': {
    expression: '"name" in device.capacity["dra.example.com"] && device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
    device: { driver: DRA, capacity: { name: { value: '1Mi' } } },
    match: true,
  },
  'check-negative': {
    expression: '!("name" in device.capacity["dra.example.com"]) || device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))',
    match: true,
  },
  all: {
    expression: `
device.capacity["dra.example.com"].quantity.isGreaterThan(quantity("1Ki")) &&
device.attributes["dra.example.com"].bool &&
device.attributes["dra.example.com"].int > 0 &&
device.attributes["dra.example.com"].string == "fish" &&
device.attributes["dra.example.com"].version.isGreaterThan(semver("0.0.1")) &&
device.capacity["dra.example.com"]["quantity"].isGreaterThan(quantity("1Ki")) &&
device.attributes["dra.example.com"]["bool"] &&
device.attributes["dra.example.com"]["int"] > 0 &&
device.attributes["dra.example.com"]["string"] == "fish" &&
device.attributes["dra.example.com"]["version"].isGreaterThan(semver("0.0.1"))
`,
    device: {
      driver: DRA,
      attributes: { bool: { bool: true }, int: { int: 1 }, string: { string: 'fish' }, version: { version: '1.0.0' } },
      capacity: { quantity: { value: '1Mi' } },
    },
    match: true,
  },
  many: {
    expression: 'device.attributes["dra.example.com"].a && device.attributes["dra.example.com"].b && device.attributes["dra.example.com"].c',
    device: { driver: DRA, attributes: { a: { bool: true }, b: { bool: true }, c: { bool: true } } },
    match: true,
  },
  check_attribute_domains: {
    expression: 'device.attributes.exists_one(x, x == "dra.example.com")',
    device: { driver: DRA, attributes: { services: { string: 'some_example_value' } } },
    match: true,
  },
  check_attribute_ids: {
    expression: 'device.attributes["dra.example.com"].exists_one(x, x == "services")',
    device: { driver: DRA, attributes: { services: { string: 'some_example_value' } } },
    match: true,
  },
  split_attribute: {
    expression: 'device.attributes["dra.example.com"].services.split("example").size() >= 2',
    device: { driver: DRA, attributes: { services: { string: 'some_example_value' } } },
    match: true,
  },
  regexp_attribute: {
    expression: 'device.attributes["dra.example.com"].services.matches("[^a]?sym")',
    device: { driver: DRA, attributes: { services: { string: 'asymetric' } } },
    match: true,
  },
  check_capacity_domains: {
    expression: 'device.capacity.exists_one(x, x == "dra.example.com")',
    device: { driver: DRA, capacity: { memory: { value: '1Mi' } } },
    match: true,
  },
  check_capacity_ids: {
    expression: 'device.capacity["dra.example.com"].exists_one(x, x == "memory")',
    device: { driver: DRA, capacity: { memory: { value: '1Mi' } } },
    match: true,
  },
  'allow-multiple-allocations': { expression: 'device.allowMultipleAllocations == true', device: { allowMultipleAllocations: true }, match: true },
  'allow-multiple-allocations-default': { expression: 'device.allowMultipleAllocations == false', match: true },
};

describe('DRA selectors: upstream compile_test cases', () => {
  for (const [name, c] of Object.entries(upstream)) {
    it(name, () => {
      const result = run(c.expression, c.device);
      if (c.error !== undefined) {
        expect(result.error).toBeDefined();
        expect(result.error).toContain(c.error);
      } else {
        expect(result).toEqual({ matches: c.match });
      }
    });
  }
});

describe('DRA selectors: has() and optional fields', () => {
  const device: Partial<CelDevice> = { driver: DRA, attributes: { model: { string: 'a100' } } };
  it('has() on a field of a map lookup', () => {
    expect(run('has(device.attributes["dra.example.com"].model)', device)).toEqual({ matches: true });
    expect(run('has(device.attributes["dra.example.com"].memory)', device)).toEqual({ matches: false });
    expect(run('has(device.attributes["other.example.com"].model)', device)).toEqual({ matches: false });
  });
  it('has() nested inside another has() selection and in both branches', () => {
    const e = 'has(device.attributes["dra.example.com"].model) && (has(device.attributes["x.com"].y) || device.attributes["dra.example.com"].model == "a100")';
    expect(run(e, device)).toEqual({ matches: true });
  });
  it('optional chaining with orValue', () => {
    expect(run('device.attributes["dra.example.com"].?memory.orValue(0) == 0', device)).toEqual({ matches: true });
  });
  it('a missing key names the key and upstream hint', () => {
    expect(run('device.attributes["dra.example.com"].memory > 1', device).error).toBe(
      'no such key: memory. consider using CEL optional chaining (.? followed by orValue()) or guarding the check with has() for optional fields',
    );
  });
  it('in on an inner map is plain membership', () => {
    expect(run('"model" in device.attributes["dra.example.com"]', device)).toEqual({ matches: true });
    expect(run('"memory" in device.attributes["dra.example.com"]', device)).toEqual({ matches: false });
  });
});

describe('Kubernetes quantity library', () => {
  const cases: Array<[string, boolean]> = [
    ['quantity("1Gi") == quantity("1024Mi")', true],
    ['quantity("1") == quantity("1000m")', true],
    ['quantity("1.5Gi").compareTo(quantity("1536Mi")) == 0', true],
    ['quantity("100m").isLessThan(quantity("0.2"))', true],
    ['quantity("2e3").isGreaterThan(quantity("1999"))', true],
    ['quantity("1.5").isInteger() == false', true],
    ['quantity("3k").asInteger() == 3000', true],
    ['quantity("1Ki").add(quantity("1Ki")) == quantity("2Ki")', true],
    ['quantity("1Ki").add(1) == quantity("1025")', true],
    ['quantity("5").sub(7).compareTo(quantity("-2")) == 0', true],
    ['sign(quantity("-1m")) == -1 && sign(quantity("0")) == 0', true],
    ['quantity("1.5").asApproximateFloat() == 1.5', true],
    ['isQuantity("1.5Gi") && !isQuantity("1.5 Gi") && !isQuantity("abc")', true],
  ];
  for (const [e, want] of cases) it(e, () => expect(run(e)).toEqual({ matches: want }));
  it('asInteger of a fraction is an error', () => expect(run('quantity("1.5").asInteger() == 1').error).toContain('cannot convert value to integer'));
  it('a bad quantity string is an error', () => expect(run('quantity("1.5 Gi") == quantity("1")').error).toContain('quantities must match'));
});

describe('Kubernetes semver library', () => {
  const cases: Array<[string, boolean]> = [
    ['semver("1.2.3").isGreaterThan(semver("1.2.2"))', true],
    ['semver("1.2.3-alpha").isLessThan(semver("1.2.3"))', true],
    ['semver("1.0.0-alpha.1").isLessThan(semver("1.0.0-alpha.beta"))', true],
    ['semver("1.0.0-2").isLessThan(semver("1.0.0-10"))', true],
    ['semver("1.2.3+build.1") == semver("1.2.3+build.2")', true],
    ['semver("1.2.3").major() == 1 && semver("1.2.3").minor() == 2 && semver("1.2.3").patch() == 3', true],
    ['semver("v1.2", true) == semver("1.2.0")', true],
    ['semver("01.002.3", true).compareTo(semver("1.2.3")) == 0', true],
    ['isSemver("1.2.3") && !isSemver("1.2") && !isSemver("01.2.3") && !isSemver("v1.2.3")', true],
    ['isSemver("v1.2", true) && !isSemver("v1.2-rc1", true)', true],
  ];
  for (const [e, want] of cases) it(e, () => expect(run(e)).toEqual({ matches: want }));
});

describe('string extensions', () => {
  const cases: Array<[string, boolean]> = [
    ['"NVIDIA A100".lowerAscii() == "nvidia a100"', true],
    ['"a100".upperAscii() == "A100"', true],
    ['"gpu-0".charAt(4) == "0"', true],
    ['"a-b-c".replace("-", "_") == "a_b_c"', true],
    ['"a-b-c".replace("-", "_", 1) == "a_b-c"', true],
    ['"  x ".trim() == "x"', true],
    ['"nvidia.com".indexOf("com") == 7 && "a.b.a".lastIndexOf("a") == 4', true],
    ['"a100-80gb".substring(5) == "80gb"', true],
    ['["a", "b"].join("-") == "a-b"', true],
    ['"a,b".split(",").size() == 2', true],
  ];
  for (const [e, want] of cases) it(e, () => expect(run(e)).toEqual({ matches: want }));
});
