// DynamicResources on the real API server (resource.k8s.io/v1), with the slices a test driver would publish and no
// kubelet or resourceclaim controller (the test creates a template's claim as the controller would): a claim allocated
// on the only node whose slice has the device, with a second pod sharing it following there (fidelity scenario
// dra-claim); a template's claim waited for at PreEnqueue, then allocated; a claim no slice can satisfy refused with
// upstream's message; two pods racing for a node's last device (exactly one gets it, the other gets upstream's
// reason); and a PreBind whose claim write fails (the claim changed under it) leaves no allocation behind: the claim
// stays unallocated in the API, berth's in-flight allocation is released, and the pod binds at its next attempt.
// DRAExtendedResource: a pod asking for an extended resource a DeviceClass serves (no node advertises it) binds on
// the node with the device; PreBind created its special claim (owned by the pod, allocated, reserved) and recorded it
// in the pod's status.extendedResourceClaimStatus.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { Pod, PodResourceClaim } from '../../src/kube/api.js';
import type { ResourceClaim } from '../../src/kube/resource.js';
import { createLogger } from '../../src/observe/logging.js';
import type { PluginDescriptor } from '../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import { type PreBindPlugin, SKIP, type Status } from '../../src/scheduler/framework/types.js';
import { IN_TREE_PLUGINS } from '../../src/scheduler/plugins/inTree.js';
import { AFFINITY_MISMATCH, Cluster, type EventV1, failedSchedulingMessage, httpGet, NOT_HELPFUL, nodesInMessage, parsePrometheus, pod, podScheduledCondition, select, suffix, sum, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `livedra-${sfx}`;
const schedulerName = `berth-dra-${sfx}`;
const leaseName = `berth-dra-${sfx}`;
const driver = `dra-${sfx}.example.com`;
const className = `gpu-${sfx}`;
const GROUP = 'live.berth.test/dra';
const selector = { [GROUP]: sfx };
const WAIT_MS = 30_000;
const CANNOT_ALLOCATE = 'cannot allocate all claims';
const tmp = mkdtempSync(join(tmpdir(), 'berth-livedra-'));
const nodeA = `livedra-${sfx}-a`;
const nodeB = `livedra-${sfx}-b`;
const nodeC = `livedra-${sfx}-c`;
const nodeD = `livedra-${sfx}-d`;
/** One device, tainted for a while by a DeviceTaintRule. */
const nodeE = `livedra-${sfx}-e`;
const taintRule = `livedra-${sfx}-maintenance`;
/** A second driver whose only device is on nodeD, and a class no slice offers anything of. */
const sharedDriver = `shared-${sfx}.example.com`;
const sharedClass = `shared-${sfx}`;
const fpgaClass = `fpga-${sfx}`;
/** DRAExtendedResource: a class serving an extended resource, whose only device is on nodeC. */
const extDriver = `ext-${sfx}.example.com`;
const extClass = `ext-${sfx}`;
const extResource = `ext-${sfx}.example.com/gpu`;
const classes = [className, sharedClass, fpgaClass, extClass];
const slices = [`${nodeA}-gpus`, `${nodeB}-gpus`, `${nodeC}-gpus`, `${nodeD}-shared`, `${nodeC}-ext`, `${nodeE}-gpus`];

/** PreBind before DynamicResources: pods labelled hold-prebind wait here, at every attempt, until released. */
const held = new Map<string, () => void>();
const attempts = new Map<string, number>();
const holdDescriptor: PluginDescriptor = {
  name: 'TestHoldPreBind',
  points: ['preBind'],
  events: [],
  create: (): PreBindPlugin => ({
    name: 'TestHoldPreBind',
    preBindPreFlight: (_s, p) => (p.labels['hold-prebind'] !== undefined ? null : SKIP),
    preBind: (_s, p, _node, signal) =>
      new Promise<Status | null>((resolve) => {
        attempts.set(p.name, (attempts.get(p.name) ?? 0) + 1);
        held.set(p.name, () => resolve(null));
        signal.addEventListener('abort', () => resolve(null), { once: true });
      }),
  }),
};

let cluster: Cluster;
let berth: RunningBerth | undefined;

function claimPath(name = ''): string {
  return `/apis/resource.k8s.io/v1/namespaces/${ns}/resourceclaims${name ? `/${name}` : ''}`;
}

function claimSpec(deviceClassName: string): NonNullable<ResourceClaim['spec']> {
  return { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName } }] } };
}

