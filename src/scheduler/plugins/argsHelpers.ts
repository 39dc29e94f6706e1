/**
 * Pieces of pluginConfig args that several in-tree plugins share: label-name validation, resource lists, utilization
 * shapes and node selector terms, decoded and validated as upstream's v1 defaulting
 * (pkg/scheduler/apis/config/v1/defaults.go) and validation (pkg/scheduler/apis/config/validation) do.
 */
import type { NodeSelectorTerm } from '../../kube/api.js';
import type { ArgsDecoder, FieldPath } from '../framework/plugin.js';

/** A resource a scoring strategy looks at, with its weight. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** One point of a piecewise-linear scoring function (RequestedToCapacityRatio, VolumeBinding's shape). */
export interface UtilizationShapePoint {
  utilization: number; // 0..100
  score: number; // 0..10
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Upstream's qualified-name rule for label keys: optional DNS-subdomain prefix, "/", name of at most 63 chars. */
export function labelNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name must have at most one "/"';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix === '' || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return 'the prefix must be a DNS subdomain (lower case)';
  }
  if (name === '') return 'the name part must be non-empty';
  if (name.length > 63) return 'the name part must be at most 63 characters';
  if (!LABEL_NAME.test(name)) {
    return 'the name part must consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric';
  }
  return undefined;
}

/** Reports `key` at `path` unless it is a valid label key. */
export function checkLabelName(dec: ArgsDecoder, key: string, path: FieldPath): void {
  const problem = labelNameProblem(key);
  if (problem !== undefined) dec.error(path, `invalid name "${key}": ${problem}`, 'use a valid label key such as "example.com/name"');
}

/** Upstream's default resources of the resource scoring strategies: cpu and memory, weight 1 each. */
export const defaultResources = (): ResourceSpec[] => [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

function decodeResources(dec: ArgsDecoder, value: unknown, path: FieldPath): ResourceSpec[] | undefined {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: ResourceSpec[] = [];
  items.forEach((item, i) => {
    const raw = dec.object(item, [...path, i], ['name', 'weight'], 'a resource');
    if (raw === undefined) return;
    const name = dec.string(raw['name'], [...path, i, 'name']) ?? '';
    const weight = dec.integer(raw['weight'], [...path, i, 'weight'], 64) ?? 0;
    out.push({ name, weight });
  });
  return out;
}

/** A resources list with upstream's defaulting: none listed means defaultResources(); weight 0 (or none) means 1. */
export function decodeDefaultedResources(dec: ArgsDecoder, value: unknown, path: FieldPath): ResourceSpec[] {
  const resources = decodeResources(dec, value, path) ?? [];
  if (resources.length === 0) return defaultResources();
  return resources.map((r) => ({ name: r.name, weight: r.weight === 0 ? 1 : r.weight }));
}

/** A utilization shape as written (undefined when absent); validateShape checks it. */
export function decodeShape(dec: ArgsDecoder, value: unknown, path: FieldPath): UtilizationShapePoint[] | undefined {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: UtilizationShapePoint[] = [];
  items.forEach((item, i) => {
    const raw = dec.object(item, [...path, i], ['utilization', 'score'], 'a shape point');
    if (raw === undefined) return;
    out.push({
      utilization: dec.integer(raw['utilization'], [...path, i, 'utilization']) ?? 0,
      score: dec.integer(raw['score'], [...path, i, 'score']) ?? 0,
    });
  });
  return out;
}

/** validateFunctionShape: at least one point, utilization strictly increasing within 0..100, score within 0..10. */
export function validateShape(dec: ArgsDecoder, shape: UtilizationShapePoint[], path: FieldPath): void {
  if (shape.length === 0) {
    dec.error(path, 'at least one point must be specified', 'give points such as [{utilization: 0, score: 0}, {utilization: 100, score: 10}]');
    return;
  }
  for (let i = 1; i < shape.length; i++) {
    if (shape[i - 1]!.utilization >= shape[i]!.utilization) {
      dec.error([...path, i, 'utilization'], `utilization ${shape[i]!.utilization} is not greater than the previous point's`, 'list the points with strictly increasing utilization');
      break;
    }
  }
  shape.forEach((p, i) => {
    if (p.utilization < 0 || p.utilization > 100) {
      dec.error([...path, i, 'utilization'], `utilization ${p.utilization} not in valid range [0, 100]`, 'utilization is a percentage');
    }
    if (p.score < 0 || p.score > 10) {
      dec.error([...path, i, 'score'], `score ${p.score} not in valid range [0, 10]`, 'shape scores go from 0 to 10 (berth scales them ×10 to 0..100)');
    }
  });
}

type Requirements = NonNullable<NodeSelectorTerm['matchExpressions']>;

/** Upstream's rules for a label requirement's values by operator. */
function checkLabelRequirement(dec: ArgsDecoder, key: string, operator: string, values: string[], path: FieldPath): void {
  if (key === '') dec.error([...path, 'key'], 'key is required', 'name a node label key');
  else checkLabelName(dec, key, [...path, 'key']);
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) dec.error([...path, 'values'], `must be specified when operator is ${operator}`, 'give at least one value');
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) dec.error([...path, 'values'], `may not be specified when operator is ${operator}`, 'remove values');
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1 || !/^-?\d+$/.test(values[0] ?? '')) {
        dec.error([...path, 'values'], `must be a single integer when operator is ${operator}`, 'give exactly one integer value, e.g. ["4"]');
      }
      break;
    default:
      dec.error([...path, 'operator'], `"${operator}" is not a valid node selector operator`, 'use In, NotIn, Exists, DoesNotExist, Gt or Lt');
  }
}

