// berth's VolumeBinding against the real other half of the handshake: upstream's PersistentVolume controller (a
// kube-controller-manager started here) and the devcluster test provisioner (local-path style), on the shared
// control plane with kwok nodes. A JupyterHub-shaped user pod with a dynamic WaitForFirstConsumer claim, a static
// local PV, a provisioner that fails on the node berth chose, a claim nothing can serve, and CSINode volume limits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { Pod } from '../../src/kube/api.js';
import { createLogger } from '../../src/observe/logging.js';
import {
  ANN_SELECTED_NODE,
  ensureBinaries,
  startControllerManager,
  startProvisioner,
  type ControllerManagerHandle,
  type TestProvisioner,
} from '../../tools/devcluster/index.js';
import { AFFINITY_MISMATCH, Cluster, type EventV1, nodesInMessage, pod, suffix, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `livevol-${sfx}`;
const schedulerName = `berth-vol-${sfx}`;
const leaseName = `berth-vol-${sfx}`;
const GROUP = 'live.berth.test/volumes';
const selector = { [GROUP]: sfx };
const nodes = [`livevol-${sfx}-a`, `livevol-${sfx}-b`] as const;
// A CSIDriver of the same name reports capacity: the name must be a DNS subdomain (no "/").
const provisionerName = `local-path-${sfx}.berth.dev`;
const dynamicClass = `wffc-${sfx}`;
const staticClass = `static-${sfx}`;
const WAIT_MS = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'berth-livevol-'));

let cluster: Cluster;
let kcm: ControllerManagerHandle | undefined;
let provisioner: TestProvisioner | undefined;
let berth: RunningBerth | undefined;
const logLines: string[] = [];

interface Claim {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: { volumeName?: string };
  status?: { phase?: string };
}

const claimPath = (name = ''): string => `/api/v1/namespaces/${ns}/persistentvolumeclaims${name ? `/${name}` : ''}`;

function createClaim(name: string, storageClassName: string, storage = '10Gi'): Promise<Claim> {
  return cluster.req<Claim>('POST', claimPath(), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  });
}

/** A pod of this file, mounting `claim` (as a JupyterHub user server mounts its home volume). */
function userPod(name: string, claim: string, cpu = '100m'): Pod {
  // Tolerating every taint makes other files' tainted or cordoned nodes (the control plane is shared) fail on the
  // nodeSelector like the rest, so the exact FailedScheduling texts below hold whatever runs beside this file.
  const p = pod(ns, name, { schedulerName, nodeSelector: selector, cpu, tolerations: [{ operator: 'Exists' }] });
  p.spec = { ...p.spec, volumes: [{ name: 'home', persistentVolumeClaim: { claimName: claim } }] };
  return p;
}

/** Waits until the pod is bound; returns the node and the claim as it was at that moment. */
async function boundWithClaim(podName: string, claim: string): Promise<{ node: string; claimAtBind: Claim }> {
  return waitFor(`${podName} to be bound`, WAIT_MS, async () => {
    const p = await cluster.getPod(ns, podName);
    if (!p.spec?.nodeName) return undefined;
    return { node: p.spec.nodeName, claimAtBind: await cluster.req<Claim>('GET', claimPath(claim)) };
  }, 50);
}

async function podEvents(name: string): Promise<EventV1[]> {
  return (await cluster.events(ns)).filter((e) => e.regarding?.name === name);
}

function storageClass(name: string, provisionerOf: string): unknown {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner: provisionerOf,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

function localPv(name: string, node: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: '20Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: staticClass,
      persistentVolumeReclaimPolicy: 'Retain',
      local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  };
}

/** An attachable CSI driver whose CSINode objects allow one volume per node (NodeVolumeLimits). */
const attachDriver = `attach-${sfx}.berth.dev`;
const attachClass = `attach-${sfx}`;
const attachPv = (i: number): string => `attach-${sfx}-${i}`;

function csiPv(i: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: attachPv(i) },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: attachClass,
      persistentVolumeReclaimPolicy: 'Retain',
      csi: { driver: attachDriver, volumeHandle: `vol-${sfx}-${i}` },
    },
  };
}

function csiNode(node: string, count: number): unknown {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSINode',
    metadata: { name: node },
    spec: { drivers: [{ name: attachDriver, nodeID: node, allocatable: { count } }] },
  };
}

