/**
 * Validates Kubernetes objects the way the API server would for the fields berth reads: the JSON Schema cut from the
 * pinned version's published OpenAPI v3 spec (schema/generated.ts, made by tools/schema/generate.ts), checked with
 * ajv, plus the API server's quantity rules (negative requests and capacities are refused) and its enum checks.
 * Unknown fields are accepted: kubectl output carries many that berth never reads.
 *
 * Like Go's JSON decoding, a null field is an absent field (kubectl prints `creationTimestamp: null`); a null list
 * item or map value is an error. The result is a list of issues with field paths, for the simulator's snapshot
 * reader and for any other adapter that wants to refuse malformed objects before they reach the scheduler.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DEFINITIONS, KIND_DEFINITIONS } from './schema/generated.js';
import { isWholeQuantity, parseExactQuantity, parseMilliQuantity, parseQuantity, QuantityError, quantitySign, type ExactQuantity } from './quantity.js';
import { isExtendedResourceName } from './resources.js';

export type IssuePath = ReadonlyArray<string | number>;

export interface FieldIssue {
  /** Where in the object: ['spec', 'containers', 0, 'resources', 'requests', 'cpu']. */
  path: IssuePath;
  /** What is wrong: "expected an array, got a string". */
  message: string;
  /** What to do about it ('' when nothing useful can be added). */
  hint: string;
}

/** The longest excerpt of a value that a message quotes. */
export const MAX_QUOTED = 80;

/** Quotes text for a message, cut to MAX_QUOTED characters with "…". */
export function quote(text: string, max = MAX_QUOTED): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

/** A value as a message names it: `"x" (a string)`, `5 (a number)`, `null`, `a list`, `a mapping`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `${quote(value)} (a string)`;
  if (typeof value === 'object') return 'a mapping';
  return `${String(value)} (a ${typeof value})`;
}

/** Renders a path as upstream's field paths read: `spec.containers[0].resources.requests.cpu`, `labels["a/b"]`. */
export function formatPath(path: IssuePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${quote(seg)}]`;
  }
  return out;
}

type QuantityRule = 'any' | 'resource' | 'positive' | 'nonnegative';
const INTEGER_RESOURCES = new Set(['pods']);

/** The API server's check of one quantity (pkg/apis/core/validation); undefined when it passes. */
function checkQuantity(value: unknown, rule: QuantityRule, resourceName: string | undefined): { message: string; hint: string } | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { message: `expected a quantity, got ${describeValue(value)}`, hint: 'write a quantity such as 100m, 2, 512Mi or 1.5Gi' };
  }
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return { message: `the number ${String(value)} is above 2^53 and was rounded when read`, hint: 'quote it, or use a suffix (e.g. 8Ei)' };
  }
  let q: ExactQuantity;
  try {
    q = parseExactQuantity(value);
  } catch (err) {
    const reason = err instanceof QuantityError ? err.reason : String(err);
    return { message: `invalid quantity ${quote(String(value))}: ${reason}`, hint: 'use Kubernetes quantities such as 100m, 2, 512Mi, 1.5Gi' };
  }
  const sign = quantitySign(q);
  if (rule === 'positive' && sign <= 0) {
    return { message: `${quote(String(value))} must be greater than zero`, hint: 'the API server refuses a capacity or storage request of zero or less' };
  }
  if ((rule === 'resource' || rule === 'nonnegative') && sign < 0) {
    return { message: `${quote(String(value))} must be greater than or equal to 0`, hint: 'requests, limits and capacities cannot be negative' };
  }
  if (rule === 'resource' && resourceName !== undefined && (INTEGER_RESOURCES.has(resourceName) || isExtendedResourceName(resourceName))) {
    if (!isWholeQuantity(q)) return { message: `${quote(String(value))} must be an integer`, hint: `${resourceName} is counted in whole units` };
  }
  if (rule === 'resource') {
    // berth's own limit: it accounts requests and capacities in exact JS integers (CPU in milli-units).
    try {
      if (resourceName === 'cpu') parseMilliQuantity(value);
      else parseQuantity(value);
    } catch {
      return { message: `${quote(String(value))} is too large for berth to account exactly`, hint: 'berth accounts resources up to 2^53 units (CPU: 2^53 milli-cores)' };
    }
  }
  return undefined;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addKeyword({
    keyword: 'kubeQuantity',
    schemaType: 'string',
    errors: true,
    validate: function kubeQuantity(this: unknown, rule: QuantityRule, data: unknown, _schema?: unknown, cxt?: { parentDataProperty: string | number }) {
      const key = typeof cxt?.parentDataProperty === 'string' ? cxt.parentDataProperty : undefined;
      const problem = checkQuantity(data, rule, key);
      if (problem === undefined) return true;
      (kubeQuantity as unknown as { errors: Array<Partial<ErrorObject>> }).errors = [{ keyword: 'kubeQuantity', message: problem.message, params: { hint: problem.hint } }];
      return false;
    },
  });
  // Go's decoder treats a null field as absent: drop such fields before the properties are checked.
  ajv.addKeyword({
    keyword: 'kubeStruct',
    type: 'object',
    schemaType: 'boolean',
    modifying: true,
    before: 'required',
    validate: (_enabled: boolean, data: Record<string, unknown>) => {
      for (const key of Object.keys(data)) if (data[key] === null) delete data[key];
      return true;
    },
  });
  // metav1.Time: RFC 3339, as time.Parse(time.RFC3339, ...) reads it.
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  });
  ajv.addSchema({ $id: 'kube', definitions: DEFINITIONS });
  return ajv;
}

let shared: { ajv: Ajv; validators: Map<string, ValidateFunction> } | undefined;

/** The compiled validator of a kind (compiled on first use), or undefined for kinds berth does not read. */
function validatorFor(kind: string): ValidateFunction | undefined {
  const def = KIND_DEFINITIONS[kind];
  if (def === undefined) return undefined;
  shared ??= { ajv: newAjv(), validators: new Map() };
  let fn = shared.validators.get(kind);
  if (fn === undefined) {
    fn = shared.ajv.compile({ $ref: `kube#/definitions/${def}` });
    shared.validators.set(kind, fn);
  }
  return fn;
}

