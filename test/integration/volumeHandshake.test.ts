// The other half of the volume-binding handshake, against the shared control plane: upstream's PersistentVolume
// controller (a kube-controller-manager started here) and the devcluster test provisioner. No scheduler runs: the
// test writes what one would (volume.kubernetes.io/selected-node on a claim, or claimRef on a PV, as upstream's
// VolumeBinding does) and checks what the controllers make of it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  ensureBinaries,
  startControllerManager,
  startProvisioner,
  type ControllerManagerHandle,
  type TestProvisioner,
} from '../../tools/devcluster/index.js';
import { Cluster, suffix, waitFor } from './helpers/live.js';

const sfx = suffix();
const ns = `volume-${sfx}`;
const nodes = [`vol-${sfx}-0`, `vol-${sfx}-1`] as const;
const provisionerName = `berth.dev/test-${sfx}`;
const dynamicClass = `berth-wffc-${sfx}`;
const staticClass = `berth-static-${sfx}`;
const slowClass = `berth-slow-${sfx}`;
const staticVolume = `static-${sfx}`;
/** Every wait is on a condition; the bound only decides when to give up. */
const WAIT_MS = 60_000;

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  annotations?: Record<string, string>;
}

interface Claim {
  metadata: Meta;
  spec: { volumeName?: string };
  status?: { phase?: string };
}

interface Volume {
  metadata: Meta;
  spec: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    storageClassName?: string;
    persistentVolumeReclaimPolicy?: string;
    claimRef?: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
    nodeAffinity?: unknown;
    local?: { path?: string };
  };
  status?: { phase?: string };
}

interface CoreEvent {
  type: string;
  reason: string;
  message: string;
  count?: number;
  source?: { component?: string };
}

let cluster: Cluster;
let kcm: ControllerManagerHandle | undefined;
let provisioner: TestProvisioner | undefined;

const claimPath = (name = ''): string => `/api/v1/namespaces/${ns}/persistentvolumeclaims${name ? `/${name}` : ''}`;

function hostnameAffinity(node: string): unknown {
  return { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } };
}

function createClaim(name: string, storageClassName: string, storage = '1Gi'): Promise<Claim> {
  return cluster.req<Claim>('POST', claimPath(), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  });
}

const getClaim = (name: string): Promise<Claim> => cluster.req<Claim>('GET', claimPath(name));

async function getVolume(name: string): Promise<Volume | undefined> {
  const res = await cluster.client.request<Volume>('GET', `/api/v1/persistentvolumes/${name}`);
  if (res.status === 404) return undefined;
  if (res.status >= 300) throw new Error(`GET persistentvolume ${name}: HTTP ${res.status}`);
  return res.body as Volume;
}

/** What a scheduler's VolumeBinding writes for a claim it wants provisioned on `node`. */
function selectNode(claim: string, node: string): Promise<Claim> {
  const body = { metadata: { annotations: { [ANN_SELECTED_NODE]: node } } };
  return cluster.req<Claim>('PATCH', claimPath(claim), body, 'application/merge-patch+json');
}

