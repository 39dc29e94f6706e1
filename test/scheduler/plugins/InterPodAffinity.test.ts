import { describe, expect, it } from 'vitest';
import type { Affinity, Node, PodAffinityTerm, WeightedPodAffinityTerm } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { Code, CycleState, SKIP, type Status } from '../../../src/scheduler/framework/types.js';
import type { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import type { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import {
  descriptor,
  InterPodAffinity,
  NAME,
  podTerms,
} from '../../../src/scheduler/plugins/InterPodAffinity.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, podInfo, makeHandle } from '../../helpers/builders.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

const AFFINITY_REASON = "node(s) didn't match pod affinity rules";
const ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules";
const EXISTING_REASON = "node(s) didn't satisfy existing pods anti-affinity rules";

function term(labels: Record<string, string>, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm {
  return { labelSelector: { matchLabels: labels }, topologyKey, ...extra };
}

function weighted(weight: number, t: PodAffinityTerm): WeightedPodAffinityTerm {
  return { weight, podAffinityTerm: t };
}

function zoneNode(name: string, zone?: string): Node {
  return makeNode(name, zone === undefined ? {} : { labels: { [ZONE]: zone } });
}

function withoutLabel(node: Node, key: string): Node {
  const labels = { ...(node.metadata?.labels ?? {}) };
  delete labels[key];
  return { ...node, metadata: { ...node.metadata, labels } };
}

function plugin(cluster: ClusterState, args: { hardPodAffinityWeight?: number; ignorePreferredTermsOfExistingPods?: boolean } = {}): InterPodAffinity {
  return new InterPodAffinity(makeHandle(cluster), {
    hardPodAffinityWeight: args.hardPodAffinityWeight ?? 1,
    ignorePreferredTermsOfExistingPods: args.ignorePreferredTermsOfExistingPods ?? false,
  });
}

/** Runs PreFilter and Filter over every node: 'skip', or node name → status (null = fits). */
function runFilter(p: InterPodAffinity, cluster: ClusterState, pod: PodInfo): 'skip' | Record<string, Status | null> {
  const state = new CycleState();
  const nodes = cluster.nodes();
  const pre = p.preFilter(state, pod, nodes);
  if (pre === SKIP) return 'skip';
  expect(pre).toBeNull();
  const out: Record<string, Status | null> = {};
  for (const n of nodes) out[n.name] = p.filter(state, pod, n);
  return out;
}

function fits(result: 'skip' | Record<string, Status | null>): string[] {
  if (result === 'skip') throw new Error('unexpected skip');
  return Object.entries(result)
    .filter(([, s]) => s === null)
    .map(([n]) => n)
    .sort();
}

function expectRejected(result: 'skip' | Record<string, Status | null>, node: string, code: Code, reason: string): void {
  if (result === 'skip') throw new Error('unexpected skip');
  const status = result[node];
  expect(status, `node ${node}`).not.toBeNull();
  expect(status?.code).toBe(code);
  expect(status?.reasons).toEqual([reason]);
}

/** PreScore, Score and NormalizeScore over the given (feasible) nodes: 'skip' or node name → final score. */
function runScore(p: InterPodAffinity, cluster: ClusterState, pod: PodInfo, names?: string[]): 'skip' | Record<string, number> {
  const state = new CycleState();
  const nodes: NodeInfo[] = names ? names.map((n) => cluster.getNode(n) as NodeInfo) : [...cluster.nodes()];
  const pre = p.preScore(state, pod, nodes);
  if (pre === SKIP) return 'skip';
  expect(pre).toBeNull();
  const scores = new Float64Array(nodes.map((n) => p.score(state, pod, n)));
  expect(p.normalizeScore(state, pod, nodes, scores)).toBeNull();
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i] as number]));
}

function rawScores(p: InterPodAffinity, cluster: ClusterState, pod: PodInfo): Record<string, number> {
  const state = new CycleState();
  const nodes = cluster.nodes();
  expect(p.preScore(state, pod, nodes)).toBeNull();
  return Object.fromEntries(nodes.map((n) => [n.name, p.score(state, pod, n)]));
}

function incoming(name: string, affinity: Affinity, labels: Record<string, string> = {}, namespace = 'default'): PodInfo {
  return podInfo(name, { labels, namespace, spec: { affinity } });
}

