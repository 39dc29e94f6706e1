import { describe, expect, it } from 'vitest';
import type { NodeAffinity as NodeAffinitySpec, NodeSelectorTerm, PodSpec } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import { descriptor, NAME, NodeAffinity, requiredNodeAffinityMatcher } from '../../../src/scheduler/plugins/NodeAffinity.js';
import { createPlugin, makeCluster, makeHandle, makeNode, podInfo } from '../../helpers/builders.js';

const zoneA = new NodeInfo(makeNode('a', { labels: { zone: 'a', gpu: 'true', rank: '10' } }));
const zoneB = new NodeInfo(makeNode('b', { labels: { zone: 'b', rank: '3' } }));
const bare = new NodeInfo(makeNode('c'));

function pod(spec: Partial<PodSpec>) {
  return podInfo('p', { spec });
}

function required(terms: NodeSelectorTerm[]): Partial<PodSpec> {
  return { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } };
}

function preferred(terms: Array<{ weight: number; preference: NodeSelectorTerm }>): Partial<PodSpec> {
  return { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms } } };
}

function run(plugin: NodeAffinity, spec: Partial<PodSpec>, node: NodeInfo) {
  const state = new CycleState();
  const p = pod(spec);
  const pre = plugin.preFilter(state, p, []);
  return { pre, filter: plugin.filter(state, p, node) };
}

describe('NodeAffinity PreFilter/Filter', () => {
  const plugin = new NodeAffinity();

  it('factory takes addedAffinity from its args', () => {
    expect(NAME).toBe('NodeAffinity');
    const args = {
      addedAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
        },
      },
    };
    const pl = createPlugin(descriptor, makeHandle(makeCluster([])), args) as NodeAffinity;
    expect(pl.name).toBe('NodeAffinity');
    expect(pl.preFilter(new CycleState(), pod({}), [])).toBeNull();
    expect(pl.filter(new CycleState(), pod({}), zoneB)?.message).toBe("node(s) didn't match scheduler-enforced node affinity");
  });

  it('skips a pod with no nodeSelector and no required affinity', () => {
    expect(plugin.preFilter(new CycleState(), pod({}), [])).toBe(SKIP);
    expect(plugin.preFilter(new CycleState(), pod(preferred([])), [])).toBe(SKIP);
  });

  it('nodeSelector: every key present with the value', () => {
    expect(run(plugin, { nodeSelector: { zone: 'a' } }, zoneA)).toEqual({ pre: null, filter: null });
    const r = run(plugin, { nodeSelector: { zone: 'a', gpu: 'true' } }, zoneB);
    expect(r.filter?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(r.filter?.reasons).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    expect(run(plugin, { nodeSelector: { missing: '' } }, bare).filter).not.toBeNull();
  });

  it('an empty nodeSelector map does not skip and matches every node', () => {
    expect(run(plugin, { nodeSelector: {} }, bare)).toEqual({ pre: null, filter: null });
  });

  it('required terms are ORed, expressions ANDed', () => {
    const spec = required([
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gpu', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'rank', operator: 'Lt', values: ['5'] }] },
    ]);
    expect(run(plugin, spec, zoneA).filter).toBeNull();
    expect(run(plugin, spec, zoneB).filter).toBeNull();
    expect(run(plugin, spec, bare).filter?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('nodeSelector AND required affinity', () => {
    const spec = { ...required([{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }]), nodeSelector: { zone: 'b' } };
    expect(run(plugin, spec, zoneA).filter).not.toBeNull();
    expect(run(plugin, spec, zoneB).filter).toBeNull();
  });

  it('an empty term matches nothing; no terms match nothing', () => {
    expect(run(plugin, required([{}]), zoneA).filter).not.toBeNull();
    expect(run(plugin, required([]), zoneA)).toEqual({ pre: null, filter: expect.objectContaining({ code: Code.UnschedulableAndUnresolvable }) });
  });

  it('Gt/Lt compare integers; NotIn/DoesNotExist match absent labels', () => {
    expect(run(plugin, required([{ matchExpressions: [{ key: 'rank', operator: 'Gt', values: ['9'] }] }]), zoneA).filter).toBeNull();
    expect(run(plugin, required([{ matchExpressions: [{ key: 'rank', operator: 'Gt', values: ['10'] }] }]), zoneA).filter).not.toBeNull();
    expect(run(plugin, required([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }]), bare).filter).toBeNull();
    expect(run(plugin, required([{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }]), zoneA).filter).not.toBeNull();
  });

  it('PreFilter returns node names when every term has matchFields metadata.name In', () => {
    const spec = required([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] },
    ]);
    const r = run(plugin, spec, zoneA);
    expect(r.pre).toEqual({ nodeNames: new Set(['a', 'b']) });
    expect(r.filter).toBeNull();
    expect(run(plugin, spec, bare).filter).not.toBeNull();
  });

  it('no restriction when one term has no metadata.name In', () => {
    const spec = required([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
    ]);
    expect(run(plugin, spec, zoneB)).toEqual({ pre: null, filter: null });
  });

  it('requirements within a term intersect; an empty union is "pod affinity terms conflict"', () => {
    const one = required([
      {
        matchFields: [
          { key: 'metadata.name', operator: 'In', values: ['a'] },
          { key: 'metadata.name', operator: 'In', values: ['b'] },
        ],
      },
    ]);
    const pre = plugin.preFilter(new CycleState(), pod(one), []);
    expect(pre).toMatchObject({ code: Code.UnschedulableAndUnresolvable, reasons: ['pod affinity terms conflict'] });
  });

  it('requiredNodeAffinityMatcher ignores addedAffinity and is memoized', () => {
    const p = pod({ nodeSelector: { zone: 'a' } });
    const m = requiredNodeAffinityMatcher(p);
    expect(m(zoneA.labels, 'a')).toBe(true);
    expect(m(zoneB.labels, 'b')).toBe(false);
    expect(requiredNodeAffinityMatcher(p)).toBe(m);
    expect(requiredNodeAffinityMatcher(pod({}))(bare.labels, 'c')).toBe(true);
  });
});

