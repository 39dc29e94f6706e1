import { describe, expect, it } from 'vitest';
import type { CSIDriver, CSINode, PersistentVolume, Pod, Volume, VolumeAttachment } from '../../../src/kube/api.js';
import type { ClusterState } from '../../../src/scheduler/cache/clusterState.js';
import { Code, CycleState, SKIP, type Status } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME, NodeVolumeLimits } from '../../../src/scheduler/plugins/NodeVolumeLimits.js';
import { createPlugin, emptyProfile, makeCluster, makeHandle, makeNode, makePod, podInfo } from '../../helpers/builders.js';
import { add, claimVolume, pvc, storageClass } from './volumeFixtures.js';
import {
  afterAssignedPodDelete,
  afterCSINodeChange,
  afterPvcChange,
  afterVolumeAttachmentChange,
} from '../../../src/scheduler/plugins/nodeVolumeLimits/hints.js';

const DRIVER = 'csi.example.com';
const EBS = 'ebs.csi.aws.com';
const MAX = 'node(s) exceed max volume count';

function csiPv(name: string, handle = `h-${name}`, driver = DRIVER): PersistentVolume {
  return { kind: 'PersistentVolume', metadata: { name }, spec: { csi: { driver, volumeHandle: handle } } };
}

/** A CSINode for `node`: driver name → allocatable count (null: listed without a limit). */
function csiNode(node: string, drivers: Record<string, number | null>): CSINode {
  return {
    kind: 'CSINode',
    metadata: { name: node },
    spec: { drivers: Object.entries(drivers).map(([name, count]) => ({ name, nodeID: node, ...(count === null ? {} : { allocatable: { count } }) })) },
  };
}

function attachment(name: string, node: string, pvName: string | undefined, attacher = DRIVER): VolumeAttachment {
  return { kind: 'VolumeAttachment', metadata: { name }, spec: { attacher, nodeName: node, source: pvName === undefined ? {} : { persistentVolumeName: pvName } } };
}

function csiDriver(name: string, preventPodSchedulingIfMissing?: boolean): CSIDriver {
  return { kind: 'CSIDriver', metadata: { name }, spec: preventPodSchedulingIfMissing === undefined ? {} : { preventPodSchedulingIfMissing } };
}

function podOn(name: string, node: string, volumes: Volume[], uid?: string): Pod {
  return makePod(name, { nodeName: node, spec: { volumes }, ...(uid ? { uid } : {}) });
}

function objects(cluster: ClusterState, list: Array<CSINode | CSIDriver | VolumeAttachment>): void {
  for (const o of list) cluster.upsertObject(o.kind as string, o);
}

/** Claims "a".."e" bound to CSI volumes "pv-a".."pv-e" (handles "h-pv-a"..), "shared" to "pv-shared". */
function withBoundClaims(cluster: ClusterState): void {
  for (const n of ['a', 'b', 'c', 'd', 'e', 'shared']) add(cluster, [pvc(n, { volumeName: `pv-${n}`, bound: true }), csiPv(`pv-${n}`)]);
}

/** Runs PreFilter then Filter on each node; the Filter messages ('ok' for a pass), or the PreFilter status. */
function run(cluster: ClusterState, volumes: Volume[], nodes: string[]): string[] | Status {
  const plugin = new NodeVolumeLimits(cluster);
  const state = new CycleState();
  const p = podInfo('p', { uid: 'uid-p', spec: { volumes } });
  const pre = plugin.preFilter(state, p);
  if (pre !== null) return pre as Status;
  return nodes.map((n) => plugin.filter(state, p, cluster.getNode(n)!)?.message ?? 'ok');
}

function filterStatus(cluster: ClusterState, volumes: Volume[], node: string): Status | null {
  const plugin = new NodeVolumeLimits(cluster);
  const state = new CycleState();
  const p = podInfo('p', { uid: 'uid-p', spec: { volumes } });
  expect(plugin.preFilter(state, p)).toBeNull();
  return plugin.filter(state, p, cluster.getNode(node)!);
}

