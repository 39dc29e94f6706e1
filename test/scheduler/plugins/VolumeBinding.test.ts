import { describe, expect, it } from 'vitest';
import type { Volume } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { descriptor, NAME, type VolumeBinding } from '../../../src/scheduler/plugins/VolumeBinding.js';
import { compileVolumeNodeAffinity } from '../../../src/scheduler/plugins/volumeBinding/volumes.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, makeHandle } from '../../helpers/builders.js';
import { add, claimVolume, pv, pvc, storageClass } from './volumeFixtures.js';

const cluster = makeCluster([
  makeNode('n1', { labels: { disk: 'ssd', zone: 'a' } }),
  makeNode('n2', { labels: { disk: 'hdd', zone: 'b' } }),
]);
add(cluster, [
  storageClass('wait', 'WaitForFirstConsumer', 'example.com/local-path'),
  storageClass('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
  pvc('wffc-static', { className: 'static' }),
  storageClass('now', 'Immediate'),
  storageClass('unset'),
  pvc('bound-ssd', { volumeName: 'pv-ssd', bound: true }),
  pv('pv-ssd', {}, [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }]),
  pvc('bound-any', { volumeName: 'pv-any', bound: true }),
  pv('pv-any'),
  pvc('bound-fields', { volumeName: 'pv-fields', bound: true }),
  pv('pv-fields', {}, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]),
  pvc('bound-ghost', { volumeName: 'ghost', bound: true }),
  pvc('prebound', { volumeName: 'pv-any', className: 'wait' }),
  pvc('wffc', { className: 'wait' }),
  pvc('immediate', { className: 'now' }),
  pvc('unset-mode', { className: 'unset' }),
  pvc('no-class', {}),
  pvc('unknown-class', { className: 'ghost' }),
  pvc('lost', { volumeName: 'gone', phase: 'Lost' }),
  pvc('deleting', { className: 'wait', deleting: true }),
  pvc('p-scratch', { className: 'wait', ownerUid: 'uid-p' }),
  pvc('p-foreign', { className: 'wait', ownerUid: 'someone-else' }),
]);
const plugin = createPlugin(descriptor, makeHandle(cluster, emptyProfile())) as VolumeBinding;

function podWith(volumes: Volume[]): PodInfo {
  return new PodInfo(makePod('p', { uid: 'uid-p', spec: { volumes } }));
}

function run(volumes: Volume[]) {
  const state = new CycleState();
  const p = podWith(volumes);
  const pre = plugin.preFilter(state, p);
  if (pre !== null) return pre;
  return ['n1', 'n2'].map((n) => plugin.filter(state, p, cluster.getNode(n)!)?.message ?? 'ok');
}

function rejection(volumes: Volume[]): string {
  const s = run(volumes);
  expect(s).toMatchObject({ code: Code.UnschedulableAndUnresolvable });
  return (s as { message: string }).message;
}

describe('VolumeBinding PreFilter', () => {
  it('factory and name', () => {
    expect(NAME).toBe('VolumeBinding');
    expect(createPlugin(descriptor, makeHandle(cluster, emptyProfile())).name).toBe('VolumeBinding');
  });

  it('skips pods without PVCs', () => {
    expect(run([])).toBe(SKIP);
    expect(run([{ name: 'cfg', configMap: { name: 'x' } }])).toBe(SKIP);
  });

  it('missing, lost and deleting claims are unresolvable with upstream messages', () => {
    expect(rejection([claimVolume('nope')])).toBe('persistentvolumeclaim "nope" not found');
    expect(rejection([claimVolume('lost')])).toBe('persistentvolumeclaim "lost" bound to non-existent persistentvolume "gone"');
    expect(rejection([claimVolume('deleting')])).toBe('persistentvolumeclaim "deleting" is being deleted');
  });

  it('unbound claims of Immediate, unset-mode, missing or no class are "unbound immediate"', () => {
    for (const c of ['immediate', 'unset-mode', 'no-class', 'unknown-class']) {
      expect(rejection([claimVolume(c)])).toBe('pod has unbound immediate PersistentVolumeClaims');
    }
  });

  it('a claim naming a volume without bind-completed is treated as immediate (pre-bound)', () => {
    expect(rejection([claimVolume('prebound')])).toBe('pod has unbound immediate PersistentVolumeClaims');
  });

  it('WaitForFirstConsumer claims: provisionable on every node; without a provisioner or a PV, on none', () => {
    expect(run([claimVolume('wffc')])).toEqual(['ok', 'ok']);
    const noPv = "node(s) didn't find available persistent volumes to bind";
    expect(run([claimVolume('wffc-static')])).toEqual([noPv, noPv]);
  });

  it('generic ephemeral volumes use "<pod>-<volume>" and must be owned by the pod', () => {
    expect(run([{ name: 'scratch', ephemeral: { volumeClaimTemplate: {} } }])).toEqual(['ok', 'ok']);
    expect(rejection([{ name: 'other', ephemeral: { volumeClaimTemplate: {} } }])).toBe(
      'waiting for ephemeral volume controller to create the persistentvolumeclaim "p-other"',
    );
    expect(rejection([{ name: 'foreign', ephemeral: { volumeClaimTemplate: {} } }])).toBe(
      'PVC default/p-foreign was not created for pod default/p (pod is not owner)',
    );
  });
});

describe('VolumeBinding Filter', () => {
  it('bound PV node affinity must match the node', () => {
    expect(run([claimVolume('bound-ssd')])).toEqual(['ok', "node(s) didn't match PersistentVolume's node affinity"]);
    expect(run([claimVolume('bound-any')])).toEqual(['ok', 'ok']);
  });

  it('the conflict is UnschedulableAndUnresolvable', () => {
    const state = new CycleState();
    const p = podWith([claimVolume('bound-ssd')]);
    plugin.preFilter(state, p);
    expect(plugin.filter(state, p, cluster.getNode('n2')!)?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('a claim bound to a missing PV rejects every node', () => {
    const msg = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
    expect(run([claimVolume('bound-ghost')])).toEqual([msg, msg]);
  });

  it('bound claims are checked in volume order, first failure wins', () => {
    expect(run([claimVolume('bound-ssd'), claimVolume('bound-ghost')])).toEqual([
      'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)',
      "node(s) didn't match PersistentVolume's node affinity",
    ]);
  });

  it('PV matchFields are not applied (upstream matches a label-only node)', () => {
    expect(run([claimVolume('bound-fields')])).toEqual(['ok', 'ok']);
    const m = compileVolumeNodeAffinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] }]);
    expect(m({})).toBe(false);
    expect(compileVolumeNodeAffinity([])({})).toBe(false);
  });

  it('PreScore runs (StorageCapacityScoring is on in v1.37); a node with no volumes to bind scores 0', () => {
    const state = new CycleState();
    const p = podWith([claimVolume('bound-any')]);
    plugin.preFilter(state, p);
    expect(plugin.preScore(state)).toBeNull();
    expect(plugin.score(state, p, cluster.getNode('n1')!)).toBe(0);
  });
});
