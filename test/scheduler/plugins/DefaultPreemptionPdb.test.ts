/**
 * PodDisruptionBudgets in DefaultPreemption (upstream v1.37 FilterVictimsWithPDBViolation, SelectVictimsOnNode's
 * reprieve order, DryRunPreemption's two candidate lists, pickOneNodeForPreemption's first score). Every node holds
 * 1-cpu pods; the numbers are worked in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, PodDisruptionBudget } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { PodScheduler } from '../../../src/scheduler/framework/schedulePod.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import type { PostFilterResult } from '../../../src/scheduler/framework/types.js';
import * as DefaultPreemption from '../../../src/scheduler/plugins/DefaultPreemption.js';
import { budgetsByNamespace, filterPodsWithPDBViolation } from '../../../src/scheduler/plugins/disruptionBudgets.js';
import * as NodeResourcesFit from '../../../src/scheduler/plugins/NodeResourcesFit.js';
import { SeededRandom } from '../../../src/scheduler/random.js';
import type { ProfileConfig } from '../../../src/config/types.js';
import { emptyProfile, makeCluster, makeFramework, makeNode, makePod } from '../../helpers/builders.js';

const PLUGINS = new PluginCatalog([NodeResourcesFit.descriptor, DefaultPreemption.descriptor]);

function profile(args?: { minCandidateNodesPercentage: number; minCandidateNodesAbsolute: number }): ProfileConfig {
  const p = emptyProfile();
  p.plugins.preFilter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
  p.plugins.filter = [{ name: NodeResourcesFit.NAME, weight: 1 }];
  p.plugins.postFilter = [{ name: DefaultPreemption.NAME, weight: 1 }];
  if (args) p.pluginArgs = new Map([...p.pluginArgs, [DefaultPreemption.NAME, args]]);
  return p;
}

function running(name: string, nodeName: string, priority: number, labels: Record<string, string> = {}, namespace = 'default'): Pod {
  return makePod(name, { nodeName, priority, cpu: '1', labels, namespace, uid: `uid-${name}` });
}

function pdb(name: string, selector: PodDisruptionBudget['spec'], allowed: number, disrupted: string[] = [], namespace = 'default'): PodDisruptionBudget {
  return {
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    ...(selector ? { spec: selector } : {}),
    status: { disruptionsAllowed: allowed, disruptedPods: Object.fromEntries(disrupted.map((d) => [d, '2026-01-01T00:00:00Z'])) },
  };
}

function withBudgets(cluster: ClusterState, ...budgets: PodDisruptionBudget[]): ClusterState {
  for (const b of budgets) cluster.upsertObject('PodDisruptionBudget', b);
  return cluster;
}

function preempt(cluster: ClusterState, cpu: string, prof = profile()): PostFilterResult {
  const pod = new PodInfo(makePod('urgent', { cpu, priority: 10 }));
  const result = new PodScheduler(makeFramework(cluster, prof, PLUGINS), new SeededRandom(1)).schedule(pod);
  if (result.kind !== 'unschedulable' || !result.postFilter) throw new Error(`expected a PostFilter result, got ${result.kind}`);
  return result.postFilter;
}

const names = (pods: readonly PodInfo[] | undefined): string[] => (pods ?? []).map((p) => p.name);
const web = { selector: { matchLabels: { app: 'web' } } };

describe('filterPodsWithPDBViolation', () => {
  function split(pods: Pod[], ...budgets: PodDisruptionBudget[]): [string[], string[]] {
    const cluster = withBudgets(makeCluster([makeNode('n')], pods), ...budgets);
    const infos = pods.map((p) => cluster.getPod(p.metadata!.uid!) as PodInfo);
    const { violating, nonViolating } = filterPodsWithPDBViolation(infos, budgetsByNamespace(cluster));
    return [names(violating), names(nonViolating)];
  }
  const w = (name: string, labels: Record<string, string> = { app: 'web' }, ns?: string): Pod => running(name, 'n', 1, labels, ns);

  it('charges the budget in the order given: with 1 disruption allowed, the second and third pods violate', () => {
    expect(split([w('w1'), w('w2'), w('w3')], pdb('b', web, 1))).toEqual([['w2', 'w3'], ['w1']]);
  });

  it('a budget without status allows no disruption (as a new one before the disruption controller has synced)', () => {
    const fresh: PodDisruptionBudget = { kind: 'PodDisruptionBudget', metadata: { name: 'fresh', namespace: 'default' }, spec: web };
    expect(split([w('w1')], fresh)).toEqual([['w1'], []]);
  });

  it('a pod already in disruptedPods costs nothing', () => {
    // 0 allowed; w1 is being disrupted already (not charged), w2 takes the budget below 0.
    expect(split([w('w1'), w('w2')], pdb('b', web, 0, ['w1']))).toEqual([['w2'], ['w1']]);
  });

  it('only budgets of the pod’s namespace apply; unlabelled pods never violate', () => {
    expect(split([w('other', { app: 'web' }, 'team-b'), w('bare', {})], pdb('b', web, 0))).toEqual([[], ['other', 'bare']]);
  });

  it('missing, empty and invalid selectors match nothing', () => {
    const budgets = [
      pdb('none', undefined, 0),
      pdb('empty', { selector: {} }, 0),
      pdb('in-without-values', { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } }, 0),
      pdb('exists-with-values', { selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] } }, 0),
      pdb('bad-operator', { selector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['web'] }] } }, 0),
    ];
    expect(split([w('w1')], ...budgets)).toEqual([[], ['w1']]);
    // The same pod against a valid expression selector violates.
    expect(split([w('w1')], pdb('ok', { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } }, 0))).toEqual([['w1'], []]);
  });

  it('stops charging at the first budget that goes negative, as upstream', () => {
    // w1 matches "strict" (0 allowed, listed first) and "loose" (1 allowed): it violates at "strict", so "loose" keeps
    // its one disruption and w2 (only in "loose") does not violate.
    const strict = pdb('strict', { selector: { matchLabels: { tier: 'gold' } } }, 0);
    const loose = pdb('loose', web, 1);
    expect(split([w('w1', { app: 'web', tier: 'gold' }), w('w2')], strict, loose)).toEqual([['w1'], ['w2']]);
  });
});

describe('DefaultPreemption with PodDisruptionBudgets', () => {
  it('reprieves the violating victims first, so another pod is evicted instead', () => {
    // n: 3 cpu, full. a (priority 1, in a budget with 0 allowed), b (2), c (3). The pod needs 1 cpu.
    // Without the budget: reprieve c (2 free), b (1 free), a does not fit → a is the victim.
    const pods = [running('a', 'n', 1, { app: 'web' }), running('b', 'n', 2), running('c', 'n', 3)];
    const plain = preempt(makeCluster([makeNode('n', { cpu: '3' })], pods), '1');
    expect(names(plain.victims)).toEqual(['a']);
    // With it: a is reprieved first (2 free), then c (1 free), then b does not fit → b is the victim, no violation.
    const guarded = preempt(withBudgets(makeCluster([makeNode('n', { cpu: '3' })], pods), pdb('web', web, 0)), '1');
    expect(names(guarded.victims)).toEqual(['b']);
  });

  it('evicts violating pods when nothing else makes room, most important first in the victim list', () => {
    // n: 4 cpu, full: a (1, web), b (2), c (3, web), d (4). The pod needs all 4: everyone goes.
    // Violating in importance order: c, a (0 allowed); victims appended c, a, d, b, then re-sorted: d, c, b, a.
    const pods = [running('a', 'n', 1, { app: 'web' }), running('b', 'n', 2), running('c', 'n', 3, { app: 'web' }), running('d', 'n', 4)];
    const pf = preempt(withBudgets(makeCluster([makeNode('n', { cpu: '4' })], pods), pdb('web', web, 0)), '4');
    expect(pf.nominatedNodeName).toBe('n');
    expect(names(pf.victims)).toEqual(['d', 'c', 'b', 'a']);
    expect(pf.status.message).toBe('preemption: found a potential placement for pod on node n, preempting 4 victims');
  });

  it('prefers the node with fewer PDB violations over a lower-priority victim', () => {
    // n1's only pod has priority 1 but is guarded (0 allowed); n2's has priority 5. Without the budget n1 wins
    // (lower highest-victim priority); with it n2 does (0 violations against 1).
    const nodes = [makeNode('n1', { cpu: '1' }), makeNode('n2', { cpu: '1' })];
    const pods = (): Pod[] => [running('guarded', 'n1', 1, { app: 'web' }), running('free', 'n2', 5)];
    expect(preempt(makeCluster(nodes, pods()), '1').nominatedNodeName).toBe('n1');
    const pf = preempt(withBudgets(makeCluster(nodes, pods()), pdb('web', web, 0)), '1');
    expect(pf.nominatedNodeName).toBe('n2');
    expect(names(pf.victims)).toEqual(['free']);
  });

  it('with a budget that still allows the disruption, nothing changes', () => {
    const nodes = [makeNode('n1', { cpu: '1' }), makeNode('n2', { cpu: '1' })];
    const pods = [running('guarded', 'n1', 1, { app: 'web' }), running('free', 'n2', 5)];
    expect(preempt(withBudgets(makeCluster(nodes, pods), pdb('web', web, 1)), '1').nominatedNodeName).toBe('n1');
  });

  it('the dry run keeps looking past violating candidates until one without violations is found', () => {
    // Wanted: 1 candidate. "first" (node order) only offers a guarded victim; upstream keeps searching until it has a
    // candidate without violations, finds "second", and picks it.
    const nodes = [makeNode('first', { cpu: '1' }), makeNode('second', { cpu: '1' })];
    const pods = [running('guarded', 'first', 1, { app: 'web' }), running('free', 'second', 5)];
    const one = profile({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1 });
    expect(preempt(withBudgets(makeCluster(nodes, pods), pdb('web', web, 0)), '1', one).nominatedNodeName).toBe('second');
    // Without violations the first candidate is enough.
    expect(preempt(makeCluster(nodes, pods), '1', one).nominatedNodeName).toBe('first');
  });

  it('when every candidate violates, the one with the fewest violations wins', () => {
    // a: two guarded 1-cpu pods at priority 1 must both go (2 violations); b: one guarded 2-cpu pod at priority 5
    // (1 violation). Without the budget a wins (highest victim priority 1 < 5); with it b does (1 violation < 2).
    const nodes = [makeNode('a', { cpu: '2' }), makeNode('b', { cpu: '2' })];
    const pods = (): Pod[] => [
      running('a1', 'a', 1, { app: 'web' }),
      running('a2', 'a', 1, { app: 'web' }),
      makePod('big', { nodeName: 'b', priority: 5, cpu: '2', labels: { app: 'web' }, uid: 'uid-big' }),
    ];
    expect(preempt(makeCluster(nodes, pods()), '2').nominatedNodeName).toBe('a');
    const pf = preempt(withBudgets(makeCluster(nodes, pods()), pdb('web', web, 0)), '2');
    expect(pf.nominatedNodeName).toBe('b');
    expect(names(pf.victims)).toEqual(['big']);
  });
});
