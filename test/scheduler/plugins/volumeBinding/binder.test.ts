// The volume binder on its own: claims sorted as upstream's GetPodVolumeClaims does, FindPodVolumes's reasons for a
// node, and PreBind's write-then-wait loop against a scripted API and a virtual clock.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../../src/adapters/simulator/virtualClock.js';
import type { CSIDriver, CSIStorageCapacity, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../../src/kube/api.js';
import type { ObjectWrite, WriteResult } from '../../../../src/scheduler/ports.js';
import { AssumeCache } from '../../../../src/scheduler/plugins/volumeBinding/assumeCache.js';
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_REASON_NOT_ENOUGH_SPACE,
  ERR_REASON_PV_NOT_EXIST,
  findPodVolumes,
  podVolumeClaims,
  type VolumeSources,
} from '../../../../src/scheduler/plugins/volumeBinding/binder.js';
import { bindPodVolumes } from '../../../../src/scheduler/plugins/volumeBinding/bindVolumes.js';

const WFFC: StorageClass = { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };
const DYNAMIC: StorageClass = { metadata: { name: 'dyn' }, provisioner: 'example.com/local-path', volumeBindingMode: 'WaitForFirstConsumer' };
const IMMEDIATE: StorageClass = { metadata: { name: 'fast' }, provisioner: 'example.com/fast', volumeBindingMode: 'Immediate' };

function claim(name: string, cls: string, extra: { volumeName?: string; bound?: boolean; selectedNode?: string; size?: string } = {}): PersistentVolumeClaim {
  const annotations: Record<string, string> = {};
  if (extra.bound) annotations['pv.kubernetes.io/bind-completed'] = 'yes';
  if (extra.selectedNode) annotations['volume.kubernetes.io/selected-node'] = extra.selectedNode;
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '10', annotations },
    spec: {
      storageClassName: cls,
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: extra.size ?? '1Gi' } },
      ...(extra.volumeName ? { volumeName: extra.volumeName } : {}),
    },
  };
}

function localPv(name: string, node: string, size = '5Gi'): PersistentVolume {
  return {
    metadata: { name, resourceVersion: '20' },
    spec: {
      storageClassName: 'local',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: size },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
    status: { phase: 'Available' },
  };
}

interface World {
  claims: Map<string, PersistentVolumeClaim>;
  volumes: Map<string, PersistentVolume>;
  classes: StorageClass[];
  drivers: CSIDriver[];
  capacities: CSIStorageCapacity[];
}

function sourcesOf(w: World, pvCache = new AssumeCache<PersistentVolume>((k) => w.volumes.get(k)), pvcCache = new AssumeCache<PersistentVolumeClaim>((k) => w.claims.get(k))): VolumeSources {
  return {
    claim: (ns, name) => pvcCache.get(`${ns}/${name}`),
    volume: (name) => pvCache.get(name),
    volumesOfClass: (cls) =>
      [...w.volumes.keys()].sort().map((k) => pvCache.get(k)!).filter((pv) => pv.spec?.storageClassName === cls),
    storageClass: (name) => w.classes.find((c) => c.metadata?.name === name),
    csiDriver: (name) => w.drivers.find((d) => d.metadata?.name === name),
    storageCapacities: () => w.capacities,
  };
}

function world(claims: PersistentVolumeClaim[], volumes: PersistentVolume[] = []): World {
  return {
    claims: new Map(claims.map((c) => [`ns/${c.metadata!.name}`, c])),
    volumes: new Map(volumes.map((v) => [v.metadata!.name!, v])),
    classes: [WFFC, DYNAMIC, IMMEDIATE],
    drivers: [],
    capacities: [],
  };
}