describe('InterPodAffinity exports', () => {
  it('names the plugin as upstream and builds it from the factory', () => {
    const cluster = makeCluster([]);
    expect(NAME).toBe('InterPodAffinity');
    const p = createPlugin(descriptor, makeHandle(cluster, emptyProfile()));
    expect(p.name).toBe('InterPodAffinity');
    expect(p).toBeInstanceOf(InterPodAffinity);
  });

  it('memoizes compiled terms on the PodInfo', () => {
    const pod = incoming('p', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } });
    const first = podTerms(pod);
    expect(podTerms(pod)).toBe(first);
    expect(first.requiredAffinity).toHaveLength(1);
    expect(first.requiredAffinity[0]?.namespaces.has('default')).toBe(true);
  });
});

describe('InterPodAffinity PreFilter skip', () => {
  it('skips a pod without required terms when no existing pod has required anti-affinity', () => {
    const cluster = makeCluster([zoneNode('n1', 'a')], [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' })]);
    const pod = podInfo('plain', { labels: { app: 'web' } });
    expect(runFilter(plugin(cluster), cluster, pod)).toBe('skip');
  });

  it('skips when existing pods have required anti-affinity that does not match the incoming pod', () => {
    const existing = makePod('guard', {
      nodeName: 'n1',
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'other' }, HOST)] } } },
    });
    const cluster = makeCluster([zoneNode('n1', 'a')], [existing]);
    expect(runFilter(plugin(cluster), cluster, podInfo('web', { labels: { app: 'web' } }))).toBe('skip');
  });

  it('skips a pod with only preferred terms (they are scored, not filtered)', () => {
    const cluster = makeCluster([zoneNode('n1', 'a')]);
    const pod = incoming('p', { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(5, term({ app: 'db' }, ZONE))] } });
    expect(runFilter(plugin(cluster), cluster, pod)).toBe('skip');
  });
});

describe('InterPodAffinity Filter: required affinity', () => {
  const nodes = () => [zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b'), zoneNode('n4')];

  it('admits nodes in the zone of a matching pod and rejects the rest as UnschedulableAndUnresolvable', () => {
    const cluster = makeCluster(nodes(), [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' })]);
    const pod = incoming('web', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } });
    const result = runFilter(plugin(cluster), cluster, pod);
    expect(fits(result)).toEqual(['n1', 'n2']);
    expectRejected(result, 'n3', Code.UnschedulableAndUnresolvable, AFFINITY_REASON);
    // n4 lacks the topology key: rejected even though it would otherwise be irrelevant.
    expectRejected(result, 'n4', Code.UnschedulableAndUnresolvable, AFFINITY_REASON);
  });

  it('ignores matching pods in other namespaces (term defaults to the pod namespace)', () => {
    const cluster = makeCluster(nodes(), [
      makePod('db-other', { labels: { app: 'db' }, nodeName: 'n1', namespace: 'other' }),
      makePod('db', { labels: { app: 'db' }, nodeName: 'n3' }),
    ]);
    const pod = incoming('web', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n3']);
  });

  it('counts only existing pods matching all terms, and needs every term satisfied on the node', () => {
    // db (app=db) on n1 matches only the first term; both (app=db, tier=x) on n3 matches both.
    const cluster = makeCluster(nodes(), [
      makePod('db', { labels: { app: 'db' }, nodeName: 'n1' }),
      makePod('both', { labels: { app: 'db', tier: 'x' }, nodeName: 'n3' }),
    ]);
    const pod = incoming('web', {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE), term({ tier: 'x' }, HOST)],
      },
    });
    // zone b has a pod matching all terms, and host n3 too; n1/n2 (zone a) have none matching all.
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n3']);
  });

  it('lets the first pod of a group land on any node with the topology keys', () => {
    const cluster = makeCluster(nodes(), [makePod('unrelated', { labels: { app: 'db' }, nodeName: 'n1' })]);
    const pod = incoming('web-0', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }, { app: 'web' });
    const result = runFilter(plugin(cluster), cluster, pod);
    expect(fits(result)).toEqual(['n1', 'n2', 'n3']);
    expectRejected(result, 'n4', Code.UnschedulableAndUnresolvable, AFFINITY_REASON);
  });

  it('does not apply the first-pod rule when the pod does not match its own terms', () => {
    const cluster = makeCluster(nodes());
    const pod = incoming('web', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } }, { app: 'web' });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual([]);
  });

  it('does not apply the first-pod rule once a matching pod exists in some domain', () => {
    const cluster = makeCluster(nodes(), [makePod('web-0', { labels: { app: 'web' }, nodeName: 'n3' })]);
    const pod = incoming('web-1', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }, { app: 'web' });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n3']);
  });

  it('as upstream, a matching pod on a node without the topology key does not count, so the first-pod rule still applies', () => {
    const cluster = makeCluster(nodes(), [makePod('web-0', { labels: { app: 'web' }, nodeName: 'n4' })]);
    const pod = incoming('web-1', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }, { app: 'web' });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n1', 'n2', 'n3']);
  });

  it('treats a nil labelSelector as matching nothing', () => {
    const cluster = makeCluster(nodes(), [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' })]);
    const pod = incoming('web', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: ZONE }] } });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual([]);
  });

  it('treats an empty labelSelector as matching every pod in the namespace', () => {
    const cluster = makeCluster(nodes(), [makePod('any', { labels: { x: 'y' }, nodeName: 'n3' })]);
    const pod = incoming('web', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: ZONE }] } });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n3']);
  });
});

