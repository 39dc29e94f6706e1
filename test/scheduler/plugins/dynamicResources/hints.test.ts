import { describe, expect, it } from 'vitest';
import type { PodResourceClaim } from '../../../../src/kube/api.js';
import type { ResourceClaim } from '../../../../src/kube/resource.js';
import { PodInfo } from '../../../../src/scheduler/cache/podInfo.js';
import { afterAddOrUpdate, afterClaimChange, afterNodeUpdate } from '../../../../src/scheduler/plugins/dynamicResources/hints.js';

function podUsing(claims: PodResourceClaim[], statuses?: Array<{ name: string; resourceClaimName?: string }>): PodInfo {
  return new PodInfo({
    metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid' },
    spec: { containers: [{ name: 'c' }], resourceClaims: claims },
    ...(statuses ? { status: { resourceClaimStatuses: statuses } } : {}),
  });
}

function claim(name: string, status?: ResourceClaim['status'], namespace = 'ns'): ResourceClaim {
  return { metadata: { name, namespace, uid: `uid-${name}` }, spec: {}, ...(status ? { status } : {}) };
}

const ALLOCATED: ResourceClaim['status'] = { allocation: { devices: { results: [{ request: 'gpu', driver: 'd', pool: 'n1', device: 'g0' }] } } };
const byName = podUsing([{ name: 'gpu', resourceClaimName: 'mine' }]);

describe('DynamicResources queueing hints', () => {
  it("queues on the creation of the pod's claim, skips other claims and other namespaces", () => {
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', newObject: claim('mine') })).toBe('Queue');
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', newObject: claim('other') })).toBe('Skip');
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', newObject: claim('mine', undefined, 'elsewhere') })).toBe('Skip');
  });

  it("a template's claim counts once the pod's status records it", () => {
    const waiting = podUsing([{ name: 'gpu', resourceClaimTemplateName: 't' }]);
    const recorded = podUsing([{ name: 'gpu', resourceClaimTemplateName: 't' }], [{ name: 'gpu', resourceClaimName: 'p-gpu-x' }]);
    const generated = { kind: 'ResourceClaimChange' as const, newObject: claim('p-gpu-x') };
    expect(afterClaimChange(waiting, generated)).toBe('Skip');
    expect(afterClaimChange(recorded, generated)).toBe('Queue');
  });

  it("an update of the pod's claim queues when the status changed, not for metadata alone (a driver's finalizer)", () => {
    const before = claim('mine');
    const finalized = { ...before, metadata: { ...before.metadata, finalizers: ['driver'] } };
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: before, newObject: finalized })).toBe('Skip');
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: before, newObject: claim('mine', ALLOCATED) })).toBe('Queue');
  });

  it('a deallocation, or the deletion of an allocated claim, frees devices for every pod; other deletions do not', () => {
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: claim('other', ALLOCATED), newObject: claim('other') })).toBe('Queue');
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: claim('other', ALLOCATED) })).toBe('Queue');
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: claim('mine') })).toBe('Skip');
    // An allocation added to someone else's claim takes devices away: it cannot help.
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange', oldObject: claim('other'), newObject: claim('other', ALLOCATED) })).toBe('Skip');
  });

  it('an event without its objects queues', () => {
    expect(afterClaimChange(byName, { kind: 'ResourceClaimChange' })).toBe('Queue');
    expect(afterAddOrUpdate(byName, { kind: 'ResourceSliceChange' })).toBe('Queue');
    expect(afterNodeUpdate(byName, { kind: 'NodeUpdate' })).toBe('Queue');
  });

  it('slices and classes: added or updated queue, deleted skip', () => {
    const slice = { metadata: { name: 's' } };
    expect(afterAddOrUpdate(byName, { kind: 'ResourceSliceChange', newObject: slice })).toBe('Queue');
    expect(afterAddOrUpdate(byName, { kind: 'ResourceSliceChange', oldObject: slice, newObject: slice })).toBe('Queue');
    expect(afterAddOrUpdate(byName, { kind: 'DeviceClassChange', oldObject: slice })).toBe('Skip');
  });

  it('a node update queues when labels or allocatable changed, not for taints alone', () => {
    const node = { metadata: { name: 'n', labels: { a: '1' } }, status: { allocatable: { cpu: '4' } } };
    expect(afterNodeUpdate(byName, { kind: 'NodeUpdate', oldObject: node, newObject: { ...node, metadata: { name: 'n', labels: { a: '2' } } } })).toBe('Queue');
    expect(afterNodeUpdate(byName, { kind: 'NodeUpdate', oldObject: node, newObject: { ...node, status: { allocatable: { cpu: '8' } } } })).toBe('Queue');
    expect(afterNodeUpdate(byName, { kind: 'NodeUpdate', oldObject: node, newObject: { ...node, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } } })).toBe('Skip');
  });
});
