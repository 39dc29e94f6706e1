// The chart's RBAC is enough and no more, and its Deployment runs berth the way berth serves: the chart is rendered
// and applied for real in a fresh namespace; berth runs (in-process, startBerth) with the chart's ServiceAccount
// credentials (TokenRequest), the rendered ConfigMap written where the Deployment mounts it, and the Deployment's
// args. It syncs, answers the probes on the probe paths, schedules (binding, events, status), holds its Lease;
// the same identity is refused (403) for what berth never does.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBerth, type RunningBerth } from '../../src/cli/run.js';
import { createFakeNodes, deleteNodes, getFreePort, kubeconfigForServiceAccount } from '../../tools/devcluster/index.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { createLogger } from '../../src/observe/logging.js';
import { createAll, deleteAll, waitUntil } from '../ship/apply.js';
import { argValue, type DeploymentLike, findObject, helmTemplate, type K8sObject, probePort } from '../ship/helpers.js';

const suffix = randomBytes(3).toString('hex');
const namespace = `ship-rbac-${suffix}`;
const release = `rbac-${suffix}`;
const schedulerName = `berth-rbac-${suffix}`;
const nodeName = `ship-rbac-node-${suffix}`;
const draDriver = `rbac-${suffix}.example.com`;
const draClass = `rbac-gpu-${suffix}`;
const draSlice = `${nodeName}-gpus`;

let adminKc: KubeConfig;
let admin: KubeClient;
let sa: KubeClient;
let tmp: string;
let objs: K8sObject[];
let berth: RunningBerth | undefined;
let base: string;
let deployment: DeploymentLike;
const logLines: string[] = [];

beforeAll(async () => {
  adminKc = new KubeConfig();
  adminKc.loadFromFile(inject('kubeconfigPath'));
  admin = createKubeClient(adminKc, { qps: 0, burst: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'berth-ship-rbac-'));
  expect((await admin.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } })).status).toBe(201);
  objs = await helmTemplate(inject('controlPlaneBinDir'), release, namespace, ['--set', `schedulerName=${schedulerName}`]);
  const created = await createAll(admin, objs);
  expect(created.filter((r) => r.status !== 201)).toEqual([]);
  await createFakeNodes(adminKc, [{ name: nodeName, labels: { 'ship-test': suffix } }]);
}, 60_000);

afterAll(async () => {
  await berth?.shutdown('test end');
  await admin.request('DELETE', `/api/v1/namespaces/${namespace}/pods`, { query: { gracePeriodSeconds: 0 } }).catch(() => undefined);
  await deleteNodes(adminKc, [nodeName]).catch(() => undefined);
  await admin.request('DELETE', `/apis/resource.k8s.io/v1/resourceslices/${draSlice}`).catch(() => undefined);
  await admin.request('DELETE', `/apis/resource.k8s.io/v1/deviceclasses/${draClass}`).catch(() => undefined);
  await deleteAll(admin, objs.filter((o) => o.kind.startsWith('Cluster')));
  await admin.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  sa?.close();
  admin.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: await r.text() };
}

