import { describe, expect, it } from 'vitest';
import type { Node } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { numFeasibleNodesToFind, PodScheduler, type ScheduleOptions } from '../../../src/scheduler/framework/schedulePod.js';
import {
  type FilterPlugin,
  type Plugin,
  type PostFilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from '../../../src/scheduler/framework/types.js';
import type { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import type { Random } from '../../../src/scheduler/random.js';
import { SeededRandom } from '../../../src/scheduler/random.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import { emptyProfile, makeCluster, makeFramework, makeNode, podInfo, testDescriptor } from '../../helpers/builders.js';

type Point = 'preFilter' | 'filter' | 'postFilter' | 'preScore' | 'score';

interface Setup {
  plugins: Array<{ plugin: Plugin; points: Point[]; weight?: number }>;
  /** Leave the score point empty (by default a zero-scoring plugin is added, so the search is the scoring one). */
  noScore?: boolean;
  nodes: Node[] | number;
  random?: Random;
  percentageOfNodesToScore?: number;
}

function nodeName(i: number): string {
  return `n${String(i).padStart(4, '0')}`;
}

function setup({ plugins, nodes, random, percentageOfNodesToScore, noScore }: Setup): { scheduler: PodScheduler; cluster: ClusterState } {
  const nodeList = typeof nodes === 'number' ? Array.from({ length: nodes }, (_, i) => makeNode(nodeName(i))) : nodes;
  const cluster = makeCluster(nodeList);
  const profile = emptyProfile({ percentageOfNodesToScore });
  const descriptors = new Map(plugins.map(({ plugin }) => [plugin.name, testDescriptor(plugin)]));
  for (const { plugin, points, weight } of plugins) {
    for (const point of points) profile.plugins[point].push({ name: plugin.name, weight: point === 'score' ? (weight ?? 1) : 1 });
  }
  if (!noScore && profile.plugins.score.length === 0) {
    const zero: ScorePlugin = { name: 'ZeroScore', score: () => 0 };
    descriptors.set(zero.name, testDescriptor(zero));
    profile.plugins.score.push({ name: zero.name, weight: 1 });
  }
  const framework = makeFramework(cluster, profile, new PluginCatalog([...descriptors.values()]));
  return { scheduler: new PodScheduler(framework, random ?? new SeededRandom(1)), cluster };
}

/** A Random that replays fixed values and records the bounds it was asked for. */
class FakeRandom implements Random {
  readonly asked: number[] = [];
  private i = 0;
  constructor(private readonly values: number[]) {}
  intn(n: number): number {
    this.asked.push(n);
    const v = this.values[this.i % this.values.length] as number;
    this.i++;
    return v;
  }
}

function filterPlugin(name: string, reject: (node: NodeInfo) => Status | null): FilterPlugin & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    calls,
    filter: (_s, _p, node) => {
      calls.push(node.name);
      return reject(node);
    },
  };
}

function scorePlugin(name: string, scores: Record<string, number>, normalize?: ScorePlugin['normalizeScore']): ScorePlugin & { calls: number } {
  const plugin: ScorePlugin & { calls: number } = {
    name,
    calls: 0,
    score: (_s, _p, node) => {
      plugin.calls++;
      return scores[node.name] ?? 0;
    },
  };
  if (normalize) plugin.normalizeScore = normalize;
  return plugin;
}

function preFilterPlugin(name: string, outcome: PreFilterOutcome, filter?: FilterPlugin['filter']): PreFilterPlugin & Partial<FilterPlugin> {
  const p: PreFilterPlugin & Partial<FilterPlugin> = { name, preFilter: () => outcome };
  if (filter) p.filter = filter;
  return p;
}

const pod = () => podInfo('p');