describe('InterPodAffinity Filter: required anti-affinity of the incoming pod', () => {
  it('rejects the host already running a matching pod (Unschedulable)', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b')],
      [makePod('web-0', { labels: { app: 'web' }, nodeName: 'n1' })],
    );
    const pod = incoming('web-1', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } }, { app: 'web' });
    const result = runFilter(plugin(cluster), cluster, pod);
    expect(fits(result)).toEqual(['n2', 'n3']);
    expectRejected(result, 'n1', Code.Unschedulable, ANTI_AFFINITY_REASON);
  });

  it('rejects the whole zone with a zone topology key, and admits nodes lacking the key', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b'), zoneNode('n4')],
      [makePod('web-0', { labels: { app: 'web' }, nodeName: 'n1' })],
    );
    const pod = incoming('web-1', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }, { app: 'web' });
    const result = runFilter(plugin(cluster), cluster, pod);
    expect(fits(result)).toEqual(['n3', 'n4']);
    expectRejected(result, 'n2', Code.Unschedulable, ANTI_AFFINITY_REASON);
  });

  it('a pod on a node without the hostname label counts for nothing', () => {
    const bare = withoutLabel(makeNode('bare'), HOST);
    const cluster = makeCluster([bare, makeNode('n1')], [makePod('web-0', { labels: { app: 'web' }, nodeName: 'bare' })]);
    const pod = incoming('web-1', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } }, { app: 'web' });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['bare', 'n1']);
  });

  it('checks affinity before anti-affinity', () => {
    const cluster = makeCluster([zoneNode('n1', 'a'), zoneNode('n2', 'b')], [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' })]);
    const pod = incoming('web', {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] },
    });
    const result = runFilter(plugin(cluster), cluster, pod);
    expectRejected(result, 'n1', Code.Unschedulable, ANTI_AFFINITY_REASON);
    expectRejected(result, 'n2', Code.UnschedulableAndUnresolvable, AFFINITY_REASON);
  });
});