/** Upstream's rules for a field requirement: metadata.name only, In or NotIn, exactly one value. */
function checkFieldRequirement(dec: ArgsDecoder, key: string, operator: string, values: string[], path: FieldPath): void {
  if (key !== 'metadata.name') dec.error([...path, 'key'], `"${key}" is not a valid field selector key`, 'matchFields only supports metadata.name');
  if (operator !== 'In' && operator !== 'NotIn') dec.error([...path, 'operator'], `"${operator}" is not a valid field selector operator`, 'use In or NotIn');
  else if (values.length !== 1) dec.error([...path, 'values'], 'must have one element', 'give exactly one node name');
}

/** matchExpressions (`fields` false) or matchFields (`fields` true) of a node selector term. */
function decodeRequirements(dec: ArgsDecoder, value: unknown, path: FieldPath, fields: boolean): Requirements | undefined {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: Requirements = [];
  items.forEach((item, i) => {
    const p = [...path, i];
    const r = dec.object(item, p, ['key', 'operator', 'values'], 'a node selector requirement');
    if (r === undefined) return;
    const key = dec.string(r['key'], [...p, 'key']) ?? '';
    const operator = dec.string(r['operator'], [...p, 'operator']) ?? '';
    const values = (dec.array(r['values'], [...p, 'values']) ?? []).map((v, j) => dec.string(v, [...p, 'values', j]) ?? '');
    if (fields) checkFieldRequirement(dec, key, operator, values, p);
    else checkLabelRequirement(dec, key, operator, values, p);
    out.push({ key, operator, values });
  });
  return out;
}

/** A node selector term, validated as upstream validates scheduler-enforced node affinity. */
export function decodeNodeSelectorTerm(dec: ArgsDecoder, value: unknown, path: FieldPath): NodeSelectorTerm {
  const t = dec.object(value, path, ['matchExpressions', 'matchFields'], 'a node selector term');
  const term: NodeSelectorTerm = {};
  if (t === undefined) return term;
  const exprs = decodeRequirements(dec, t['matchExpressions'], [...path, 'matchExpressions'], false);
  if (exprs !== undefined) term.matchExpressions = exprs;
  const fields = decodeRequirements(dec, t['matchFields'], [...path, 'matchFields'], true);
  if (fields !== undefined) term.matchFields = fields;
  return term;
}
