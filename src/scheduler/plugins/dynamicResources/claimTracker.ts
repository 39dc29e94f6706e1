/**
 * The plugin's view of ResourceClaims (upstream DRAManager's claimTracker): the claims as the watch delivers them,
 * with the versions berth itself wrote laid over them until the watch catches up (an assume cache), and the
 * allocations in flight: made at Reserve, not yet written by PreBind. In-flight allocations count as allocated for
 * every later pod, so two pods in flight never get the same device; Unreserve and a finished PreBind remove them.
 */
import type { ResourceClaim } from '../../../kube/resource.js';
import type { ClusterView } from '../../cache/clusterState.js';
import { AssumeCache } from '../volumeBinding/assumeCache.js';
import { Decimal } from '../../../kube/decimal.js';
import type { Consumed } from './capacity.js';
import { type AllocatedState, deviceKey } from './search.js';

interface InFlight {
  claim: ResourceClaim;
  sharers: number;
}

export function claimKeyOf(claim: ResourceClaim): string {
  return `${claim.metadata?.namespace ?? 'default'}/${claim.metadata?.name ?? ''}`;
}

export class ClaimTracker {
  private readonly cache: AssumeCache<ResourceClaim>;
  private readonly inFlight = new Map<string, InFlight>();
  /**
   * Claims berth created (the special claims of extended resources) that the watch has not delivered yet, by key:
   * their devices stay in use meanwhile (upstream waits in PreBind until its informer has the claim).
   */
  private readonly created = new Map<string, ResourceClaim>();

  constructor(private readonly cluster: ClusterView) {
    this.cache = new AssumeCache((key) => cluster.resourceClaims.get(key));
  }

  get(namespace: string, name: string): ResourceClaim | undefined {
    return this.lookup(`${namespace}/${name}`);
  }

  /** Every claim: the cache's (with assumptions) and those berth created that the watch has not delivered. */
  *all(): Iterable<ResourceClaim> {
    for (const key of this.cluster.resourceClaims.keys()) {
      const claim = this.cache.get(key);
      if (claim) yield claim;
    }
    for (const [key, claim] of [...this.created]) {
      if (this.cluster.resourceClaims.has(key)) this.created.delete(key);
      else yield claim;
    }
  }

  private lookup(key: string): ResourceClaim | undefined {
    const cached = this.cache.get(key);
    if (cached) {
      this.created.delete(key);
      return cached;
    }
    return this.created.get(key);
  }

  /** A claim berth just created: it counts until the watch delivers it. */
  rememberCreated(claim: ResourceClaim): void {
    if (!this.cluster.resourceClaims.has(claimKeyOf(claim))) this.created.set(claimKeyOf(claim), claim);
  }

  /** A claim berth deleted (or failed to keep): it no longer counts, whatever the watch says later. */
  forgetCreated(claim: ResourceClaim): void {
    this.created.delete(claimKeyOf(claim));
  }

  /** The allocation Reserve made for the claim, while PreBind has not written it. */
  pendingAllocation(uid: string): ResourceClaim | undefined {
    return this.inFlight.get(uid)?.claim;
  }

  /** Upstream SignalClaimPendingAllocation (a claim already allocated in the cache is left alone). */
  signalPending(claim: ResourceClaim): void {
    const uid = claim.metadata?.uid ?? '';
    const existing = this.inFlight.get(uid);
    if (existing) {
      existing.sharers++;
      return;
    }
    const current = this.cache.get(claimKeyOf(claim));
    if (current?.metadata?.uid === uid && current.status?.allocation) return;
    this.inFlight.set(uid, { claim, sharers: 1 });
  }

  /** Upstream MaybeRemoveClaimPendingAllocation: true when the in-flight entry is gone now. */
  removePending(uid: string, force: boolean): boolean {
    const entry = this.inFlight.get(uid);
    if (!entry) return false;
    if (force || entry.sharers === 1) {
      this.inFlight.delete(uid);
      return true;
    }
    entry.sharers--;
    return false;
  }

  /** The claim as berth wrote it, until the watch delivers this version or a newer one. */
  assumeWritten(claim: ResourceClaim): void {
    const key = claimKeyOf(claim);
    if (this.cache.assume(key, claim) !== null && this.created.has(key)) this.created.set(key, claim);
  }

  restore(claim: ResourceClaim): void {
    this.cache.restore(claimKeyOf(claim));
  }

  /** Every device in use: by allocated claims (as assumed) and by allocations in flight. */
  allocatedState(): AllocatedState {
    const devices = new Set<string>();
    const shared = new Set<string>();
    const capacity = new Map<string, Consumed>();
    const add = (claim: ResourceClaim): void => {
      for (const r of claim.status?.allocation?.devices?.results ?? []) {
        if (r.adminAccess === true) continue;
        const key = deviceKey(r.driver, r.pool, r.device);
        if (r.shareID === undefined) {
          devices.add(key);
          continue;
        }
        shared.add(key);
        const entry = capacity.get(key) ?? new Map<string, Decimal>();
        for (const [name, value] of Object.entries(r.consumedCapacity ?? {})) {
          entry.set(name, (entry.get(name) ?? Decimal.ZERO).add(Decimal.tryParse(value) ?? Decimal.ZERO));
        }
        if (r.consumedCapacity) capacity.set(key, entry);
      }
    };
    for (const claim of this.all()) add(claim);
    for (const { claim } of this.inFlight.values()) add(claim);
    return { devices, shared, capacity };
  }
}
