/**
 * Objects from lists and watches are checked against the same schema as snapshot objects (src/kube/validate.ts)
 * before they are slimmed. The API server has validated them already; the check is a defence against what it does not
 * promise berth: a proxy or an aggregated API in between, a version skew, a hand-edited etcd. A malformed object
 * becomes an ObjectDecodeError naming the object and the field, which the reflector logs and skips, instead of a
 * JavaScript TypeError deep in a plugin.
 */
import { formatPath, quote, validateObject, type FieldIssue } from '../../kube/validate.js';

/** How many of an object's issues a log line spells out (the rest are counted). */
const SHOWN_ISSUES = 3;

export class ObjectDecodeError extends Error {
  constructor(
    /** "Pod jhub/jupyter-ada". */
    readonly object: string,
    readonly issues: readonly FieldIssue[],
  ) {
    const shown = issues.slice(0, SHOWN_ISSUES).map((i) => `${formatPath(i.path)}: ${i.message}`);
    const more = issues.length - shown.length;
    super(`${object}: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
    this.name = 'ObjectDecodeError';
  }
}

function metadataOf(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const md = (raw as { metadata?: unknown }).metadata;
  return typeof md === 'object' && md !== null && !Array.isArray(md) ? (md as Record<string, unknown>) : undefined;
}

/**
 * The store key ("namespace/name" or "name") of a raw object, or undefined when its name is not a string: with it the
 * reflector still applies the delete of an object it cannot read, and keeps the last good version on a bad update.
 */
export function rawObjectKey(raw: unknown): string | undefined {
  const md = metadataOf(raw);
  const name = md?.['name'];
  if (typeof name !== 'string') return undefined;
  const ns = md?.['namespace'];
  return typeof ns === 'string' && ns !== '' ? `${ns}/${name}` : name;
}

/** "Pod jhub/jupyter-ada" (quoted and cut when the name is long or not a string). */
function describeRaw(kind: string, raw: unknown): string {
  const md = metadataOf(raw);
  const name = md?.['name'];
  const ns = md?.['namespace'];
  const shown = (v: string): string => (v.length > 80 || !/^[\w.-]*$/.test(v) ? quote(v) : v);
  const nsPart = typeof ns === 'string' && ns !== '' ? `${shown(ns)}/` : '';
  return `${kind} ${nsPart}${typeof name === 'string' ? shown(name) : '(unnamed)'}`;
}

/** Wraps a slimming transform: the raw object is validated first and refused with an ObjectDecodeError. */
export function checkedTransform<T>(kind: string, transform: (raw: unknown) => T): (raw: unknown) => T {
  return (raw: unknown): T => {
    const issues = validateObject(kind, raw);
    if (issues.length > 0) throw new ObjectDecodeError(describeRaw(kind, raw), issues);
    return transform(raw);
  };
}
