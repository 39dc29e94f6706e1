import { describe, expect, it } from 'vitest';
import type { Pod, Volume } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME, VolumeRestrictions } from '../../../src/scheduler/plugins/VolumeRestrictions.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, podInfo, makeHandle } from '../../helpers/builders.js';
import { add, claimVolume, pvc } from './volumeFixtures.js';

function podOn(name: string, node: string, volumes: Volume[], namespace = 'default'): Pod {
  return makePod(name, { nodeName: node, namespace, spec: { volumes } });
}

const cluster = makeCluster(
  [makeNode('n1'), makeNode('n2')],
  [
    podOn('gce-rw', 'n1', [{ name: 'd', gcePersistentDisk: { pdName: 'disk-1' } }]),
    podOn('gce-ro', 'n2', [{ name: 'd', gcePersistentDisk: { pdName: 'disk-2', readOnly: true } }]),
    podOn('ebs', 'n1', [{ name: 'd', awsElasticBlockStore: { volumeID: 'vol-1' } }]),
    podOn('iscsi', 'n2', [{ name: 'd', iscsi: { iqn: 'iqn.1', readOnly: true } }]),
    podOn('rbd', 'n1', [{ name: 'd', rbd: { monitors: ['m1', 'm2'], pool: 'p', image: 'img' } }]),
    podOn('holder', 'n2', [claimVolume('rwop-used')]),
    podOn('other-ns', 'n1', [claimVolume('rwop-free')], 'elsewhere'),
  ],
);
add(cluster, [
  pvc('rwop-used', { accessModes: ['ReadWriteOncePod'], className: 'x' }),
  pvc('rwop-free', { accessModes: ['ReadWriteOncePod'], className: 'x' }),
  pvc('rwo', { accessModes: ['ReadWriteOnce'], className: 'x' }),
]);
const plugin = new VolumeRestrictions(cluster);

function run(volumes: Volume[]) {
  const state = new CycleState();
  const p = podInfo('p', { spec: { volumes } });
  const pre = plugin.preFilter(state, p);
  if (pre !== null) return pre;
  return ['n1', 'n2'].map((n) => plugin.filter(state, p, cluster.getNode(n)!)?.message ?? 'ok');
}

const DISK = 'node(s) had no available disk';
const RWOP = 'node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod';

describe('VolumeRestrictions', () => {
  it('factory and name', () => {
    expect(NAME).toBe('VolumeRestrictions');
    expect(createPlugin(descriptor, makeHandle(cluster, emptyProfile())).name).toBe('VolumeRestrictions');
  });

  it('skips pods with no inline disks and no RWOP claim in use', () => {
    expect(run([])).toBe(SKIP);
    expect(run([claimVolume('rwo')])).toBe(SKIP);
    // the only other user of rwop-free is in another namespace
    expect(run([claimVolume('rwop-free')])).toBe(SKIP);
  });

  it('a missing claim is unresolvable', () => {
    expect(run([claimVolume('nope')])).toMatchObject({
      code: Code.UnschedulableAndUnresolvable,
      reasons: ['persistentvolumeclaim "nope" not found'],
    });
  });

  it('an RWOP claim used by any pod rejects every node, Unschedulable', () => {
    expect(run([claimVolume('rwop-used')])).toEqual([RWOP, RWOP]);
    const state = new CycleState();
    const p = podInfo('p', { spec: { volumes: [claimVolume('rwop-used')] } });
    plugin.preFilter(state, p);
    expect(plugin.filter(state, p, cluster.getNode('n1')!)?.code).toBe(Code.Unschedulable);
  });

  it('GCE PD conflicts unless both mounts are read-only', () => {
    expect(run([{ name: 'v', gcePersistentDisk: { pdName: 'disk-1', readOnly: true } }])).toEqual([DISK, 'ok']);
    expect(run([{ name: 'v', gcePersistentDisk: { pdName: 'disk-2', readOnly: true } }])).toEqual(['ok', 'ok']);
    expect(run([{ name: 'v', gcePersistentDisk: { pdName: 'disk-2' } }])).toEqual(['ok', DISK]);
  });

  it('AWS EBS conflicts on the same volume ID', () => {
    expect(run([{ name: 'v', awsElasticBlockStore: { volumeID: 'vol-1', readOnly: true } }])).toEqual([DISK, 'ok']);
    expect(run([{ name: 'v', awsElasticBlockStore: { volumeID: 'vol-2' } }])).toEqual(['ok', 'ok']);
  });

  it('iSCSI conflicts on the same IQN unless both read-only', () => {
    expect(run([{ name: 'v', iscsi: { iqn: 'iqn.1', readOnly: true } }])).toEqual(['ok', 'ok']);
    expect(run([{ name: 'v', iscsi: { iqn: 'iqn.1' } }])).toEqual(['ok', DISK]);
  });

  it('RBD conflicts with an overlapping monitor, same pool and image', () => {
    expect(run([{ name: 'v', rbd: { monitors: ['m2', 'm9'], pool: 'p', image: 'img' } }])).toEqual([DISK, 'ok']);
    expect(run([{ name: 'v', rbd: { monitors: ['m9'], pool: 'p', image: 'img' } }])).toEqual(['ok', 'ok']);
    expect(run([{ name: 'v', rbd: { monitors: ['m1'], pool: 'q', image: 'img' } }])).toEqual(['ok', 'ok']);
  });

  it('disk conflict is reported before the RWOP conflict', () => {
    expect(run([claimVolume('rwop-used'), { name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }])).toEqual([DISK, RWOP]);
  });
});