async function createClaim(name: string, deviceClassName = className): Promise<void> {
  await cluster.req('POST', claimPath(), { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: { name, namespace: ns }, spec: claimSpec(deviceClassName) });
}

async function createClass(name: string, forDriver: string): Promise<void> {
  await cluster.req('POST', '/apis/resource.k8s.io/v1/deviceclasses', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name },
    spec: { selectors: [{ cel: { expression: `device.driver == "${forDriver}"` } }] },
  });
}

async function getClaim(name: string): Promise<ResourceClaim> {
  return cluster.req<ResourceClaim>('GET', claimPath(name));
}

async function createSlice(node: string, devices: number, sliceDriver = driver, name = `${node}-gpus`): Promise<void> {
  await cluster.req('POST', '/apis/resource.k8s.io/v1/resourceslices', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name },
    spec: {
      driver: sliceDriver,
      nodeName: node,
      pool: { name: node, generation: 1, resourceSliceCount: 1 },
      devices: Array.from({ length: devices }, (_, i) => ({ name: `gpu-${i}`, attributes: { index: { int: i } } })),
    },
  });
}

/** A pod of the test's nodes using one claim (by name or template) as its container's `gpu`; `node` pins it. */
function draPod(name: string, claim: PodResourceClaim, node?: string, labels: Record<string, string> = {}): Pod {
  // Tolerating every taint makes other files' tainted or cordoned nodes (the control plane is shared) fail on the
  // nodeSelector like the rest, so the exact FailedScheduling texts below hold whatever runs beside this file.
  const nodeSelector = { ...selector, ...(node ? { 'kubernetes.io/hostname': node } : {}) };
  const p = pod(ns, name, { schedulerName, nodeSelector, labels, tolerations: [{ operator: 'Exists' }] });
  const containers = (p.spec?.containers ?? []).map((c) => ({ ...c, resources: { ...c.resources, claims: [{ name: claim.name }] } }));
  p.spec = { ...p.spec, containers, resourceClaims: [claim] };
  return p;
}

const byName = (claim: string): PodResourceClaim => ({ name: 'gpu', resourceClaimName: claim });

/** What an allocation on a node-local slice's pool says about where the devices are. */
function onNode(node: string): NonNullable<NonNullable<ResourceClaim['status']>['allocation']>['nodeSelector'] {
  return { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] };
}

async function gatedPods(): Promise<number> {
  const b = berth;
  if (!b) throw new Error('berth is not running');
  const metrics = parsePrometheus((await httpGet(`${b.server.address}/metrics`)).body);
  return sum(select(metrics, 'scheduler_pending_pods', { queue: 'gated' }));
}

