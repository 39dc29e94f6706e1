import { describe, expect, it } from 'vitest';
import { MemoryPort } from '../../../../src/adapters/simulator/memoryPort.js';
import { ClusterState } from '../../../../src/scheduler/cache/clusterState.js';
import type { AllocationResult, ResourceClaim } from '../../../../src/kube/resource.js';
import type { ObjectRead, ObjectWrite, WriteResult } from '../../../../src/scheduler/ports.js';
import { bindClaim, CONFLICT_RETRY, type BindClaimDeps } from '../../../../src/scheduler/plugins/dynamicResources/bindClaims.js';

const CONSUMER = { apiGroup: '', resource: 'pods', name: 'p', uid: 'p-uid' };
const ALLOCATION: AllocationResult = { devices: { results: [{ request: 'gpu', driver: 'gpu.example.com', pool: 'n1', device: 'gpu-0' }] } };

function claim(extra: Partial<ResourceClaim> = {}): ResourceClaim {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { name: 'c', namespace: 'default', uid: 'c-uid', resourceVersion: '5' },
    spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: 'gpu' } }] } },
    ...extra,
  };
}

/**
 * The simulator's port over one claim, with a hook run before each write: it may answer instead (a conflict) and
 * change the stored claim the way another writer would. Counts reads, writes and sleeps.
 */
class ConflictingPort {
  readonly cluster = new ClusterState();
  readonly port = new MemoryPort(this.cluster);
  reads = 0;
  writes: ObjectWrite[] = [];
  sleeps: number[] = [];
  constructor(
    stored: ResourceClaim,
    private readonly before: (n: number, cluster: ClusterState) => WriteResult | undefined,
  ) {
    this.cluster.upsertObject('ResourceClaim', stored);
  }

  deps(): BindClaimDeps {
    return {
      api: {
        write: async (request: ObjectWrite) => {
          this.writes.push(request);
          return this.before(this.writes.length, this.cluster) ?? this.port.write(request);
        },
        read: async (request: ObjectRead) => {
          this.reads++;
          return this.port.read(request);
        },
      },
      signal: new AbortController().signal,
      clock: { now: () => 0, sleep: async (ms: number) => void this.sleeps.push(ms) },
      now: () => '2026-01-01T00:00:00Z',
    };
  }

  stored(): ResourceClaim | undefined {
    return this.cluster.resourceClaims.get('default/c');
  }
}

const CONFLICT: WriteResult = { status: 409, message: 'Operation cannot be fulfilled on resourceclaims.resource.k8s.io "c": the object has been modified' };

/** Another writer's change: a label, under a new resourceVersion. */
function labelledMeanwhile(cluster: ClusterState): void {
  const current = cluster.resourceClaims.get('default/c') as ResourceClaim;
  const changed: ResourceClaim = { ...current, metadata: { ...current.metadata, labels: { team: 'a' }, resourceVersion: '6' } };
  cluster.upsertObject('ResourceClaim', changed);
}

describe('bindClaim: retry on conflict (upstream retry.RetryOnConflict)', () => {
  it('re-reads the claim after a 409 and writes finalizer, allocation and reservation over what changed meanwhile', async () => {
    const fake = new ConflictingPort(claim(), (n, cluster) => {
      if (n !== 1) return undefined;
      labelledMeanwhile(cluster);
      return CONFLICT;
    });
    const result = await bindClaim(claim(), ALLOCATION, CONSUMER, fake.deps());
    expect(typeof result).toBe('object');
    expect(fake.reads).toBe(1);
    expect(fake.sleeps).toEqual([CONFLICT_RETRY.delayMs]);
    // The retry's writes are conditional on the version read after the conflict, not the stale one.
    expect(fake.writes.slice(1).map((w) => (w.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion)[0]).toBe('6');
    const stored = fake.stored();
    expect(stored?.metadata?.labels).toEqual({ team: 'a' });
    expect(stored?.metadata?.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
    expect(stored?.status?.reservedFor).toEqual([CONSUMER]);
    expect(stored?.status?.allocation?.devices?.results).toEqual(ALLOCATION.devices?.results);
    expect(stored?.status?.allocation?.allocationTimestamp).toBe('2026-01-01T00:00:00Z');
  });

  it('a status write that conflicts is retried from the start with the claim as read again', async () => {
    const fake = new ConflictingPort(claim({ metadata: { name: 'c', namespace: 'default', uid: 'c-uid', resourceVersion: '5', finalizers: ['resource.kubernetes.io/delete-protection'] } }), (n, cluster) => {
      if (n !== 1) return undefined;
      labelledMeanwhile(cluster);
      return CONFLICT;
    });
    const result = await bindClaim(fake.stored() as ResourceClaim, ALLOCATION, CONSUMER, fake.deps());
    expect(typeof result).toBe('object');
    expect(fake.writes.map((w) => w.subresource)).toEqual(['status', 'status']);
    expect(fake.stored()?.status?.reservedFor).toEqual([CONSUMER]);
  });

  it('stops with upstream\'s message when the claim read after the conflict was allocated elsewhere', async () => {
    const fake = new ConflictingPort(claim(), (n, cluster) => {
      if (n !== 1) return undefined;
      const current = cluster.resourceClaims.get('default/c') as ResourceClaim;
      const changed: ResourceClaim = { ...current, metadata: { ...current.metadata, resourceVersion: '7' }, status: { allocation: ALLOCATION } };
      cluster.upsertObject('ResourceClaim', changed);
      return CONFLICT;
    });
    const result = await bindClaim(claim(), ALLOCATION, CONSUMER, fake.deps());
    expect(result).toBe('claim default/c got allocated elsewhere in the meantime');
    expect(fake.writes).toHaveLength(1);
  });

  it('gives up after upstream\'s five tries with the last conflict', async () => {
    const fake = new ConflictingPort(claim(), () => CONFLICT);
    const result = await bindClaim(claim(), ALLOCATION, CONSUMER, fake.deps());
    expect(result).toBe(`add finalizer to claim default/c: ${CONFLICT.message}`);
    expect(fake.writes).toHaveLength(CONFLICT_RETRY.steps);
    expect(fake.reads).toBe(CONFLICT_RETRY.steps - 1);
  });

  it('does not retry other failures', async () => {
    const fake = new ConflictingPort(claim(), () => ({ status: 422, message: 'invalid' }));
    const result = await bindClaim(claim(), ALLOCATION, CONSUMER, fake.deps());
    expect(result).toBe('add finalizer to claim default/c: invalid');
    expect(fake.reads).toBe(0);
  });

  it('a shared claim deallocated meanwhile is not reserved (upstream, with DRADeviceBindingConditions on)', async () => {
    const allocated = claim({ status: { allocation: { ...ALLOCATION, allocationTimestamp: '2025-01-01T00:00:00Z' } } });
    const fake = new ConflictingPort(allocated, (n, cluster) => {
      if (n !== 1) return undefined;
      cluster.upsertObject('ResourceClaim', claim({ metadata: { name: 'c', namespace: 'default', uid: 'c-uid', resourceVersion: '8' } }));
      return CONFLICT;
    });
    const result = await bindClaim(allocated, undefined, CONSUMER, fake.deps());
    expect(result).toBe('claim default/c got deallocated elsewhere in the meantime');
  });
});
