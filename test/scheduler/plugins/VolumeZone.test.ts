import { describe, expect, it } from 'vitest';
import type { Volume } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME, VolumeZone } from '../../../src/scheduler/plugins/VolumeZone.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, podInfo, makeHandle } from '../../helpers/builders.js';
import { add, claimVolume, pv, pvc, storageClass } from './volumeFixtures.js';

const GA_ZONE = 'topology.kubernetes.io/zone';
const GA_REGION = 'topology.kubernetes.io/region';
const BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION = 'failure-domain.beta.kubernetes.io/region';

const cluster = makeCluster([
  makeNode('z1', { labels: { [GA_ZONE]: 'us-1a', [GA_REGION]: 'us-1' } }),
  makeNode('z2', { labels: { [GA_ZONE]: 'us-1b', [GA_REGION]: 'us-1' } }),
  makeNode('beta', { labels: { [BETA_ZONE]: 'us-1a', [BETA_REGION]: 'us-1' } }),
  makeNode('nolabels'),
]);
add(cluster, [
  storageClass('wait', 'WaitForFirstConsumer'),
  storageClass('now', 'Immediate'),
  storageClass('unset'),
  pvc('c-ga', { volumeName: 'pv-ga', bound: true }),
  pv('pv-ga', { [GA_ZONE]: 'us-1a' }),
  pvc('c-beta', { volumeName: 'pv-beta', bound: true }),
  pv('pv-beta', { [BETA_ZONE]: 'us-1a', [BETA_REGION]: 'us-1' }),
  pvc('c-multi', { volumeName: 'pv-multi', bound: true }),
  pv('pv-multi', { [GA_ZONE]: 'us-1a__ us-1b' }),
  pvc('c-bad', { volumeName: 'pv-bad', bound: true }),
  pv('pv-bad', { [GA_ZONE]: 'us-1a__' }),
  pvc('c-nolabel', { volumeName: 'pv-nolabel', bound: true }),
  pv('pv-nolabel'),
  pvc('c-wait', { className: 'wait' }),
  pvc('c-now', { className: 'now' }),
  pvc('c-unset', { className: 'unset' }),
  pvc('c-noclass', {}),
  pvc('c-ghostclass', { className: 'ghost' }),
  pvc('c-ghostpv', { volumeName: 'ghost', bound: true }),
]);
const plugin = new VolumeZone(cluster);
const NODES = ['z1', 'z2', 'beta', 'nolabels'];

function run(volumes: Volume[]) {
  const state = new CycleState();
  const p = podInfo('p', { spec: { volumes } });
  const pre = plugin.preFilter(state, p);
  if (pre !== null) return pre;
  return NODES.map((n) => plugin.filter(state, p, cluster.getNode(n)!)?.message ?? 'ok');
}

const NO_ZONE = 'node(s) had no available volume zone';

describe('VolumeZone', () => {
  it('factory and name', () => {
    expect(NAME).toBe('VolumeZone');
    expect(createPlugin(descriptor, makeHandle(cluster, emptyProfile())).name).toBe('VolumeZone');
  });

  it('skips pods without PVCs, with only unlabeled PVs, or with only WaitForFirstConsumer unbound claims', () => {
    expect(run([])).toBe(SKIP);
    expect(run([{ name: 'e', emptyDir: {} }])).toBe(SKIP);
    expect(run([claimVolume('c-nolabel')])).toBe(SKIP);
    expect(run([claimVolume('c-wait')])).toBe(SKIP);
  });

  it('GA zone label must match; nodes without topology labels pass', () => {
    expect(run([claimVolume('c-ga')])).toEqual(['ok', NO_ZONE, NO_ZONE, 'ok']);
  });

  it('legacy PV labels match the node legacy label or, failing that, the GA one', () => {
    expect(run([claimVolume('c-beta')])).toEqual(['ok', NO_ZONE, 'ok', 'ok']);
  });

  it('"__"-separated values form a set (entries trimmed); a malformed value is ignored', () => {
    expect(run([claimVolume('c-multi')])).toEqual(['ok', 'ok', NO_ZONE, 'ok']);
    expect(run([claimVolume('c-bad')])).toBe(SKIP);
  });

  it('the rejection is UnschedulableAndUnresolvable', () => {
    const state = new CycleState();
    const p = podInfo('p', { spec: { volumes: [claimVolume('c-ga')] } });
    plugin.preFilter(state, p);
    expect(plugin.filter(state, p, cluster.getNode('z2')!)?.code).toBe(Code.UnschedulableAndUnresolvable);
  });

  it('PreFilter errors carry upstream messages', () => {
    const msg = (v: Volume[]) => {
      const s = run(v);
      expect(s).toMatchObject({ code: Code.UnschedulableAndUnresolvable });
      return (s as { message: string }).message;
    };
    expect(msg([claimVolume('')])).toBe('PersistentVolumeClaim had no name');
    expect(msg([claimVolume('nope')])).toBe('persistentvolumeclaim "nope" not found');
    expect(msg([claimVolume('c-noclass')])).toBe('PersistentVolumeClaim had no pv name and storageClass name');
    expect(msg([claimVolume('c-ghostclass')])).toBe('storageclass.storage.k8s.io "ghost" not found');
    expect(msg([claimVolume('c-now')])).toBe('PersistentVolume had no name');
    expect(msg([claimVolume('c-unset')])).toBe('PersistentVolume had no name');
    expect(msg([claimVolume('c-ghostpv')])).toBe('persistentvolume "ghost" not found');
  });
});
