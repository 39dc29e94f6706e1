import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { CycleState, Code } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME } from '../../../src/scheduler/plugins/DynamicResources.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../src/adapters/simulator/snapshot.js';
import { createPlugin, emptyProfile, makeCluster, podInfo, makeHandle } from '../../helpers/builders.js';

const NODES = `
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
kind: Node
metadata: {name: n2}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
`;

async function messageFor(podYaml: string): Promise<string | null> {
  const snap = buildSnapshot(parseSnapshotText(`${NODES}---\n${podYaml}`, 'snap.yaml'));
  const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
  return result.decisions[0]?.message ?? null;
}

describe('DynamicResources (v1.37 default plugin, pods without claims)', () => {
  const plugin = createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile()));

  it('skips pods without claims at PreFilter and scores 0', async () => {
    const state = new CycleState();
    const p = podInfo('p');
    expect(plugin.name).toBe(NAME);
    const pre = (plugin as unknown as { preFilter(s: CycleState, p: unknown): { code: Code } }).preFilter(state, p);
    expect(pre.code).toBe(Code.Skip);
  });

  it('lets preemption run when its PreFilter ran (message ends with the preemption part)', async () => {
    const msg = await messageFor('kind: Pod\nmetadata: {name: big, namespace: default}\nspec:\n  containers: [{name: c, image: x, resources: {requests: {cpu: "2"}}}]\n');
    expect(msg).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('an earlier PreFilter rejection leaves its state unwritten: PostFilter errors "not found" and preemption does not run', async () => {
    const msg = await messageFor(
      'kind: Pod\nmetadata: {name: claim, namespace: default}\nspec:\n  containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: missing}}]\n',
    );
    expect(msg).toBe('0/2 nodes are available: persistentvolumeclaim "missing" not found. not found');
  });

});

const DRA_OBJECTS = `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu}
spec: {selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: n1-gpus}
spec:
  driver: gpu.example.com
  nodeName: n1
  pool: {name: n1, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: gpu-0, attributes: {model: {string: a100}}, capacity: {memory: {value: 40Gi}}}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: n2-gpus}
spec:
  driver: gpu.example.com
  nodeName: n2
  pool: {name: n2, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: gpu-0, attributes: {model: {string: h100}}, capacity: {memory: {value: 80Gi}}}
`;

function claimYaml(name: string, extra = ''): string {
  return `apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: ${name}, namespace: default, uid: ${name}-uid, resourceVersion: "1"}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: gpu${extra}}
`;
}

function podYaml(name: string, claim: string): string {
  return `kind: Pod
metadata: {name: ${name}, namespace: default, uid: ${name}-uid}
spec:
  containers: [{name: c, image: x}]
  resourceClaims: [{name: gpu, resourceClaimName: ${claim}}]
`;
}

async function simulateDra(docs: string[]): Promise<Awaited<ReturnType<typeof simulate>> & { cluster: ReturnType<typeof buildSnapshot>['cluster'] }> {
  const snap = buildSnapshot(parseSnapshotText([NODES, DRA_OBJECTS, ...docs].join('---\n'), 'snap.yaml'));
  const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
  return { ...result, cluster: snap.cluster };
}

