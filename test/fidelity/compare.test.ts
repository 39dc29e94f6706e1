// comparePods with made-up runs: what counts as agreement, as a tie (only from upstream's own scores), and as a
// difference.
import { describe, expect, it } from 'vitest';
import { comparePods, fitStrategy, type ComparedScenario } from '../../tools/fidelity/compare.js';
import type { PodOutcome, RunResult } from '../../tools/fidelity/harness.js';
import type { Pod } from '../../src/kube/api.js';
import type { ScoringAttempt, UpstreamScores } from '../../tools/fidelity/upstreamScores.js';

const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c0' }] } }) as Pod;

function scenario(names: string[], expectPending: string[] = [], config?: Record<string, unknown>): ComparedScenario {
  return { name: 'made-up', file: '/made-up.yaml', pods: names.map(pod), expectPending: new Set(expectPending.map((n) => `default/${n}`)), ...(config ? { config } : {}) };
}

function bound(name: string, node: string, extra: Partial<PodOutcome> = {}): PodOutcome {
  return { pod: `default/${name}`, node, reason: null, message: null, timedOut: false, nominatedNode: null, finalNode: node, ...extra };
}

function failed(name: string, message: string, extra: Partial<PodOutcome> = {}): PodOutcome {
  return { pod: `default/${name}`, node: null, reason: 'Unschedulable', message, timedOut: false, nominatedNode: null, finalNode: null, ...extra };
}

function timedOut(name: string): PodOutcome {
  return { pod: `default/${name}`, node: null, reason: null, message: null, timedOut: true, nominatedNode: null, finalNode: null };
}

/** One scored attempt per pod that bound it, with these totals (and optional per-plugin scores). */
function scores(entries: Record<string, { node: string; totals: Record<string, number>; plugins?: Record<string, Record<string, number>> }>): UpstreamScores {
  const out: UpstreamScores = new Map();
  for (const [name, e] of Object.entries(entries)) {
    const a: ScoringAttempt = {
      totals: new Map(Object.entries(e.totals)),
      plugins: new Map(Object.entries(e.plugins ?? {}).map(([n, p]) => [n, new Map(Object.entries(p))])),
      boundNode: e.node,
    };
    out.set(`default/${name}`, [a]);
  }
  return out;
}

const run = (scheduler: 'upstream' | 'berth', outcomes: PodOutcome[], s?: UpstreamScores): RunResult => ({
  scheduler,
  schedulerName: `fidelity-${scheduler}`,
  outcomes,
  ...(s ? { scores: s } : {}),
});