/**
 * A checker for a schema of berth's own (a file format the OpenAPI spec does not cover, such as a kubeconfig): the
 * same ajv, keywords (kubeStruct drops null fields) and located issues as the Kubernetes objects get.
 */
export function compileIssueChecker(schema: Record<string, unknown>): (value: unknown) => FieldIssue[] {
  shared ??= { ajv: newAjv(), validators: new Map() };
  const validate = shared.ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(toIssue));
}

/** The kinds validateObject checks. */
export const VALIDATED_KINDS: ReadonlySet<string> = new Set(Object.keys(KIND_DEFINITIONS));

/**
 * Checks an object of `kind` (drops its null fields, as the API server's decoding does). Returns its issues, empty
 * when it is valid; kinds berth does not read have none.
 */
export function validateObject(kind: string, obj: unknown): FieldIssue[] {
  const validate = validatorFor(kind);
  if (validate === undefined || validate(obj)) return [];
  return (validate.errors ?? []).map(toIssue);
}

function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg));
}

const TYPE_WORDS: Readonly<Record<string, [string, string]>> = {
  string: ['a string', 'quote the value'],
  integer: ['an integer', 'write a whole number without quotes'],
  number: ['a number', 'write the number without quotes'],
  boolean: ['true or false', 'write true or false without quotes'],
  array: ['an array', 'write a list: "- item" lines or [a, b]'],
  object: ['a mapping', 'write "key: value" lines indented under the field'],
};

/** Turns one ajv error into a located issue with a message a person can act on. */
function toIssue(e: ErrorObject): FieldIssue {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const [want, hint] = TYPE_WORDS[String(params['type'])] ?? [String(params['type']), ''];
      return { path, message: `expected ${want}, got ${describeValue(e.data)}`, hint };
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      return { path: [...path, missing], message: 'is required', hint: `add ${formatPath([...path, missing])}` };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `unsupported value ${describeValue(e.data)}`, hint: `supported values: ${allowed}` };
    }
    case 'minimum':
    case 'maximum':
      return { path, message: `${String(e.data)} is out of range`, hint: rangeHint(e) };
    case 'format':
      return { path, message: `expected an RFC 3339 time, got ${describeValue(e.data)}`, hint: 'write a time such as 2026-01-01T00:00:00Z' };
    case 'kubeQuantity':
      return { path, message: e.message ?? 'invalid quantity', hint: String(params['hint'] ?? '') };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}`, hint: '' };
  }
}

function rangeHint(e: ErrorObject): string {
  const schema = e.parentSchema as { minimum?: number; maximum?: number } | undefined;
  const min = schema?.minimum;
  const max = schema?.maximum;
  if (max === Number.MAX_SAFE_INTEGER) return `berth reads integers from ${String(min)} to ${String(max)} (2^53-1) exactly`;
  return `use a value from ${String(min)} to ${String(max)} (a 32-bit integer)`;
}