describe('DynamicResources: allocating claims', () => {
  it('gives each pod its own device and reports upstream\'s reason when none is left', async () => {
    const r = await simulateDra([claimYaml('a'), claimYaml('b'), claimYaml('c'), podYaml('p1', 'a'), podYaml('p2', 'b'), podYaml('p3', 'c')]);
    const byPod = new Map(r.decisions.map((d) => [d.pod, d]));
    expect(new Set([byPod.get('default/p1')?.node, byPod.get('default/p2')?.node])).toEqual(new Set(['n1', 'n2']));
    expect(byPod.get('default/p3')?.node).toBeNull();
    expect(byPod.get('default/p3')?.message).toBe(
      '0/2 nodes are available: 2 cannot allocate all claims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    // PreBind wrote the allocation and the reservation, with the finalizer.
    const a = r.cluster.resourceClaims.get('default/a');
    expect(a?.status?.reservedFor).toEqual([{ apiGroup: '', resource: 'pods', name: 'p1', uid: 'p1-uid' }]);
    expect(a?.status?.allocation?.devices?.results?.[0]).toMatchObject({ request: 'gpu', driver: 'gpu.example.com', pool: byPod.get('default/p1')?.node, device: 'gpu-0' });
    expect(a?.metadata?.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
  });

  it('a request selector on attributes and capacity chooses the node', async () => {
    const sel = ', selectors: [{cel: {expression: \'device.attributes["gpu.example.com"].model == "h100" && device.capacity["gpu.example.com"].memory.isGreaterThan(quantity("64Gi"))\'}}]';
    const r = await simulateDra([claimYaml('a', sel), podYaml('p1', 'a')]);
    expect(r.decisions[0]?.node).toBe('n2');
  });

  it('a shared claim, already allocated, brings a second pod to the same node', async () => {
    const allocated = `${claimYaml('shared')}status:
  allocation:
    devices: {results: [{request: gpu, driver: gpu.example.com, pool: n2, device: gpu-0}]}
    nodeSelector: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [n2]}]}]}
  reservedFor: [{resource: pods, name: other, uid: other-uid}]
`;
    const r = await simulateDra([allocated, podYaml('p1', 'shared'), claimYaml('own'), podYaml('p2', 'own')]);
    const byPod = new Map(r.decisions.map((d) => [d.pod, d.node]));
    expect(byPod.get('default/p1')).toBe('n2');
    // n2's only device is the shared claim's: the pod with its own claim goes to n1.
    expect(byPod.get('default/p2')).toBe('n1');
    expect(r.cluster.resourceClaims.get('default/shared')?.status?.reservedFor?.map((c) => c.name)).toEqual(['other', 'p1']);
  });

  it('an allocated claim on another node: "resourceclaim not available on the node"', async () => {
    const allocated = `${claimYaml('pinned')}status:
  allocation:
    devices: {results: [{request: gpu, driver: gpu.example.com, pool: gone, device: gpu-0}]}
    nodeSelector: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [n9]}]}]}
  reservedFor: [{resource: pods, name: other, uid: other-uid}]
`;
    const r = await simulateDra([allocated, podYaml('p1', 'pinned')]);
    expect(r.decisions[0]?.message).toBe(
      '0/2 nodes are available: 2 resourceclaim not available on the node. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('a missing device class and a missing claim', async () => {
    const noClass = await simulateDra([claimYaml('a').replace('deviceClassName: gpu', 'deviceClassName: tpu'), podYaml('p1', 'a')]);
    expect(noClass.decisions[0]?.message).toBe(
      '0/2 nodes are available: request gpu: device class tpu does not exist. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    const noClaim = await simulateDra([podYaml('p1', 'nope')]);
    expect(noClaim.decisions[0]?.attempts).toBe(0);
    expect(noClaim.decisions[0]?.message).toBe("not attempted: held back by the DynamicResources plugin's PreEnqueue");
  });

  it('a template claim is used once the resourceclaim controller recorded it, and must be the pod\'s', async () => {
    const pod = (status: string): string => `kind: Pod
metadata: {name: t1, namespace: default, uid: t1-uid}
spec:
  containers: [{name: c, image: x}]
  resourceClaims: [{name: gpu, resourceClaimTemplateName: gpu-template}]
${status}`;
    const waiting = await simulateDra([pod('')]);
    expect(waiting.decisions[0]?.attempts).toBe(0);
    const generated = claimYaml('t1-gpu-abc').replace('uid: t1-gpu-abc-uid,', 'uid: g-uid, ownerReferences: [{apiVersion: v1, kind: Pod, name: t1, uid: t1-uid, controller: true}],');
    const ok = await simulateDra([generated, pod('status: {resourceClaimStatuses: [{name: gpu, resourceClaimName: t1-gpu-abc}]}')]);
    expect(ok.decisions[0]?.node).not.toBeNull();
    const foreign = claimYaml('t1-gpu-abc');
    const notOwner = await simulateDra([foreign, pod('status: {resourceClaimStatuses: [{name: gpu, resourceClaimName: t1-gpu-abc}]}')]);
    expect(notOwner.decisions[0]?.attempts).toBe(0);
  });
});
