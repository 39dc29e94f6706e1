import { describe, expect, it } from 'vitest';
import type { Node, Pod, ReplicaSet, ReplicationController, StatefulSet, TopologySpreadConstraint } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { Code, CycleState, SKIP, type Status } from '../../../src/scheduler/framework/types.js';
import type { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { descriptor, NAME, PodTopologySpread, type PodTopologySpreadArgs } from '../../../src/scheduler/plugins/PodTopologySpread.js';
import { createPlugin, makeCluster, makeNode, makePod, podInfo, type PodOptions, makeHandle } from '../../helpers/builders.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';
const MISSING = "node(s) didn't match pod topology spread constraints (missing required label)";
const NOT_MATCH = "node(s) didn't match pod topology spread constraints";

function zoneNode(name: string, zone: string | undefined, extra: Parameters<typeof makeNode>[1] = {}): Node {
  const labels = { ...(zone === undefined ? {} : { [ZONE]: zone }), ...(extra.labels ?? {}) };
  return makeNode(name, { ...extra, labels });
}

let seq = 0;
/** `n` pods labelled app=web (or `labels`) assigned to `node`. */
function pods(node: string, n: number, opts: PodOptions = {}): Pod[] {
  const out: Pod[] = [];
  for (let i = 0; i < n; i++) out.push(makePod(`${node}-p${seq++}`, { labels: { app: 'web' }, ...opts, nodeName: node }));
  return out;
}

function terminating(pod: Pod): Pod {
  return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
}

function plugin(cluster: ClusterState, args?: Partial<PodTopologySpreadArgs>): PodTopologySpread {
  return createPlugin(descriptor, makeHandle(cluster), { ...descriptor.args.defaults(), ...(args ?? {}) }) as PodTopologySpread;
}

function constraint(key: string, maxSkew: number, extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint {
  return {
    maxSkew,
    topologyKey: key,
    whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchLabels: { app: 'web' } },
    ...extra,
  };
}

function incoming(constraints: TopologySpreadConstraint[], opts: PodOptions = {}): PodInfo {
  return podInfo('incoming', {
    labels: { app: 'web' },
    ...opts,
    spec: { topologySpreadConstraints: constraints, ...(opts.spec ?? {}) },
  });
}

/** Runs PreFilter over all nodes, then Filter on each: node name → null (fits) or "<code>:<message>". */
function filterAll(pl: PodTopologySpread, cluster: ClusterState, pod: PodInfo): Record<string, string | null> {
  const state = new CycleState();
  const pre = pl.preFilter(state, pod, cluster.nodes());
  expect(pre).toBeNull();
  const out: Record<string, string | null> = {};
  for (const n of cluster.nodes()) {
    const s: Status | null = pl.filter(state, pod, n);
    out[n.name] = s === null ? null : `${Code[s.code]}:${s.message}`;
  }
  return out;
}

/** Runs PreScore over `feasible` (default all), Score and NormalizeScore: [raw, normalized] by node name. */
function scoreAll(
  pl: PodTopologySpread,
  cluster: ClusterState,
  pod: PodInfo,
  feasibleNames?: string[],
): { raw: Record<string, number>; norm: Record<string, number> } {
  const feasible: NodeInfo[] = feasibleNames
    ? feasibleNames.map((n) => cluster.getNode(n) as NodeInfo)
    : [...cluster.nodes()];
  const state = new CycleState();
  expect(pl.preScore(state, pod, feasible)).toBeNull();
  const scores = new Float64Array(feasible.length);
  feasible.forEach((n, i) => (scores[i] = pl.score(state, pod, n)));
  const raw: Record<string, number> = {};
  feasible.forEach((n, i) => (raw[n.name] = scores[i] as number));
  expect(pl.normalizeScore(state, pod, feasible, scores)).toBeNull();
  const norm: Record<string, number> = {};
  feasible.forEach((n, i) => (norm[n.name] = scores[i] as number));
  return { raw, norm };
}

const UNSCHED = `Unschedulable:${NOT_MATCH}`;
const UNRESOLVABLE = `UnschedulableAndUnresolvable:${MISSING}`;

describe('PodTopologySpread exports', () => {
  it('names the plugin as upstream', () => {
    expect(NAME).toBe('PodTopologySpread');
    const pl = plugin(makeCluster([]));
    expect(pl.name).toBe('PodTopologySpread');
  });
});

describe('PodTopologySpread filter', () => {
  // zone a: a1 (2 matching pods), a2 (1); zone b: b1 (1); zone c: c1 (0) → counts a=3, b=1, c=0, min 0.
  function threeZones(): ClusterState {
    return makeCluster(
      [zoneNode('a1', 'a'), zoneNode('a2', 'a'), zoneNode('b1', 'b'), zoneNode('c1', 'c')],
      [...pods('a1', 2), ...pods('a2', 1), ...pods('b1', 1)],
    );
  }

  it('zone key, maxSkew 1: only the emptiest zone fits (skew = count + 1 − 0)', () => {
    const cluster = threeZones();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // a: 3+1−0 = 4 > 1; b: 1+1 = 2 > 1; c: 0+1 = 1.
    expect(res).toEqual({ a1: UNSCHED, a2: UNSCHED, b1: UNSCHED, c1: null });
  });

  it('zone key, maxSkew 2: zone b fits too', () => {
    const cluster = threeZones();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 2)]));
    // a: 4 > 2; b: 2 ≤ 2; c: 1.
    expect(res).toEqual({ a1: UNSCHED, a2: UNSCHED, b1: null, c1: null });
  });

  it('a pod that does not match its own selector adds no self-match', () => {
    const cluster = threeZones();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)], { labels: { app: 'other' } }));
    // a: 3 > 1; b: 1 ≤ 1; c: 0.
    expect(res).toEqual({ a1: UNSCHED, a2: UNSCHED, b1: null, c1: null });
  });

  it('hostname key: per-node domains', () => {
    const cluster = makeCluster(
      [makeNode('n1'), makeNode('n2'), makeNode('n3')],
      [...pods('n1', 1), ...pods('n3', 2)],
    );
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(HOST, 1)]));
    // min 0 (n2): n1 1+1 = 2 > 1; n2 1; n3 3 > 1.
    expect(res).toEqual({ n1: UNSCHED, n2: null, n3: UNSCHED });
  });

  it('global minimum is the least loaded domain, not 0', () => {
    const cluster = makeCluster([zoneNode('a1', 'a'), zoneNode('b1', 'b')], [...pods('a1', 3), ...pods('b1', 2)]);
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // min 2: a 3+1−2 = 2 > 1; b 2+1−2 = 1.
    expect(res).toEqual({ a1: UNSCHED, b1: null });
  });

  it('a node without the topology key is unresolvable and its pods are not counted', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a'), zoneNode('b1', 'b'), zoneNode('x', undefined)],
      [...pods('a1', 1), ...pods('b1', 1), ...pods('x', 5)],
    );
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // Domains a=1, b=1 (x ignored), min 1: 1+1−1 = 1 ≤ 1.
    expect(res).toEqual({ a1: null, b1: null, x: UNRESOLVABLE });
  });

  it('a node missing any constraint key is left out of every constraint', () => {
    // x has a zone but no "rack": its pods must not count for the zone constraint either.
    const cluster = makeCluster(
      [zoneNode('a1', 'a', { labels: { rack: 'r1' } }), zoneNode('b1', 'b', { labels: { rack: 'r2' } }), zoneNode('x', 'b')],
      [...pods('a1', 1), ...pods('b1', 1), ...pods('x', 4)],
    );
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1), constraint('rack', 1)]));
    expect(res).toEqual({ a1: null, b1: null, x: UNRESOLVABLE });
  });

  it('minDomains: fewer domains than minDomains makes the global minimum 0', () => {
    const cluster = makeCluster([zoneNode('a1', 'a'), zoneNode('b1', 'b')], [...pods('a1', 1), ...pods('b1', 1)]);
    const without = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // min 1: 1+1−1 = 1.
    expect(without).toEqual({ a1: null, b1: null });
    const withMin = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1, { minDomains: 3 })]));
    // 2 domains < 3 → min 0: 1+1−0 = 2 > 1.
    expect(withMin).toEqual({ a1: UNSCHED, b1: UNSCHED });
    const enough = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1, { minDomains: 2 })]));
    expect(enough).toEqual({ a1: null, b1: null });
  });

  // a1 (zone a, ssd, 1 pod), b1 (zone b, ssd, 1 pod), c1 (zone c, hdd, 0 pods); the pod wants disk=ssd.
  function affinityCluster(): ClusterState {
    return makeCluster(
      [
        zoneNode('a1', 'a', { labels: { disk: 'ssd' } }),
        zoneNode('b1', 'b', { labels: { disk: 'ssd' } }),
        zoneNode('c1', 'c', { labels: { disk: 'hdd' } }),
      ],
      [...pods('a1', 1), ...pods('b1', 1)],
    );
  }

  it('nodeAffinityPolicy Honor (default): nodes outside the nodeSelector are not domains', () => {
    const cluster = affinityCluster();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)], { spec: { nodeSelector: { disk: 'ssd' } } }));
    // Domains a=1, b=1 → min 1: a1, b1 skew 1. c1: 0+1−1 = 0 (NodeAffinity rejects it elsewhere).
    expect(res).toEqual({ a1: null, b1: null, c1: null });
  });

  it('nodeAffinityPolicy Honor also applies required node affinity terms', () => {
    const cluster = affinityCluster();
    const res = filterAll(
      plugin(cluster),
      cluster,
      incoming([constraint(ZONE, 1)], {
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }],
              },
            },
          },
        },
      }),
    );
    expect(res).toEqual({ a1: null, b1: null, c1: null });
  });

  it('nodeAffinityPolicy Ignore: every node with the key is a domain', () => {
    const cluster = affinityCluster();
    const res = filterAll(
      plugin(cluster),
      cluster,
      incoming([constraint(ZONE, 1, { nodeAffinityPolicy: 'Ignore' })], { spec: { nodeSelector: { disk: 'ssd' } } }),
    );
    // Domain c=0 counts → min 0: a1, b1 1+1 = 2 > 1.
    expect(res).toEqual({ a1: UNSCHED, b1: UNSCHED, c1: null });
  });

  function taintCluster(): ClusterState {
    return makeCluster(
      [
        zoneNode('a1', 'a'),
        zoneNode('b1', 'b'),
        zoneNode('c1', 'c', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
        zoneNode('d1', 'd', { taints: [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }] }),
      ],
      [...pods('a1', 1), ...pods('b1', 1), ...pods('d1', 1)],
    );
  }

  it('nodeTaintsPolicy Ignore (default): tainted nodes still count as domains', () => {
    const cluster = taintCluster();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // c=0 → min 0: a, b, d 2 > 1.
    expect(res).toEqual({ a1: UNSCHED, b1: UNSCHED, c1: null, d1: UNSCHED });
  });

  it('nodeTaintsPolicy Honor: nodes with untolerated NoSchedule/NoExecute taints are not domains', () => {
    const cluster = taintCluster();
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1, { nodeTaintsPolicy: 'Honor' })]));
    // c excluded; PreferNoSchedule on d does not exclude it → domains a=1, b=1, d=1, min 1.
    expect(res).toEqual({ a1: null, b1: null, c1: null, d1: null });
  });

  it('nodeTaintsPolicy Honor with a toleration keeps the node', () => {
    const cluster = taintCluster();
    const res = filterAll(
      plugin(cluster),
      cluster,
      incoming([constraint(ZONE, 1, { nodeTaintsPolicy: 'Honor' })], {
        spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] },
      }),
    );
    expect(res).toEqual({ a1: UNSCHED, b1: UNSCHED, c1: null, d1: UNSCHED });
  });

  it('counts only pods of the same namespace that are not terminating and match the selector', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a'), zoneNode('b1', 'b')],
      [
        ...pods('a1', 2, { namespace: 'other' }),
        ...pods('a1', 2, { labels: { app: 'db' } }),
        terminating(makePod('dying', { labels: { app: 'web' }, nodeName: 'a1' })),
        ...pods('b1', 1),
      ],
    );
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1)]));
    // a counts 0, b 1 → min 0: a 1, b 2 > 1.
    expect(res).toEqual({ a1: null, b1: UNSCHED });
  });

  it('matchLabelKeys narrows the selector to pods with the incoming pod\'s values', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a'), zoneNode('b1', 'b')],
      [...pods('a1', 3, { labels: { app: 'web', rev: 'v1' } }), ...pods('b1', 1, { labels: { app: 'web', rev: 'v2' } })],
    );
    const pod = incoming([constraint(ZONE, 1, { matchLabelKeys: ['rev'] })], { labels: { app: 'web', rev: 'v2' } });
    // Only rev=v2 counts: a=0, b=1 → a 1 fits, b 2 > 1.
    expect(filterAll(plugin(cluster), cluster, pod)).toEqual({ a1: null, b1: UNSCHED });
    const plain = incoming([constraint(ZONE, 1)], { labels: { app: 'web', rev: 'v2' } });
    // Without matchLabelKeys: a=3, b=1 → min 1: a 3+1−1 = 3 > 1, b 1+1−1 = 1.
    expect(filterAll(plugin(cluster), cluster, plain)).toEqual({ a1: UNSCHED, b1: null });
  });

  it('multiple constraints on the same key are counted independently', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a'), zoneNode('b1', 'b')],
      [...pods('a1', 2, { labels: { app: 'web' } }), ...pods('b1', 2, { labels: { tier: 'fe' } })],
    );
    const pod = incoming(
      [constraint(ZONE, 1), constraint(ZONE, 1, { labelSelector: { matchLabels: { tier: 'fe' } } })],
      { labels: { app: 'web', tier: 'fe' } },
    );
    // app=web: a=2, b=0 → a 3 > 1. tier=fe: a=0, b=2 → b 3 > 1.
    expect(filterAll(plugin(cluster), cluster, pod)).toEqual({ a1: UNSCHED, b1: UNSCHED });
  });

  it('an empty labelSelector counts no pods (v1.27–v1.36 countPodsMatchSelector)', () => {
    const cluster = makeCluster([zoneNode('a1', 'a'), zoneNode('b1', 'b')], [...pods('a1', 5)]);
    const res = filterAll(plugin(cluster), cluster, incoming([constraint(ZONE, 1, { labelSelector: {} })]));
    expect(res).toEqual({ a1: null, b1: null });
  });

  it('skips when the pod has no DoNotSchedule constraint', () => {
    const cluster = makeCluster([zoneNode('a1', 'a')]);
    const pl = plugin(cluster);
    expect(pl.preFilter(new CycleState(), podInfo('plain', { labels: { app: 'web' } }), cluster.nodes())).toBe(SKIP);
    const soft = incoming([constraint(ZONE, 1, { whenUnsatisfiable: 'ScheduleAnyway' })]);
    expect(pl.preFilter(new CycleState(), soft, cluster.nodes())).toBe(SKIP);
  });

  it('Filter without PreFilter state is an error', () => {
    const cluster = makeCluster([zoneNode('a1', 'a')]);
    const pl = plugin(cluster);
    const s = pl.filter(new CycleState(), incoming([constraint(ZONE, 1)]), cluster.getNode('a1') as NodeInfo);
    expect(s?.code).toBe(Code.Error);
  });
});