describe('numFeasibleNodesToFind', () => {
  it.each([
    [undefined, 0, 0],
    [undefined, 1, 1],
    [undefined, 99, 99],
    [50, 99, 99],
    [undefined, 100, 100], // 50 − 0 = 50% → 50 → floor 100
    [undefined, 500, 230], // 46%
    [undefined, 1000, 420], // 42%
    [undefined, 5000, 500], // 10%
    [undefined, 5999, 599], // 50 − 47 = 3 → 5%: 299 ... see below
    [undefined, 6000, 300], // 50 − 48 = 2 → floor 5%
    [undefined, 10000, 500],
    [undefined, 20000, 1000],
    [0, 1000, 420], // explicit 0 = adaptive
    [10, 5000, 500],
    [30, 1000, 300],
    [100, 1000, 1000],
    [1, 2000, 100], // 20 → floor 100
  ])('percentage %s, %d nodes → %d', (pct, n, expected) => {
    if (n === 5999) {
      // 50 − trunc(5999/125)=47 → 3% → floored to 5% → trunc(5999×5/100) = 299
      expect(numFeasibleNodesToFind(pct, n)).toBe(299);
      return;
    }
    expect(numFeasibleNodesToFind(pct, n)).toBe(expected);
  });
});

describe('PodScheduler: feasible-node search', () => {
  it('stops after numFeasibleNodesToFind feasible nodes (1000 nodes → 420)', () => {
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 1000 });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('scheduled');
    if (r.kind !== 'scheduled') return;
    expect(r.feasibleNodes).toBe(420);
    expect(r.evaluatedNodes).toBe(420);
    expect(f.calls).toHaveLength(420);
  });

  it('the profile percentage wins over the global one', () => {
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 1000, percentageOfNodesToScore: 30 });
    const r = scheduler.schedule(pod(), { percentageOfNodesToScore: 50 });
    expect(r.kind === 'scheduled' && r.feasibleNodes).toBe(300);
  });

  it('the global percentage applies when the profile has none', () => {
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 1000 });
    const r = scheduler.schedule(pod(), { percentageOfNodesToScore: 15 });
    expect(r.kind === 'scheduled' && r.feasibleNodes).toBe(150);
  });

  it('round-robin start index advances by the nodes processed (feasible + rejected)', () => {
    // 150 nodes → 100 to find. Nodes 0..9 are rejected.
    const f = filterPlugin('F', (n) => (Number(n.name.slice(1)) < 10 ? Status.unschedulable('no') : null));
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 150 });
    const first = scheduler.schedule(pod());
    expect(first.kind === 'scheduled' && first.evaluatedNodes).toBe(110);
    expect(f.calls[0]).toBe(nodeName(0));
    f.calls.length = 0;
    const second = scheduler.schedule(pod());
    expect(f.calls[0]).toBe(nodeName(110));
    // 110..149 (40 feasible), wrap, 0..9 rejected, 10..69 (60 feasible) → 110 processed → next start 70.
    expect(f.calls).toHaveLength(110);
    expect(f.calls[f.calls.length - 1]).toBe(nodeName(69));
    expect(second.kind === 'scheduled' && second.evaluatedNodes).toBe(110);
    f.calls.length = 0;
    scheduler.schedule(pod());
    expect(f.calls[0]).toBe(nodeName(70));
  });

  it('with fewer than 100 nodes every node is evaluated and the start index comes back to 0', () => {
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 7 });
    scheduler.schedule(pod());
    f.calls.length = 0;
    scheduler.schedule(pod());
    expect(f.calls).toEqual(Array.from({ length: 7 }, (_, i) => nodeName(i)));
  });

  it('after a PreFilter node restriction the start index advances modulo all nodes, as upstream', () => {
    let restrict = true;
    const pf: PreFilterPlugin = {
      name: 'Restrict',
      preFilter: () => (restrict ? { nodeNames: new Set([nodeName(5), nodeName(6), nodeName(7)]) } : null),
    };
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({
      plugins: [
        { plugin: pf, points: ['preFilter'] },
        { plugin: f, points: ['filter'] },
      ],
      nodes: 150,
    });
    scheduler.schedule(pod()); // processes 3 nodes: next = (0 + 3) % 150
    restrict = false;
    f.calls.length = 0;
    scheduler.schedule(pod());
    expect(f.calls[0]).toBe(nodeName(3));
  });

  it('filters run in profile order and stop at the first rejection', () => {
    const a = filterPlugin('A', (n) => (n.name === nodeName(0) ? Status.unschedulable('a says no') : null));
    const b = filterPlugin('B', () => null);
    const { scheduler } = setup({
      plugins: [
        { plugin: a, points: ['filter'] },
        { plugin: b, points: ['filter'] },
      ],
      nodes: 3,
    });
    const r = scheduler.schedule(pod());
    expect(b.calls).toEqual([nodeName(1), nodeName(2)]);
    expect(r.kind).toBe('scheduled');
  });
});