async function startScheduler(): Promise<RunningBerth> {
  const configPath = join(tmp, 'config.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  leaseDuration: 4s
  renewDeadline: 3s
  retryPeriod: 1s
  resourceName: ${leaseName}
  resourceNamespace: ${ns}
profiles:
  - schedulerName: ${schedulerName}
`,
  );
  const logger = createLogger('info', { write: (s: string) => void logLines.push(s) });
  const b = await startBerth(
    { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16 },
    undefined,
    logger,
  );
  await untilReadyAndLeading(b);
  return b;
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  const binaries = await ensureBinaries({ binDir: inject('controlPlaneBinDir') });
  kcm = await startControllerManager({ kubeconfigPath: inject('kubeconfigPath') }, { binaries });
  provisioner = await startProvisioner({ kubeConfig: cluster.kc }, { name: provisionerName });
  await cluster.createNamespace(ns);
  await cluster.createNodes(nodes.map((name) => ({ name, cpu: '8', memory: '32Gi', labels: selector })));
  await cluster.req('POST', '/apis/storage.k8s.io/v1/storageclasses', storageClass(dynamicClass, provisionerName));
  await cluster.req('POST', '/apis/storage.k8s.io/v1/storageclasses', storageClass(staticClass, 'kubernetes.io/no-provisioner'));
  berth = await startScheduler();
}, 180_000);

afterAll(async () => {
  try {
    await berth?.shutdown('test done');
    await cluster?.client.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { gracePeriodSeconds: 0 } });
    await cluster?.client.request('DELETE', claimPath());
    await cluster?.client.request('DELETE', `/apis/storage.k8s.io/v1/csidrivers/${provisionerName}`);
    for (const c of ['full-a', 'room-b']) await cluster?.client.request('DELETE', `/apis/storage.k8s.io/v1/namespaces/${ns}/csistoragecapacities/${c}`);
    for (const name of [`static-${sfx}-a`, `static-${sfx}-b`, ...[1, 2, 3].map(attachPv)]) await cluster?.client.request('DELETE', `/api/v1/persistentvolumes/${name}`);
    for (const node of nodes) await cluster?.client.request('DELETE', `/apis/storage.k8s.io/v1/csinodes/${node}`);
  } finally {
    await provisioner?.stop();
    await kcm?.stop();
    for (const cls of [dynamicClass, staticClass]) await cluster?.client.request('DELETE', `/apis/storage.k8s.io/v1/storageclasses/${cls}`);
    await cluster?.cleanup([[ns, leaseName]]);
    rmSync(tmp, { recursive: true, force: true });
  }
}, 180_000);

describe('VolumeBinding with the real PV controller and a provisioner', () => {
  it('a JupyterHub user pod with a dynamic WaitForFirstConsumer claim: provisioned on the node berth chose, bound after its volume', async () => {
    await createClaim('claim-ada', dynamicClass);
    const t0 = Date.now();
    await cluster.createPod(userPod('jupyter-ada', 'claim-ada'));
    const { node, claimAtBind } = await boundWithClaim('jupyter-ada', 'claim-ada');
    const seconds = (Date.now() - t0) / 1000;
    // No pod bound before its volumes: at the moment it has a node, its claim is already Bound there.
    expect(claimAtBind.status?.phase).toBe('Bound');
    expect(claimAtBind.metadata.annotations?.[ANN_SELECTED_NODE]).toBe(node);
    const pv = await cluster.req<{ spec: { nodeAffinity?: unknown; claimRef?: { name?: string } } }>(
      'GET',
      `/api/v1/persistentvolumes/${claimAtBind.spec.volumeName ?? ''}`,
    );
    expect(JSON.stringify(pv.spec.nodeAffinity)).toContain(node);
    expect(pv.spec.claimRef?.name).toBe('claim-ada');
    // kwok runs it: the user server starts on the node that holds its volume.
    await waitFor('jupyter-ada Running', WAIT_MS, async () => ((await cluster.getPod(ns, 'jupyter-ada')).status?.phase === 'Running' ? true : undefined));
    const scheduled = (await podEvents('jupyter-ada')).filter((e) => e.reason === 'Scheduled');
    expect(scheduled.map((e) => e.note)).toEqual([`Successfully assigned ${ns}/jupyter-ada to ${node}`]);
    process.stderr.write(`[liveVolumes] dynamic claim: pod bound ${seconds.toFixed(1)} s after creation\n`);
  });

  it('a static local PV claim binds to the only matching PV, and the pod goes to that PV\'s node', async () => {
    await cluster.req('POST', '/api/v1/persistentvolumes', localPv(`static-${sfx}-b`, nodes[1]));
    await waitFor('the static PV Available', WAIT_MS, async () => {
      const pv = await cluster.req<{ status?: { phase?: string } }>('GET', `/api/v1/persistentvolumes/static-${sfx}-b`);
      return pv.status?.phase === 'Available' ? true : undefined;
    });
    await createClaim('data-local', staticClass);
    await cluster.createPod(userPod('uses-local', 'data-local'));
    const { node, claimAtBind } = await boundWithClaim('uses-local', 'data-local');
    expect(node).toBe(nodes[1]);
    expect(claimAtBind.spec.volumeName).toBe(`static-${sfx}-b`);
    expect(claimAtBind.status?.phase).toBe('Bound');
  });

  it('a claim no PV or provisioner can serve: upstream\'s FailedScheduling text, and the pod is never bound', async () => {
    await createClaim('nowhere', staticClass, '1Ti');
    await cluster.createPod(userPod('needs-nowhere', 'nowhere'));
    const event = await waitFor('FailedScheduling', WAIT_MS, async () => (await podEvents('needs-nowhere')).find((e) => e.reason === 'FailedScheduling'));
    const n = nodesInMessage(event.note ?? '');
    const others = n - nodes.length;
    const filter = [`2 node(s) didn't find available persistent volumes to bind`, ...(others > 0 ? [`${others} ${AFFINITY_MISMATCH}`] : [])].sort();
    expect(event.note).toBe(`0/${n} nodes are available: ${filter.join(', ')}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`);
    expect((await cluster.getPod(ns, 'needs-nowhere')).spec?.nodeName).toBeUndefined();
  });

  it('a provisioner failing on the chosen node: the pod retries, and goes elsewhere once the storage reports that node full', async () => {
    // Node a is preferred (b is busier), so berth's first choice is a, where provisioning fails.
    await cluster.createPod({ ...pod(ns, 'busy-b', { schedulerName, nodeSelector: { 'kubernetes.io/hostname': nodes[1] }, cpu: '4' }) });
    await cluster.waitBound(ns, ['busy-b'], WAIT_MS);
    provisioner?.failFor((_claim, node) => node === nodes[0], { message: 'no space left on the device' });
    await createClaim('claim-grace', dynamicClass);
    await cluster.createPod(userPod('jupyter-grace', 'claim-grace'));
    const failed = await waitFor('a failed binding cycle', WAIT_MS, async () =>
      (await podEvents('jupyter-grace')).find((e) => e.reason === 'FailedScheduling'),
    );
    expect(failed.note).toBe(`running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "claim-grace"`);
    // The storage system reports node a full (storage-capacity tracking): berth's next attempt avoids it.
    await cluster.req('POST', '/apis/storage.k8s.io/v1/csidrivers', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSIDriver',
      metadata: { name: provisionerName },
      spec: { storageCapacity: true, attachRequired: false },
    });
    for (const [name, node, capacity] of [['full-a', nodes[0], '0'], ['room-b', nodes[1], '100Gi']] as const) {
      await cluster.req('POST', `/apis/storage.k8s.io/v1/namespaces/${ns}/csistoragecapacities`, {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSIStorageCapacity',
        metadata: { name, namespace: ns },
        storageClassName: dynamicClass,
        nodeTopology: { matchLabels: { 'kubernetes.io/hostname': node } },
        capacity,
      });
    }
    const { node, claimAtBind } = await boundWithClaim('jupyter-grace', 'claim-grace');
    expect(node).toBe(nodes[1]);
    expect(claimAtBind.status?.phase).toBe('Bound');
    provisioner?.failFor(undefined);
  });

  it('volume limits: a node whose CSINode allows no more volumes of the driver is rejected with upstream\'s reason', async () => {
    for (const node of nodes) await cluster.req('POST', '/apis/storage.k8s.io/v1/csinodes', csiNode(node, 1));
    // Three claims bound at once by the PV controller (their class has no StorageClass object: Immediate binding).
    for (const i of [1, 2, 3]) {
      await cluster.req('POST', '/api/v1/persistentvolumes', csiPv(i));
      await createClaim(`attach-${i}`, attachClass, '1Gi');
    }
    await waitFor('the three claims Bound', WAIT_MS, async () => {
      const phases = await Promise.all([1, 2, 3].map(async (i) => (await cluster.req<Claim>('GET', claimPath(`attach-${i}`))).status?.phase));
      return phases.every((p) => p === 'Bound') ? true : undefined;
    });
    // Node a gets its one volume.
    const first = userPod('attach-first', 'attach-1');
    first.spec = { ...first.spec, nodeSelector: { ...selector, 'kubernetes.io/hostname': nodes[0] } };
    await cluster.createPod(first);
    await cluster.waitBound(ns, ['attach-first'], WAIT_MS);
    // The next pod may go to either node by its selector: a is full, so b.
    await cluster.createPod(userPod('attach-second', 'attach-2'));
    expect((await cluster.waitBound(ns, ['attach-second'], WAIT_MS)).get('attach-second')).toBe(nodes[1]);
    // Both full: the third waits, with upstream's reason for both nodes.
    await cluster.createPod(userPod('attach-third', 'attach-3'));
    const event = await waitFor('FailedScheduling', WAIT_MS, async () => (await podEvents('attach-third')).find((e) => e.reason === 'FailedScheduling'));
    const n = nodesInMessage(event.note ?? '');
    const others = n - nodes.length;
    expect(event.note).toContain(`2 node(s) exceed max volume count`);
    if (others > 0) expect(event.note).toContain(`${others} ${AFFINITY_MISMATCH}`);
    expect((await cluster.getPod(ns, 'attach-third')).spec?.nodeName).toBeUndefined();
  });
});