describe('NodeVolumeLimits PreFilter', () => {
  const cluster = makeCluster([makeNode('n1')]);

  it('factory, name, points and events (upstream CSINode, assigned pod delete, PVC add, VolumeAttachment delete)', () => {
    expect(NAME).toBe('NodeVolumeLimits');
    expect(createPlugin(descriptor, makeHandle(cluster, emptyProfile())).name).toBe('NodeVolumeLimits');
    expect(descriptor.points).toEqual(['preFilter', 'filter']);
    expect(descriptor.events.map((e) => e.event)).toEqual(['CSINodeChange', 'AssignedPodDelete', 'PvcChange', 'VolumeAttachmentChange']);
  });

  it('skips pods without a claim, a generic ephemeral volume or a migratable inline volume', () => {
    expect(run(cluster, [], ['n1'])).toBe(SKIP);
    expect(run(cluster, [{ name: 'v', nfs: { server: 's' } }, { name: 'w', iscsi: { iqn: 'i' } }, { name: 'x', rbd: { image: 'i' } }], ['n1'])).toBe(SKIP);
  });

  it('does not skip claims, ephemeral volumes and the seven migratable inline kinds (even those never counted)', () => {
    expect(run(cluster, [claimVolume('nope')], ['n1'])).not.toBe(SKIP);
    expect(run(cluster, [{ name: 'e', ephemeral: {} }], ['n1'])).not.toBe(SKIP);
    expect(run(cluster, [{ name: 'v', azureFile: {} }], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [{ name: 'v', vsphereVolume: {} }], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [{ name: 'v', gcePersistentDisk: { pdName: 'd' } }], ['n1'])).toEqual(['ok']);
  });
});

describe('NodeVolumeLimits Filter: counting', () => {
  it('a volume shared by several pods, and one the new pod shares, counts once', () => {
    const cluster = makeCluster(
      [makeNode('n1'), makeNode('n2')],
      [
        podOn('x', 'n1', [claimVolume('shared'), claimVolume('a')]),
        podOn('y', 'n2', [claimVolume('shared')]),
        podOn('z', 'n2', [claimVolume('shared')]),
      ],
    );
    withBoundClaims(cluster);
    objects(cluster, [csiNode('n1', { [DRIVER]: 2 }), csiNode('n2', { [DRIVER]: 3 })]);
    // n1 holds 2 of 2 (shared, a); n2 holds 1 of 3 (shared, by two pods).
    expect(run(cluster, [claimVolume('shared')], ['n1', 'n2'])).toEqual(['ok', 'ok']);
    expect(run(cluster, [claimVolume('a'), claimVolume('shared')], ['n1', 'n2'])).toEqual(['ok', 'ok']);
    expect(run(cluster, [claimVolume('b')], ['n1', 'n2'])).toEqual([MAX, 'ok']);
    expect(run(cluster, [claimVolume('b'), claimVolume('c')], ['n1', 'n2'])).toEqual([MAX, 'ok']);
    expect(run(cluster, [claimVolume('b'), claimVolume('c'), claimVolume('d')], ['n1', 'n2'])).toEqual([MAX, MAX]);
    // Two volumes of the pod with one handle are one volume.
    add(cluster, [pvc('b-alias', { volumeName: 'pv-b-alias', bound: true }), csiPv('pv-b-alias', 'h-pv-b')]);
    expect(run(cluster, [claimVolume('b'), claimVolume('b-alias'), claimVolume('c')], ['n2'])).toEqual(['ok']);
  });

  it('the rejection is Unschedulable and a shared constant', () => {
    const cluster = makeCluster([makeNode('n1')], [podOn('x', 'n1', [claimVolume('a')])]);
    withBoundClaims(cluster);
    objects(cluster, [csiNode('n1', { [DRIVER]: 1 })]);
    const first = filterStatus(cluster, [claimVolume('b')], 'n1');
    expect(first).toMatchObject({ code: Code.Unschedulable, reasons: [MAX] });
    expect(filterStatus(cluster, [claimVolume('c')], 'n1')).toBe(first);
  });

  it('limits are per driver; a driver without a count, or a limit of 0, as published', () => {
    const cluster = makeCluster([makeNode('n1')], [podOn('x', 'n1', [claimVolume('a')])]);
    withBoundClaims(cluster);
    add(cluster, [pvc('other', { volumeName: 'pv-other', bound: true }), csiPv('pv-other', 'h-o', 'other.csi.io')]);
    add(cluster, [pvc('free', { volumeName: 'pv-free', bound: true }), csiPv('pv-free', 'h-f', 'free.csi.io')]);
    objects(cluster, [csiNode('n1', { [DRIVER]: 1, 'other.csi.io': 0, 'free.csi.io': null })]);
    expect(run(cluster, [claimVolume('free')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('other')], ['n1'])).toEqual([MAX]);
    expect(run(cluster, [claimVolume('b')], ['n1'])).toEqual([MAX]);
    expect(run(cluster, [claimVolume('a'), claimVolume('free')], ['n1'])).toEqual(['ok']);
  });

  it('a node without a CSINode, or whose CSINode has no counts, has no limits', () => {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')], [podOn('x', 'n1', [claimVolume('a')]), podOn('y', 'n2', [claimVolume('a')])]);
    withBoundClaims(cluster);
    objects(cluster, [csiNode('n2', { [DRIVER]: null })]);
    expect(run(cluster, [claimVolume('b'), claimVolume('c'), claimVolume('d')], ['n1', 'n2'])).toEqual(['ok', 'ok']);
  });

  it('claims of pods on the node that berth cannot find are not counted; non-CSI volumes are not counted', () => {
    const cluster = makeCluster([makeNode('n1')], [podOn('x', 'n1', [claimVolume('gone'), claimVolume('nfs-claim'), claimVolume('a')])]);
    withBoundClaims(cluster);
    add(cluster, [pvc('nfs-claim', { volumeName: 'pv-nfs', bound: true }), { kind: 'PersistentVolume', metadata: { name: 'pv-nfs' }, spec: {} }]);
    objects(cluster, [csiNode('n1', { [DRIVER]: 2 })]);
    expect(run(cluster, [claimVolume('b'), claimVolume('nfs-claim')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('b'), claimVolume('c')], ['n1'])).toEqual([MAX]);
  });
});

