/**
 * Device binding conditions (DRADeviceBindingConditions, beta and on by default in v1.37): a device may name
 * conditions that must become True in the claim's status.devices before the pod binds (for example a device
 * attached over the fabric), and failure conditions that end the wait. As upstream:
 *
 * - PreBind, once the claims are written, records a BindingConditionsPending event and checks the claims as berth's
 *   cache has them at once and then every 5 s, for at most the plugin's bindingTimeout (default 600 s). A failure
 *   condition, or a claim allocated longer ago than the timeout, fails the binding cycle (an error, so the pod is
 *   retried and Unreserve runs).
 * - Filter counts an allocated claim whose binding failed or timed out as unavailable on every node, so PostFilter
 *   can deallocate it and the next attempt can pick other devices.
 */
import type { ResourceClaim } from '../../../kube/resource.js';
import type { Clock } from '../../clock.js';

/** Upstream DynamicResourcesBindingTimeoutDefault. */
export const DEFAULT_BINDING_TIMEOUT_MS = 600_000;
/** Upstream's poll interval in PreBind. */
export const BINDING_POLL_MS = 5_000;

export type Readiness = { ready: boolean } | { failed: string };

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

function conditionTrue(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return (conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

/** Upstream isClaimReadyForBinding: every binding condition True, no failure condition True. */
export function claimReadiness(claim: ResourceClaim): Readiness {
  const allocation = claim.status?.allocation;
  if (!allocation) return { ready: false };
  for (const result of allocation.devices?.results ?? []) {
    if ((result.bindingConditions?.length ?? 0) === 0) continue;
    const status = (claim.status?.devices ?? []).find((d) => d.device === result.device && d.driver === result.driver && d.pool === result.pool);
    if (!status) return { ready: false };
    for (const type of result.bindingFailureConditions ?? []) {
      const failed = conditionTrue(status.conditions, type);
      if (failed) {
        return { failed: `device binding failed: claim=${claim.metadata?.name ?? ''}, reason=${failed.reason ?? ''}, message=${JSON.stringify(failed.message ?? '')}` };
      }
    }
    if ((result.bindingConditions ?? []).some((type) => !conditionTrue(status.conditions, type))) return { ready: false };
  }
  return { ready: true };
}

/** Upstream isClaimTimeout: a device with binding conditions, allocated more than `timeoutMs` ago. */
export function claimTimedOut(claim: ResourceClaim, timeoutMs: number, nowMs: number): boolean {
  const allocation = claim.status?.allocation;
  const at = allocation?.allocationTimestamp ? Date.parse(allocation.allocationTimestamp) : NaN;
  if (!allocation || Number.isNaN(at)) return false;
  return (allocation.devices?.results ?? []).some((r) => r.bindingConditions !== undefined) && at + timeoutMs < nowMs;
}

/** Filter's check of an allocated claim: false when its binding failed or timed out. */
export function bindingStillPossible(claim: ResourceClaim, timeoutMs: number, nowMs: number): boolean {
  const readiness = claimReadiness(claim);
  if ('failed' in readiness) return false;
  return readiness.ready || !claimTimedOut(claim, timeoutMs, nowMs);
}

export function hasBindingConditions(claims: readonly ResourceClaim[]): boolean {
  return claims.some((c) => (c.status?.allocation?.devices?.results ?? []).some((r) => (r.bindingConditions?.length ?? 0) > 0));
}

export interface WaitDeps {
  clock: Clock;
  signal: AbortSignal;
  timeoutMs: number;
  /** The claim as berth's cache has it now (upstream reads its claim cache), or undefined when gone. */
  current(claim: ResourceClaim): ResourceClaim | undefined;
}

/** One check of all claims (upstream isPodReadyForBinding); `claims` is updated to what was read. */
function podReadiness(claims: ResourceClaim[], deps: WaitDeps): Readiness {
  for (const [i, claim] of claims.entries()) {
    const fresh = deps.current(claim);
    if (!fresh) return { failed: `resourceclaim.resource.k8s.io "${claim.metadata?.name ?? ''}" not found` };
    claims[i] = fresh;
    const readiness = claimReadiness(fresh);
    if ('failed' in readiness) return readiness;
    if (!readiness.ready) {
      if (claimTimedOut(fresh, deps.timeoutMs, deps.clock.now())) return { failed: `device binding timeout: claim=${fresh.metadata?.name ?? ''}` };
      return { ready: false };
    }
  }
  return { ready: true };
}

/** Upstream's PollUntilContextTimeout(5 s, bindingTimeout, immediate): null when ready, else the error. */
export async function waitForBindingConditions(claims: ResourceClaim[], deps: WaitDeps): Promise<string | null> {
  const deadline = deps.clock.now() + deps.timeoutMs;
  for (;;) {
    const readiness = podReadiness(claims, deps);
    if ('failed' in readiness) return readiness.failed;
    if (readiness.ready) return null;
    if (deps.signal.aborted) return 'device binding aborted: the binding cycle was cancelled';
    const left = deadline - deps.clock.now();
    if (left <= 0) return 'device binding timeout: context deadline exceeded';
    await deps.clock.sleep(Math.min(BINDING_POLL_MS, left), deps.signal);
  }
}
