// Proof that the integration control plane is real: binding, RBAC with ServiceAccount tokens, kwok.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFakeNodes, deleteNodes, isApiStatus, kubeconfigForServiceAccount } from '../../tools/devcluster/index.js';

const suffix = randomBytes(3).toString('hex');
const ns = `cp-proof-${suffix}`;
const nodeNames: string[] = [];

let kc: KubeConfig;
let core: CoreV1Api;

function podSpec(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      schedulerName: 'berth-test-nobody', // no scheduler acts on it; the test binds it itself
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }],
    },
  };
}

async function bind(pod: string, node: string): Promise<void> {
  await core.createNamespacedPodBinding({
    name: pod,
    namespace: ns,
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod, namespace: ns }, target: { kind: 'Node', name: node } },
  });
}

async function waitUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => undefined);
  await deleteNodes(kc, nodeNames);
});

describe('integration control plane', () => {
  it('serves the pinned Kubernetes version over TLS with a system:masters client certificate', async () => {
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe(inject('kubernetesVersion'));
    expect(v.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(inject('controlPlaneServer')).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await readFile(inject('kubeconfigPath'), 'utf8')).toContain('client-certificate-data');
  });

  it('creates a fake node and binds a pod to it with a Binding', async () => {
    const node = `proof-node-${suffix}`;
    nodeNames.push(node);
    const [created] = await createFakeNodes(kc, [
      {
        name: node,
        cpu: '8',
        memory: '32Gi',
        pods: '50',
        extended: { 'example.com/gpu': '2' },
        labels: { zone: 'a' },
        taints: [{ key: 'dedicated', value: 'proof', effect: 'NoSchedule' }],
        images: [{ names: ['registry.k8s.io/pause:3.10'], sizeBytes: 300_000 }],
        kwok: false,
      },
    ]);
    expect(created?.status?.allocatable?.['example.com/gpu']).toBe('2');
    const readBack = await core.readNode({ name: node });
    expect(readBack.status?.allocatable?.['cpu']).toBe('8');
    expect(readBack.status?.capacity?.['memory']).toBe('32Gi');
    expect(readBack.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(readBack.status?.images?.[0]?.names).toContain('registry.k8s.io/pause:3.10');
    expect(readBack.spec?.taints?.map((t) => t.key)).toEqual(['dedicated']); // no not-ready taint added
    expect(readBack.metadata?.labels?.['zone']).toBe('a');

    await core.createNamespacedPod({ namespace: ns, body: podSpec('bind-me') });
    await bind('bind-me', node);
    const pod = await core.readNamespacedPod({ name: 'bind-me', namespace: ns });
    expect(pod.spec?.nodeName).toBe(node);
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');

    // A second binding of the same pod is refused.
    await expect(bind('bind-me', node)).rejects.toSatisfy((e: unknown) => isApiStatus(e, 409));
  });

  it('enforces RBAC: a ServiceAccount without rights gets 403, after a RoleBinding it may list pods', async () => {
    const sa = await kubeconfigForServiceAccount(kc, ns, 'no-rights');
    expect(sa.username).toBe(`system:serviceaccount:${ns}:no-rights`);
    const saCore = sa.kubeConfig.makeApiClient(CoreV1Api);
    await expect(saCore.listNamespacedPod({ namespace: ns })).rejects.toSatisfy((e: unknown) => isApiStatus(e, 403));
    await expect(saCore.listNode()).rejects.toSatisfy((e: unknown) => isApiStatus(e, 403));

    // Our own Role: the aggregated ClusterRoles (view, edit) stay empty without kube-controller-manager.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'no-rights-pod-reader', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'no-rights', namespace: ns }],
      },
    });
    const pods = await waitUntil('RoleBinding to take effect', 10_000, async () => {
      try {
        return await saCore.listNamespacedPod({ namespace: ns });
      } catch (e) {
        if (isApiStatus(e, 403)) return undefined;
        throw e;
      }
    });
    expect(Array.isArray(pods.items)).toBe(true);
    // Still nothing cluster-wide.
    await expect(saCore.listNode()).rejects.toSatisfy((e: unknown) => isApiStatus(e, 403));
    // A bad token is 401, not 403.
    const bad = new KubeConfig();
    bad.loadFromString(sa.kubeconfigYaml.replace(sa.token, 'not-a-token'));
    await expect(bad.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns })).rejects.toSatisfy((e: unknown) =>
      isApiStatus(e, 401),
    );
  });

  it('kwok keeps its node Ready and turns a bound pod Running', async () => {
    const node = `kwok-proof-${suffix}`;
    nodeNames.push(node);
    await createFakeNodes(kc, [{ name: node }]);
    await core.createNamespacedPod({ namespace: ns, body: podSpec('run-me') });
    await bind('run-me', node);
    const running = await waitUntil('pod Running', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'run-me', namespace: ns });
      return p.status?.phase === 'Running' ? p : undefined;
    });
    expect(running.spec?.nodeName).toBe(node);
    expect(running.status?.podIP).toBeTruthy();
    // kwok holds the node lease (heartbeat), so the node stays Ready.
    const lease = await waitUntil('node lease', 30_000, async () => {
      try {
        return await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: node, namespace: 'kube-node-lease' });
      } catch (e) {
        if (isApiStatus(e, 404)) return undefined;
        throw e;
      }
    });
    expect(lease.spec?.holderIdentity).toBeTruthy();
    expect(lease.spec?.renewTime).toBeTruthy();
    const n = await core.readNode({ name: node });
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    // Graceful delete completes: kwok's pod-delete stage finishes what a kubelet would.
    await core.deleteNamespacedPod({ name: 'run-me', namespace: ns });
    await waitUntil('pod deleted', 60_000, async () => {
      try {
        await core.readNamespacedPod({ name: 'run-me', namespace: ns });
        return undefined;
      } catch (e) {
        if (isApiStatus(e, 404)) return true;
        throw e;
      }
    });
  });
});