describe('NodeVolumeLimits Filter: VolumeAttachments', () => {
  function setup(vas: VolumeAttachment[], pods: Pod[] = [], limit = 2): ClusterState {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')], pods);
    withBoundClaims(cluster);
    add(cluster, [{ kind: 'PersistentVolume', metadata: { name: 'pv-intree' }, spec: { awsElasticBlockStore: { volumeID: 'vol-1' } } }]);
    objects(cluster, [csiNode('n1', { [DRIVER]: limit }), csiNode('n2', { [DRIVER]: limit }), ...vas]);
    return cluster;
  }

  it('volumes attached to the node count against its limit', () => {
    const cluster = setup([attachment('va-a', 'n1', 'pv-a'), attachment('va-b', 'n1', 'pv-b')]);
    expect(run(cluster, [claimVolume('c')], ['n1', 'n2'])).toEqual([MAX, 'ok']);
  });

  it('ignored: no attacher, no PV name, an unknown PV, a non-CSI PV, another node', () => {
    const cluster = setup([
      attachment('va-1', 'n1', 'pv-a', ''),
      attachment('va-2', 'n1', undefined),
      attachment('va-3', 'n1', 'pv-ghost'),
      attachment('va-4', 'n1', 'pv-intree', EBS),
      attachment('va-5', 'n2', 'pv-b'),
    ]);
    expect(run(cluster, [claimVolume('c'), claimVolume('d')], ['n1'])).toEqual(['ok']);
  });

  it('a volume attached and used by a pod on the node, or attached twice, counts once', () => {
    const cluster = setup(
      [attachment('va-a', 'n1', 'pv-a'), attachment('va-b1', 'n1', 'pv-b'), attachment('va-b2', 'n1', 'pv-b')],
      [podOn('x', 'n1', [claimVolume('a')])],
      3,
    );
    // a (pod and attachment) + b (two attachments) = 2 of 3.
    expect(run(cluster, [claimVolume('c')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('c'), claimVolume('d')], ['n1'])).toEqual([MAX]);
  });

  it('as upstream, a volume of the pod that only an attachment holds on the node counts twice', () => {
    const cluster = setup([attachment('va-a', 'n1', 'pv-a')], [], 1);
    // Attached: a (1). New: a is not held by a pod on the node, so it is new too: 1 + 1 > 1.
    expect(run(cluster, [claimVolume('a')], ['n1', 'n2'])).toEqual([MAX, 'ok']);
  });

  it('the attachment counts under its attacher', () => {
    const cluster = setup([attachment('va-a', 'n1', 'pv-a', 'someone.else')], [], 1);
    expect(run(cluster, [claimVolume('b')], ['n1'])).toEqual(['ok']);
  });
});

