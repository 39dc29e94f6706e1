/**
 * PreBind's writes for one claim (upstream bindClaim): for a claim berth allocated, the delete-protection
 * finalizer first (a metadata change), then status.allocation with the pod added to status.reservedFor (the status
 * subresource); for a claim allocated already (shared), only the reservation. Every write is a JSON merge patch
 * conditional on the resourceVersion the previous step saw, so nothing written by someone else in between is
 * overwritten. On a conflict (409) the claim is read again from the API server and the whole sequence is retried
 * with the same checks, as upstream's retry.RetryOnConflict with retry.DefaultRetry: at most 5 tries, 10 ms apart
 * (upstream adds up to 10% jitter; berth's core has no global randomness).
 */
import type { AllocationResult, ResourceClaim, ResourceClaimConsumerReference } from '../../../kube/resource.js';
import { CLAIM_FINALIZER } from '../../../kube/resource.js';
import type { Clock } from '../../clock.js';
import type { ObjectRead, ObjectReader, ObjectWrite, ObjectWriter } from '../../ports.js';

/** Upstream retry.DefaultRetry: Steps 5, Duration 10 ms, Factor 1. */
export const CONFLICT_RETRY = { steps: 5, delayMs: 10 } as const;

export interface BindClaimDeps {
  api: ObjectWriter & ObjectReader;
  signal: AbortSignal;
  clock: Clock;
  /** The time to record as allocationTimestamp (RFC 3339). */
  now(): string;
}

/** A failed step: its message, and whether it was a conflict (the only failure that is retried). */
interface Failure {
  message: string;
  conflict: boolean;
}

function ref(claim: ResourceClaim): string {
  return `${claim.metadata?.namespace ?? 'default'}/${claim.metadata?.name ?? ''}`;
}

function address(claim: ResourceClaim): ObjectRead {
  return { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', namespace: claim.metadata?.namespace ?? 'default', name: claim.metadata?.name ?? '' };
}

function patch(claim: ResourceClaim, body: unknown, subresource?: 'status'): ObjectWrite {
  return { verb: 'patch', ...address(claim), ...(subresource ? { subresource } : {}), body };
}

function isFailure(x: ResourceClaim | Failure): x is Failure {
  return 'conflict' in x && 'message' in x && !('metadata' in x);
}

async function write(deps: BindClaimDeps, request: ObjectWrite, what: string): Promise<ResourceClaim | Failure> {
  const res = await deps.api.write(request, deps.signal);
  if (res.status < 200 || res.status >= 300) return { message: `${what}: ${res.message ?? `HTTP ${res.status}`}`, conflict: res.status === 409 };
  return (res.object as ResourceClaim | undefined) ?? { metadata: {} };
}

/** Upstream's Get after a conflict; a failed read ends the retries. */
async function reread(claim: ResourceClaim, deps: BindClaimDeps): Promise<ResourceClaim | Failure> {
  const res = await deps.api.read(address(claim), deps.signal);
  if (res.status < 200 || res.status >= 300 || !res.object) {
    return { message: `get updated claim ${ref(claim)} after conflict: ${res.message ?? `HTTP ${res.status}`}`, conflict: false };
  }
  return res.object as ResourceClaim;
}

/** One try of the sequence against `claim` as last read. */
async function tryBind(claim: ResourceClaim, allocation: AllocationResult | undefined, consumer: ResourceClaimConsumerReference, deps: BindClaimDeps): Promise<ResourceClaim | Failure> {
  const fail = (message: string): Failure => ({ message, conflict: false });
  if (claim.metadata?.deletionTimestamp) return fail(`claim ${ref(claim)} got deleted in the meantime`);
  let current = claim;
  if (allocation) {
    if (claim.status?.allocation) return fail(`claim ${ref(claim)} got allocated elsewhere in the meantime`);
    const finalizers = claim.metadata?.finalizers ?? [];
    if (!finalizers.includes(CLAIM_FINALIZER)) {
      const body = { metadata: { resourceVersion: claim.metadata?.resourceVersion, finalizers: [...finalizers, CLAIM_FINALIZER] } };
      const updated = await write(deps, patch(claim, body), `add finalizer to claim ${ref(claim)}`);
      if (isFailure(updated)) return updated;
      current = updated;
    }
  }
  const stored = allocation ?? current.status?.allocation;
  // DRADeviceBindingConditions (on in v1.37): a claim deallocated meanwhile is not reserved; the allocation records when it was made.
  if (!stored) return fail(`claim ${ref(claim)} got deallocated elsewhere in the meantime`);
  const status: Record<string, unknown> = { reservedFor: [...(current.status?.reservedFor ?? []), consumer] };
  if (allocation || !stored.allocationTimestamp) status['allocation'] = { ...stored, allocationTimestamp: stored.allocationTimestamp ?? deps.now() };
  const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, status };
  const what = allocation ? `add allocation and reservation to claim ${ref(claim)}` : `add reservation to claim ${ref(claim)}`;
  return write(deps, patch(current, body, 'status'), what);
}

/** Writes the allocation (when given) and the reservation; the claim as stored, or an error message. */
export async function bindClaim(claim: ResourceClaim, allocation: AllocationResult | undefined, consumer: ResourceClaimConsumerReference, deps: BindClaimDeps): Promise<ResourceClaim | string> {
  let current = claim;
  for (let attempt = 1; ; attempt++) {
    const result = await tryBind(current, allocation, consumer, deps);
    if (!isFailure(result)) return result;
    if (!result.conflict || attempt >= CONFLICT_RETRY.steps || deps.signal.aborted) return result.message;
    await deps.clock.sleep(CONFLICT_RETRY.delayMs, deps.signal);
    const fresh = await reread(current, deps);
    if (isFailure(fresh)) return fresh.message;
    current = fresh;
  }
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