describe('PodTopologySpread score', () => {
  // zone a: a1 (2), a2 (1); zone b: b1 (1); zone c: c1 (0).
  function threeZones(): ClusterState {
    return makeCluster(
      [zoneNode('a1', 'a'), zoneNode('a2', 'a'), zoneNode('b1', 'b'), zoneNode('c1', 'c')],
      [...pods('a1', 2), ...pods('a2', 1), ...pods('b1', 1)],
    );
  }
  const soft = (key: string, maxSkew: number): TopologySpreadConstraint =>
    constraint(key, maxSkew, { whenUnsatisfiable: 'ScheduleAnyway' });

  it('zone constraint, maxSkew 1: cnt × ln(3 + 2), rounded, then reversed by max and min', () => {
    const cluster = threeZones();
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 1)]));
    // ln 5 = 1.6094: a 3 × 1.6094 = 4.83 → 5; b 1.61 → 2; c 0.
    expect(raw).toEqual({ a1: 5, a2: 5, b1: 2, c1: 0 });
    // max 5, min 0: 100 × (5 + 0 − s) / 5.
    expect(norm).toEqual({ a1: 0, a2: 0, b1: 60, c1: 100 });
  });

  it('maxSkew − 1 is added per constraint', () => {
    const cluster = threeZones();
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 3)]));
    // a 4.83 + 2 = 6.83 → 7; b 1.61 + 2 = 3.61 → 4; c 2.
    expect(raw).toEqual({ a1: 7, a2: 7, b1: 4, c1: 2 });
    // max 7, min 2: a 100×2/7 = 28; b 100×5/7 = 71; c 100.
    expect(norm).toEqual({ a1: 28, a2: 28, b1: 71, c1: 100 });
  });

  it('zone + hostname constraints: hostname weight ln(feasible − ignored + 2), per-node counts', () => {
    const cluster = threeZones();
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 1), soft(HOST, 2)]));
    // ln 5 = 1.6094, ln 6 = 1.7918.
    // a1: 3×1.6094 + 2×1.7918 + 1 = 9.41 → 9; a2: 4.83 + 1.79 + 1 = 7.62 → 8;
    // b1: 1.61 + 1.79 + 1 = 4.40 → 4; c1: 0 + 0 + 1 = 1.
    expect(raw).toEqual({ a1: 9, a2: 8, b1: 4, c1: 1 });
    // max 9, min 1: 100 × (10 − s) / 9 → 11, 22, 66, 100.
    expect(norm).toEqual({ a1: 11, a2: 22, b1: 66, c1: 100 });
  });

  it('domains come from the feasible nodes, counts from all nodes', () => {
    const cluster = threeZones();
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 1)]), ['a1', 'b1']);
    // Domains a, b → ln 4 = 1.3863; a counts a2's pod too: 3 × 1.3863 = 4.16 → 4; b 1.39 → 1.
    expect(raw).toEqual({ a1: 4, b1: 1 });
    // max 4, min 1: a 100×1/4 = 25; b 100.
    expect(norm).toEqual({ a1: 25, b1: 100 });
  });

  it('feasible nodes missing a key score 0 and stay out of min/max', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a'), zoneNode('a2', 'a'), zoneNode('b1', 'b'), zoneNode('x', undefined)],
      [...pods('a1', 2), ...pods('a2', 1), ...pods('b1', 1), ...pods('x', 9)],
    );
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 1)]), ['a1', 'b1', 'x']);
    expect(raw).toEqual({ a1: 4, b1: 1, x: 0 });
    expect(norm).toEqual({ a1: 25, b1: 100, x: 0 });
  });

  it('with the pod\'s own constraints, unfeasible nodes missing a key are not counted either', () => {
    const cluster = makeCluster(
      [
        zoneNode('a1', 'a', { labels: { rack: 'r1' } }),
        zoneNode('b1', 'b', { labels: { rack: 'r2' } }),
        zoneNode('a9', 'a'), // no rack: left out of the zone counts too
      ],
      [...pods('a1', 1), ...pods('b1', 1), ...pods('a9', 3)],
    );
    const pod = incoming([soft(ZONE, 1), soft('rack', 1)]);
    // Zone domains a, b (ln 4 = 1.3863), rack domains r1, r2 (ln 4): each node 1×1.3863 + 1×1.3863 = 2.77 → 3.
    expect(scoreAll(plugin(cluster), cluster, pod, ['a1', 'b1']).raw).toEqual({ a1: 3, b1: 3 });
  });

  it('all raw scores 0 → every scored node gets 100, ignored nodes 0', () => {
    const cluster = makeCluster([zoneNode('a1', 'a'), zoneNode('b1', 'b'), zoneNode('x', undefined)]);
    const { raw, norm } = scoreAll(plugin(cluster), cluster, incoming([soft(ZONE, 1)]));
    expect(raw).toEqual({ a1: 0, b1: 0, x: 0 });
    expect(norm).toEqual({ a1: 100, b1: 100, x: 0 });
  });

  it('nodeAffinityPolicy Honor leaves non-matching nodes out of the domain counts', () => {
    const cluster = makeCluster(
      [zoneNode('a1', 'a', { labels: { disk: 'ssd' } }), zoneNode('a2', 'a', { labels: { disk: 'hdd' } }), zoneNode('b1', 'b', { labels: { disk: 'ssd' } })],
      [...pods('a1', 1), ...pods('a2', 4), ...pods('b1', 1)],
    );
    const pod = incoming([soft(ZONE, 1)], { spec: { nodeSelector: { disk: 'ssd' } } });
    // Domains a, b → ln 4; a counts only a1 (1): 1.39 → 1; b 1.39 → 1.
    expect(scoreAll(plugin(cluster), cluster, pod, ['a1', 'b1']).raw).toEqual({ a1: 1, b1: 1 });
    const ignore = incoming([constraint(ZONE, 1, { whenUnsatisfiable: 'ScheduleAnyway', nodeAffinityPolicy: 'Ignore' })], {
      spec: { nodeSelector: { disk: 'ssd' } },
    });
    // With Ignore a counts 5: 5 × 1.3863 = 6.93 → 7.
    expect(scoreAll(plugin(cluster), cluster, ignore, ['a1', 'b1']).raw).toEqual({ a1: 7, b1: 1 });
  });

  it('skips PreScore when the pod has no ScheduleAnyway constraint', () => {
    const cluster = threeZones();
    const pl = plugin(cluster);
    expect(pl.preScore(new CycleState(), incoming([constraint(ZONE, 1)]), cluster.nodes())).toBe(SKIP);
  });

  it('skips PreScore when the cluster has no nodes', () => {
    const cluster = makeCluster([]);
    expect(plugin(cluster).preScore(new CycleState(), incoming([soft(ZONE, 1)]), [])).toBe(SKIP);
  });
});

