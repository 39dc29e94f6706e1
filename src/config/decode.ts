/**
 * Strict decoding helpers: read plain YAML/JSON values into typed fields, reporting unknown fields and type mismatches
 * with their field path (as upstream's strict decoding of KubeSchedulerConfiguration does) instead of stopping.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { suggestionHint, type ConfigIssue } from './errors.js';
import { parseGoDurationNanos } from '../kube/duration.js';
import { describeValue, MAX_QUOTED, quote } from '../kube/validate.js';
import type { ArgsDecoder, FieldPath } from '../scheduler/framework/plugin.js';

export type { FieldPath } from '../scheduler/framework/plugin.js';

export function pathString(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      // A key may be anything a file holds, megabytes included: name it by its start.
      const key = seg.length > MAX_QUOTED ? `${seg.slice(0, MAX_QUOTED - 1)}…` : seg;
      out += out === '' ? key : `.${key}`;
    }
  }
  return out;
}

/** Quoted runs longer than MAX_QUOTED in a message, cut short: values from the file may be megabytes long. */
function clipQuoted(text: string): string {
  return text.replace(new RegExp(`"([^"]{${MAX_QUOTED},})"`, 'g'), (_m, inner: string) => `"${inner.slice(0, MAX_QUOTED - 1)}…"`);
}

export type Locator = (path: FieldPath) => { line: number; column: number } | undefined;

/**
 * Finds the position of a field in a parsed YAML document: the key of a map entry, or the item of a sequence. Each
 * mapping's keys are indexed on first use, so locating thousands of fields stays linear in their number.
 */
export function yamlLocator(doc: Document, lineCounter: LineCounter): Locator {
  const index = new WeakMap<object, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let byKey = index.get(map);
    if (byKey === undefined) {
      byKey = new Map();
      for (const p of map.items) {
        if (isScalar(p.key)) {
          const k = String(p.key.value);
          if (!byKey.has(k)) byKey.set(k, p as Pair);
        }
      }
      index.set(map, byKey);
    }
    return byKey.get(key);
  };
  return (path) => {
    let node: unknown = doc.contents;
    let offset: number | undefined = (doc.contents as YamlNode | null)?.range?.[0];
    for (const seg of path) {
      if (typeof seg === 'number' && isSeq(node)) {
        const item: unknown = node.items[seg];
        if (item === undefined) break;
        node = item;
        offset = (item as YamlNode | null)?.range?.[0] ?? offset;
      } else if (typeof seg === 'string' && isMap(node)) {
        const pair = pairOf(node as YAMLMap, seg);
        if (pair === undefined) break;
        offset = (pair.key as YamlNode | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
}

/** The configuration's decoder; plugins' args decoders see it as an ArgsDecoder. */
export class Decoder implements ArgsDecoder {
  readonly issues: ConfigIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    private readonly locate: Locator = () => undefined,
  ) {}

  error(path: FieldPath, rawMessage: string, hint = ''): void {
    const fieldPath = pathString(path);
    const message = clipQuoted(rawMessage);
    const key = `${fieldPath}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const issue: ConfigIssue = { file: this.file, fieldPath, message, hint };
    const pos = this.locate(path);
    if (pos !== undefined) {
      issue.line = pos.line;
      issue.column = pos.column;
    }
    this.issues.push(issue);
  }

  get hasErrors(): boolean {
    return this.issues.length > 0;
  }

  /**
   * A mapping with only the given keys. Unknown keys are reported (strict decoding). null/undefined → undefined
   * (absent); anything else that is not a mapping is reported and treated as absent.
   */
  object(value: unknown, path: FieldPath, known: readonly string[], what = 'this field'): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.error(path, `expected a mapping (object) for ${what}, got ${describe(value)}`, 'write it as "key: value" lines indented under the field');
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) {
        this.error(
          [...path, key],
          `unknown field ${quote(key)}`,
          suggestionHint(key, known, `fields allowed here (kube-scheduler decodes strictly)`),
        );
      }
    }
    return record;
  }

  array(value: unknown, path: FieldPath): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.error(path, `expected a list, got ${describe(value)}`, 'write each item on its own line starting with "- "');
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: FieldPath): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.error(path, `expected a string, got ${describe(value)}`, 'quote the value');
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: FieldPath): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.error(path, `expected true or false, got ${describe(value)}`, 'write true or false without quotes');
      return undefined;
    }
    return value;
  }

  /** A finite number (Go float32/float64 fields such as qps). */
  number(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.error(path, `expected a number, got ${describe(value)}`, 'write the number without quotes');
      return undefined;
    }
    return value;
  }

  /** An integer within Go's int32 (default) or int64 range. */
  integer(value: unknown, path: FieldPath, bits: 32 | 64 = 32): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.error(path, `expected an integer, got ${describe(value)}`, 'write a whole number without quotes');
      return undefined;
    }
    const max = bits === 32 ? 2147483647 : Number.MAX_SAFE_INTEGER;
    if (value > max || value < -max - 1) {
      this.error(path, `${value} does not fit in an int${bits}`, `use a value between ${-max - 1} and ${max}`);
      return undefined;
    }
    return value;
  }

  /** A Go duration string ("15s", "1m30s"); returns seconds. */
  duration(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.error(path, `expected a duration string such as "15s", got ${describe(value)}`, 'write a Go duration with a unit, e.g. "15s", "1m30s", "500ms"');
      return undefined;
    }
    const ns = parseGoDurationNanos(value);
    if (ns === 'syntax') {
      this.error(path, `invalid duration ${quote(value)}`, 'write a Go duration with a unit, e.g. "15s", "1m30s", "500ms" (units: ns, us, ms, s, m, h)');
      return undefined;
    }
    if (ns === 'range') {
      // Upstream's metav1.Duration decoding fails here too (time.ParseDuration: invalid duration).
      this.error(path, `duration ${quote(value)} is out of range`, 'Go durations reach ±2562047h47m16.854775807s (about 292 years)');
      return undefined;
    }
    return Number(ns) / 1e9;
  }
}

/** A value as messages name it, cut short (see describeValue). */
export function describe(value: unknown): string {
  return describeValue(value);
}
