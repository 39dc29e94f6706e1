/**
 * PreBind's writes for one claim (upstream bindClaim): for a claim berth allocated, the delete-protection
 * finalizer first (a metadata change), then status.allocation with the pod added to status.reservedFor (the status
 * subresource); for a claim allocated already (shared), only the reservation. Every write is a JSON merge patch
 * conditional on the resourceVersion the previous step saw, so nothing written by someone else in between is
 * overwritten: a conflict fails the binding cycle and the pod is tried again (upstream re-reads and retries).
 */
import type { AllocationResult, ResourceClaim, ResourceClaimConsumerReference } from '../../../kube/resource.js';
import { CLAIM_FINALIZER } from '../../../kube/resource.js';
import type { ObjectWrite, ObjectWriter } from '../../ports.js';

export interface BindClaimDeps {
  api: ObjectWriter;
  signal: AbortSignal;
  /** The time to record as allocationTimestamp (RFC 3339). */
  now(): string;
}

function ref(claim: ResourceClaim): string {
  return `${claim.metadata?.namespace ?? 'default'}/${claim.metadata?.name ?? ''}`;
}

function patch(claim: ResourceClaim, body: unknown, subresource?: 'status'): ObjectWrite {
  return {
    verb: 'patch',
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    namespace: claim.metadata?.namespace ?? 'default',
    name: claim.metadata?.name ?? '',
    ...(subresource ? { subresource } : {}),
    body,
  };
}

async function write(deps: BindClaimDeps, request: ObjectWrite, what: string): Promise<ResourceClaim | string> {
  const res = await deps.api.write(request, deps.signal);
  if (res.status < 200 || res.status >= 300) return `${what}: ${res.message ?? `HTTP ${res.status}`}`;
  return (res.object as ResourceClaim | undefined) ?? { metadata: {} };
}

/** Writes the allocation (when given) and the reservation; the claim as stored, or an error message. */
export async function bindClaim(claim: ResourceClaim, allocation: AllocationResult | undefined, consumer: ResourceClaimConsumerReference, deps: BindClaimDeps): Promise<ResourceClaim | string> {
  if (claim.metadata?.deletionTimestamp) return `claim ${ref(claim)} got deleted in the meantime`;
  let current = claim;
  if (allocation) {
    if (claim.status?.allocation) return `claim ${ref(claim)} got allocated elsewhere in the meantime`;
    const finalizers = claim.metadata?.finalizers ?? [];
    if (!finalizers.includes(CLAIM_FINALIZER)) {
      const body = { metadata: { resourceVersion: claim.metadata?.resourceVersion, finalizers: [...finalizers, CLAIM_FINALIZER] } };
      const updated = await write(deps, patch(claim, body), `add finalizer to claim ${ref(claim)}`);
      if (typeof updated === 'string') return updated;
      current = updated;
    }
  }
  const status: Record<string, unknown> = { reservedFor: [...(current.status?.reservedFor ?? []), consumer] };
  // DRADeviceBindingConditions (on in v1.37) records when the allocation was made.
  if (allocation) status['allocation'] = { ...allocation, allocationTimestamp: allocation.allocationTimestamp ?? deps.now() };
  const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, status };
  const what = allocation ? `add allocation and reservation to claim ${ref(claim)}` : `add reservation to claim ${ref(claim)}`;
  return write(deps, patch(current, body, 'status'), what);
}

/** Upstream Unreserve's patch: the pod leaves reservedFor (conditional on the version seen). */
export function unreservePatch(claim: ResourceClaim, podUid: string): ObjectWrite {
  const reservedFor = (claim.status?.reservedFor ?? []).filter((r) => r.uid !== podUid);
  return patch(claim, { metadata: { resourceVersion: claim.metadata?.resourceVersion }, status: { reservedFor: reservedFor.length > 0 ? reservedFor : null } }, 'status');
}

/** Upstream PostFilter's deallocation: no allocation, no reservation, no device status. */
export function deallocatePatch(claim: ResourceClaim): ObjectWrite {
  return patch(claim, { metadata: { resourceVersion: claim.metadata?.resourceVersion }, status: { allocation: null, reservedFor: null, devices: null } }, 'status');
}