describe('NodeAffinity score', () => {
  const terms = preferred([
    { weight: 5, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
    { weight: 3, preference: { matchExpressions: [{ key: 'rank', operator: 'Exists' }] } },
    { weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
    { weight: 7, preference: {} },
  ]);

  function scores(plugin: NodeAffinity, spec: Partial<PodSpec>, nodes: NodeInfo[]) {
    const state = new CycleState();
    const p = pod(spec);
    expect(plugin.preScore(state, p, nodes)).toBeNull();
    const s = Float64Array.from(nodes.map((n) => plugin.score(state, p, n)));
    const raw = [...s];
    plugin.normalizeScore(state, p, nodes, s);
    return [...raw, ...s];
  }

  it('PreScore skips without preferred terms (pod or added)', () => {
    expect(new NodeAffinity().preScore(new CycleState(), pod({}), [])).toBe(SKIP);
  });

  it('sums matching weights, skips weight-0 and empty terms, normalizes by max', () => {
    // a: 5 + 3 = 8, b: 3, c: 0 → 100, 100·3/8 = 37, 0
    expect(scores(new NodeAffinity(), terms, [zoneA, zoneB, bare])).toEqual([8, 3, 0, 100, 37, 0]);
  });

  it('all zero stays zero (not reversed)', () => {
    expect(scores(new NodeAffinity(), terms, [bare])).toEqual([0, 0]);
  });

  it('addedAffinity preferred terms add their weights and prevent the Skip', () => {
    const added: NodeAffinitySpec = {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } },
      ],
    };
    const plugin = new NodeAffinity(added);
    // a: 8, b: 3 + 2 = 5, c: 0 → 100, 62, 0
    expect(scores(plugin, terms, [zoneA, zoneB, bare])).toEqual([8, 5, 0, 100, 62, 0]);
    // pod without preferred terms: only the added ones
    expect(scores(plugin, {}, [zoneA, zoneB])).toEqual([0, 2, 0, 100]);
  });
});
