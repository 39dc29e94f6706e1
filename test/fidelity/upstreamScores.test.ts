// Parsing upstream kube-scheduler's V(10) schedule_one.go log into attempts and scores, and judging ties from it.
import { describe, expect, it } from 'vitest';
import {
  bindingAttempt,
  decisivePlugins,
  judgeTie,
  parseKlogLine,
  parseUpstreamScores,
  topNodes,
  type ScoringAttempt,
} from '../../tools/fidelity/upstreamScores.js';

const at = (file: string, msg: string, kv: string): string => `I0517 02:04:07.123456   12345 ${file}] "${msg}" ${kv}`;
const attempt = (pod: string): string => at('schedule_one.go:117', 'Attempting to schedule pod', `pod="${pod}"`);
const plugin = (pod: string, name: string, node: string, score: number): string =>
  at('schedule_one.go:984', 'Plugin scored node for pod', `pod="${pod}" plugin="${name}" node="${node}" score=${score}`);
const total = (pod: string, node: string, score: number): string =>
  at('schedule_one.go:1052', "Calculated node's final score for pod", `pod="${pod}" node="${node}" score=${score}`);
const bound = (pod: string, node: string): string =>
  at('schedule_one.go:483', 'Successfully bound pod to node', `pod="${pod}" node="${node}" evaluatedNodes=3 feasibleNodes=3`);

function scored(totals: Record<string, number>, plugins: Record<string, Record<string, number>> = {}, boundNode?: string): ScoringAttempt {
  return {
    totals: new Map(Object.entries(totals)),
    plugins: new Map(Object.entries(plugins).map(([n, p]) => [n, new Map(Object.entries(p))])),
    ...(boundNode !== undefined ? { boundNode } : {}),
  };
}

describe('parseKlogLine', () => {
  it('reads the message and quoted and bare values, escapes included', () => {
    const line = `I0517 02:04:07.1 1 schedule_one.go:1] "Calculated node's final score for pod" pod="a/b" node="n \\"1\\"" score=42`;
    expect(parseKlogLine(line)).toEqual({ message: "Calculated node's final score for pod", values: { pod: 'a/b', node: 'n "1"', score: '42' } });
  });

  it('ignores lines that are not klog structured lines', () => {
    expect(parseKlogLine('W0517 something unstructured')).toBeUndefined();
  });
});

describe('parseUpstreamScores', () => {
  it('groups scores by pod and attempt and marks the attempt that bound', () => {
    const log = [
      attempt('default/p1'),
      'I0517 02:04:07.2 1 reflector.go:1] "Listing and watching" type="*v1.Pod"',
      plugin('default/p1', 'NodeResourcesFit', 'n1', 80),
      plugin('default/p1', 'TaintToleration', 'n1', 300),
      plugin('default/p1', 'NodeResourcesFit', 'n2', 90),
      plugin('default/p1', 'TaintToleration', 'n2', 0),
      total('default/p1', 'n1', 380),
      total('default/p1', 'n2', 90),
      attempt('default/p2'),
      bound('default/p1', 'n1'),
      bound('default/p2', 'n2'),
    ].join('\n');
    const scores = parseUpstreamScores(log, true);
    const p1 = bindingAttempt(scores, 'default/p1', 'n1')!;
    expect([...p1.totals]).toEqual([['n1', 380], ['n2', 90]]);
    expect(p1.plugins.get('n1')?.get('TaintToleration')).toBe(300);
    // p2 had one feasible node: bound without scoring.
    expect(bindingAttempt(scores, 'default/p2', 'n2')?.totals.size).toBe(0);
    expect(bindingAttempt(scores, 'default/p2', 'n1')).toBeUndefined();
  });

  it('keeps a failed attempt apart from the retry that bound', () => {
    const log = [attempt('ns/p'), total('ns/p', 'a', 10), total('ns/p', 'b', 10), attempt('ns/p'), total('ns/p', 'a', 50), total('ns/p', 'b', 20), bound('ns/p', 'a')].join('\n');
    const scores = parseUpstreamScores(log);
    expect(scores.get('ns/p')).toHaveLength(2);
    expect(topNodes(bindingAttempt(scores, 'ns/p', 'a')!.totals)).toEqual(['a']);
  });

  it('refuses a log without attempts when they are expected (the verbosity flags did not apply)', () => {
    expect(() => parseUpstreamScores('I0517 1 server.go:1] "Starting"\n', true)).toThrow(/--vmodule=schedule_one=10/);
  });
});

describe('judgeTie', () => {
  it('accepts berth node only inside a top tie of upstream totals that holds upstream node', () => {
    const v = judgeTie(scored({ a: 200, b: 200, c: 150 }), 'a', 'b');
    expect(v).toMatchObject({ tie: true, top: ['a', 'b'], total: 200 });
  });

  it("refuses berth's node outside upstream's tie", () => {
    const v = judgeTie(scored({ a: 200, b: 200, c: 199 }), 'a', 'c');
    expect(v.tie).toBe(false);
    expect(v.note).toMatch(/berth's node is not in upstream's tie a, b/);
  });

  it('refuses a tie claimed where upstream totals differ', () => {
    const v = judgeTie(scored({ a: 201, b: 200 }), 'a', 'b');
    expect(v).toMatchObject({ tie: false });
    expect(v.note).toMatch(/no tie: upstream's totals: a=201, b=200/);
  });

  it('sees no tie when upstream chose without scoring, or left no record', () => {
    expect(judgeTie(scored({}), 'a', 'b')).toMatchObject({ tie: false, note: expect.stringMatching(/without scoring/) });
    expect(judgeTie(undefined, 'a', 'b')).toMatchObject({ tie: false, note: expect.stringMatching(/no attempt that bound/) });
  });

  it('reports a log that contradicts the binding as a harness issue', () => {
    expect(judgeTie(scored({ a: 10, b: 20, c: 20 }), 'a', 'b').note).toMatch(/^harness issue/);
  });
});

describe('decisivePlugins', () => {
  it('names the plugins without whose score the bound node would not be on top', () => {
    const a = scored(
      { n1: 390, n2: 195 },
      { n1: { TaintToleration: 300, NodeResourcesFit: 90 }, n2: { TaintToleration: 100, NodeResourcesFit: 95 } },
      'n1',
    );
    expect(decisivePlugins(a)).toEqual(['TaintToleration']);
    // Without the plugin the node would merely tie: a zeroed plugin would not surely change the node.
    const tied = scored({ n1: 390, n2: 190 }, { n1: { TaintToleration: 300, NodeResourcesFit: 90 }, n2: { TaintToleration: 100, NodeResourcesFit: 90 } }, 'n1');
    expect(decisivePlugins(tied)).toEqual([]);
  });

  it('names none for a tie, a single node, or a win no single plugin makes', () => {
    expect(decisivePlugins(scored({ a: 10, b: 10 }, {}, 'a'))).toEqual([]);
    expect(decisivePlugins(scored({ a: 10 }, { a: { X: 10 } }, 'a'))).toEqual([]);
    const shared = scored({ a: 200, b: 0 }, { a: { X: 100, Y: 100 }, b: { X: 0, Y: 0 } }, 'a');
    expect(decisivePlugins(shared)).toEqual([]);
  });
});
