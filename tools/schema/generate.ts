/**
 * Generates src/kube/schema/generated.ts: a JSON Schema (draft-07, for ajv) of the Kubernetes kinds and fields berth
 * reads, cut from the published OpenAPI v3 spec of the pinned Kubernetes version (selection.ts says what is kept).
 *
 *   npm run schema [-- OPENAPI_V3_DIR]
 *
 * The default source is the Kubernetes module in the Go module cache, present once the test control plane has been
 * built (~/go/pkg/mod/k8s.io/kubernetes@<version>/api/openapi-spec/v3); the API server serves the same at /openapi/v3.
 * The output is committed; test/kube/schema.test.ts checks that it is what this generator makes from that source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DROPPED_REQUIRED, ENUMS, EXTRA_REQUIRED, KINDS, QUANTITY_RULES, SELECTION, SPEC_FILES } from './selection.js';

export const KUBERNETES_VERSION = 'v1.37.2';
export const OUTPUT = 'src/kube/schema/generated.ts';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const REF_PREFIX = '#/components/schemas/';
const INT32 = 2 ** 31;

type OpenApiSchema = {
  type?: string;
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema | boolean;
  $ref?: string;
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
};
export type JsonSchema = Record<string, unknown>;

export function defaultSpecDir(): string {
  return join(homedir(), 'go', 'pkg', 'mod', 'k8s.io', `kubernetes@${KUBERNETES_VERSION}`, 'api', 'openapi-spec', 'v3');
}

/** Reads the definitions of the spec files into one table. */
export function readDefinitions(dir: string): Map<string, OpenApiSchema> {
  const defs = new Map<string, OpenApiSchema>();
  for (const file of SPEC_FILES) {
    const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { components: { schemas: Record<string, OpenApiSchema> } };
    for (const [name, schema] of Object.entries(doc.components.schemas)) defs.set(name, schema);
  }
  return defs;
}

/** The referenced definition's name, looking through the `allOf: [{$ref}]` wrapper v3 puts around described refs. */
function refName(s: OpenApiSchema): string | undefined {
  const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]?.$ref : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

class Generator {
  readonly out = new Map<string, JsonSchema>();
  private readonly pending: string[] = [];

  constructor(private readonly defs: Map<string, OpenApiSchema>) {}

  /** Converts every definition reachable from the kinds, in a stable (sorted) order. */
  run(): Map<string, JsonSchema> {
    for (const def of Object.values(KINDS)) this.want(def, 'KINDS');
    while (this.pending.length > 0) {
      const name = this.pending.shift() as string;
      this.out.set(name, this.definition(name));
    }
    return new Map([...this.out.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  private want(name: string, from: string): void {
    if (SELECTION[name] === undefined) throw new Error(`${from} reaches ${name}, which selection.ts does not list`);
    if (!this.defs.has(name)) throw new Error(`${name} is not in the OpenAPI spec`);
    if (this.out.has(name) || this.pending.includes(name)) return;
    this.out.set(name, {});
    this.pending.push(name);
  }

  private definition(name: string): JsonSchema {
    const source = this.defs.get(name) as OpenApiSchema;
    if (name === QUANTITY) return { kubeQuantity: 'any' };
    if (source.type !== 'object') return this.leaf(source, name);
    const selected = SELECTION[name] as readonly string[] | '*';
    const keys = selected === '*' ? Object.keys(source.properties ?? {}).sort() : [...selected].sort();
    const properties: Record<string, JsonSchema> = {};
    for (const key of keys) {
      const prop = source.properties?.[key];
      if (prop === undefined) throw new Error(`${name} has no property ${key}`);
      properties[key] = this.property(prop, `${name}.${key}`);
    }
    const required = new Set([...(source.required ?? []), ...(EXTRA_REQUIRED[name] ?? [])]);
    if (Object.values(KINDS).includes(name)) required.add('metadata');
    const kept = [...required].filter((r) => keys.includes(r) && !DROPPED_REQUIRED.includes(`${name}.${r}`)).sort();
    const out: JsonSchema = { type: 'object', kubeStruct: true, properties };
    if (kept.length > 0) out['required'] = kept;
    return out;
  }

  /** A property: a reference, a map, a list or a scalar, with its quantity rule or enum when it has one. */
  private property(s: OpenApiSchema, where: string): JsonSchema {
    const ref = refName(s);
    if (ref === QUANTITY) return { kubeQuantity: QUANTITY_RULES[where] ?? 'any' };
    if (ref !== undefined) {
      this.want(ref, where);
      return { $ref: `#/definitions/${ref}` };
    }
    if (s.type === 'array') {
      if (s.items === undefined) throw new Error(`${where}: array without items`);
      return { type: 'array', items: this.property(s.items, `${where}[]`) };
    }
    if (s.type === 'object' && typeof s.additionalProperties === 'object') {
      const rule = QUANTITY_RULES[where];
      const values = refName(s.additionalProperties) === QUANTITY && rule !== undefined ? { kubeQuantity: rule } : this.property(s.additionalProperties, `${where}{}`);
      return { type: 'object', additionalProperties: values };
    }
    const out = this.leaf(s, where);
    const values = ENUMS[where];
    if (values !== undefined) out['enum'] = [...values];
    return out;
  }

  /** A scalar: Go's integer widths become bounds (int64 is bounded by what a JS number holds exactly). */
  private leaf(s: OpenApiSchema, where: string): JsonSchema {
    switch (s.type) {
      case 'string':
        return s.format === 'date-time' ? { type: 'string', format: 'date-time' } : { type: 'string' };
      case 'boolean':
        return { type: 'boolean' };
      case 'number':
        return { type: 'number' };
      case 'integer':
        return s.format === 'int32'
          ? { type: 'integer', minimum: -INT32, maximum: INT32 - 1 }
          : { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
      case 'object':
        return { type: 'object' };
      default:
        throw new Error(`${where}: unsupported schema ${JSON.stringify(s).slice(0, 200)}`);
    }
  }
}

/** The generated module's source text. */
export function generateSource(dir: string = defaultSpecDir()): string {
  const definitions = new Generator(readDefinitions(dir)).run();
  const kinds = Object.fromEntries(Object.entries(KINDS).sort(([a], [b]) => a.localeCompare(b)));
  return [
    `// Generated by tools/schema/generate.ts from the Kubernetes ${KUBERNETES_VERSION} OpenAPI v3 spec (api/openapi-spec/v3).`,
    '// Do not edit: change tools/schema/selection.ts and run `npm run schema`.',
    '',
    `export const KUBERNETES_VERSION = '${KUBERNETES_VERSION}';`,
    '',
    '/** Kind → the definition that validates it. */',
    `export const KIND_DEFINITIONS: Readonly<Record<string, string>> = ${JSON.stringify(kinds, null, 2)};`,
    '',
    '/** JSON Schema (draft-07) definitions; keywords kubeQuantity and kubeStruct are berth\'s (src/kube/validate.ts). */',
    `export const DEFINITIONS: Readonly<Record<string, Record<string, unknown>>> = ${JSON.stringify(Object.fromEntries(definitions), null, 2)};`,
    '',
  ].join('\n');
}

const entry = process.argv[1] ?? '';
if (entry.endsWith('schema/generate.js')) {
  const dir = process.argv[2] ?? defaultSpecDir();
  const text = generateSource(dir);
  writeFileSync(OUTPUT, text);
  process.stdout.write(`wrote ${OUTPUT} (${text.length} bytes) from ${dir}\n`);
}