describe("InterPodAffinity Filter: existing pods' anti-affinity", () => {
  const guard = (nodeName: string, namespace = 'default') =>
    makePod(`guard-${nodeName}`, {
      nodeName,
      namespace,
      labels: { app: 'guard' },
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } } },
    });

  it("rejects every node in the zone of an existing pod whose anti-affinity matches the incoming pod", () => {
    const cluster = makeCluster([zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b'), zoneNode('n4')], [guard('n1')]);
    const result = runFilter(plugin(cluster), cluster, podInfo('web', { labels: { app: 'web' } }));
    expect(fits(result)).toEqual(['n3', 'n4']);
    expectRejected(result, 'n1', Code.Unschedulable, EXISTING_REASON);
    expectRejected(result, 'n2', Code.Unschedulable, EXISTING_REASON);
  });

  it("applies the existing pod's term to its own namespace only by default", () => {
    const cluster = makeCluster([zoneNode('n1', 'a')], [guard('n1', 'other')]);
    expect(runFilter(plugin(cluster), cluster, podInfo('web', { labels: { app: 'web' } }))).toBe('skip');
  });

  it("matches the existing pod's namespaceSelector against the incoming pod's namespace labels", () => {
    const existing = makePod('guard', {
      nodeName: 'n1',
      namespace: 'ops',
      spec: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST, { namespaceSelector: { matchLabels: { team: 'blue' } } })],
          },
        },
      },
    });
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')], [existing]);
    cluster.upsertObject('Namespace', { metadata: { name: 'blue-ns', labels: { team: 'blue' } } });
    cluster.upsertObject('Namespace', { metadata: { name: 'red-ns', labels: { team: 'red' } } });
    const p = plugin(cluster);
    const blue = runFilter(p, cluster, podInfo('web', { labels: { app: 'web' }, namespace: 'blue-ns' }));
    expect(fits(blue)).toEqual(['n2']);
    expectRejected(blue, 'n1', Code.Unschedulable, EXISTING_REASON);
    expect(runFilter(p, cluster, podInfo('web', { labels: { app: 'web' }, namespace: 'red-ns' }))).toBe('skip');
    // A namespace the cluster does not know has no labels.
    expect(runFilter(p, cluster, podInfo('web', { labels: { app: 'web' }, namespace: 'unknown' }))).toBe('skip');
  });

  it('checks the incoming pod anti-affinity before existing pods anti-affinity', () => {
    const cluster = makeCluster([zoneNode('n1', 'a')], [guard('n1')]);
    const pod = incoming('web', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'guard' }, ZONE)] } }, { app: 'web' });
    expectRejected(runFilter(plugin(cluster), cluster, pod), 'n1', Code.Unschedulable, ANTI_AFFINITY_REASON);
  });
});

describe('InterPodAffinity Filter: namespaces and namespaceSelector of the incoming pod', () => {
  function setup() {
    const cluster = makeCluster(
      [makeNode('n1'), makeNode('n2'), makeNode('n3')],
      [
        makePod('web-blue', { labels: { app: 'web' }, nodeName: 'n1', namespace: 'blue-ns' }),
        makePod('web-red', { labels: { app: 'web' }, nodeName: 'n2', namespace: 'red-ns' }),
        makePod('web-ghost', { labels: { app: 'web' }, nodeName: 'n3', namespace: 'ghost' }),
      ],
    );
    cluster.upsertObject('Namespace', { metadata: { name: 'blue-ns', labels: { team: 'blue' } } });
    cluster.upsertObject('Namespace', { metadata: { name: 'red-ns', labels: { team: 'red' } } });
    return cluster;
  }
  const anti = (extra: Partial<PodAffinityTerm>) =>
    incoming('web', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST, extra)] } });

  it('selects pods in namespaces whose labels match', () => {
    const cluster = setup();
    expect(fits(runFilter(plugin(cluster), cluster, anti({ namespaceSelector: { matchLabels: { team: 'blue' } } })))).toEqual(['n2', 'n3']);
  });

  it('ORs the namespaces list with the namespaceSelector', () => {
    const cluster = setup();
    const pod = anti({ namespaces: ['red-ns'], namespaceSelector: { matchLabels: { team: 'blue' } } });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n3']);
  });

  it('treats an empty namespaceSelector as every namespace, known or not', () => {
    const cluster = setup();
    expect(fits(runFilter(plugin(cluster), cluster, anti({ namespaceSelector: {} })))).toEqual([]);
  });

  it('a non-empty selector only reaches namespaces the cluster knows (upstream unrolls it through the lister)', () => {
    const cluster = setup();
    const pod = anti({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } });
    expect(fits(runFilter(plugin(cluster), cluster, pod))).toEqual(['n1', 'n2', 'n3']);
  });

  it('uses only the listed namespaces when there is no selector', () => {
    const cluster = setup();
    expect(fits(runFilter(plugin(cluster), cluster, anti({ namespaces: ['ghost'] })))).toEqual(['n1', 'n2']);
  });

  it('sees namespace label changes in the next cycle', () => {
    const cluster = setup();
    const p = plugin(cluster);
    const pod = anti({ namespaceSelector: { matchLabels: { team: 'blue' } } });
    expect(fits(runFilter(p, cluster, pod))).toEqual(['n2', 'n3']);
    cluster.upsertObject('Namespace', { metadata: { name: 'red-ns', labels: { team: 'blue' } } });
    expect(fits(runFilter(p, cluster, pod))).toEqual(['n3']);
  });
});