describe('PodScheduler: scoring', () => {
  const three = [makeNode('n1'), makeNode('n2'), makeNode('n3')];

  it('totals are Σ score × weight and the highest total wins', () => {
    const a = scorePlugin('A', { n1: 10, n2: 50, n3: 30 });
    const b = scorePlugin('B', { n1: 100, n2: 0, n3: 40 });
    const { scheduler } = setup({
      plugins: [
        { plugin: a, points: ['score'], weight: 2 },
        { plugin: b, points: ['score'], weight: 1 },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('scheduled');
    if (r.kind !== 'scheduled') return;
    // n1 = 20 + 100 = 120, n2 = 100 + 0 = 100, n3 = 60 + 40 = 100
    expect(r.nodeName).toBe('n1');
    expect(r.totalScore).toBe(120);
    expect(r.feasibleNodes).toBe(3);
    expect(r.contributions).toEqual([
      { plugin: 'B', weight: 1, score: 100, weighted: 100 },
      { plugin: 'A', weight: 2, score: 10, weighted: 20 },
    ]);
  });

  it('weights can flip the winner', () => {
    const a = scorePlugin('A', { n1: 0, n2: 60, n3: 0 });
    const b = scorePlugin('B', { n1: 100, n2: 0, n3: 0 });
    const { scheduler } = setup({
      plugins: [
        { plugin: a, points: ['score'], weight: 2 },
        { plugin: b, points: ['score'], weight: 1 },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && [r.nodeName, r.totalScore]).toEqual(['n2', 120]);
  });

  it('NormalizeScore rewrites raw scores before weighting', () => {
    const a = scorePlugin('A', { n1: 1, n2: 2, n3: 4 }, (_s, _p, _nodes, scores) => {
      for (let i = 0; i < scores.length; i++) scores[i] = 100 - (scores[i] as number) * 25;
      return null;
    });
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'], weight: 3 }], nodes: three });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && [r.nodeName, r.totalScore]).toEqual(['n1', 225]);
  });

  it('a normalized score outside [0, 100] is an error result', () => {
    const a = scorePlugin('A', { n1: 1, n2: 2, n3: 3 }, (_s, _p, _nodes, scores) => {
      scores[1] = 101;
      return null;
    });
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'] }], nodes: three });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.plugin).toBe('A');
    expect(r.message).toContain('invalid score 101');
  });

  it('a raw score out of range without NormalizeScore is an error result too (negative)', () => {
    const a = scorePlugin('A', { n1: -1, n2: 2, n3: 3 });
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'] }], nodes: three });
    expect(scheduler.schedule(pod()).kind).toBe('error');
  });

  it('NormalizeScore returning a non-success status is an error result', () => {
    const a = scorePlugin('A', {}, () => Status.error('boom'));
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'] }], nodes: three });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'error' && r.message).toContain('boom');
  });

  it('exactly one feasible node is chosen without scoring', () => {
    const f = filterPlugin('F', (n) => (n.name === 'n2' ? null : Status.unschedulable('no')));
    const a = scorePlugin('A', { n2: 77 });
    const pre: PreScorePlugin & { calls: number } = {
      name: 'Pre',
      calls: 0,
      preScore: () => {
        pre.calls++;
        return null;
      },
    };
    const { scheduler } = setup({
      plugins: [
        { plugin: f, points: ['filter'] },
        { plugin: pre, points: ['preScore'] },
        { plugin: a, points: ['score'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r).toMatchObject({ kind: 'scheduled', nodeName: 'n2', totalScore: 0, feasibleNodes: 1, evaluatedNodes: 3, contributions: [] });
    expect(a.calls).toBe(0);
    expect(pre.calls).toBe(0);
  });

  it('PreScore Skip leaves that plugin out of scoring', () => {
    const a: ScorePlugin & PreScorePlugin = {
      name: 'A',
      preScore: () => SKIP,
      score: () => {
        throw new Error('should be skipped');
      },
    };
    const b = scorePlugin('B', { n3: 5 });
    const { scheduler } = setup({
      plugins: [
        { plugin: a, points: ['preScore', 'score'] },
        { plugin: b, points: ['score'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && [r.nodeName, r.contributions.map((c) => c.plugin)]).toEqual(['n3', ['B']]);
  });

  it('PreScore error is an error result', () => {
    const pre: PreScorePlugin = { name: 'Pre', preScore: () => Status.error('bad') };
    const { scheduler } = setup({ plugins: [{ plugin: pre, points: ['preScore'] }], nodes: three });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'error' && r.message).toBe('running PreScore plugin "Pre": bad');
  });

  it('a throwing Score plugin is an error result, not an exception', () => {
    const a: ScorePlugin = {
      name: 'A',
      score: () => {
        throw new Error('kaput');
      },
    };
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'] }], nodes: three });
    expect(scheduler.schedule(pod())).toMatchObject({ kind: 'error', message: 'kaput' });
  });
});

describe('PodScheduler: tie-break', () => {
  const three = [makeNode('n1'), makeNode('n2'), makeNode('n3')];

  it.each([
    [[0], 'n3', [2, 3]], // every tie replaces the pick
    [[1], 'n1', [2, 3]], // no tie replaces it
    [[0, 1], 'n2', [2, 3]], // second replaces, third does not
    [[1, 0], 'n3', [2, 3]],
  ])('random %j → %s (reservoir sampling asks intn(2), intn(3))', (values, expected, asked) => {
    const random = new FakeRandom(values);
    const a = scorePlugin('A', { n1: 50, n2: 50, n3: 50 });
    const { scheduler } = setup({ plugins: [{ plugin: a, points: ['score'] }], nodes: three, random });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && r.nodeName).toBe(expected);
    expect(random.asked).toEqual(asked);
  });

  it('a new maximum resets the tie count; lower scores never consult the random source', () => {
    const random = new FakeRandom([0]);
    const a = scorePlugin('A', { n1: 10, n2: 90, n3: 90, n4: 20 });
    const { scheduler } = setup({
      plugins: [{ plugin: a, points: ['score'] }],
      nodes: [makeNode('n1'), makeNode('n2'), makeNode('n3'), makeNode('n4')],
      random,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && r.nodeName).toBe('n3');
    expect(random.asked).toEqual([2]);
  });
});

describe('PodScheduler: PreFilter', () => {
  const three = [makeNode('n1'), makeNode('n2'), makeNode('n3')];

  it('PreFilter Skip skips that plugin\'s Filter', () => {
    const skipper = preFilterPlugin('Skipper', SKIP, () => Status.unschedulable('should not run'));
    const { scheduler } = setup({ plugins: [{ plugin: skipper, points: ['preFilter', 'filter'] }], nodes: three });
    expect(scheduler.schedule(pod()).kind).toBe('scheduled');
  });

  it('without Skip the same Filter rejects every node', () => {
    const p = preFilterPlugin('P', null, () => Status.unschedulable('nope'));
    const { scheduler } = setup({ plugins: [{ plugin: p, points: ['preFilter', 'filter'] }], nodes: three });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'unschedulable' && r.message).toBe('0/3 nodes are available: 3 nope.');
  });

  it('PreFilter rejection: "0/N nodes are available: <msg>." and no Filter runs', () => {
    const p = preFilterPlugin('PTS', Status.unresolvable("node(s) didn't match pod topology spread constraints"));
    const f = filterPlugin('F', () => null);
    const { scheduler } = setup({
      plugins: [
        { plugin: p, points: ['preFilter'] },
        { plugin: f, points: ['filter'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.message).toBe("0/3 nodes are available: node(s) didn't match pod topology spread constraints.");
    expect([...r.diagnosis.unschedulablePlugins]).toEqual(['PTS']);
    expect(r.numAllNodes).toBe(3);
    expect(f.calls).toHaveLength(0);
  });

  it('a PreFilter error is an error result', () => {
    const p = preFilterPlugin('P', Status.error('cannot list'));
    const { scheduler } = setup({ plugins: [{ plugin: p, points: ['preFilter'] }], nodes: three });
    expect(scheduler.schedule(pod())).toMatchObject({ kind: 'error', plugin: 'P', message: 'running PreFilter plugin "P": cannot list' });
  });

  it('nodeNames restriction: only those nodes are filtered; the others count as "didn\'t satisfy plugin(s) [X]"', () => {
    const p = preFilterPlugin('NodeAffinity', { nodeNames: new Set(['n2', 'n3', 'ghost']) });
    const f = filterPlugin('Fit', () => Status.unschedulable('Insufficient cpu'));
    const { scheduler } = setup({
      plugins: [
        { plugin: p, points: ['preFilter'] },
        { plugin: f, points: ['filter'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(f.calls.sort()).toEqual(['n2', 'n3']);
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.message).toBe("0/3 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 2 Insufficient cpu.");
    expect([...r.diagnosis.unschedulablePlugins].sort()).toEqual(['Fit', 'NodeAffinity']);
  });

  it('a restriction to a single node schedules there without scoring', () => {
    const p = preFilterPlugin('NodeName', { nodeNames: new Set(['n3']) });
    const a = scorePlugin('A', {});
    const { scheduler } = setup({
      plugins: [
        { plugin: p, points: ['preFilter'] },
        { plugin: a, points: ['score'] },
      ],
      nodes: three,
    });
    expect(scheduler.schedule(pod())).toMatchObject({ kind: 'scheduled', nodeName: 'n3' });
    expect(a.calls).toBe(0);
  });

  it('disjoint restrictions reject with the simultaneous message', () => {
    const p1 = preFilterPlugin('A', { nodeNames: new Set(['n1']) });
    const p2 = preFilterPlugin('B', { nodeNames: new Set(['n2']) });
    const { scheduler } = setup({
      plugins: [
        { plugin: p1, points: ['preFilter'] },
        { plugin: p2, points: ['preFilter'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'unschedulable' && r.message).toBe("0/3 nodes are available: node(s) didn't satisfy plugin(s) [A B] simultaneously.");
  });
});

describe('PodScheduler: unschedulable results and PostFilter', () => {
  const three = [makeNode('n1'), makeNode('n2'), makeNode('n3')];

  it('records each rejection and appends the PostFilter message', () => {
    const f = filterPlugin('TaintToleration', (n) =>
      n.name === 'n1' ? Status.unresolvable('node(s) had untolerated taint {dedicated: gpu}') : Status.unschedulable('Insufficient cpu'),
    );
    const post: PostFilterPlugin & { seen: number } = {
      name: 'DefaultPreemption',
      seen: 0,
      postFilter: (_s, _p, diagnosis, numAllNodes) => {
        post.seen = diagnosis.nodeToStatus.size + numAllNodes;
        return { status: Status.unschedulable('preemption: not eligible due to preemptionPolicy=Never.') };
      },
    };
    const { scheduler } = setup({
      plugins: [
        { plugin: f, points: ['filter'] },
        { plugin: post, points: ['postFilter'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.message).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    );
    expect(post.seen).toBe(6);
    expect(r.postFilter?.status.message).toContain('preemption');
    expect(r.diagnosis.nodeToStatus.get('n1')?.plugin).toBe('TaintToleration');
  });

  it('a successful PostFilter carries its nomination', () => {
    const f = filterPlugin('F', () => Status.unschedulable('Insufficient cpu'));
    const post: PostFilterPlugin = {
      name: 'DefaultPreemption',
      postFilter: () => ({ status: new Status(0), nominatedNodeName: 'n2' }),
    };
    const { scheduler } = setup({
      plugins: [
        { plugin: f, points: ['filter'] },
        { plugin: post, points: ['postFilter'] },
      ],
      nodes: three,
    });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'unschedulable' && r.postFilter?.nominatedNodeName).toBe('n2');
    expect(r.kind === 'unschedulable' && r.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
  });

  it('a Filter Error status is an error result', () => {
    const f = filterPlugin('F', () => Status.error('disk on fire'));
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: three });
    expect(scheduler.schedule(pod())).toMatchObject({ kind: 'error', plugin: 'F', message: 'running "F" filter plugin: disk on fire' });
  });

  it('no nodes: unschedulable with upstream ErrNoNodesAvailable text, no PostFilter', () => {
    const { scheduler } = setup({ plugins: [], nodes: [] });
    const r = scheduler.schedule(pod());
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.message).toBe('no nodes available to schedule pods');
    expect(r.numAllNodes).toBe(0);
    expect(r.postFilter).toBeUndefined();
  });
});

describe('PodScheduler: explanation', () => {
  it('records every evaluated node\'s verdict and every plugin\'s raw, normalized and weighted scores', () => {
    const f = filterPlugin('F', (n) => (n.name === 'n1' ? Status.unschedulable('Insufficient cpu', 'Insufficient memory') : null));
    const a = scorePlugin('A', { n2: 2, n3: 4 }, (_s, _p, _nodes, scores) => {
      for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] as number) * 10;
      return null;
    });
    const b = scorePlugin('B', { n2: 30, n3: 0 });
    const { scheduler } = setup({
      plugins: [
        { plugin: f, points: ['filter'] },
        { plugin: a, points: ['score'], weight: 2 },
        { plugin: b, points: ['score'], weight: 1 },
      ],
      nodes: [makeNode('n1'), makeNode('n2'), makeNode('n3')],
    });
    const options: ScheduleOptions = { explain: true };
    const r = scheduler.schedule(pod(), options);
    expect(r.kind).toBe('scheduled');
    if (r.kind !== 'scheduled') return;
    // n2 = 40 + 30 = 70, n3 = 80 + 0 = 80
    expect(r.nodeName).toBe('n3');
    expect(r.explanation).toEqual([
      { node: 'n1', verdict: 'Unschedulable', plugin: 'F', reasons: ['Insufficient cpu', 'Insufficient memory'] },
      {
        node: 'n2',
        verdict: 'feasible',
        total: 70,
        scores: [
          { plugin: 'A', weight: 2, raw: 2, normalized: 20, weighted: 40 },
          { plugin: 'B', weight: 1, raw: 30, normalized: 30, weighted: 30 },
        ],
      },
      {
        node: 'n3',
        verdict: 'feasible',
        total: 80,
        scores: [
          { plugin: 'A', weight: 2, raw: 4, normalized: 40, weighted: 80 },
          { plugin: 'B', weight: 1, raw: 0, normalized: 0, weighted: 0 },
        ],
      },
    ]);
  });

  it('explains a PreFilter rejection for every node', () => {
    const p = preFilterPlugin('P', Status.unresolvable('nope'));
    const { scheduler } = setup({ plugins: [{ plugin: p, points: ['preFilter'] }], nodes: 2 });
    const r = scheduler.schedule(pod(), { explain: true });
    expect(r.kind === 'unschedulable' && r.explanation).toEqual([
      { node: nodeName(0), verdict: 'UnschedulableAndUnresolvable', plugin: 'P', reasons: ['nope'] },
      { node: nodeName(1), verdict: 'UnschedulableAndUnresolvable', plugin: 'P', reasons: ['nope'] },
    ]);
  });

  it('no explanation unless asked', () => {
    const { scheduler } = setup({ plugins: [], nodes: 2 });
    const r = scheduler.schedule(pod());
    expect(r.kind === 'scheduled' && 'explanation' in r).toBe(false);
  });
});

describe('Framework construction', () => {
  it('plugins without a factory are inert; a plugin enabled at a point it lacks is an error', () => {
    const profile = emptyProfile();
    profile.plugins.filter.push({ name: 'VolumeBinding', weight: 1 });
    const fw = makeFramework(makeCluster([]), profile, new PluginCatalog([]));
    expect(fw.inert).toEqual(['VolumeBinding']);
    const bad = emptyProfile();
    bad.plugins.score.push({ name: 'OnlyFilter', weight: 1 });
    const plugins = new PluginCatalog([testDescriptor(filterPlugin('OnlyFilter', () => null))]);
    expect(() => makeFramework(makeCluster([]), bad, plugins)).toThrow(/no score implementation/);
  });

  it('one instance per plugin across points', () => {
    let created = 0;
    const profile = emptyProfile();
    profile.plugins.preFilter.push({ name: 'X', weight: 1 });
    profile.plugins.filter.push({ name: 'X', weight: 1 });
    const plugins = new PluginCatalog([
      {
        name: 'X',
        points: ['preFilter', 'filter'],
        events: [],
        create: () => {
          created++;
          return preFilterPlugin('X', null, () => null);
        },
      },
    ]);
    const fw = makeFramework(makeCluster([]), profile, plugins);
    expect(created).toBe(1);
    expect(fw.preFilter[0]).toBe(fw.filter[0]);
  });
});

describe('PodScheduler: no score plugins', () => {
  it('stops at the first feasible node, as upstream does without scoring', () => {
    const seen: string[] = [];
    const f = filterPlugin('F', (node) => {
      seen.push(node.name);
      return null;
    });
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }], nodes: 300, noScore: true });
    const r = scheduler.schedule(podInfo('p'));
    expect(r.kind).toBe('scheduled');
    expect(seen).toEqual(['n0000']);
    if (r.kind === 'scheduled') expect(r.feasibleNodes).toBe(1);
  });
});

describe('PodScheduler: plugin execution timing (sampled cycles)', () => {
  it('reports each plugin once per extension point with its worst status, only when asked', () => {
    const f = filterPlugin('F', (n) => (n.name === 'n0001' ? Status.unschedulable('no') : null));
    const sc = scorePlugin('S', { n0000: 10, n0002: 20 });
    const { scheduler } = setup({ plugins: [{ plugin: f, points: ['filter'] }, { plugin: sc, points: ['score'] }], nodes: 3 });
    let clock = 0;
    const now = (): number => (clock += 1);
    const points: string[] = [];
    const plugins: Array<[string, string, string]> = [];
    const seconds = new Map<string, number>();
    const r = scheduler.schedule(pod(), {
      timing: {
        now,
        observe: (point) => points.push(point),
        observePlugin: (plugin, point, status, s) => {
          expect(s).toBeGreaterThan(0);
          plugins.push([plugin, point, status]);
          seconds.set(`${plugin}/${point}`, s);
        },
      },
    });
    expect(r.kind).toBe('scheduled');
    // Score is timed around its loop over the two feasible nodes (one clock step), not around each call.
    expect(seconds.get('S/Score')).toBe(0.001);
    expect(points).toEqual(['PreFilter', 'Filter', 'PreScore', 'Score']);
    expect(plugins.sort()).toEqual([
      ['F', 'Filter', 'Unschedulable'],
      ['S', 'Score', 'Success'],
    ]);
    // Without observePlugin no plugin timing is taken (the plain lists run).
    plugins.length = 0;
    scheduler.schedule(pod(), { timing: { now, observe: () => {} } });
    expect(plugins).toEqual([]);
  });
});
