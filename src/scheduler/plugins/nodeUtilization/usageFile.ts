/**
 * The node usage file: measured use per node, written by hand or exported from monitoring, for
 * `berth simulate --node-usage FILE` and NodeUtilization's `file` source. YAML or JSON:
 *
 *   nodes:
 *     host-1: {cpu: "14", memory: 48Gi}          # in use: cores (a quantity) and bytes
 *     host-2: {cpu: 35%, memory: 20%}            # or percent of the node's capacity
 *     host-3: {cpu: 50%, cpuStddev: 10%}         # LoadVariationRiskBalancing's deviation (default 0)
 *
 * Every problem is reported at once, each with file, line and column, the field and the fix.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { isQuantity, parseMilliQuantity, parseQuantity } from '../../../plugin.js';

/** An amount in use: a percent of the node's capacity, or absolute (CPU in millicores, memory in bytes). */
export type Amount = { readonly percent: number } | { readonly amount: number };

export interface UsageEntry {
  readonly cpu?: Amount;
  readonly memory?: Amount;
  readonly cpuStddev?: Amount;
  readonly memoryStddev?: Amount;
}

export class UsageFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.length === 1 ? problems[0] : [`${file}: ${problems.length} problems in the node usage file:`, ...problems.map((p) => `  ${p}`)].join('\n'));
    this.name = 'UsageFileError';
  }
}

const ENTRY_FIELDS = ['cpu', 'memory', 'cpuStddev', 'memoryStddev'] as const;
type Field = (typeof ENTRY_FIELDS)[number];
type Path = ReadonlyArray<string>;

/** Collects problems with their position in the document. */
class Problems {
  readonly list: string[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  add(path: Path, message: string, hint: string): void {
    const pos = this.position(path);
    const where = pos ? `${this.file}:${pos.line}:${pos.col}` : this.file;
    this.list.push(`${where}: ${path.length > 0 ? `${path.join('.')}: ` : ''}${message}; ${hint}`);
  }

  /** The key of the field at `path` (its value for the top level), when the document has it. */
  private position(path: Path): { line: number; col: number } | undefined {
    const parent = path.length > 0 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === path[path.length - 1]) : undefined;
    const offset = (isScalar(pair?.key) ? pair.key.range?.[0] : undefined) ?? (parent as { range?: number[] } | null)?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset);
  }
}

/** "35%" → {percent: 35}; a quantity → {amount} in millicores (cpu) or bytes (memory); else undefined. */
function parseAmount(value: unknown, resource: 'cpu' | 'memory'): Amount | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  const percent = /^([0-9]+(?:\.[0-9]+)?)\s*%$/.exec(text);
  if (percent) return { percent: Number(percent[1]) };
  if (!isQuantity(text) || text.startsWith('-')) return undefined;
  try {
    return { amount: resource === 'cpu' ? parseMilliQuantity(text) : parseQuantity(text) };
  } catch {
    return undefined;
  }
}

function decodeEntry(value: unknown, path: Path, problems: Problems): UsageEntry | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.add(path, 'expected a mapping of cpu / memory in use', 'write e.g. {cpu: "12", memory: 40Gi} or {cpu: 60%, memory: 50%}');
    return undefined;
  }
  const entry: Partial<Record<Field, Amount>> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(key)) {
      problems.add([...path, key], `unknown field "${key}"`, `fields allowed here: ${ENTRY_FIELDS.join(', ')}`);
      continue;
    }
    const field = key as Field;
    const resource = field.startsWith('cpu') ? 'cpu' : 'memory';
    const amount = parseAmount(raw, resource);
    if (amount === undefined) {
      const example = resource === 'cpu' ? '"12" (cores), "1500m" or "60%"' : '40Gi, "512Mi" or "50%"';
      problems.add([...path, key], `${JSON.stringify(raw)} is neither a quantity nor a percentage`, `write e.g. ${example}`);
    } else if ('percent' in amount && amount.percent > 100) {
      problems.add([...path, key], `${amount.percent}% is more than the whole node`, 'write a percent of the node\'s capacity, from 0% to 100%');
    } else {
      entry[field] = amount;
    }
  }
  return entry;
}

/** Reads a node usage file's text; throws UsageFileError listing every problem. */
export function parseUsageFile(text: string, file: string): Map<string, UsageEntry> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new UsageFileError(file, [`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${e.message.split('\n')[0]}; fix the syntax`]);
  }
  const problems = new Problems(file, doc, lines);
  const top: unknown = doc.toJS();
  const out = new Map<string, UsageEntry>();
  if (top === null || typeof top !== 'object' || Array.isArray(top)) {
    problems.add([], 'expected a mapping with "nodes"', 'write "nodes:" and under it one entry per node, e.g. "  host-1: {cpu: 60%, memory: 40Gi}"');
  } else {
    for (const key of Object.keys(top)) if (key !== 'nodes') problems.add([key], `unknown field "${key}"`, 'the file holds one field, nodes');
    const nodes = (top as Record<string, unknown>)['nodes'];
    if (nodes === null || typeof nodes !== 'object' || Array.isArray(nodes)) {
      problems.add(['nodes'], 'expected a mapping from node name to its use', 'write e.g. "nodes:\\n  host-1: {cpu: 60%, memory: 40Gi}"');
    } else {
      for (const [name, value] of Object.entries(nodes as Record<string, unknown>)) {
        const entry = decodeEntry(value, ['nodes', name], problems);
        if (entry) out.set(name, entry);
      }
    }
  }
  if (problems.list.length > 0) throw new UsageFileError(file, problems.list);
  return out;
}

/** An amount as a fraction of `capacity` (millicores or bytes); undefined when the capacity is unknown (0). */
export function fractionOf(amount: Amount, capacity: number): number | undefined {
  if ('percent' in amount) return amount.percent / 100;
  return capacity > 0 ? amount.amount / capacity : undefined;
}
