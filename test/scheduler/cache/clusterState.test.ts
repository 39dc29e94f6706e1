import { describe, expect, it } from 'vitest';
import { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { makeCluster, makeNode, makePod, podInfo } from '../../helpers/builders.js';

const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';

function zoned(name: string, zone?: string, region?: string) {
  const labels: Record<string, string> = {};
  if (zone) labels[ZONE] = zone;
  if (region) labels[REGION] = region;
  return makeNode(name, { labels });
}

describe('ClusterState: pods and nodes', () => {
  it('accounts assigned pods on their node and updates replace the old accounting', () => {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')]);
    cluster.upsertAssignedPod(makePod('a', { uid: 'ua', nodeName: 'n1', cpu: '1' }));
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(1000);
    // Same uid, now 2 CPUs on n2 (e.g. a re-read): moved, not doubled.
    cluster.upsertAssignedPod(makePod('a', { uid: 'ua', nodeName: 'n2', cpu: '2' }));
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(0);
    expect(cluster.getNode('n2')?.requested.milliCpu).toBe(2000);
    expect(cluster.podCount).toBe(1);
    expect(cluster.removePodByUid('ua')?.name).toBe('a');
    expect(cluster.getNode('n2')?.requested.milliCpu).toBe(0);
    expect(cluster.removePodByUid('ua')).toBeUndefined();
    expect(cluster.podCount).toBe(0);
  });

  it('assume accounts at once; forget undoes it; confirm keeps it', () => {
    const cluster = makeCluster([makeNode('n1')]);
    const pending = podInfo('p', { uid: 'up', cpu: '500m' });
    const assumed = cluster.assumePod(pending, 'n1');
    expect(assumed.nodeName).toBe('n1');
    expect(pending.nodeName).toBe(''); // the pending PodInfo is not mutated
    expect(cluster.isAssumed('up')).toBe(true);
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(500);
    expect(cluster.getNode('n1')?.pods).toHaveLength(1);

    cluster.forgetPod('up');
    expect(cluster.isAssumed('up')).toBe(false);
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(0);
    expect(cluster.getPod('up')).toBeUndefined();

    cluster.assumePod(pending, 'n1');
    // The API server confirms the binding: no longer assumed, accounted once.
    cluster.upsertAssignedPod(makePod('p', { uid: 'up', cpu: '500m', nodeName: 'n1' }));
    expect(cluster.isAssumed('up')).toBe(false);
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(500);
    expect(cluster.getNode('n1')?.pods).toHaveLength(1);
    // Forgetting a confirmed pod does nothing.
    cluster.forgetPod('up');
    expect(cluster.getNode('n1')?.requested.milliCpu).toBe(500);
  });

  it('pods on unknown nodes are accounted when the node arrives', () => {
    const cluster = new ClusterState();
    cluster.upsertAssignedPod(makePod('a', { uid: 'ua', nodeName: 'late', cpu: '1' }));
    cluster.upsertAssignedPod(makePod('b', { uid: 'ub', nodeName: 'late', cpu: '1' }));
    cluster.removePodByUid('ub');
    expect(cluster.podCount).toBe(1);
    const node = cluster.upsertNode(makeNode('late'));
    expect(node.requested.milliCpu).toBe(1000);
    expect(node.pods.map((p) => p.name)).toEqual(['a']);
  });

  it('a removed node keeps its pods until they are deleted; they return with the node', () => {
    const cluster = makeCluster([makeNode('n1')], [makePod('a', { uid: 'ua', nodeName: 'n1', cpu: '1' })]);
    cluster.removeNode('n1');
    expect(cluster.getNode('n1')).toBeUndefined();
    expect(cluster.nodeCount).toBe(0);
    expect(cluster.nodes()).toHaveLength(0);
    expect(cluster.upsertNode(makeNode('n1')).requested.milliCpu).toBe(1000);

    cluster.removeNode('n1');
    cluster.removePodByUid('ua');
    expect(cluster.upsertNode(makeNode('n1')).requested.milliCpu).toBe(0);
  });

  it('updating a node keeps its pods', () => {
    const cluster = makeCluster([makeNode('n1', { cpu: '4' })], [makePod('a', { nodeName: 'n1', cpu: '1' })]);
    const same = cluster.upsertNode(makeNode('n1', { cpu: '16' }));
    expect(same.allocatable.milliCpu).toBe(16000);
    expect(same.requested.milliCpu).toBe(1000);
    expect(cluster.nodeCount).toBe(1);
  });

  it('counts the nodes holding each normalized image', () => {
    const img = (names: string[]) => [{ names, sizeBytes: 10 }];
    const cluster = makeCluster([
      makeNode('n1', { images: img(['nginx', 'redis:7']) }),
      makeNode('n2', { images: img(['nginx:latest']) }),
      makeNode('n3'),
    ]);
    expect(cluster.imageNodeCounts.get('nginx:latest')).toBe(2);
    expect(cluster.imageNodeCounts.get('redis:7')).toBe(1);
    cluster.upsertNode(makeNode('n1', { images: img(['redis:7']) }));
    expect(cluster.imageNodeCounts.get('nginx:latest')).toBe(1);
    cluster.removeNode('n2');
    expect(cluster.imageNodeCounts.has('nginx:latest')).toBe(false);
    expect(cluster.imageNodeCounts.get('redis:7')).toBe(1);
  });
});

describe('ClusterState: NodeTree order', () => {
  const names = (c: ClusterState) => c.nodes().map((n) => n.name);

  it('interleaves zones round-robin in order of first appearance, insertion order within a zone', () => {
    const cluster = makeCluster([
      zoned('a1', 'a'),
      zoned('a2', 'a'),
      zoned('a3', 'a'),
      zoned('b1', 'b'),
      zoned('c1', 'c'),
      zoned('c2', 'c'),
    ]);
    expect(names(cluster)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('nodes without zone labels form their own zone; region is part of the key', () => {
    const cluster = makeCluster([
      zoned('x1'),
      zoned('r1a', 'a', 'r1'),
      zoned('r2a', 'a', 'r2'),
      zoned('x2'),
      zoned('r1a2', 'a', 'r1'),
    ]);
    expect(names(cluster)).toEqual(['x1', 'r1a', 'r2a', 'x2', 'r1a2']);
  });

  it('the legacy failure-domain zone label counts as a zone', () => {
    const legacy = (name: string, zone: string) => makeNode(name, { labels: { 'failure-domain.beta.kubernetes.io/zone': zone } });
    const cluster = makeCluster([legacy('a1', 'a'), legacy('a2', 'a'), legacy('b1', 'b')]);
    expect(names(cluster)).toEqual(['a1', 'b1', 'a2']);
  });

  it('is recomputed after adds and removals', () => {
    const cluster = makeCluster([zoned('a1', 'a'), zoned('a2', 'a')]);
    expect(names(cluster)).toEqual(['a1', 'a2']);
    cluster.upsertNode(zoned('b1', 'b'));
    expect(names(cluster)).toEqual(['a1', 'b1', 'a2']);
    cluster.removeNode('a1');
    expect(names(cluster)).toEqual(['a2', 'b1']);
    cluster.upsertNode(zoned('a1', 'a'));
    expect(names(cluster)).toEqual(['a2', 'b1', 'a1']);
  });
});

describe('ClusterState: other objects', () => {
  it('stores and removes namespaced and cluster-scoped objects', () => {
    const cluster = new ClusterState();
    expect(cluster.upsertObject('PersistentVolumeClaim', { metadata: { name: 'c', namespace: 'ns' } })).toBe(true);
    expect(cluster.getPersistentVolumeClaim('ns', 'c')).toBeDefined();
    expect(cluster.getPersistentVolumeClaim('default', 'c')).toBeUndefined();
    cluster.upsertObject('Namespace', { metadata: { name: 'ns', labels: { team: 'x' } } });
    expect(cluster.namespaceLabels.get('ns')).toEqual({ team: 'x' });
    expect(cluster.upsertObject('ConfigMap', { metadata: { name: 'x' } })).toBe(false);
    cluster.removeObject('PersistentVolumeClaim', 'ns', 'c');
    expect(cluster.getPersistentVolumeClaim('ns', 'c')).toBeUndefined();
    expect(cluster.upsertObject('PodDisruptionBudget', { metadata: { name: 'b', namespace: 'ns' } })).toBe(true);
    expect([...cluster.podDisruptionBudgets.keys()]).toEqual(['ns/b']);
    cluster.removeObject('PodDisruptionBudget', 'ns', 'b');
    expect(cluster.podDisruptionBudgets.size).toBe(0);
  });
});
