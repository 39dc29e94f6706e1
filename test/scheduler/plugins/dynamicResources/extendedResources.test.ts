import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../../src/kube/api.js';
import type { DeviceClass } from '../../../../src/kube/resource.js';
import { defaultSchedulerConfig } from '../../../../src/config/index.js';
import { simulate } from '../../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../../src/adapters/simulator/snapshot.js';
import { IN_TREE_CATALOG } from '../../../../src/scheduler/plugins/inTree.js';
import { ExtendedResourceIndex } from '../../../../src/scheduler/cache/extendedResourceIndex.js';
import { EXTENDED_RESOURCE_CLAIM_ANNOTATION, requestsAndMappings } from '../../../../src/scheduler/plugins/dynamicResources/extendedResources.js';
import { afterDeviceClassChange } from '../../../../src/scheduler/plugins/NodeResourcesFit.js';
import { PodInfo } from '../../../../src/scheduler/cache/podInfo.js';

const GPU = 'example.com/gpu';

function cls(name: string, extendedResourceName?: string, created = '2026-01-01T00:00:00Z'): DeviceClass {
  return { metadata: { name, creationTimestamp: created }, spec: extendedResourceName ? { extendedResourceName } : {} };
}

function gpus(n: number): { requests: Record<string, string>; limits: Record<string, string> } {
  return { requests: { [GPU]: String(n) }, limits: { [GPU]: String(n) } };
}

describe('ExtendedResourceIndex', () => {
  it('serves the explicit name and every class\'s implicit name; the oldest class wins a shared name', () => {
    const classes = new Map<string, DeviceClass>([
      ['b', cls('b', GPU, '2026-01-01T00:00:00Z')],
      ['a', cls('a', GPU, '2026-01-02T00:00:00Z')],
      ['c', cls('c')],
    ]);
    const index = new ExtendedResourceIndex(classes);
    expect(index.classFor(GPU)?.metadata?.name).toBe('b');
    expect(index.classFor('deviceclass.resource.kubernetes.io/c')?.metadata?.name).toBe('c');
    expect(index.classFor('deviceclass.resource.kubernetes.io/a')?.metadata?.name).toBe('a');
    expect(index.classFor('example.com/tpu')).toBeUndefined();
    classes.delete('b');
    index.invalidate();
    expect(index.classFor(GPU)?.metadata?.name).toBe('a');
  });

  it('breaks a creation-time tie by name', () => {
    const index = new ExtendedResourceIndex(new Map([['z', cls('z', GPU)], ['m', cls('m', GPU)]]));
    expect(index.classFor(GPU)?.metadata?.name).toBe('m');
  });
});