async function claimEvents(claim: string): Promise<CoreEvent[]> {
  const path = `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${claim}`)}`;
  return (await cluster.req<{ items: CoreEvent[] }>('GET', path)).items;
}

function waitEvent(claim: string, pick: (e: CoreEvent) => boolean, what: string): Promise<CoreEvent> {
  return waitFor(`${what} on claim ${claim}`, WAIT_MS, async () => (await claimEvents(claim)).find(pick));
}

function waitClaimBound(name: string): Promise<Claim> {
  return waitFor(`claim ${name} Bound`, WAIT_MS, async () => {
    const c = await getClaim(name);
    return c.status?.phase === 'Bound' ? c : undefined;
  });
}

function waitVolumePhase(name: string, phase: string): Promise<Volume> {
  return waitFor(`volume ${name} ${phase}`, WAIT_MS, async () => {
    const v = await getVolume(name);
    return v?.status?.phase === phase ? v : undefined;
  });
}

function storageClass(name: string, provisionerOf: string, reclaimPolicy: string): unknown {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner: provisionerOf,
    reclaimPolicy,
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  const binaries = await ensureBinaries({ binDir: inject('controlPlaneBinDir') });
  kcm = await startControllerManager({ kubeconfigPath: inject('kubeconfigPath') }, { binaries });
  provisioner = await startProvisioner({ kubeConfig: cluster.kc }, { name: provisionerName });
  await cluster.createNamespace(ns);
  await cluster.createNodes(nodes.map((name) => ({ name })));
  await cluster.req('POST', '/apis/storage.k8s.io/v1/storageclasses', storageClass(dynamicClass, provisionerName, 'Delete'));
  await cluster.req('POST', '/apis/storage.k8s.io/v1/storageclasses', storageClass(staticClass, 'kubernetes.io/no-provisioner', 'Retain'));
}, 180_000);

afterAll(async () => {
  try {
    await removeEverything();
  } finally {
    await provisioner?.stop();
    await kcm?.stop();
    await cluster?.cleanup();
  }
}, 180_000);

/** Claims go (pvc-protection lets them), their provisioned volumes are released and deleted by the provisioner. */
async function removeEverything(): Promise<void> {
  if (!cluster) return;
  provisioner?.failFor(undefined);
  await cluster.client.request('DELETE', claimPath());
  await cluster.client.request('DELETE', `/api/v1/persistentvolumes/${staticVolume}`);
  await waitFor(`claims in ${ns} and their volumes to be gone`, WAIT_MS, async () => {
    const claims = await cluster.req<{ items: unknown[] }>('GET', claimPath());
    const volumes = await cluster.req<{ items: Volume[] }>('GET', '/api/v1/persistentvolumes');
    const ours = volumes.items.filter(
      (v) => v.spec.claimRef?.namespace === ns || v.metadata.annotations?.[ANN_PROVISIONED_BY] === provisionerName,
    );
    return claims.items.length === 0 && ours.length === 0 ? true : undefined;
  });
  for (const cls of [dynamicClass, staticClass, slowClass]) {
    await cluster.client.request('DELETE', `/apis/storage.k8s.io/v1/storageclasses/${cls}`);
  }
}

describe('volume binding handshake: PV controller + external provisioner', () => {
  it('a selected node on a WaitForFirstConsumer claim yields a PV pinned to that node and a Bound claim', async () => {
    const claim = await createClaim('a', dynamicClass);
    await selectNode('a', nodes[0]);
    const bound = await waitClaimBound('a');
    const pvName = `pvc-${claim.metadata.uid}`;
    expect(bound.spec.volumeName).toBe(pvName);
    expect(bound.metadata.annotations).toMatchObject({
      [ANN_BIND_COMPLETED]: 'yes',
      [ANN_SELECTED_NODE]: nodes[0],
      [ANN_STORAGE_PROVISIONER]: provisionerName,
    });
    const pv = await waitVolumePhase(pvName, 'Bound');
    expect(pv.metadata.annotations?.[ANN_PROVISIONED_BY]).toBe(provisionerName);
    expect(pv.spec.nodeAffinity).toEqual(hostnameAffinity(nodes[0]));
    expect(pv.spec.claimRef).toMatchObject({ namespace: ns, name: 'a', uid: claim.metadata.uid });
    expect(pv.spec.capacity).toEqual({ storage: '1Gi' });
    expect(pv.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(pv.spec.storageClassName).toBe(dynamicClass);
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(pv.spec.local?.path).toContain(pvName);
    const events = await claimEvents('a');
    expect(events.find((e) => e.reason === 'ExternalProvisioning')?.source?.component).toBe('persistentvolume-controller');
    expect(events.some((e) => e.reason === 'ProvisioningSucceeded' && e.message.includes(pvName))).toBe(true);
  });

  it('a claim without a selected node stays Pending: the PV controller only reports WaitForFirstConsumer', async () => {
    const claim = await createClaim('b', dynamicClass);
    // The binder records the event at every sync of the claim (aggregated into a count): a count of 2 means it
    // looked at the claim again after its first decision, and still left it alone.
    await waitEvent('b', (e) => e.reason === 'WaitForFirstConsumer' && (e.count ?? 1) >= 2, 'a repeated WaitForFirstConsumer event');
    const now = await getClaim('b');
    expect(now.status?.phase).toBe('Pending');
    expect(now.spec.volumeName ?? '').toBe('');
    expect(now.metadata.annotations?.[ANN_STORAGE_PROVISIONER]).toBeUndefined();
    expect(now.metadata.annotations?.[ANN_SELECTED_NODE]).toBeUndefined();
    expect(await getVolume(`pvc-${claim.metadata.uid}`)).toBeUndefined();
    expect((await claimEvents('b')).map((e) => e.reason)).toEqual(['WaitForFirstConsumer']);
  });

  it('a failing provisioner removes the selected node and records ProvisioningFailed; a new node then works', async () => {
    const message = `no space left on ${nodes[1]} (on purpose)`;
    provisioner?.failFor((c, node) => c.metadata.namespace === ns && c.metadata.name === 'c' && node === nodes[1], { message });
    const claim = await createClaim('c', dynamicClass);
    await selectNode('c', nodes[1]);
    // storage-provisioner is set only once the PV controller has seen the selected node: both conditions together
    // mean the provisioner took the node away again.
    const returned = await waitFor('claim c handed to the provisioner and its selected node removed', WAIT_MS, async () => {
      const c = await getClaim('c');
      const ann = c.metadata.annotations ?? {};
      return ann[ANN_STORAGE_PROVISIONER] === provisionerName && ann[ANN_SELECTED_NODE] === undefined ? c : undefined;
    });
    expect(returned.status?.phase).toBe('Pending');
    const failed = await waitEvent('c', (e) => e.reason === 'ProvisioningFailed', 'a ProvisioningFailed event');
    expect(failed).toMatchObject({ type: 'Warning', message, source: { component: provisionerName } });
    expect(await getVolume(`pvc-${claim.metadata.uid}`)).toBeUndefined();

    // The scheduler's next attempt picks another node: this one provisions.
    await selectNode('c', nodes[0]);
    const bound = await waitClaimBound('c');
    const pv = await waitVolumePhase(bound.spec.volumeName ?? '', 'Bound');
    expect(pv.spec.nodeAffinity).toEqual(hostnameAffinity(nodes[0]));
    provisioner?.failFor(undefined);
  });

  it('a failure that keeps the node is retried with the selected node in place, and succeeds once the cause is gone', async () => {
    const message = 'backend busy (on purpose)';
    provisioner?.failFor((c) => c.metadata.namespace === ns && c.metadata.name === 'f', { message, reschedule: false });
    await createClaim('f', dynamicClass);
    await selectNode('f', nodes[0]);
    await waitFor('two ProvisioningFailed events on claim f', WAIT_MS, async () => {
      const failed = (await claimEvents('f')).filter((e) => e.reason === 'ProvisioningFailed' && e.message === message);
      return failed.length >= 2 ? failed : undefined;
    });
    const waiting = await getClaim('f');
    expect(waiting.metadata.annotations?.[ANN_SELECTED_NODE]).toBe(nodes[0]);
    expect(waiting.status?.phase).toBe('Pending');

    provisioner?.failFor(undefined);
    const bound = await waitClaimBound('f');
    const pv = await waitVolumePhase(bound.spec.volumeName ?? '', 'Bound');
    expect(pv.spec.nodeAffinity).toEqual(hostnameAffinity(nodes[0]));
  });

  it('a static PV pre-bound by a scheduler (claimRef on the PV) is bound to its claim by the PV controller', async () => {
    await cluster.req('POST', '/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: staticVolume },
      spec: {
        capacity: { storage: '2Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: staticClass,
        persistentVolumeReclaimPolicy: 'Retain',
        local: { path: `/mnt/disks/${staticVolume}` },
        nodeAffinity: hostnameAffinity(nodes[1]),
      },
    });
    await waitVolumePhase(staticVolume, 'Available');
    const claim = await createClaim('d', staticClass, '1Gi');
    // Delayed binding: the binder leaves a matching volume to the scheduler.
    await waitEvent('d', (e) => e.reason === 'WaitForFirstConsumer' && (e.count ?? 1) >= 2, 'a repeated WaitForFirstConsumer event');
    expect((await getClaim('d')).status?.phase).toBe('Pending');

    // Upstream VolumeBinding's PreBind for a static match: claimRef (a full object reference) plus bound-by-controller.
    const pv = (await getVolume(staticVolume)) as Volume;
    const { name, uid, resourceVersion } = claim.metadata;
    pv.spec.claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name, uid, resourceVersion };
    pv.metadata.annotations = { ...(pv.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
    await cluster.req('PUT', `/api/v1/persistentvolumes/${staticVolume}`, pv);

    const bound = await waitClaimBound('d');
    expect(bound.spec.volumeName).toBe(staticVolume);
    expect(bound.metadata.annotations).toMatchObject({ [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' });
    expect(bound.metadata.annotations?.[ANN_SELECTED_NODE]).toBeUndefined();
    const after = await waitVolumePhase(staticVolume, 'Bound');
    expect(after.spec.claimRef).toMatchObject({ namespace: ns, name: 'd', uid });
  });

  it('a slow provisioner (delayMs) creates the PV no sooner than its delay, and the claim still binds', async () => {
    const slowName = `berth.dev/slow-${sfx}`;
    await cluster.req('POST', '/apis/storage.k8s.io/v1/storageclasses', storageClass(slowClass, slowName, 'Delete'));
    const slow = await startProvisioner({ kubeConfig: cluster.kc }, { name: slowName, delayMs: 1500 });
    try {
      await createClaim('g', slowClass);
      const selectedAt = Date.now();
      await selectNode('g', nodes[1]);
      const bound = await waitClaimBound('g');
      expect(Date.now() - selectedAt).toBeGreaterThanOrEqual(1500);
      expect((await getVolume(bound.spec.volumeName ?? ''))?.metadata.annotations?.[ANN_PROVISIONED_BY]).toBe(slowName);
      // Its volume must go while this provisioner still runs to delete it.
      await cluster.req('DELETE', claimPath('g'));
      await waitFor(`volume ${bound.spec.volumeName ?? ''} to be deleted`, WAIT_MS, async () =>
        (await getVolume(bound.spec.volumeName ?? '')) === undefined ? true : undefined,
      );
    } finally {
      await slow.stop();
    }
  });

  it('deleting a claim releases its provisioned PV, and the provisioner deletes it (reclaim policy Delete)', async () => {
    const claim = await createClaim('e', dynamicClass);
    await selectNode('e', nodes[1]);
    const bound = await waitClaimBound('e');
    const pvName = bound.spec.volumeName ?? '';
    expect(pvName).toBe(`pvc-${claim.metadata.uid}`);
    await cluster.req('DELETE', claimPath('e'));
    await waitFor(`claim e and volume ${pvName} to be gone`, WAIT_MS, async () => {
      const claimRes = await cluster.client.request('GET', claimPath('e'));
      return claimRes.status === 404 && (await getVolume(pvName)) === undefined ? true : undefined;
    });
    expect(provisioner?.counts.deleted).toBeGreaterThanOrEqual(1);
  });
});
