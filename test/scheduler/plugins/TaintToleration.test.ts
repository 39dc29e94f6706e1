import { describe, expect, it } from 'vitest';
import type { Taint, Toleration } from '../../../src/kube/api.js';
import { Code, CycleState } from '../../../src/scheduler/framework/types.js';
import { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import { descriptor, NAME, TaintToleration } from '../../../src/scheduler/plugins/TaintToleration.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, podInfo, makeHandle } from '../../helpers/builders.js';

function node(name: string, taints: Taint[]): NodeInfo {
  return new NodeInfo(makeNode(name, { taints }));
}

function pod(tolerations: Toleration[] = []) {
  return podInfo('p', { spec: { tolerations } });
}

function scoreAll(plugin: TaintToleration, tolerations: Toleration[], nodes: NodeInfo[]): number[] {
  const state = new CycleState();
  const p = pod(tolerations);
  expect(plugin.preScore(state, p)).toBeNull();
  const scores = Float64Array.from(nodes.map((n) => plugin.score(state, p, n)));
  const raw = [...scores];
  expect(plugin.normalizeScore(state, p, nodes, scores)).toBeNull();
  return [...raw, ...scores];
}

describe('TaintToleration filter', () => {
  const plugin = new TaintToleration();
  const state = new CycleState();

  it('factory and name', () => {
    expect(NAME).toBe('TaintToleration');
    expect(createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile())).name).toBe('TaintToleration');
  });

  it('passes untainted nodes and nodes with only PreferNoSchedule taints', () => {
    expect(plugin.filter(state, pod(), node('a', []))).toBeNull();
    expect(plugin.filter(state, pod(), node('b', [{ key: 'x', effect: 'PreferNoSchedule' }]))).toBeNull();
  });

  it('rejects an untolerated NoSchedule taint with the v1.35+ message by default', () => {
    const s = plugin.filter(state, pod(), node('a', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]));
    expect(s?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(s?.reasons).toEqual(['node(s) had untolerated taint(s)']);
  });

  it('rejects an untolerated NoExecute taint', () => {
    const s = plugin.filter(state, pod(), node('a', [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]));
    expect(s?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('passes when every NoSchedule/NoExecute taint is tolerated', () => {
    const n = node('a', [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'other', value: 'v', effect: 'NoExecute' },
    ]);
    const tolerations: Toleration[] = [
      { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
      { key: 'other', operator: 'Exists' },
    ];
    expect(plugin.filter(state, pod(tolerations), n)).toBeNull();
    expect(plugin.filter(state, pod([tolerations[0] as Toleration]), n)).not.toBeNull();
  });

  it("the older 'detailed' message names the first untolerated taint {key: value}", () => {
    const old = new TaintToleration({ untoleratedMessage: 'detailed' });
    const n = node('a', [
      { key: 'soft', value: 's', effect: 'PreferNoSchedule' },
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'second', effect: 'NoSchedule' },
    ]);
    expect(old.filter(state, pod(), n)?.message).toBe('node(s) had untolerated taint {dedicated: gpu}');
    const tolerated = pod([{ key: 'dedicated', operator: 'Exists' }]);
    expect(old.filter(state, tolerated, n)?.message).toBe('node(s) had untolerated taint {second: }');
  });
});

describe('TaintToleration score (reverse default normalization)', () => {
  const plugin = new TaintToleration();
  const soft = (key: string, value = ''): Taint => ({ key, value, effect: 'PreferNoSchedule' });
  const nodes = [node('a', [soft('foo', 'bar')]), node('b', [soft('foo', 'bar'), soft('baz', 'qux')]), node('c', [])];

  it('counts untolerated PreferNoSchedule taints; fewer is better', () => {
    // raw [1, 2, 0], max 2: a = 100 − 100·1/2 = 50, b = 0, c = 100
    expect(scoreAll(plugin, [], nodes)).toEqual([1, 2, 0, 50, 0, 100]);
  });

  it('tolerations with effect PreferNoSchedule or "" count, NoSchedule ones do not', () => {
    expect(scoreAll(plugin, [{ key: 'foo', value: 'bar', effect: 'PreferNoSchedule' }], nodes)).toEqual([0, 1, 0, 100, 0, 100]);
    expect(scoreAll(plugin, [{ key: 'foo', operator: 'Exists' }], nodes)).toEqual([0, 1, 0, 100, 0, 100]);
    expect(scoreAll(plugin, [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }], nodes)).toEqual([1, 2, 0, 50, 0, 100]);
  });

  it('NoSchedule taints do not count toward the score', () => {
    const n = [node('a', [{ key: 'hard', effect: 'NoSchedule' }]), node('b', [soft('x')])];
    expect(scoreAll(plugin, [], n)).toEqual([0, 1, 100, 0]);
  });

  it('integer truncation: raw [1, 3, 0] → 100 − 33 = 67, 0, 100', () => {
    const n = [node('a', [soft('x')]), node('b', [soft('x'), soft('y'), soft('z')]), node('c', [])];
    expect(scoreAll(plugin, [], n)).toEqual([1, 3, 0, 67, 0, 100]);
  });

  it('all zero → all 100; single node → 100 or 0', () => {
    expect(scoreAll(plugin, [], [node('a', []), node('b', [])])).toEqual([0, 0, 100, 100]);
    expect(scoreAll(plugin, [], [node('a', [soft('x')])])).toEqual([1, 0]);
  });

  it('PreScore never skips', () => {
    expect(plugin.preScore(new CycleState(), pod())).toBeNull();
  });
});