async function podEvents(name: string): Promise<EventV1[]> {
  return (await cluster.events(ns)).filter((e) => e.regarding?.name === name);
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([
    { name: nodeA, cpu: '8', memory: '32Gi', labels: selector },
    { name: nodeB, cpu: '8', memory: '32Gi', labels: selector },
    { name: nodeC, cpu: '8', memory: '32Gi', labels: selector },
    { name: nodeD, cpu: '8', memory: '32Gi', labels: selector },
    { name: nodeE, cpu: '8', memory: '32Gi', labels: selector },
  ]);
  await createClass(className, driver);
  await createClass(sharedClass, sharedDriver);
  await createClass(fpgaClass, `fpga-${sfx}.example.com`);
  await createSlice(nodeA, 1);
  await createSlice(nodeB, 1);
  await createSlice(nodeC, 1);
  await createSlice(nodeD, 1, sharedDriver, `${nodeD}-shared`);
  await cluster.req('POST', '/apis/resource.k8s.io/v1/deviceclasses', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name: extClass },
    spec: { extendedResourceName: extResource, selectors: [{ cel: { expression: `device.driver == "${extDriver}"` } }] },
  });
  await createSlice(nodeC, 1, extDriver, `${nodeC}-ext`);
  await createSlice(nodeE, 1);
  const configPath = join(tmp, 'config.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: true, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s, resourceName: ${leaseName}, resourceNamespace: ${ns}}
profiles:
  - schedulerName: ${schedulerName}
    plugins:
      preBind:
        disabled: [{name: DynamicResources}]
        enabled: [{name: TestHoldPreBind}, {name: DynamicResources}]
`,
  );
  const plugins = new PluginCatalog([...IN_TREE_PLUGINS, holdDescriptor]);
  const logger = createLogger('info', { write: () => undefined });
  berth = await startBerth(
    { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16 },
    undefined,
    logger,
    plugins,
  );
  const b = berth;
  await untilReadyAndLeading(b);
}, 60_000);

afterAll(async () => {
  for (const release of held.values()) release();
  await berth?.shutdown('test done');
  await cluster?.req('DELETE', `/apis/resource.k8s.io/v1/devicetaintrules/${taintRule}`).catch(() => undefined);
  for (const name of slices) await cluster?.req('DELETE', `/apis/resource.k8s.io/v1/resourceslices/${name}`).catch(() => undefined);
  for (const name of classes) await cluster?.req('DELETE', `/apis/resource.k8s.io/v1/deviceclasses/${name}`).catch(() => undefined);
  await cluster?.cleanup([[ns, leaseName]]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('DynamicResources on the real API server', () => {
  it('serves an extended resource from devices: PreBind creates the special claim and records it in the pod status', async () => {
    const p = pod(ns, 'ext-user', { schedulerName, nodeSelector: selector });
    const containers = (p.spec?.containers ?? []).map((c) => ({ ...c, resources: { requests: { [extResource]: '1' }, limits: { [extResource]: '1' } } }));
    p.spec = { ...p.spec, containers };
    const created = await cluster.createPod(p);
    // No node advertises the resource: only nodeC's device serves it.
    expect((await cluster.waitBound(ns, ['ext-user'], WAIT_MS)).get('ext-user')).toBe(nodeC);
    const list = await cluster.req<{ items: ResourceClaim[] }>('GET', claimPath());
    const claims = list.items.filter((c) => c.metadata?.annotations?.['resource.kubernetes.io/extended-resource-claim'] === 'true');
    expect(claims).toHaveLength(1);
    const claim = claims[0] as ResourceClaim;
    expect(claim.metadata?.name).toMatch(/^ext-user-extended-resources-/);
    expect(claim.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'ext-user', uid: created.metadata?.uid, controller: true }]);
    expect(claim.status?.allocation?.devices?.results).toEqual([{ request: 'container-0-request-0', driver: extDriver, pool: nodeC, device: 'gpu-0' }]);
    expect(claim.status?.reservedFor).toEqual([{ resource: 'pods', name: 'ext-user', uid: created.metadata?.uid }]);
    const bound = await cluster.req<Pod>('GET', `/api/v1/namespaces/${ns}/pods/ext-user`);
    const containerName = p.spec.containers?.[0]?.name ?? '';
    expect(bound.status?.extendedResourceClaimStatus).toEqual({
      resourceClaimName: claim.metadata?.name,
      requestMappings: [{ containerName, resourceName: extResource, requestName: 'container-0-request-0' }],
    });
  });

  it('allocates a claim on the only node whose slice has the device; a second pod sharing the claim follows it there', async () => {
    await createClaim('shared', sharedClass);
    const user = await cluster.createPod(draPod('gpu-user', byName('shared')));
    expect((await cluster.waitBound(ns, ['gpu-user'], WAIT_MS)).get('gpu-user')).toBe(nodeD);
    const allocated = await getClaim('shared');
    expect(allocated.status?.allocation?.devices?.results).toEqual([{ request: 'gpu', driver: sharedDriver, pool: nodeD, device: 'gpu-0' }]);
    expect(allocated.status?.allocation?.nodeSelector).toEqual(onNode(nodeD));
    expect(allocated.status?.reservedFor).toEqual([{ resource: 'pods', name: 'gpu-user', uid: user.metadata?.uid }]);
    // The claim is allocated and its device is in use: the sharer can only go where the allocation is.
    const sharer = await cluster.createPod(draPod('gpu-sharer', byName('shared')));
    expect((await cluster.waitBound(ns, ['gpu-sharer'], WAIT_MS)).get('gpu-sharer')).toBe(nodeD);
    const shared = await getClaim('shared');
    expect(shared.status?.allocation).toEqual(allocated.status?.allocation);
    expect(shared.status?.reservedFor).toEqual([
      { resource: 'pods', name: 'gpu-user', uid: user.metadata?.uid },
      { resource: 'pods', name: 'gpu-sharer', uid: sharer.metadata?.uid },
    ]);
  });

  it("waits at PreEnqueue for a template's claim, then allocates the claim the resourceclaim controller made", async () => {
    await cluster.req('POST', `/apis/resource.k8s.io/v1/namespaces/${ns}/resourceclaimtemplates`, {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'one-gpu', namespace: ns },
      spec: { spec: claimSpec(className) },
    });
    const created = await cluster.createPod(draPod('templated', { name: 'gpu', resourceClaimTemplateName: 'one-gpu' }, nodeC));
    // Held back before any attempt: gated, and no FailedScheduling for it (an attempt would have written one).
    await waitFor('the templated pod gated', WAIT_MS, async () => ((await gatedPods()) === 1 ? true : undefined));
    expect((await podEvents('templated')).filter((e) => e.reason === 'FailedScheduling')).toEqual([]);
    // What the resourceclaim controller does: the claim, controlled by the pod, then the pod's claim status.
    const generated = 'templated-gpu-x7k2p';
    await cluster.req('POST', claimPath(), {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaim',
      metadata: {
        name: generated,
        namespace: ns,
        annotations: { 'resource.kubernetes.io/pod-claim-name': 'gpu' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'templated', uid: created.metadata?.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: claimSpec(className),
    });
    await cluster.req(
      'PATCH',
      `/api/v1/namespaces/${ns}/pods/templated/status`,
      { status: { resourceClaimStatuses: [{ name: 'gpu', resourceClaimName: generated }] } },
      'application/merge-patch+json',
    );
    expect((await cluster.waitBound(ns, ['templated'], WAIT_MS)).get('templated')).toBe(nodeC);
    const claim = await getClaim(generated);
    expect(claim.status?.allocation?.devices?.results).toEqual([{ request: 'gpu', driver, pool: nodeC, device: 'gpu-0' }]);
    expect(claim.status?.reservedFor).toEqual([{ resource: 'pods', name: 'templated', uid: created.metadata?.uid }]);
    expect(await gatedPods()).toBe(0);
  });

  it('refuses a pod whose claim no slice can satisfy with upstream\'s message, and leaves the claim alone', async () => {
    await createClaim('fpga', fpgaClass);
    await cluster.createPod(draPod('fpga-user', byName('fpga')));
    const event = await waitFor('the FailedScheduling event of fpga-user', WAIT_MS, async () =>
      (await podEvents('fpga-user')).find((e) => e.reason === 'FailedScheduling'),
    );
    const note = event.note ?? '';
    const n = nodesInMessage(note);
    // The five nodes of the test have no fpga device; the others are not the pod's (its node selector).
    expect(note).toBe(failedSchedulingMessage(n, { [CANNOT_ALLOCATE]: 5, [AFFINITY_MISMATCH]: n - 5 }, { [NOT_HELPFUL]: n }));
    // The condition is a separate write from the event: wait for it rather than assume their order.
    const condition = await waitFor('PodScheduled=False on fpga-user', WAIT_MS, async () => podScheduledCondition(await cluster.getPod(ns, 'fpga-user')));
    expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable', message: note });
    expect((await cluster.getPod(ns, 'fpga-user')).spec?.nodeName).toBeUndefined();
    const claim = await getClaim('fpga');
    expect(claim.status?.allocation).toBeUndefined();
    expect(claim.metadata?.finalizers).toBeUndefined();
  });

  it('two pods racing for the last device: exactly one gets it, the other reports "cannot allocate all claims"', async () => {
    await createClaim('race-1');
    await createClaim('race-2');
    await Promise.all([cluster.createPod(draPod('racer-1', byName('race-1'), nodeA)), cluster.createPod(draPod('racer-2', byName('race-2'), nodeA))]);
    const outcome = await waitFor('one bound, one refused', WAIT_MS, async () => {
      const pods = await Promise.all(['racer-1', 'racer-2'].map((n) => cluster.getPod(ns, n)));
      const bound = pods.filter((p) => p.spec?.nodeName);
      const refused = [];
      for (const p of pods.filter((q) => !q.spec?.nodeName)) {
        const e = (await podEvents(p.metadata?.name ?? '')).find((ev) => ev.reason === 'FailedScheduling');
        if (e) refused.push({ pod: p, note: e.note ?? '' });
      }
      return bound.length === 1 && refused.length === 1 ? { bound: bound[0] as Pod, refused: refused[0] as { pod: Pod; note: string } } : undefined;
    });
    expect(outcome.bound.spec?.nodeName).toBe(nodeA);
    const n = nodesInMessage(outcome.refused.note);
    expect(outcome.refused.note).toBe(failedSchedulingMessage(n, { [CANNOT_ALLOCATE]: 1, [AFFINITY_MISMATCH]: n - 1 }, { [NOT_HELPFUL]: n }));
    const winnerClaim = outcome.bound.metadata?.name === 'racer-1' ? 'race-1' : 'race-2';
    const loserClaim = winnerClaim === 'race-1' ? 'race-2' : 'race-1';
    const won = await getClaim(winnerClaim);
    expect(won.status?.allocation?.devices?.results).toEqual([{ request: 'gpu', driver, pool: nodeA, device: 'gpu-0' }]);
    expect(won.status?.reservedFor).toEqual([{ resource: 'pods', name: outcome.bound.metadata?.name, uid: outcome.bound.metadata?.uid }]);
    expect(won.metadata?.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
    expect((await getClaim(loserClaim)).status?.allocation).toBeUndefined();
    // The loser was refused for good, not bound after its event was written.
    const loser = await cluster.getPod(ns, outcome.refused.pod.metadata?.name ?? '');
    expect(loser.spec?.nodeName).toBeUndefined();
  });

  it('a claim changed while its allocation is in flight: PreBind re-reads it after the conflict and binds at the same attempt', async () => {
    await createClaim('flaky');
    await cluster.createPod(draPod('flaky', byName('flaky'), nodeB, { 'hold-prebind': 'yes' }));
    await waitFor('flaky held in PreBind', WAIT_MS, () => (attempts.get('flaky') === 1 ? true : undefined), 20);
    // The claim changes while berth holds its allocation in flight: berth's conditional write meets a conflict.
    await cluster.req('PATCH', claimPath('flaky'), { metadata: { labels: { touched: 'yes' } } }, 'application/merge-patch+json');
    held.get('flaky')?.();
    const bound = await cluster.waitBound(ns, ['flaky'], WAIT_MS);
    expect(bound.get('flaky')).toBe(nodeB);
    // One attempt: the retry happened inside PreBind (upstream's retry.RetryOnConflict), not in a new cycle.
    expect(attempts.get('flaky')).toBe(1);
    expect((await podEvents('flaky')).filter((e) => e.reason === 'FailedScheduling')).toEqual([]);
    const claim = await getClaim('flaky');
    // The other writer's change was kept, and berth's writes went on top of it.
    expect(claim.metadata?.labels).toEqual({ touched: 'yes' });
    expect(claim.metadata?.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
    expect(claim.status?.allocation?.devices?.results).toEqual([{ request: 'gpu', driver, pool: nodeB, device: 'gpu-0' }]);
    expect(claim.status?.reservedFor?.map((r) => r.name)).toEqual(['flaky']);
  });

  it('a DeviceTaintRule keeps its devices from claims that do not tolerate it; deleting the rule lets the pod in', async () => {
    await cluster.req('POST', '/apis/resource.k8s.io/v1/devicetaintrules', {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'DeviceTaintRule',
      metadata: { name: taintRule },
      spec: { deviceSelector: { driver, pool: nodeE }, taint: { key: 'example.com/maintenance', effect: 'NoSchedule' } },
    });
    await createClaim('tainted');
    // The pod is created only once berth's cache (fed by its watch on devicetaintrules) holds the rule.
    await waitFor('the rule in berth\'s cache', WAIT_MS, () => (berth?.scheduler.cluster.deviceTaintRules.has(taintRule) ? true : undefined), 20);
    await cluster.createPod(draPod('tainted', byName('tainted'), nodeE));
    const refused = await waitFor('the FailedScheduling event of the tainted device', WAIT_MS, async () =>
      (await podEvents('tainted')).find((e) => e.reason === 'FailedScheduling' && e.note?.includes(`1 ${CANNOT_ALLOCATE}`)),
    );
    expect(refused.note).toContain(CANNOT_ALLOCATE);
    expect((await getClaim('tainted')).status?.allocation).toBeUndefined();
    await cluster.req('DELETE', `/apis/resource.k8s.io/v1/devicetaintrules/${taintRule}`);
    const bound = await cluster.waitBound(ns, ['tainted'], WAIT_MS);
    expect(bound.get('tainted')).toBe(nodeE);
    expect((await getClaim('tainted')).status?.allocation?.devices?.results).toEqual([{ request: 'gpu', driver, pool: nodeE, device: 'gpu-0' }]);
  });
});