describe('InterPodAffinity Score', () => {
  it('sums preferred affinity (+) and anti-affinity (−) weights by topology and normalizes by min and max', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b'), zoneNode('n4', 'c')],
      [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' }), makePod('cache', { labels: { app: 'cache' }, nodeName: 'n3' })],
    );
    const pod = incoming('web', {
      podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(8, term({ app: 'db' }, ZONE))] },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(5, term({ app: 'cache' }, ZONE))] },
    });
    const p = plugin(cluster);
    expect(rawScores(p, cluster, pod)).toEqual({ n1: 8, n2: 8, n3: -5, n4: 0 });
    // min −5, max 8: n4 = int(100 × 5/13) = int(38.46) = 38.
    expect(runScore(p, cluster, pod)).toEqual({ n1: 100, n2: 100, n3: 0, n4: 38 });
  });

  it('uses the smallest score as the floor even when all scores are positive', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'b'), zoneNode('n3', 'c')],
      [
        makePod('db-a', { labels: { app: 'db' }, nodeName: 'n1' }),
        makePod('db-b1', { labels: { app: 'db' }, nodeName: 'n2' }),
        makePod('db-b2', { labels: { app: 'db' }, nodeName: 'n2' }),
        makePod('db-c1', { labels: { app: 'db' }, nodeName: 'n3' }),
        makePod('db-c2', { labels: { app: 'db' }, nodeName: 'n3' }),
        makePod('db-c3', { labels: { app: 'db' }, nodeName: 'n3' }),
      ],
    );
    const pod = incoming('web', { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(3, term({ app: 'db' }, ZONE))] } });
    const p = plugin(cluster);
    expect(rawScores(p, cluster, pod)).toEqual({ n1: 3, n2: 6, n3: 9 });
    // (3−3)/6 → 0, (6−3)/6 → 50, (9−3)/6 → 100 (upstream v1.22+: min starts at MaxInt64, not 0).
    expect(runScore(p, cluster, pod)).toEqual({ n1: 0, n2: 50, n3: 100 });
  });

  it('gives every node 0 when all feasible nodes score the same, including a single node', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'a'), zoneNode('n3', 'b')],
      [makePod('db', { labels: { app: 'db' }, nodeName: 'n1' })],
    );
    const pod = incoming('web', { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(7, term({ app: 'db' }, ZONE))] } });
    const p = plugin(cluster);
    expect(runScore(p, cluster, pod, ['n1', 'n2'])).toEqual({ n1: 0, n2: 0 });
    expect(runScore(p, cluster, pod, ['n2'])).toEqual({ n2: 0 });
    expect(runScore(p, cluster, pod, ['n3'])).toEqual({ n3: 0 });
  });

  it("scores existing pods' required affinity by hardPodAffinityWeight and their preferred terms by weight", () => {
    const existing = [
      makePod('sidecar', {
        nodeName: 'n1',
        spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } } },
      }),
      makePod('loner', {
        nodeName: 'n2',
        spec: {
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(3, term({ app: 'web' }, HOST))] } },
        },
      }),
    ];
    const cluster = makeCluster([makeNode('n1'), makeNode('n2'), makeNode('n3')], existing);
    const pod = podInfo('web', { labels: { app: 'web' } });

    const defaults = plugin(cluster);
    expect(rawScores(defaults, cluster, pod)).toEqual({ n1: 1, n2: -3, n3: 0 });
    // min −3, max 1: n3 = int(100 × 3/4) = 75.
    expect(runScore(defaults, cluster, pod)).toEqual({ n1: 100, n2: 0, n3: 75 });

    const heavy = plugin(cluster, { hardPodAffinityWeight: 5 });
    expect(rawScores(heavy, cluster, pod)).toEqual({ n1: 5, n2: -3, n3: 0 });
    // min −3, max 5: n3 = int(100 × 3/8) = int(37.5) = 37.
    expect(runScore(heavy, cluster, pod)).toEqual({ n1: 100, n2: 0, n3: 37 });

    const off = plugin(cluster, { hardPodAffinityWeight: 0 });
    expect(runScore(off, cluster, pod)).toEqual({ n1: 100, n2: 0, n3: 100 });
  });

  it("adds existing pods' preferred affinity matching the incoming pod", () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'b')],
      [
        makePod('fan', {
          nodeName: 'n2',
          spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(4, term({ app: 'web' }, ZONE))] } } },
        }),
      ],
    );
    const pod = podInfo('web', { labels: { app: 'web' } });
    expect(runScore(plugin(cluster), cluster, pod)).toEqual({ n1: 0, n2: 100 });
  });

  it('skips when the pod has no preferred terms and ignorePreferredTermsOfExistingPods is set', () => {
    const cluster = makeCluster(
      [makeNode('n1'), makeNode('n2')],
      [
        makePod('sidecar', {
          nodeName: 'n1',
          spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } } },
        }),
      ],
    );
    const pod = podInfo('web', { labels: { app: 'web' } });
    expect(runScore(plugin(cluster), cluster, pod)).toEqual({ n1: 100, n2: 0 });
    expect(runScore(plugin(cluster, { ignorePreferredTermsOfExistingPods: true }), cluster, pod)).toBe('skip');
  });

  it('keeps scoring existing pods when ignorePreferredTermsOfExistingPods is set but the pod has preferred terms', () => {
    const cluster = makeCluster(
      [zoneNode('n1', 'a'), zoneNode('n2', 'b'), zoneNode('n3', 'c')],
      [
        makePod('db', { labels: { app: 'db' }, nodeName: 'n1' }),
        makePod('fan', {
          nodeName: 'n2',
          spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(2, term({ app: 'web' }, ZONE))] } } },
        }),
      ],
    );
    const pod = incoming('web', { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(4, term({ app: 'db' }, ZONE))] } }, { app: 'web' });
    const p = plugin(cluster, { ignorePreferredTermsOfExistingPods: true });
    expect(rawScores(p, cluster, pod)).toEqual({ n1: 4, n2: 2, n3: 0 });
    expect(runScore(p, cluster, pod)).toEqual({ n1: 100, n2: 50, n3: 0 });
  });

  it('skips when nothing contributes', () => {
    const cluster = makeCluster(
      [makeNode('n1')],
      [
        makePod('db', { labels: { app: 'db' }, nodeName: 'n1' }),
        makePod('picky', {
          nodeName: 'n1',
          spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(2, term({ app: 'zzz' }, HOST))] } } },
        }),
      ],
    );
    expect(runScore(plugin(cluster), cluster, podInfo('plain', { labels: { app: 'web' } }))).toBe('skip');
    const pod = incoming('web', { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(2, term({ app: 'none' }, HOST))] } });
    expect(runScore(plugin(cluster), cluster, pod)).toBe('skip');
  });

  it('scores preferred terms against existing pods in namespaces selected by the namespaceSelector', () => {
    const cluster = makeCluster(
      [makeNode('n1'), makeNode('n2')],
      [
        makePod('db-blue', { labels: { app: 'db' }, nodeName: 'n1', namespace: 'blue-ns' }),
        makePod('db-red', { labels: { app: 'db' }, nodeName: 'n2', namespace: 'red-ns' }),
      ],
    );
    cluster.upsertObject('Namespace', { metadata: { name: 'blue-ns', labels: { team: 'blue' } } });
    cluster.upsertObject('Namespace', { metadata: { name: 'red-ns', labels: { team: 'red' } } });
    const pod = incoming('web', {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          weighted(10, term({ app: 'db' }, HOST, { namespaceSelector: { matchLabels: { team: 'red' } } })),
        ],
      },
    });
    const p = plugin(cluster);
    expect(rawScores(p, cluster, pod)).toEqual({ n1: 0, n2: -10 });
    expect(runScore(p, cluster, pod)).toEqual({ n1: 100, n2: 0 });
  });
});