describe('NodeVolumeLimits Filter: claims without a volume', () => {
  function setup(pods: Pod[] = [], limit = 2): ClusterState {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')], pods);
    withBoundClaims(cluster);
    add(cluster, [
      storageClass('fast', 'WaitForFirstConsumer', DRIVER),
      storageClass('ebs', 'WaitForFirstConsumer', 'kubernetes.io/aws-ebs'),
      storageClass('files', 'WaitForFirstConsumer', 'kubernetes.io/azure-file'),
      pvc('new1', { className: 'fast' }),
      pvc('new2', { className: 'fast' }),
      pvc('new3', { className: 'fast' }),
      pvc('classless', {}),
      pvc('unknown-class', { className: 'ghost' }),
      pvc('prebound-missing', { className: 'fast', volumeName: 'pv-not-yet' }),
      pvc('ebs1', { className: 'ebs' }),
      pvc('ebs2', { className: 'ebs' }),
      pvc('file1', { className: 'files' }),
    ]);
    objects(cluster, [csiNode('n1', { [DRIVER]: limit, [EBS]: 1 })]);
    return cluster;
  }

  it("count as one volume each of the StorageClass's provisioner", () => {
    const cluster = setup([podOn('x', 'n1', [claimVolume('a')])]);
    expect(run(cluster, [claimVolume('new1')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('new1'), claimVolume('new2')], ['n1'])).toEqual([MAX]);
    // A claim naming a PV berth has not seen counts through its class too.
    expect(run(cluster, [claimVolume('new1'), claimVolume('prebound-missing')], ['n1'])).toEqual([MAX]);
  });

  it('without a class, or with an unknown class, they are not counted', () => {
    const cluster = setup([podOn('x', 'n1', [claimVolume('a')])], 1);
    expect(run(cluster, [claimVolume('classless'), claimVolume('unknown-class')], ['n1'])).toEqual(['ok']);
  });

  it('the same unbound claim on a pod on the node (an assumed pod) is the same volume', () => {
    const cluster = setup([podOn('x', 'n1', [claimVolume('new1'), claimVolume('a')])]);
    expect(run(cluster, [claimVolume('new1')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('new2')], ['n1'])).toEqual([MAX]);
  });

  it('an in-tree provisioner counts as its CSI driver (migration on), never for Azure File', () => {
    const cluster = setup();
    expect(run(cluster, [claimVolume('ebs1')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [claimVolume('ebs1'), claimVolume('ebs2')], ['n1'])).toEqual([MAX]);
    expect(run(cluster, [claimVolume('file1'), claimVolume('new1'), claimVolume('new2')], ['n1'])).toEqual(['ok']);
  });
});

describe('NodeVolumeLimits Filter: in-tree volumes', () => {
  function setup(pods: Pod[] = []): ClusterState {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')], pods);
    add(cluster, [
      pvc('ebs-pv', { volumeName: 'pv-ebs', bound: true }),
      { kind: 'PersistentVolume', metadata: { name: 'pv-ebs' }, spec: { awsElasticBlockStore: { volumeID: 'aws://us-east-1a/vol-1' } } },
    ]);
    objects(cluster, [csiNode('n1', { [EBS]: 1 })]);
    return cluster;
  }
  const ebs = (id: string, name = 'v'): Volume => ({ name, awsElasticBlockStore: { volumeID: id } });

  it('inline and PV in-tree volumes count as their CSI driver, one disk once whatever its spelling', () => {
    const cluster = setup([podOn('x', 'n1', [claimVolume('ebs-pv')])]);
    expect(run(cluster, [ebs('vol-1')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [ebs('aws:///vol-1')], ['n1'])).toEqual(['ok']);
    expect(run(cluster, [ebs('vol-2')], ['n1'])).toEqual([MAX]);
    expect(run(cluster, [ebs('vol-2'), ebs('vol-3', 'w')], ['n2'])).toEqual(['ok']);
  });

  it('an inline volume that does not translate is an error, on nodes with a CSINode only', () => {
    const cluster = setup();
    const status = filterStatus(cluster, [ebs('aws://zone/not-a-volume')], 'n1');
    expect(status).toMatchObject({
      code: Code.Error,
      reasons: ['converting volume(v) from inline to csi: failed to translate Kubernetes ID to EBS Volume ID Invalid format for AWS volume (aws://zone/not-a-volume)'],
    });
    expect(filterStatus(cluster, [ebs('aws://zone/not-a-volume')], 'n2')).toBeNull();
    const azure = filterStatus(cluster, [{ name: 'az', azureDisk: { diskURI: 'u', kind: 'Shared' } }], 'n1');
    expect(azure?.message).toBe('converting volume(az) from inline to csi: kind(Shared) is not supported in csi migration');
  });

  it('so is one on a pod already on the node, when the node has limits', () => {
    const cluster = setup([podOn('x', 'n1', [ebs('aws://zone/bad')])]);
    expect(filterStatus(cluster, [ebs('vol-5')], 'n1')?.code).toBe(Code.Error);
  });
});

describe('NodeVolumeLimits Filter: claims that cannot be read', () => {
  it("a missing claim of the pod is unresolvable with upstream's text, on every node", () => {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')]);
    objects(cluster, [csiNode('n1', { [DRIVER]: 5 })]);
    const result = run(cluster, [claimVolume('nope')], ['n1', 'n2']);
    expect(result).toEqual(['looking up PVC default/nope: persistentvolumeclaim "nope" not found', 'looking up PVC default/nope: persistentvolumeclaim "nope" not found']);
    expect(filterStatus(cluster, [claimVolume('nope')], 'n2')?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('a generic ephemeral volume counts its "<pod>-<volume>" claim, which the pod must own', () => {
    const cluster = makeCluster([makeNode('n1')], [podOn('x', 'n1', [claimVolume('a')])]);
    withBoundClaims(cluster);
    add(cluster, [
      { ...pvc('p-scratch', { volumeName: 'pv-scratch', bound: true, ownerUid: 'uid-p' }) },
      csiPv('pv-scratch'),
      pvc('p-foreign', { volumeName: 'pv-b', bound: true, ownerUid: 'someone-else' }),
    ]);
    objects(cluster, [csiNode('n1', { [DRIVER]: 1 })]);
    expect(run(cluster, [{ name: 'scratch', ephemeral: {} }], ['n1'])).toEqual([MAX]);
    expect(filterStatus(cluster, [{ name: 'foreign', ephemeral: {} }], 'n1')).toMatchObject({
      code: Code.Error,
      reasons: ['PVC default/p-foreign was not created for pod default/p (pod is not owner)'],
    });
    expect(filterStatus(cluster, [{ name: 'missing', ephemeral: {} }], 'n1')?.message).toBe(
      'looking up PVC default/p-missing: persistentvolumeclaim "p-missing" not found',
    );
  });
});

describe('NodeVolumeLimits Filter: VolumeLimitScaling (driver not installed)', () => {
  function setup(): ClusterState {
    const cluster = makeCluster([makeNode('with'), makeNode('without'), makeNode('none')]);
    add(cluster, [
      pvc('strict', { volumeName: 'pv-strict', bound: true }),
      csiPv('pv-strict', 'h', 'strict.csi.io'),
      pvc('lax', { volumeName: 'pv-lax', bound: true }),
      csiPv('pv-lax', 'h', 'lax.csi.io'),
      pvc('unknown', { volumeName: 'pv-unknown', bound: true }),
      csiPv('pv-unknown', 'h', 'unknown.csi.io'),
    ]);
    objects(cluster, [
      csiDriver('strict.csi.io', true),
      csiDriver('lax.csi.io', false),
      csiNode('with', { 'strict.csi.io': null }),
      csiNode('without', { [DRIVER]: 3 }),
    ]);
    return cluster;
  }

  it('a driver that opts in must be listed by the CSINode; no CSINode means not installed', () => {
    const missing = 'strict.csi.io CSI driver is not installed on the node';
    expect(run(setup(), [claimVolume('strict')], ['with', 'without', 'none'])).toEqual(['ok', missing, missing]);
    expect(filterStatus(setup(), [claimVolume('strict')], 'none')?.code).toBe(Code.Unschedulable);
  });

  it('drivers that do not opt in, or have no CSIDriver object, pass everywhere', () => {
    expect(run(setup(), [claimVolume('lax'), claimVolume('unknown')], ['with', 'without', 'none'])).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('NodeVolumeLimits without PreFilter state', () => {
  it('Filter works on its own, as upstream', () => {
    const cluster = makeCluster([makeNode('n1')], [podOn('x', 'n1', [claimVolume('a')])]);
    withBoundClaims(cluster);
    objects(cluster, [csiNode('n1', { [DRIVER]: 1 })]);
    const plugin = new NodeVolumeLimits(cluster);
    const p = podInfo('p', { spec: { volumes: [claimVolume('b')] } });
    expect(plugin.filter(new CycleState(), p, cluster.getNode('n1')!)?.message).toBe(MAX);
  });
});

describe('NodeVolumeLimits queueing hints (upstream QueueingHintFns)', () => {
  const waiting = podInfo('w', { spec: { volumes: [claimVolume('data'), { name: 'scratch', ephemeral: {} }] } });

  it('CSINode: an add queues, an update only when a limit went up, a deletion never', () => {
    const before = csiNode('n1', { [DRIVER]: 2, 'other.io': null });
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', newObject: before })).toBe('Queue');
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', oldObject: before, newObject: csiNode('n1', { [DRIVER]: 3 }) })).toBe('Queue');
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', oldObject: before, newObject: csiNode('n1', { [DRIVER]: 2, 'new.io': 1 }) })).toBe('Queue');
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', oldObject: before, newObject: csiNode('n1', { [DRIVER]: 1 }) })).toBe('Skip');
    // A driver newly listed without a count: its limit stays 0, so upstream does not queue (even for "not installed").
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', oldObject: before, newObject: csiNode('n1', { [DRIVER]: 2, 'new.io': null }) })).toBe('Skip');
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange', oldObject: before })).toBe('Skip');
    expect(afterCSINodeChange(waiting, { kind: 'CSINodeChange' })).toBe('Queue');
  });

  it('an assigned pod deleted: queues when it was placed and had a claim, ephemeral or migratable volume', () => {
    const gone = (volumes: Volume[], node = 'n1'): { kind: 'AssignedPodDelete'; oldObject: Pod } => ({
      kind: 'AssignedPodDelete',
      oldObject: makePod('gone', { ...(node ? { nodeName: node } : {}), spec: { volumes } }),
    });
    expect(afterAssignedPodDelete(waiting, gone([claimVolume('x')]))).toBe('Queue');
    expect(afterAssignedPodDelete(waiting, gone([{ name: 'e', ephemeral: {} }]))).toBe('Queue');
    expect(afterAssignedPodDelete(waiting, gone([{ name: 'v', cinder: { volumeID: 'c' } }]))).toBe('Queue');
    expect(afterAssignedPodDelete(waiting, gone([{ name: 'v', nfs: { server: 's' } }]))).toBe('Skip');
    expect(afterAssignedPodDelete(waiting, gone([]))).toBe('Skip');
    expect(afterAssignedPodDelete(waiting, gone([claimVolume('x')], ''))).toBe('Skip');
    expect(afterAssignedPodDelete(waiting, { kind: 'AssignedPodDelete' })).toBe('Queue');
  });

  it('a claim added: queues when the pod names it, directly or through an ephemeral volume', () => {
    expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('data') })).toBe('Queue');
    expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('w-scratch') })).toBe('Queue');
    expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('data', { namespace: 'elsewhere' }) })).toBe('Skip');
    expect(afterPvcChange(waiting, { kind: 'PvcChange', newObject: pvc('unrelated') })).toBe('Skip');
    expect(afterPvcChange(waiting, { kind: 'PvcChange', oldObject: pvc('data'), newObject: pvc('data', { bound: true }) })).toBe('Skip');
  });

  it('a VolumeAttachment deleted: queues pods with a claim, or an inline volume of the attacher (or one that does not translate)', () => {
    const detached = (attacher: string) => ({ kind: 'VolumeAttachmentChange' as const, oldObject: attachment('va', 'n1', 'pv', attacher) });
    const inline = (volume: Volume) => podInfo('i', { spec: { volumes: [volume] } });
    expect(afterVolumeAttachmentChange(waiting, detached('anything'))).toBe('Queue');
    // Only persistentVolumeClaim volumes count, not ephemeral ones (as upstream).
    expect(afterVolumeAttachmentChange(inline({ name: 'e', ephemeral: {} }), detached(DRIVER))).toBe('Skip');
    expect(afterVolumeAttachmentChange(inline({ name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }), detached(EBS))).toBe('Queue');
    expect(afterVolumeAttachmentChange(inline({ name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }), detached(DRIVER))).toBe('Skip');
    expect(afterVolumeAttachmentChange(inline({ name: 'v', awsElasticBlockStore: { volumeID: 'aws://z/bad' } }), detached(DRIVER))).toBe('Queue');
    expect(afterVolumeAttachmentChange(inline({ name: 'v', azureFile: {} }), detached('file.csi.azure.com'))).toBe('Queue');
    expect(afterVolumeAttachmentChange(waiting, { kind: 'VolumeAttachmentChange', newObject: attachment('va', 'n1', 'pv') })).toBe('Skip');
  });
});
