import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig } from '../../../../src/config/index.js';
import { simulate } from '../../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../../src/adapters/simulator/snapshot.js';
import { IN_TREE_CATALOG } from '../../../../src/scheduler/plugins/inTree.js';
import type { DeviceTaintRule, ResourceSlice } from '../../../../src/kube/resource.js';
import { PodInfo } from '../../../../src/scheduler/cache/podInfo.js';
import { afterSliceOrTaintRuleChange, slicesWithTaintRules, taintedSlice } from '../../../../src/scheduler/plugins/dynamicResources/deviceTaints.js';

const SLICE: ResourceSlice = {
  kind: 'ResourceSlice',
  metadata: { name: 's' },
  spec: {
    driver: 'gpu.example.com',
    pool: { name: 'n1', generation: 1, resourceSliceCount: 1 },
    nodeName: 'n1',
    devices: [{ name: 'gpu-0', taints: [{ key: 'own', effect: 'None' }] }, { name: 'gpu-1' }],
  },
};

function rule(name: string, deviceSelector: NonNullable<DeviceTaintRule['spec']>['deviceSelector'], key = name): DeviceTaintRule {
  return { kind: 'DeviceTaintRule', metadata: { name }, spec: { ...(deviceSelector ? { deviceSelector } : {}), taint: { key, effect: 'NoSchedule' } } };
}

describe('DeviceTaintRules applied to ResourceSlices (upstream resourceslice tracker)', () => {
  it('adds the taint after the device\'s own, for the devices driver, pool and name select', () => {
    const out = taintedSlice(SLICE, [rule('one', { driver: 'gpu.example.com', pool: 'n1', device: 'gpu-0' })]);
    expect(out.spec?.devices?.map((d) => d.taints?.map((t) => t.key))).toEqual([['own', 'one'], undefined]);
    // The published slice is not changed.
    expect(SLICE.spec?.devices?.[0]?.taints).toHaveLength(1);
  });

  it('a missing field matches any; a mismatched driver or pool matches nothing; no selector matches nothing', () => {
    expect(taintedSlice(SLICE, [rule('all', {})]).spec?.devices?.map((d) => d.taints?.length ?? 0)).toEqual([2, 1]);
    expect(taintedSlice(SLICE, [rule('drv', { driver: 'other.example.com' })])).toBe(SLICE);
    expect(taintedSlice(SLICE, [rule('pool', { pool: 'n2' })])).toBe(SLICE);
    expect(taintedSlice(SLICE, [rule('none', undefined)])).toBe(SLICE);
  });

  it('every rule adds its taint, in rule name order', () => {
    const rules = new Map([
      ['b', rule('b', { device: 'gpu-1' })],
      ['a', rule('a', { device: 'gpu-1' })],
    ]);
    const [out] = slicesWithTaintRules([SLICE], rules);
    expect(out?.spec?.devices?.[1]?.taints?.map((t) => t.key)).toEqual(['a', 'b']);
  });

  it('a rule change queues the pod, its deletion too; a deleted slice does not', () => {
    const pod = new PodInfo({ metadata: { name: 'p', namespace: 'default', uid: 'p' }, spec: { containers: [] } });
    const r = rule('r', {});
    expect(afterSliceOrTaintRuleChange(pod, { kind: 'ResourceSliceChange', oldObject: r })).toBe('Queue');
    expect(afterSliceOrTaintRuleChange(pod, { kind: 'ResourceSliceChange', newObject: r })).toBe('Queue');
    expect(afterSliceOrTaintRuleChange(pod, { kind: 'ResourceSliceChange', oldObject: SLICE })).toBe('Skip');
    expect(afterSliceOrTaintRuleChange(pod, { kind: 'ResourceSliceChange', oldObject: SLICE, newObject: SLICE })).toBe('Queue');
  });
});

const CLUSTER = `
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
kind: Node
metadata: {name: n2}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu}
spec: {selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: n1-gpus}
spec: {driver: gpu.example.com, nodeName: n1, pool: {name: n1, generation: 1, resourceSliceCount: 1}, devices: [{name: gpu-0}]}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: n2-gpus}
spec: {driver: gpu.example.com, nodeName: n2, pool: {name: n2, generation: 1, resourceSliceCount: 1}, devices: [{name: gpu-0}]}
---
apiVersion: resource.k8s.io/v1
kind: DeviceTaintRule
metadata: {name: drain-n1}
spec:
  deviceSelector: {driver: gpu.example.com, pool: n1}
  taint: {key: maintenance, value: "true", effect: NoSchedule}
---
apiVersion: resource.k8s.io/v1
kind: DeviceTaintRule
metadata: {name: drain-n2}
spec:
  deviceSelector: {pool: n2, device: gpu-0}
  taint: {key: maintenance, value: "true", effect: NoExecute}
`;

function claimAndPod(name: string, tolerations: string): string {
  return `apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: ${name}, namespace: default, uid: ${name}-c}
spec: {devices: {requests: [{name: gpu, exactly: {deviceClassName: gpu${tolerations}}}]}}
---
kind: Pod
metadata: {name: ${name}, namespace: default, uid: ${name}-uid}
spec:
  containers: [{name: c, image: x}]
  resourceClaims: [{name: gpu, resourceClaimName: ${name}}]
`;
}

describe('DeviceTaintRules in the simulator', () => {
  it('a rule\'s taint keeps devices from requests without a toleration; a toleration lets them in', async () => {
    const docs = [CLUSTER, claimAndPod('plain', ''), claimAndPod('tolerant', ', tolerations: [{key: maintenance, operator: Exists}]')];
    const snap = buildSnapshot(parseSnapshotText(docs.join('---\n'), 'snap.yaml'));
    expect(snap.cluster.deviceTaintRules.size).toBe(2);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    expect(byPod.get('default/plain')?.node).toBeNull();
    expect(byPod.get('default/plain')?.message).toBe(
      '0/2 nodes are available: 2 cannot allocate all claims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    expect(byPod.get('default/tolerant')?.node).not.toBeNull();
    // The rule's taint is not written into the allocation or the slice: only the allocator sees it.
    expect(snap.cluster.resourceSlices.get('n1-gpus')?.spec?.devices?.[0]?.taints).toBeUndefined();
  });

  it('a toleration of one effect does not let in a device tainted with the other', async () => {
    const docs = [CLUSTER, claimAndPod('noschedule-only', ', tolerations: [{key: maintenance, operator: Equal, value: "true", effect: NoSchedule}]')];
    const result = await simulate(buildSnapshot(parseSnapshotText(docs.join('---\n'), 'snap.yaml')), defaultSchedulerConfig(), IN_TREE_CATALOG);
    // n1's device (NoSchedule) is tolerated, n2's (NoExecute) is not.
    expect(result.decisions[0]?.node).toBe('n1');
  });
});
