/**
 * Source rewrites that give DRA selectors cel-go's meaning on the JavaScript CEL library, applied before compiling:
 *
 * - `has()` on a field of any expression. The library accepts `has(a.b.c)` only when the selection starts at a
 *   variable; DRA selectors routinely test `has(device.attributes["domain"].model)`. Such a test becomes the
 *   equivalent `cel.bind(v, device.attributes["domain"], has(v.model))`.
 * - `"domain" in device.attributes` (and `device.capacity`). Upstream's device maps answer a lookup of an absent
 *   domain with an empty map, but membership still tests the real keys. berth's device maps answer lookups the same
 *   way (cel.ts), which the library's `in` would see as present, so membership is tested on the list of keys:
 *   `"domain" in device.attributes.map(k, k)`.
 *
 * One rewrite is applied per round (innermost first) and the text parsed again, so ranges stay valid.
 */
import type { ASTNode, ParseResult } from '@marcbachmann/cel-js';

interface Rewrite {
  start: number;
  end: number;
  text: (fresh: string) => string;
}

function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) for (const v of value) visit(v);
    else if (typeof value === 'object' && value !== null && 'op' in value && 'start' in value) out.push(value as ASTNode);
  };
  visit(node.args);
  return out;
}

function hasRewrite(node: ASTNode, source: string): Rewrite | undefined {
  if (node.op !== 'call' || node.args[0] !== 'has' || node.args[1].length !== 1) return undefined;
  const arg = node.args[1][0];
  if (!arg || (arg.op !== '.' && arg.op !== '.?')) return undefined;
  let root: ASTNode = arg;
  while (root.op === '.' || root.op === '.?') root = root.args[0];
  if (root.op === 'id') return undefined;
  const rootText = source.slice(root.start, root.end);
  const rest = source.slice(root.end, arg.end);
  return { start: node.start, end: node.end, text: (v) => `cel.bind(${v}, ${rootText}, has(${v}${rest}))` };
}

function isDeviceMap(node: ASTNode): boolean {
  return node.op === '.' && (node.args[1] === 'attributes' || node.args[1] === 'capacity') && node.args[0].op === 'id' && node.args[0].args === 'device';
}

function inRewrite(node: ASTNode, source: string): Rewrite | undefined {
  if (node.op !== 'in' || !isDeviceMap(node.args[1])) return undefined;
  const [key, map] = node.args;
  const keyText = source.slice(key.start, key.end);
  const mapText = source.slice(map.start, map.end);
  return { start: node.start, end: node.end, text: (v) => `(${keyText}) in ${mapText}.map(${v}, ${v})` };
}

/** The first rewrite in the tree, children before their parent. */
function findRewrite(node: ASTNode, source: string): Rewrite | undefined {
  for (const child of children(node)) {
    const inner = findRewrite(child, source);
    if (inner) return inner;
  }
  return hasRewrite(node, source) ?? inRewrite(node, source);
}

/** A variable name that the expression does not use. */
function freshName(source: string, n: number): string {
  let name = `berth_v${n}`;
  while (source.includes(name)) name = `_${name}`;
  return name;
}

/** The expression with the rewrites applied; text that does not parse is returned as it is (compiling reports it). */
export function rewriteSelector(expression: string, parse: (e: string) => ParseResult): string {
  let source = expression;
  // Each round rewrites one node; the bound is far above any real selector's count.
  for (let round = 0; round < 100; round++) {
    let rewrite: Rewrite | undefined;
    try {
      rewrite = findRewrite(parse(source).ast, source);
    } catch {
      return source;
    }
    if (!rewrite) return source;
    source = source.slice(0, rewrite.start) + rewrite.text(freshName(source, round)) + source.slice(rewrite.end);
  }
  return source;
}