const n1 = { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', 'topology.kubernetes.io/zone': 'a' } };
const n2 = { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2', 'topology.kubernetes.io/zone': 'b' } };

describe('podVolumeClaims', () => {
  it('sorts claims into bound, delayed and immediate (pre-bound claims wait for the PV controller)', () => {
    const w = world([
      claim('b', 'local', { volumeName: 'pv-b', bound: true }),
      claim('d', 'local'),
      claim('i', 'fast'),
      claim('pre', 'local', { volumeName: 'pv-x' }),
      claim('noclass', ''),
    ]);
    const c = podVolumeClaims([...w.claims.values()], sourcesOf(w));
    expect(c.bound.map((x) => x.metadata?.name)).toEqual(['b']);
    expect(c.delayed.map((x) => x.metadata?.name)).toEqual(['d']);
    expect(c.immediate.map((x) => x.metadata?.name)).toEqual(['i', 'pre', 'noclass']);
  });
});

describe('findPodVolumes', () => {
  it('static local PVs: the node holding a fitting PV gets a binding, the others the bind-conflict reason', () => {
    const w = world([claim('d', 'local')], [localPv('pv-n2', 'n2')]);
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    expect(findPodVolumes(claims, n1, s)).toEqual({ podVolumes: { staticBindings: [], dynamicProvisions: [] }, reasons: [ERR_REASON_BIND_CONFLICT] });
    const onN2 = findPodVolumes(claims, n2, s);
    expect(onN2.error).toBeUndefined();
    if (onN2.error === undefined) {
      expect(onN2.reasons).toEqual([]);
      expect(onN2.podVolumes.staticBindings.map((b) => b.pv.metadata?.name)).toEqual(['pv-n2']);
    }
  });

  it('two claims of one pod never get the same PV', () => {
    const w = world([claim('a', 'local', { size: '1Gi' }), claim('b', 'local', { size: '2Gi' })], [localPv('only', 'n1')]);
    const s = sourcesOf(w);
    const r = findPodVolumes(podVolumeClaims([...w.claims.values()], s), n1, s);
    expect(r.error === undefined && r.reasons).toEqual([ERR_REASON_BIND_CONFLICT]);
  });

  it('dynamic provisioning: allowed on any node unless allowedTopologies rule it out', () => {
    const w = world([claim('d', 'dyn')]);
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    const r = findPodVolumes(claims, n1, s);
    expect(r.error === undefined && r.podVolumes.dynamicProvisions.map((p) => p.pvc.metadata?.name)).toEqual(['d']);
    w.classes[1] = { ...DYNAMIC, allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['b'] }] }] };
    expect(findPodVolumes(claims, n1, s)).toMatchObject({ reasons: [ERR_REASON_BIND_CONFLICT] });
    expect(findPodVolumes(claims, n2, s)).toMatchObject({ reasons: [] });
  });

  it('a claim whose provisioning already started for another node rejects this one', () => {
    const w = world([claim('d', 'dyn', { selectedNode: 'n2' })]);
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    expect(findPodVolumes(claims, n1, s)).toMatchObject({ reasons: [ERR_REASON_BIND_CONFLICT] });
    expect(findPodVolumes(claims, n2, s)).toMatchObject({ reasons: [] });
  });

  it('CSI storage capacity, when the driver asks for it: a reachable segment with room, else not enough free storage', () => {
    const w = world([claim('d', 'dyn', { size: '10Gi' })]);
    w.drivers.push({ metadata: { name: 'example.com/local-path' }, spec: { storageCapacity: true } });
    w.capacities.push(
      { metadata: { name: 'c1', namespace: 'kube-system' }, storageClassName: 'dyn', capacity: '100Gi', maximumVolumeSize: '5Gi', nodeTopology: { matchLabels: { 'kubernetes.io/hostname': 'n1' } } },
      { metadata: { name: 'c2', namespace: 'kube-system' }, storageClassName: 'dyn', capacity: '50Gi', nodeTopology: { matchLabels: { 'kubernetes.io/hostname': 'n2' } } },
    );
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    expect(findPodVolumes(claims, n1, s)).toMatchObject({ reasons: [ERR_REASON_NOT_ENOUGH_SPACE] });
    const onN2 = findPodVolumes(claims, n2, s);
    expect(onN2.error === undefined && onN2.podVolumes.dynamicProvisions[0]?.capacity?.metadata?.name).toBe('c2');
  });

  it('bound claims: a missing PV or a PV for another node', () => {
    const w = world([claim('b', 'local', { volumeName: 'pv-1', bound: true })], [localPv('pv-1', 'n2')]);
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    expect(findPodVolumes(claims, n1, s)).toMatchObject({ reasons: [ERR_REASON_NODE_CONFLICT] });
    w.volumes.clear();
    expect(findPodVolumes(claims, n1, s)).toMatchObject({ reasons: [ERR_REASON_PV_NOT_EXIST] });
  });

  it('a claim whose class does not exist is an error, as upstream', () => {
    const w = world([claim('d', 'local')]);
    w.classes = [{ ...WFFC }];
    const s = sourcesOf(w);
    const claims = podVolumeClaims([...w.claims.values()], s);
    w.classes = [];
    // The claim was delayed when classified; its class vanished before Filter.
    expect(findPodVolumes({ ...claims, volumesByClass: new Map([['local', []]]) }, n1, s)).toEqual({ error: 'failed to find storage class "local"' });
  });
});

