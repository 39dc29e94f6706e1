import { describe, expect, it } from 'vitest';
import { DecisionStore, NODES_PER_VERDICT, TOP_SCORED_NODES, type AttemptInput } from '../../src/observe/decisionStore.js';
import type { NodeExplanation, ScheduleResult } from '../../src/scheduler/framework/schedulePod.js';
import type { Diagnosis } from '../../src/scheduler/framework/types.js';

const emptyDiagnosis = (): Diagnosis => ({ nodeToStatus: new Map(), absentNodesStatus: null, unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' });

function scoredNode(node: string, fit: number, image: number): NodeExplanation {
  return {
    node,
    verdict: 'feasible',
    total: fit * 2 + image,
    scores: [
      { plugin: 'NodeResourcesFit', weight: 2, raw: fit, normalized: fit, weighted: fit * 2 },
      { plugin: 'ImageLocality', weight: 1, raw: image * 10, normalized: image, weighted: image },
    ],
  };
}

function attempt(name: string, attempts: number, result: ScheduleResult): AttemptInput {
  return { queued: { attempts, pod: { namespace: 'ns', name, uid: `uid-${name}` } }, profile: 'berth', result };
}

function scheduled(node: string, explanation: NodeExplanation[]): ScheduleResult {
  const chosen = explanation.find((e) => e.node === node);
  return {
    kind: 'scheduled',
    nodeName: node,
    totalScore: chosen?.total ?? 0,
    evaluatedNodes: explanation.length,
    feasibleNodes: explanation.filter((e) => e.verdict === 'feasible').length,
    contributions: [{ plugin: 'NodeResourcesFit', weight: 2, score: 50, weighted: 100 }],
    explanation,
  };
}

const rejected = (node: string, plugin: string, reason: string): NodeExplanation => ({ node, verdict: 'Unschedulable', plugin, reasons: [reason] });

describe('DecisionStore', () => {
  it('keeps a scheduled attempt: the verdict histogram with counts and names, the top scored nodes with the chosen one', () => {
    const store = new DecisionStore({ perPod: 3, now: () => new Date('2026-01-01T00:00:00Z') });
    const explanation = [
      ...Array.from({ length: 12 }, (_, i) => rejected(`full-${i}`, 'NodeResourcesFit', 'Insufficient cpu')),
      rejected('tainted', 'TaintToleration', 'node(s) had untolerated taint(s)'),
      ...Array.from({ length: 7 }, (_, i) => scoredNode(`ok-${i}`, 10 * i, i)),
    ];
    // ok-0 has the lowest total: chosen after a tie-break is impossible here, but the record must keep it anyway.
    store.add(attempt('web', 1, scheduled('ok-0', explanation)), { result: 'scheduled', bound: true });
    const [rec] = store.byPod('ns/web');
    expect(rec).toMatchObject({ pod: 'ns/web', uid: 'uid-web', attempt: 1, at: '2026-01-01T00:00:00.000Z', result: 'scheduled', bound: true, node: 'ok-0', message: null });
    expect(rec?.filter).toEqual([
      { plugin: 'NodeResourcesFit', verdict: 'Unschedulable', reasons: ['Insufficient cpu'], count: 12, nodes: Array.from({ length: NODES_PER_VERDICT }, (_, i) => `full-${i}`) },
      { plugin: 'TaintToleration', verdict: 'Unschedulable', reasons: ['node(s) had untolerated taint(s)'], count: 1, nodes: ['tainted'] },
    ]);
    expect(rec?.scoredNodes).toBe(7);
    expect(rec?.scores).toHaveLength(TOP_SCORED_NODES);
    expect(rec?.scores.slice(0, 4).map((s) => s.node)).toEqual(['ok-6', 'ok-5', 'ok-4', 'ok-3']);
    expect(rec?.scores.map((s) => s.node)).toContain('ok-0');
    expect(rec?.scores[0]?.scores[0]).toEqual({ plugin: 'NodeResourcesFit', weight: 2, raw: 60, normalized: 60, weighted: 120 });
  });

  it('keeps the last N attempts per pod, newest first, and drops the least recently attempted pod beyond the cap', () => {
    const store = new DecisionStore({ perPod: 2, maxPods: 2 });
    const failed = (n: number): ScheduleResult => ({ kind: 'unschedulable', message: `0/1 nodes are available: attempt ${n}.`, diagnosis: emptyDiagnosis(), numAllNodes: 1, explanation: [rejected('n1', 'NodePorts', 'ports')] });
    for (let i = 1; i <= 3; i++) store.add(attempt('a', i, failed(i)), { result: 'unschedulable', bound: false });
    expect(store.byPod('ns/a').map((r) => r.attempt)).toEqual([3, 2]);
    expect(store.byPod('ns/a')[0]?.message).toBe('0/1 nodes are available: attempt 3.');
    store.add(attempt('b', 1, failed(1)), { result: 'unschedulable', bound: false });
    store.add(attempt('a', 4, failed(4)), { result: 'unschedulable', bound: false });
    store.add(attempt('c', 1, failed(1)), { result: 'unschedulable', bound: false });
    // b was attempted least recently: it goes; a (attempted again) stays.
    expect(store.podCount).toBe(2);
    expect(store.byPod('ns/b')).toEqual([]);
    expect(store.byPod('ns/a').map((r) => r.attempt)).toEqual([4, 3]);
    expect(store.recent(10).map((r) => `${r.pod}#${r.attempt}`)).toEqual(['ns/c#1', 'ns/a#4', 'ns/a#3']);
    expect(store.recent(1)).toHaveLength(1);
  });

  it('finds attempts by node: chosen, scored or named among the rejected', () => {
    const store = new DecisionStore({ perPod: 1 });
    store.add(attempt('p1', 1, scheduled('ok-1', [scoredNode('ok-1', 50, 1), scoredNode('ok-2', 10, 1)])), { result: 'scheduled', bound: true });
    store.add(attempt('p2', 1, { kind: 'unschedulable', message: 'm', diagnosis: emptyDiagnosis(), numAllNodes: 1, explanation: [rejected('ok-2', 'NodePorts', 'ports')] }), {
      result: 'unschedulable',
      bound: false,
    });
    expect(store.byNode('ok-1', 10).map((r) => r.pod)).toEqual(['ns/p1']);
    expect(store.byNode('ok-2', 10).map((r) => r.pod)).toEqual(['ns/p2', 'ns/p1']);
    expect(store.byNode('elsewhere', 10)).toEqual([]);
  });

  it('records a failed binding as the chosen node with the binding error, and an error without explanation', () => {
    const store = new DecisionStore({ perPod: 2 });
    store.add(attempt('p', 1, scheduled('ok-1', [scoredNode('ok-1', 50, 1), scoredNode('ok-2', 10, 1)])), { result: 'error', bound: false, message: 'pods "p" not found' });
    store.add(attempt('p', 2, { kind: 'error', message: 'plugin X failed', plugin: 'X' }), { result: 'error', bound: false });
    const [second, first] = store.byPod('ns/p');
    expect(first).toMatchObject({ node: 'ok-1', bound: false, result: 'error', message: 'pods "p" not found', totalScore: 101 });
    expect(second).toMatchObject({ node: null, result: 'error', message: 'plugin X failed', filter: [], scores: [], scoredNodes: 0 });
  });

  it('refuses a bound below 1', () => {
    expect(() => new DecisionStore({ perPod: 0 })).toThrow(/attempts per pod must be an integer ≥ 1/);
  });
});