describe('PodTopologySpread default constraints', () => {
  function service(name: string, selector: Record<string, string>, namespace = 'default') {
    return { metadata: { name, namespace }, spec: { selector } };
  }

  // a1 (zone a, 1 web pod), a2 (zone a, 0 web, 1 other), b1 (zone b, 2 web), x1 (no zone, 1 web).
  function cluster(): ClusterState {
    return makeCluster(
      [zoneNode('a1', 'a'), zoneNode('a2', 'a'), zoneNode('b1', 'b'), zoneNode('x1', undefined)],
      [...pods('a1', 1), ...pods('a2', 1, { labels: { app: 'other' } }), ...pods('b1', 2), ...pods('x1', 1)],
    );
  }

  it('System defaults with a Service selecting the pod: hostname maxSkew 3 + zone maxSkew 5', () => {
    const c = cluster();
    c.upsertObject('Service', service('web', { app: 'web' }));
    const pl = plugin(c);
    const pod = podInfo('incoming', { labels: { app: 'web', extra: 'x' } });
    // No DoNotSchedule defaults → the filter is skipped.
    expect(pl.preFilter(new CycleState(), pod, c.nodes())).toBe(SKIP);
    const { raw, norm } = scoreAll(pl, c, pod);
    // System defaulting does not require every key: x1 is scored (hostname only). Zone domains from the feasible
    // nodes include x1's missing label as "" → 3 domains, weight ln 5 = 1.6094; hostname weight ln 6 = 1.7918.
    // Zone counts a = 1, b = 2.
    // a1: 1×1.6094 + 4 + 1×1.7918 + 2 = 9.40 → 9
    // a2: 1.6094 + 4 + 0 + 2 = 7.61 → 8
    // b1: 2×1.6094 + 4 + 2×1.7918 + 2 = 12.80 → 13
    // x1: 1.7918 + 2 = 3.79 → 4
    expect(raw).toEqual({ a1: 9, a2: 8, b1: 13, x1: 4 });
    // max 13, min 4: 100 × (17 − s) / 13 → 61, 69, 30, 100.
    expect(norm).toEqual({ a1: 61, a2: 69, b1: 30, x1: 100 });
  });

  it('no Service or controller selects the pod → PreFilter and PreScore skip', () => {
    const c = cluster();
    c.upsertObject('Service', service('db', { app: 'db' }));
    c.upsertObject('Service', service('web-elsewhere', { app: 'web' }, 'other'));
    c.upsertObject('Service', service('empty', {}));
    const pl = plugin(c);
    const pod = podInfo('incoming', { labels: { app: 'web' } });
    expect(pl.preFilter(new CycleState(), pod, c.nodes())).toBe(SKIP);
    expect(pl.preScore(new CycleState(), pod, c.nodes())).toBe(SKIP);
  });

  it('a pod with its own constraints never uses the defaults', () => {
    const c = cluster();
    c.upsertObject('Service', service('web', { app: 'web' }));
    const pod = incoming([constraint(ZONE, 1)]);
    expect(plugin(c).preScore(new CycleState(), pod, c.nodes())).toBe(SKIP);
  });

  it('the controlling ReplicaSet supplies the selector', () => {
    const c = cluster();
    const rs: ReplicaSet = {
      metadata: { name: 'web-rs', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } } },
    };
    c.upsertObject('ReplicaSet', rs);
    const pl = plugin(c);
    const base = makePod('incoming', { labels: { app: 'web' } });
    const owned = new PodInfo({
      ...base,
      metadata: { ...base.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', controller: true }] },
    });
    expect(scoreAll(pl, c, owned).raw).toEqual({ a1: 9, a2: 8, b1: 13, x1: 4 });
    // Not the controller (controller unset) → ignored → Skip.
    const notController = new PodInfo({
      ...base,
      metadata: { ...base.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs' }] },
    });
    expect(pl.preScore(new CycleState(), notController, c.nodes())).toBe(SKIP);
  });

  it('a controlling ReplicationController (apiVersion v1) supplies the selector; other apiVersions do not', () => {
    const c = cluster();
    c.upsertObject('ReplicationController', { metadata: { name: 'web-rc', namespace: 'default' }, spec: { selector: { app: 'web' } } } as ReplicationController);
    c.upsertObject('ReplicaSet', { metadata: { name: 'web-rs', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } } as ReplicaSet);
    const pl = plugin(c);
    const owned = (apiVersion: string, kind: string, name: string): PodInfo => {
      const base = makePod('incoming', { labels: { app: 'web' } });
      return new PodInfo({ ...base, metadata: { ...base.metadata, ownerReferences: [{ apiVersion, kind, name, controller: true }] } });
    };
    expect(scoreAll(pl, c, owned('v1', 'ReplicationController', 'web-rc')).raw).toEqual({ a1: 9, a2: 8, b1: 13, x1: 4 });
    expect(pl.preScore(new CycleState(), owned('extensions/v1beta1', 'ReplicaSet', 'web-rs'), c.nodes())).toBe(SKIP);
    expect(pl.preScore(new CycleState(), owned('apps/v1', 'ReplicaSet', 'missing'), c.nodes())).toBe(SKIP);
  });

  it('Service and controller selectors are ANDed', () => {
    const c = cluster();
    c.upsertObject('Service', service('web', { app: 'web' }));
    c.upsertObject('StatefulSet', { metadata: { name: 'web-ss', namespace: 'default' }, spec: { selector: { matchLabels: { tier: 'fe' } } } } as StatefulSet);
    for (const p of pods('b1', 2, { labels: { app: 'other', tier: 'fe' } })) c.upsertAssignedPod(p);
    const base = makePod('incoming', { labels: { app: 'web', tier: 'fe' } });
    const pod = new PodInfo({
      ...base,
      metadata: { ...base.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web-ss', controller: true }] },
    });
    // No existing pod has both app=web and tier=fe: all counts 0 → raw = maxSkew − 1 terms only (zone 4 + hostname 2; x1 2).
    const { raw, norm } = scoreAll(plugin(c), c, pod);
    expect(raw).toEqual({ a1: 6, a2: 6, b1: 6, x1: 2 });
    // max 6, min 2: 100 × (8 − s) / 6 → 33 for the zoned nodes, 100 for x1.
    expect(norm).toEqual({ a1: 33, a2: 33, b1: 33, x1: 100 });
  });

  it('List defaulting uses args.defaultConstraints and requires every key', () => {
    const c = cluster();
    c.upsertObject('Service', service('web', { app: 'web' }));
    const pl = plugin(c, {
      defaultingType: 'List',
      defaultConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule' }],
    });
    const pod = podInfo('incoming', { labels: { app: 'web' } });
    // Zone counts a = 1, b = 2 → min 1: a 1+1−1 = 1 fits; b 2+1−1 = 2 > 1; x1 lacks the key.
    expect(filterAll(pl, c, pod)).toEqual({ a1: null, a2: null, b1: UNSCHED, x1: UNRESOLVABLE });
    expect(pl.preScore(new CycleState(), pod, c.nodes())).toBe(SKIP);
  });

  it('List defaulting with no default constraints skips', () => {
    const c = cluster();
    c.upsertObject('Service', service('web', { app: 'web' }));
    const pl = plugin(c, { defaultingType: 'List', defaultConstraints: [] });
    const pod = podInfo('incoming', { labels: { app: 'web' } });
    expect(pl.preFilter(new CycleState(), pod, c.nodes())).toBe(SKIP);
    expect(pl.preScore(new CycleState(), pod, c.nodes())).toBe(SKIP);
  });
});