describe('comparePods', () => {
  it('agrees on the same node and the same failure, and counts nothing as a tie', () => {
    const msg = '0/2 nodes are available: 2 Insufficient cpu.';
    const c = comparePods(scenario(['a', 'b']), run('upstream', [bound('a', 'n1'), failed('b', msg)], new Map()), run('berth', [bound('a', 'n1'), failed('b', msg)]));
    expect(c).toMatchObject({ agreed: 2, tieAccepted: 0, differ: 0, total: 2 });
  });

  it('accepts a different node as a tie only from upstream totals, counted apart', () => {
    const s = scores({ a: { node: 'n1', totals: { n1: 150, n2: 150, n3: 90 } } });
    const c = comparePods(scenario(['a']), run('upstream', [bound('a', 'n1')], s), run('berth', [bound('a', 'n2', { realignedTo: 'n1', finalNode: 'n1' })]));
    expect(c).toMatchObject({ agreed: 0, tieAccepted: 1, differ: 0 });
    expect(c.pods[0]!.note).toMatch(/tie in upstream's totals among n1, n2/);
  });

  it("reports berth's node outside upstream's tie as a difference", () => {
    const s = scores({ a: { node: 'n1', totals: { n1: 150, n2: 150, n3: 149 } } });
    const c = comparePods(scenario(['a']), run('upstream', [bound('a', 'n1')], s), run('berth', [bound('a', 'n3')]));
    expect(c).toMatchObject({ tieAccepted: 0, differ: 1 });
    expect(c.pods[0]!.note).toMatch(/berth's node is not in upstream's tie n1, n2/);
  });

  it('reports a tie claimed where upstream totals differ as a difference', () => {
    const s = scores({ a: { node: 'n1', totals: { n1: 151, n2: 150 } } });
    const c = comparePods(scenario(['a']), run('upstream', [bound('a', 'n1')], s), run('berth', [bound('a', 'n2')]));
    expect(c.pods[0]).toMatchObject({ verdict: 'differ', note: expect.stringMatching(/no tie: upstream's totals: n1=151, n2=150/) });
  });

  it('sees no tie when upstream chose its node without scoring', () => {
    const s = scores({ a: { node: 'n1', totals: {} } });
    const c = comparePods(scenario(['a']), run('upstream', [bound('a', 'n1')], s), run('berth', [bound('a', 'n2')]));
    expect(c.pods[0]).toMatchObject({ verdict: 'differ', note: expect.stringMatching(/without scoring/) });
  });

  it('reports two timeouts as a difference unless the pod is marked expectPending', () => {
    const plain = comparePods(scenario(['a']), run('upstream', [timedOut('a')]), run('berth', [timedOut('a')]));
    expect(plain.pods[0]).toMatchObject({ verdict: 'differ', note: expect.stringMatching(/expectPending/) });
    const expected = comparePods(scenario(['a'], ['a']), run('upstream', [timedOut('a')]), run('berth', [timedOut('a')]));
    expect(expected).toMatchObject({ agreed: 1, differ: 0 });
  });

  it('reports an outcome for a pod expected to stay pending, and one timeout, as differences', () => {
    const c = comparePods(scenario(['a'], ['a']), run('upstream', [bound('a', 'n1')]), run('berth', [bound('a', 'n1')]));
    expect(c.differ).toBe(1);
    const one = comparePods(scenario(['a']), run('upstream', [timedOut('a')]), run('berth', [bound('a', 'n1')]));
    expect(one.pods[0]!.note).toMatch(/only one scheduler/);
  });

  it('compares the failure message character for character, and the nomination', () => {
    const c = comparePods(
      scenario(['a', 'b']),
      run('upstream', [failed('a', '0/1 nodes are available: 1 Insufficient cpu.'), failed('b', 'm', { nominatedNode: 'n1' })]),
      run('berth', [failed('a', '0/1 nodes are available: 1 Insufficient cpu. '), failed('b', 'm', { nominatedNode: 'n2' })]),
    );
    expect(c.pods.map((p) => p.note)).toEqual(['FailedScheduling message differs', 'nominated node differs']);
  });

  it('still compares the final placement after an agreement and after a tie', () => {
    const s = scores({ b: { node: 'n1', totals: { n1: 10, n2: 10 } } });
    const c = comparePods(
      scenario(['a', 'b']),
      run('upstream', [failed('a', 'm', { finalNode: 'n1' }), bound('b', 'n1', { finalNode: null })], s),
      run('berth', [failed('a', 'm', { finalNode: 'n2' }), bound('b', 'n2', { realignedTo: 'n1', finalNode: 'n1' })]),
    );
    expect(c.pods.map((p) => p.verdict)).toEqual(['differ', 'differ']);
    expect(c.pods[1]!.note).toMatch(/final placement differs: upstream pending, berth n1/);
  });

  it('judges no later node difference once a tie could not be realigned (the states differ)', () => {
    const s = scores({ a: { node: 'n1', totals: { n1: 10, n2: 10 } }, b: { node: 'n2', totals: { n1: 5, n2: 5 } } });
    const c = comparePods(
      scenario(['a', 'b']),
      run('upstream', [bound('a', 'n1'), bound('b', 'n2')], s),
      run('berth', [bound('a', 'n2', { notRealigned: 'the pod has volume claims' }), bound('b', 'n1')]),
    );
    expect(c.pods.map((p) => p.verdict)).toEqual(['tie', 'differ']);
    expect(c.pods[1]!.note).toMatch(/states diverged after the tie on default\/a/);
  });

  it('judges no later tie once a pod was placed differently', () => {
    const s = scores({ a: { node: 'n1', totals: { n1: 10, n2: 9 } }, b: { node: 'n2', totals: { n1: 5, n2: 5 } } });
    const c = comparePods(scenario(['a', 'b']), run('upstream', [bound('a', 'n1'), bound('b', 'n2')], s), run('berth', [bound('a', 'n2'), bound('b', 'n1')]));
    expect(c.pods.map((p) => p.verdict)).toEqual(['differ', 'differ']);
    expect(c.pods[1]!.note).toMatch(/diverged after the difference on default\/a/);
  });

  it('collects the pods one score plugin alone decided, by upstream scores, NodeResourcesFit with its strategy', () => {
    const s = scores({
      a: { node: 'n1', totals: { n1: 100, n2: 60 }, plugins: { n1: { NodeResourcesFit: 50, ImageLocality: 50 }, n2: { NodeResourcesFit: 60, ImageLocality: 0 } } },
    });
    const config = { profiles: [{ pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] }] };
    const c = comparePods(scenario(['a'], [], config), run('upstream', [bound('a', 'n1')], s), run('berth', [bound('a', 'n1')]));
    expect(c.decidedBy).toEqual({ ImageLocality: ['default/a'] });
    expect(fitStrategy(config)).toBe('MostAllocated');
    expect(fitStrategy({})).toBe('LeastAllocated');
  });
});