describe('berth under the chart\'s ServiceAccount and RBAC', () => {
  it('starts from the Deployment\'s args and mounted config; probe paths answer 200 on the probe port', async () => {
    deployment = findObject<DeploymentLike>(objs, 'Deployment');
    const container = deployment.spec.template.spec.containers[0]!;
    const args = container.args!;
    expect(args[0]).toBe('run');
    // The ConfigMap, written where the Deployment mounts it (under a temp root).
    const configArg = argValue(args, '--config')!;
    const mount = container.volumeMounts!.find((m) => configArg.startsWith(`${m.mountPath}/`))!;
    const volume = deployment.spec.template.spec.volumes!.find((v) => v.name === mount.name)!;
    const cm = findObject<K8sObject & { data: Record<string, string> }>(objs, 'ConfigMap', volume.configMap!.name);
    const configPath = join(tmp, configArg);
    mkdirSync(join(tmp, mount.mountPath), { recursive: true });
    for (const [key, text] of Object.entries(cm.data)) writeFileSync(join(tmp, mount.mountPath, key), text);
    // The pod's credentials: its ServiceAccount's token (TokenRequest).
    const saName = deployment.spec.template.spec.serviceAccountName!;
    const saKc = await kubeconfigForServiceAccount(adminKc, namespace, saName, { create: false, writeTo: join(tmp, 'kubeconfig') });
    sa = createKubeClient(saKc.kubeConfig, { qps: 0, burst: 0 });
    // The port berth listens on is the Deployment's --port; the probes and containerPort point at it. Here it is
    // moved to a free port (tests share the machine); everything else is the Deployment's.
    const port = Number(argValue(args, '--port'));
    expect(probePort(container, container.livenessProbe)).toBe(port);
    expect(probePort(container, container.readinessProbe)).toBe(port);
    const testPort = await getFreePort();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        cb();
      },
    });
    const logLevel = argValue(args, '--log-level') ?? 'info';
    berth = await startBerth(
      {
        config: configPath,
        kubeconfig: saKc.kubeconfigPath!,
        bindAddress: '127.0.0.1',
        port: testPort,
        logLevel,
        bindConcurrency: Number(argValue(args, '--bind-concurrency') ?? 16),
      },
      undefined,
      createLogger(logLevel, sink),
    );
    base = `http://127.0.0.1:${testPort}`;
    const readiness = container.readinessProbe!.httpGet!.path;
    const liveness = container.livenessProbe!.httpGet!.path;
    await waitUntil(`${readiness} 200`, 30_000, async () => (await get(readiness)).status === 200);
    expect((await get(liveness)).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^# (HELP|TYPE) /m);
  });

  it('holds its own Lease (the chart\'s name, the release namespace)', async () => {
    const leaseName = `${release}-berth`;
    await waitUntil('berth to lead', 20_000, () => berth!.elector.isLeader());
    const r = await admin.request<{ spec: { holderIdentity: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${leaseName}`);
    expect(r.status).toBe(200);
    expect((r.body as { spec: { holderIdentity: string } }).spec.holderIdentity).toBe(berth!.elector.identity);
  });

  it('schedules a pod (binding), records the Scheduled event, and reports an unschedulable one (status + event)', async () => {
    const pod = (name: string, selector: Record<string, string>): unknown => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { schedulerName, nodeSelector: selector, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }] },
    });
    expect((await admin.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod('fits', { 'ship-test': suffix }) })).status).toBe(201);
    expect((await admin.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod('nowhere', { 'ship-test': 'no-such-node' }) })).status).toBe(201);
    await waitUntil('pod bound', 30_000, async () => {
      const r = await admin.request<{ spec: { nodeName?: string } }>('GET', `/api/v1/namespaces/${namespace}/pods/fits`);
      return (r.body as { spec: { nodeName?: string } }).spec.nodeName === nodeName;
    });
    type Ev = { reason: string; regarding: { name: string }; reportingController: string };
    const events = async (): Promise<Ev[]> =>
      ((await admin.request<{ items: Ev[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`)).body as { items: Ev[] }).items;
    await waitUntil('Scheduled and FailedScheduling events', 30_000, async () => {
      const evs = await events();
      return evs.some((e) => e.reason === 'Scheduled' && e.regarding.name === 'fits') && evs.some((e) => e.reason === 'FailedScheduling' && e.regarding.name === 'nowhere');
    });
    expect((await events()).find((e) => e.reason === 'Scheduled')?.reportingController).toBe(schedulerName);
    await waitUntil('PodScheduled=False on the unschedulable pod', 30_000, async () => {
      const r = await admin.request<{ status: { conditions?: Array<{ type: string; status: string; reason: string }> } }>('GET', `/api/v1/namespaces/${namespace}/pods/nowhere`);
      const c = (r.body as { status: { conditions?: Array<{ type: string; status: string; reason: string }> } }).status.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' && c.reason === 'Unschedulable';
    });
    // Nothing berth did was refused.
    expect(logLines.filter((l) => /forbidden|"status":403/i.test(l))).toEqual([]);
  });

  it('allocates a device for a pod with a ResourceClaim (patch on resourceclaims and their status)', async () => {
    const post = async (path: string, body: unknown): Promise<void> => {
      const r = await admin.request('POST', path, { body });
      expect(r.status, `POST ${path}: ${JSON.stringify(r.body)}`).toBe(201);
    };
    await post('/apis/resource.k8s.io/v1/deviceclasses', {
      metadata: { name: draClass },
      spec: { selectors: [{ cel: { expression: `device.driver == "${draDriver}"` } }] },
    });
    await post('/apis/resource.k8s.io/v1/resourceslices', {
      metadata: { name: draSlice },
      spec: { driver: draDriver, nodeName, pool: { name: nodeName, generation: 1, resourceSliceCount: 1 }, devices: [{ name: 'gpu-0' }] },
    });
    await post(`/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims`, {
      metadata: { name: 'gpu' },
      spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: draClass } }] } },
    });
    await post(`/api/v1/namespaces/${namespace}/pods`, {
      metadata: { name: 'with-gpu' },
      spec: {
        schedulerName,
        nodeSelector: { 'ship-test': suffix },
        resourceClaims: [{ name: 'gpu', resourceClaimName: 'gpu' }],
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' }, claims: [{ name: 'gpu' }] } }],
      },
    });
    type Claim = { metadata: { finalizers?: string[] }; status?: { allocation?: unknown; reservedFor?: Array<{ name: string }> } };
    const getClaim = async (): Promise<Claim> =>
      (await admin.request<Claim>('GET', `/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims/gpu`)).body as Claim;
    await waitUntil('the claim allocated and reserved for the pod', 30_000, async () => (await getClaim()).status?.reservedFor?.some((r) => r.name === 'with-gpu') ?? false);
    const claim = await getClaim();
    expect(claim.metadata.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
    expect(claim.status?.allocation).toBeDefined();
    await waitUntil('the pod with the claim bound', 30_000, async () => {
      const r = await admin.request<{ spec: { nodeName?: string } }>('GET', `/api/v1/namespaces/${namespace}/pods/with-gpu`);
      return (r.body as { spec: { nodeName?: string } }).spec.nodeName === nodeName;
    });
    expect(logLines.filter((l) => /forbidden|"status":403/i.test(l))).toEqual([]);
  });

  it.each([
    ['read secrets in its namespace', 'GET', () => `/api/v1/namespaces/${namespace}/secrets`],
    ['read secrets cluster-wide', 'GET', () => '/api/v1/secrets'],
    ['delete a node', 'DELETE', () => `/api/v1/nodes/${nodeName}`],
    ['patch a node', 'PATCH', () => `/api/v1/nodes/${nodeName}`],
    ['create pods', 'POST', () => `/api/v1/namespaces/${namespace}/pods`],
    ['update pods', 'PUT', () => `/api/v1/namespaces/${namespace}/pods/fits`],
    ['create core/v1 events', 'POST', () => `/api/v1/namespaces/${namespace}/events`],
    ['create configmaps', 'POST', () => `/api/v1/namespaces/${namespace}/configmaps`],
    ['read kube-scheduler\'s Lease', 'GET', () => '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'],
    ['update kube-scheduler\'s Lease', 'PUT', () => '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'],
    ['update another Lease in its namespace', 'PUT', () => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/someone-else`],
    ['create a Lease elsewhere', 'POST', () => '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases'],
    ['delete PersistentVolumes (VolumeBinding only patches them)', 'DELETE', () => '/api/v1/persistentvolumes/x'],
    ['create PersistentVolumes (provisioners do that, not the scheduler)', 'POST', () => '/api/v1/persistentvolumes'],
    ['escalate via RBAC', 'POST', () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings'],
    // create and delete on ResourceClaims are granted: DynamicResources creates a pod's special claim for extended
    // resources backed by devices (DRAExtendedResource) and deletes one a failed attempt left.
    ['update ResourceClaims (DynamicResources only patches them)', 'PUT', () => `/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims/gpu`],
    ['patch ResourceSlices (drivers publish them)', 'PATCH', () => `/apis/resource.k8s.io/v1/resourceslices/${draSlice}`],
    ['delete DeviceClasses', 'DELETE', () => `/apis/resource.k8s.io/v1/deviceclasses/${draClass}`],
  ])('is refused (403): %s', async (_what, method, path) => {
    const body =
      method === 'PATCH'
        ? { metadata: { labels: { x: 'y' } } }
        : method === 'GET' || method === 'DELETE'
          ? undefined
          : { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } };
    const r = await sa.request(method, path(), {
      ...(body ? { body } : {}),
      ...(method === 'PATCH' ? { contentType: 'application/merge-patch+json' } : {}),
    });
    expect(r.status).toBe(403);
  });

  it('stops gracefully and releases its Lease', async () => {
    await berth!.shutdown('test');
    berth = undefined;
    const r = await admin.request<{ spec: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${release}-berth`);
    expect((r.body as { spec: { holderIdentity?: string } }).spec.holderIdentity ?? '').toBe('');
  });
});
