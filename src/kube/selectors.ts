/**
 * Label and node selectors with upstream's semantics, compiled once into closures so that matching inside the
 * filter loop does no parsing.
 */
import type { LabelSelector, Labels, NodeSelectorRequirement, NodeSelectorTerm } from './api.js';

export type LabelMatcher = (labels: Labels) => boolean;

export const MATCH_NOTHING: LabelMatcher = () => false;
export const MATCH_EVERYTHING: LabelMatcher = () => true;

function has(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/**
 * metav1.LabelSelectorAsSelector: a missing (null/undefined) selector matches nothing, an empty one everything.
 * An invalid operator makes the selector match nothing (upstream would reject it at the API server).
 */
export function compileLabelSelector(selector: LabelSelector | null | undefined): LabelMatcher {
  if (selector === null || selector === undefined) return MATCH_NOTHING;
  const checks: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    checks.push((labels) => labels[key] === value && has(labels, key));
  }
  for (const req of selector.matchExpressions ?? []) {
    const values = new Set(req.values ?? []);
    const key = req.key;
    switch (req.operator) {
      case 'In':
        checks.push((labels) => has(labels, key) && values.has(labels[key] as string));
        break;
      case 'NotIn':
        checks.push((labels) => !has(labels, key) || !values.has(labels[key] as string));
        break;
      case 'Exists':
        checks.push((labels) => has(labels, key));
        break;
      case 'DoesNotExist':
        checks.push((labels) => !has(labels, key));
        break;
      default:
        return MATCH_NOTHING;
    }
  }
  if (checks.length === 0) return MATCH_EVERYTHING;
  if (checks.length === 1) return checks[0] as LabelMatcher;
  return (labels) => {
    for (const check of checks) if (!check(labels)) return false;
    return true;
  };
}

/** True when a map selector (Services, ReplicationControllers) selects the labels; an empty map selects nothing. */
export function mapSelectorMatches(selector: Labels | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => has(labels, k) && labels[k] === v);
}

export type NodeMatcher = (labels: Labels, nodeName: string) => boolean;

const INTEGER_RE = /^[+-]?\d+$/;

function compileNodeRequirement(req: NodeSelectorRequirement, field: boolean): NodeMatcher | null {
  const values = req.values ?? [];
  const set = new Set(values);
  if (field) {
    // matchFields supports metadata.name with In / NotIn only.
    if (req.key !== 'metadata.name') return null;
    if (req.operator === 'In') return (_l, name) => set.has(name);
    if (req.operator === 'NotIn') return (_l, name) => !set.has(name);
    return null;
  }
  const key = req.key;
  switch (req.operator) {
    case 'In':
      return (labels) => has(labels, key) && set.has(labels[key] as string);
    case 'NotIn':
      return (labels) => !has(labels, key) || !set.has(labels[key] as string);
    case 'Exists':
      return (labels) => has(labels, key);
    case 'DoesNotExist':
      return (labels) => !has(labels, key);
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !INTEGER_RE.test(values[0] as string)) return null;
      const bound = BigInt(values[0] as string);
      const greater = req.operator === 'Gt';
      return (labels) => {
        const raw = labels[key];
        if (raw === undefined || !INTEGER_RE.test(raw)) return false;
        const v = BigInt(raw);
        return greater ? v > bound : v < bound;
      };
    }
    default:
      return null;
  }
}

/**
 * One NodeSelectorTerm: its expressions and fields ANDed. An empty term, or one with an invalid requirement,
 * matches no node (upstream treats it as an error term that selects nothing).
 */
export function compileNodeSelectorTerm(term: NodeSelectorTerm): NodeMatcher {
  const checks: NodeMatcher[] = [];
  for (const req of term.matchExpressions ?? []) {
    const m = compileNodeRequirement(req, false);
    if (!m) return () => false;
    checks.push(m);
  }
  for (const req of term.matchFields ?? []) {
    const m = compileNodeRequirement(req, true);
    if (!m) return () => false;
    checks.push(m);
  }
  if (checks.length === 0) return () => false;
  return (labels, name) => {
    for (const check of checks) if (!check(labels, name)) return false;
    return true;
  };
}

/** NodeSelector: terms ORed. No terms → matches nothing. */
export function compileNodeSelectorTerms(terms: NodeSelectorTerm[] | undefined): NodeMatcher {
  const compiled = (terms ?? []).map(compileNodeSelectorTerm);
  if (compiled.length === 0) return () => false;
  return (labels, name) => {
    for (const m of compiled) if (m(labels, name)) return true;
    return false;
  };
}