describe('requestsAndMappings (upstream createRequestsAndMappings)', () => {
  const classes = { deviceClassForExtendedResource: (name: string) => (name === GPU ? cls('gpu', GPU) : undefined) };

  it('one request per container, named by container index and the resource\'s place among its sorted requests', () => {
    const pod: Pod = { spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1', [GPU]: '2' }, limits: { [GPU]: '2' } } }, { name: 'b', resources: gpus(1) }] } };
    const out = requestsAndMappings(pod, new Map([[GPU, 3]]), classes);
    expect(out.requests).toEqual([
      { name: 'container-0-request-1', exactly: { deviceClassName: 'gpu', allocationMode: 'ExactCount', count: 2 } },
      { name: 'container-1-request-0', exactly: { deviceClassName: 'gpu', allocationMode: 'ExactCount', count: 1 } },
    ]);
    expect(out.mappings).toEqual([
      { containerName: 'a', resourceName: GPU, requestName: 'container-0-request-1' },
      { containerName: 'b', resourceName: GPU, requestName: 'container-1-request-0' },
    ]);
  });

  it('an init container reuses the devices of the containers after it; init containers share the largest request', () => {
    const reuse: Pod = { spec: { initContainers: [{ name: 'i', resources: gpus(1) }], containers: [{ name: 'm', resources: gpus(2) }] } };
    const r1 = requestsAndMappings(reuse, new Map([[GPU, 2]]), classes);
    expect(r1.requests.map((r) => [r.name, r.exactly?.count])).toEqual([['container-1-request-0', 2]]);
    expect(r1.mappings.map((m) => [m.containerName, m.requestName])).toEqual([
      ['m', 'container-1-request-0'],
      ['i', 'container-1-request-0'],
    ]);
    const inits: Pod = { spec: { initContainers: [{ name: 'i0', resources: gpus(3) }, { name: 'i1', resources: gpus(1) }], containers: [{ name: 'm' }] } };
    const r2 = requestsAndMappings(inits, new Map([[GPU, 3]]), classes);
    expect(r2.requests.map((r) => [r.name, r.exactly?.count])).toEqual([['container-0-request-0', 3]]);
    expect(r2.mappings.map((m) => [m.containerName, m.requestName])).toEqual([
      ['i0', 'container-0-request-0'],
      ['i1', 'container-0-request-0'],
    ]);
  });

  it('a sidecar (restartPolicy Always) is long-lived: it gets its own request', () => {
    const pod: Pod = { spec: { initContainers: [{ name: 's', restartPolicy: 'Always', resources: gpus(1) }], containers: [{ name: 'm', resources: gpus(1) }] } };
    expect(requestsAndMappings(pod, new Map([[GPU, 2]]), classes).requests.map((r) => r.name)).toEqual(['container-0-request-0', 'container-1-request-0']);
  });
});

describe('NodeResourcesFit: DeviceClass events', () => {
  const pod = new PodInfo({ metadata: { name: 'p', namespace: 'default', uid: 'p' }, spec: { containers: [{ name: 'c', resources: gpus(1) }] } });
  it('queues for a class that now serves a requested resource, skips otherwise', () => {
    expect(afterDeviceClassChange(pod, { kind: 'DeviceClassChange', newObject: cls('x', GPU) })).toBe('Queue');
    expect(afterDeviceClassChange(pod, { kind: 'DeviceClassChange', newObject: cls('x', 'example.com/tpu') })).toBe('Skip');
    expect(afterDeviceClassChange(pod, { kind: 'DeviceClassChange', oldObject: cls('x', GPU), newObject: cls('x', GPU) })).toBe('Skip');
    expect(afterDeviceClassChange(pod, { kind: 'DeviceClassChange', oldObject: cls('x') })).toBe('Skip');
  });
});

const CLUSTER = `
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 4Gi, pods: "10"}}
---
kind: Node
metadata: {name: n2}
status: {allocatable: {cpu: "4", memory: 4Gi, pods: "10", example.com/gpu: "1"}}
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu}
spec:
  extendedResourceName: example.com/gpu
  selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: n1-gpus}
spec:
  driver: gpu.example.com
  nodeName: n1
  pool: {name: n1, generation: 1, resourceSliceCount: 1}
  devices: [{name: gpu-0}, {name: gpu-1}]
`;

function podYaml(name: string, count: number): string {
  return `kind: Pod
metadata: {name: ${name}, namespace: default, uid: ${name}-uid}
spec:
  containers: [{name: main, image: x, resources: {requests: {example.com/gpu: "${count}"}, limits: {example.com/gpu: "${count}"}}}]
`;
}

describe('DynamicResources: extended resources backed by devices (simulated)', () => {
  it('places pods on devices of nodes that do not advertise the resource, creates the special claim and records it in the pod', async () => {
    const snap = buildSnapshot(parseSnapshotText([CLUSTER, podYaml('a-two', 2), podYaml('b-one', 1), podYaml('c-none', 1)].join('---\n'), 'snap.yaml'));
    const r = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(r.decisions.map((d) => [d.pod, d]));
    // n2's device plugin has one GPU (Insufficient for two); n1's devices serve them.
    expect(byPod.get('default/a-two')?.node).toBe('n1');
    expect(byPod.get('default/b-one')?.node).toBe('n2');
    expect(byPod.get('default/c-none')?.message).toBe(
      '0/2 nodes are available: 1 Insufficient example.com/gpu, 1 cannot allocate all claims. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
    const claims = [...snap.cluster.resourceClaims.values()];
    expect(claims).toHaveLength(1);
    const claim = claims[0];
    expect(claim?.metadata?.name).toMatch(/^a-two-extended-resources-/);
    expect(claim?.metadata?.annotations?.[EXTENDED_RESOURCE_CLAIM_ANNOTATION]).toBe('true');
    expect(claim?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'a-two', uid: 'a-two-uid', controller: true }]);
    expect(claim?.spec?.devices?.requests).toEqual([{ name: 'container-0-request-0', exactly: { deviceClassName: 'gpu', allocationMode: 'ExactCount', count: 2 } }]);
    expect(claim?.status?.allocation?.devices?.results?.map((d) => d.device)).toEqual(['gpu-0', 'gpu-1']);
    expect(claim?.status?.reservedFor).toEqual([{ apiGroup: '', resource: 'pods', name: 'a-two', uid: 'a-two-uid' }]);
    expect(snap.cluster.getPod('a-two-uid')?.pod.status?.extendedResourceClaimStatus).toEqual({
      resourceClaimName: claim?.metadata?.name,
      requestMappings: [{ containerName: 'main', resourceName: GPU, requestName: 'container-0-request-0' }],
    });
    // The simulator orders pods by name here. The device plugin's pod has no claim and no status entry.
    expect(snap.cluster.getPod('b-one-uid')?.pod.status?.extendedResourceClaimStatus).toBeUndefined();
  });
});