describe('bindPodVolumes (PreBind)', () => {
  function setup(w: World): {
    writes: ObjectWrite[];
    clock: VirtualClock;
    deps: Parameters<typeof bindPodVolumes>[2];
    answer: (req: ObjectWrite) => WriteResult;
  } {
    const writes: ObjectWrite[] = [];
    const clock = new VirtualClock();
    const pvCache = new AssumeCache<PersistentVolume>((k) => w.volumes.get(k));
    const pvcCache = new AssumeCache<PersistentVolumeClaim>((k) => w.claims.get(k));
    const h = {
      writes,
      clock,
      answer: (req: ObjectWrite): WriteResult => ({ status: 200, object: req.body }),
      deps: undefined as unknown as Parameters<typeof bindPodVolumes>[2],
    };
    h.deps = {
      api: { write: async (req) => (writes.push(req), h.answer(req)) },
      clock,
      pvCache,
      pvcCache,
      node: (name) => (name === 'n1' ? n1 : undefined),
      timeoutMs: 600_000,
      signal: new AbortController().signal,
    };
    return h;
  }

  const claimToProvision = (): PersistentVolumeClaim => claim('d', 'dyn', { selectedNode: 'n1' });

  it('writes selected-node (conditional on the resourceVersion) and waits until the claim is bound', async () => {
    const w = world([claim('d', 'dyn')]);
    const h = setup(w);
    h.answer = () => {
      const pvc = { ...claimToProvision(), metadata: { ...claimToProvision().metadata, resourceVersion: '11' } };
      w.claims.set('ns/d', pvc);
      return { status: 200, object: pvc };
    };
    const done = bindPodVolumes('n1', { staticBindings: [], dynamicProvisions: [{ pvc: claimToProvision() }] }, h.deps);
    await new Promise((r) => setImmediate(r));
    expect(h.writes).toEqual([
      {
        verb: 'patch',
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: 'ns',
        name: 'd',
        body: { metadata: { resourceVersion: '10', annotations: { 'volume.kubernetes.io/selected-node': 'n1' } } },
      },
    ]);
    h.clock.advanceTo(1000);
    await new Promise((r) => setImmediate(r));
    // The provisioner created the PV and the PV controller bound the claim.
    w.volumes.set('pvc-uid-d', localPv('pvc-uid-d', 'n1'));
    const bound = claimToProvision();
    bound.metadata = { ...bound.metadata, resourceVersion: '12', annotations: { ...bound.metadata?.annotations, 'pv.kubernetes.io/bind-completed': 'yes' } };
    bound.spec = { ...bound.spec, volumeName: 'pvc-uid-d' };
    w.claims.set('ns/d', bound);
    h.clock.advanceTo(2000);
    expect(await done).toBeNull();
  });

  it('fails early when the provisioner removed selected-node (it asks for another node)', async () => {
    const w = world([claim('d', 'dyn')]);
    const h = setup(w);
    h.answer = () => {
      w.claims.set('ns/d', { ...claim('d', 'dyn'), metadata: { ...claim('d', 'dyn').metadata, resourceVersion: '11' } });
      return { status: 200, object: { ...claimToProvision(), metadata: { ...claimToProvision().metadata, resourceVersion: '11' } } };
    };
    const done = bindPodVolumes('n1', { staticBindings: [], dynamicProvisions: [{ pvc: claimToProvision() }] }, h.deps);
    await new Promise((r) => setImmediate(r));
    h.clock.advanceTo(1000);
    expect(await done).toBe('binding volumes: provisioning failed for PVC "d"');
  });

  it('gives up after the bind timeout with upstream\'s message', async () => {
    const w = world([claim('d', 'dyn')]);
    const h = setup(w);
    h.deps = { ...h.deps, timeoutMs: 3_000 };
    h.answer = () => {
      // Written, but no provisioner ever acts on it.
      const pvc = { ...claimToProvision(), metadata: { ...claimToProvision().metadata, resourceVersion: '11' } };
      w.claims.set('ns/d', pvc);
      return { status: 200, object: pvc };
    };
    const done = bindPodVolumes('n1', { staticBindings: [], dynamicProvisions: [{ pvc: claimToProvision() }] }, h.deps);
    for (let t = 1000; t <= 3000; t += 1000) {
      await new Promise((r) => setImmediate(r));
      h.clock.advanceTo(t);
    }
    expect(await done).toBe('binding volumes: context deadline exceeded');
  });

  it('a refused write is the error, and the assumptions not written are restored', async () => {
    const w = world([claim('a', 'local'), claim('b', 'local')], [localPv('pv-a', 'n1'), localPv('pv-b', 'n1')]);
    const h = setup(w);
    const pvA = { ...localPv('pv-a', 'n1'), spec: { ...localPv('pv-a', 'n1').spec, claimRef: { namespace: 'ns', name: 'a', uid: 'uid-a' } } };
    const pvB = { ...localPv('pv-b', 'n1'), spec: { ...localPv('pv-b', 'n1').spec, claimRef: { namespace: 'ns', name: 'b', uid: 'uid-b' } } };
    h.deps.pvCache.assume('pv-a', pvA);
    h.deps.pvCache.assume('pv-b', pvB);
    h.answer = (req) =>
      req.name === 'pv-a'
        ? { status: 409, message: 'Operation cannot be fulfilled on persistentvolumes "pv-a": the object has been modified; please apply your changes to the latest version and try again' }
        : { status: 200, object: req.body };
    const result = await bindPodVolumes('n1', { staticBindings: [{ pvc: claim('a', 'local'), pv: pvA }, { pvc: claim('b', 'local'), pv: pvB }], dynamicProvisions: [] }, h.deps);
    expect(result).toMatch(/^Operation cannot be fulfilled on persistentvolumes "pv-a"/);
    expect(h.deps.pvCache.assumedKeys).toEqual([]);
  });
});
