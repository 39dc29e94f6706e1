import { describe, expect, it } from 'vitest';
import type { Pod, Volume } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import {
  afterAssignedPodDelete,
  afterPvcChange,
  descriptor,
  NAME,
  VolumeRestrictions,
} from '../../../src/scheduler/plugins/VolumeRestrictions.js';
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

  it('iSCSI compares the IQN only: another portal or LUN is the same disk', () => {
    expect(run([{ name: 'v', iscsi: { iqn: 'iqn.1', targetPortal: '10.0.0.9:3260', lun: 7 } }])).toEqual(['ok', DISK]);
    expect(run([{ name: 'v', iscsi: { iqn: 'iqn.2' } }])).toEqual(['ok', 'ok']);
  });

  it('RBD: read-only on both sides passes; an unset pool is the default "rbd"', () => {
    const ro = podOn('rbd-ro', 'n1', [{ name: 'd', rbd: { monitors: ['m1'], pool: 'rbd', image: 'shared', readOnly: true } }]);
    const c = makeCluster([makeNode('n1')], [ro]);
    const p = new VolumeRestrictions(c);
    const check = (volume: Volume): string => {
      const state = new CycleState();
      const pod = podInfo('p', { spec: { volumes: [volume] } });
      expect(p.preFilter(state, pod)).toBeNull();
      return p.filter(state, pod, c.getNode('n1')!)?.message ?? 'ok';
    };
    expect(check({ name: 'v', rbd: { monitors: ['m1'], image: 'shared', readOnly: true } })).toBe('ok');
    expect(check({ name: 'v', rbd: { monitors: ['m1'], image: 'shared' } })).toBe(DISK);
    expect(check({ name: 'v', rbd: { monitors: ['m1'], pool: 'other', image: 'shared' } })).toBe('ok');
  });

  it('GCE PD: two read-only mounts of one disk pass, a read-only mount next to a read-write one does not', () => {
    expect(run([{ name: 'v', gcePersistentDisk: { pdName: 'disk-2', readOnly: true } }])).toEqual(['ok', 'ok']);
    expect(run([{ name: 'v', gcePersistentDisk: { pdName: 'disk-1', readOnly: true } }])).toEqual([DISK, 'ok']);
  });

  it('volumes of other kinds never conflict', () => {
    expect(run([{ name: 'v', cinder: { volumeID: 'vol-1' } }])).toBe(SKIP);
  });

  it('disk conflict is reported before the RWOP conflict', () => {
    expect(run([claimVolume('rwop-used'), { name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }])).toEqual([DISK, RWOP]);
  });

  it('AddPod/RemovePod change the RWOP count on a clone of the state (preemption and nominated pods)', () => {
    const state = new CycleState();
    const p = podInfo('p', { spec: { volumes: [claimVolume('rwop-used')] } });
    expect(plugin.preFilter(state, p)).toBeNull();
    const holder = cluster.getNode('n2')!.pods.find((x) => x.name === 'holder')!;
    const n2 = cluster.getNode('n2')!;
    // Evicting the holder in a what-if frees the claim; the original state is untouched.
    const whatIf = state.clone();
    expect(plugin.removePod(whatIf, p, holder)).toBeNull();
    expect(plugin.filter(whatIf, p, n2)).toBeNull();
    expect(plugin.filter(state, p, n2)?.message).toBe(RWOP);
    // A nominated pod using the claim counts again.
    expect(plugin.addPod(whatIf, p, holder)).toBeNull();
    expect(plugin.filter(whatIf, p, n2)?.message).toBe(RWOP);
  });

  it("AddPod counts claim names whatever the other pod's namespace, as upstream", () => {
    const state = new CycleState();
    const p = podInfo('p', { spec: { volumes: [claimVolume('rwop-free'), { name: 'v', awsElasticBlockStore: { volumeID: 'vol-9' } }] } });
    expect(plugin.preFilter(state, p)).toBeNull();
    expect(plugin.filter(state, p, cluster.getNode('n1')!)).toBeNull();
    const stranger = podInfo('s', { namespace: 'elsewhere', nodeName: 'n1', spec: { volumes: [claimVolume('rwop-free')] } });
    expect(plugin.addPod(state, p, stranger)).toBeNull();
    expect(plugin.filter(state, p, cluster.getNode('n1')!)?.message).toBe(RWOP);
  });

  it('without its PreFilter state: a disk conflict still rejects, anything else is upstream\'s error', () => {
    const p = podInfo('p', { spec: { volumes: [{ name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }] } });
    expect(plugin.filter(new CycleState(), p, cluster.getNode('n1')!)?.message).toBe(DISK);
    const status = plugin.filter(new CycleState(), p, cluster.getNode('n2')!);
    expect(status).toMatchObject({ code: Code.Error, reasons: ['cannot read "PreFilterVolumeRestrictions" from cycleState'] });
    expect(plugin.addPod(new CycleState(), p, p)?.code).toBe(Code.Error);
  });

  it("retries on upstream's events: assigned pod deleted, node added, claim added (with hints)", () => {
    expect(descriptor.events.map((e) => (typeof e === 'string' ? e : e.event))).toEqual(['AssignedPodDelete', 'NodeAdd', 'PvcChange']);
  });

  describe('queueing hints', () => {
    const waiting = podInfo('w', {
      spec: { volumes: [claimVolume('rwop-used'), { name: 'v', gcePersistentDisk: { pdName: 'disk-1', readOnly: true } }] },
    });
    const deleted = (volumes: Volume[], namespace = 'default'): { kind: 'AssignedPodDelete'; oldObject: Pod } => ({
      kind: 'AssignedPodDelete',
      oldObject: podOn('gone', 'n1', volumes, namespace),
    });

    it('a deleted pod queues when its disk conflicted or it used a claim of the same name, in the same namespace', () => {
      expect(afterAssignedPodDelete(waiting, deleted([{ name: 'd', gcePersistentDisk: { pdName: 'disk-1' } }]))).toBe('Queue');
      expect(afterAssignedPodDelete(waiting, deleted([{ name: 'd', gcePersistentDisk: { pdName: 'disk-1', readOnly: true } }]))).toBe('Skip');
      expect(afterAssignedPodDelete(waiting, deleted([claimVolume('rwop-used')]))).toBe('Queue');
      expect(afterAssignedPodDelete(waiting, deleted([claimVolume('other')]))).toBe('Skip');
      // Upstream looks at the namespace first, even for inline disks.
      expect(afterAssignedPodDelete(waiting, deleted([{ name: 'd', gcePersistentDisk: { pdName: 'disk-1' } }], 'elsewhere'))).toBe('Skip');
      expect(afterAssignedPodDelete(waiting, { kind: 'AssignedPodDelete' })).toBe('Queue');
    });

    it('a claim the pod names, created in its namespace, queues; updates and deletions do not', () => {
      const claim = pvc('rwop-used', { accessModes: ['ReadWriteOncePod'] });
      expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: claim })).toBe('Queue');
      expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('rwop-used', { namespace: 'elsewhere' }) })).toBe('Skip');
      expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('other') })).toBe('Skip');
      expect(afterPvcChange(waiting, { kind: 'PvcChange', oldObject: claim, newObject: claim })).toBe('Skip');
      expect(afterPvcChange(waiting, { kind: 'PvcChange', oldObject: claim })).toBe('Skip');
      expect(afterPvcChange(waiting, { kind: 'PvcChange' })).toBe('Queue');
    });
  });
});
