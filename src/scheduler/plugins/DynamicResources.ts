/**
 * DynamicResources (upstream plugins/dynamicresources, v1.37): pods with ResourceClaims get devices allocated from
 * the ResourceSlices drivers publish, by the structured allocator (dynamicResources/allocator.ts).
 *
 * - PreEnqueue: every claim must exist (a template's generated claim recorded in status.resourceClaimStatuses), not
 *   be being deleted, and a generated one must be the pod's; until then the pod waits without an attempt.
 * - PreFilter: the same check (UnschedulableAndUnresolvable with upstream's text), claims of unknown request type,
 *   missing device classes, claims whose allocation is still in flight for another pod; then one allocator for the
 *   cycle, over the devices in use (allocated claims, as berth last wrote them, and allocations in flight).
 * - Filter: an allocated claim's node selector must match; the others must be allocatable on the node ("cannot
 *   allocate all claims"); the allocation is kept per node.
 * - PostFilter: when allocated claims were unavailable everywhere and nobody else uses one, it is deallocated.
 * - Score: prioritized lists score higher for earlier subrequests; NormalizeScore scales to 100.
 * - Reserve: the node's allocations become in flight, so later pods do not get the same devices; Unreserve undoes
 *   that and removes the pod from claims it was reserved in.
 * - PreBind (dynamicResources/bindClaims.ts): writes each allocation and the pod's reservation.
 *
 * Pods without claims see upstream's behaviour: PreFilter skips, Score is 0, and PostFilter returns the Error "not
 * found" when an earlier PreFilter rejected the pod (upstream fails to read its state; it stops preemption).
 */
import type { Pod } from '../../kube/api.js';
import type { AllocationResult, ResourceClaim } from '../../kube/resource.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import {
  Code,
  type CycleState,
  type FilterPlugin,
  type FrameworkHandle,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type ReservePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { defaultNormalizeScore } from '../framework/normalize.js';
import { formatGoDuration } from '../../kube/duration.js';
import { compileNodeSelectorTerms, type NodeMatcher } from '../../kube/selectors.js';
import { Allocator } from './dynamicResources/allocator.js';
import { bindClaim, deallocatePatch, unreservePatch } from './dynamicResources/bindClaims.js';
import { SelectorCompiler } from './dynamicResources/cel.js';
import { afterSliceOrTaintRuleChange, slicesWithTaintRules } from './dynamicResources/deviceTaints.js';
import { bindingStillPossible, DEFAULT_BINDING_TIMEOUT_MS, hasBindingConditions, waitForBindingConditions } from './dynamicResources/bindingConditions.js';
import { ClaimTracker } from './dynamicResources/claimTracker.js';
import { afterAddOrUpdate, afterClaimChange, afterNodeUpdate } from './dynamicResources/hints.js';
import { isReservedForPod, podClaims } from './dynamicResources/podClaims.js';
import { claimRef } from './dynamicResources/requests.js';
import { CLAIM_FINALIZER, FIRST_AVAILABLE_MAX_SIZE } from '../../kube/resource.js';

export const NAME = 'DynamicResources';
const STATE_KEY = `PreFilter${NAME}`;
const STATE_NOT_FOUND = Status.error('not found');
const NOTHING_TO_DO = new Status(Code.Unschedulable);
const CANNOT_ALLOCATE = Status.unresolvable('cannot allocate all claims');
const NOT_AVAILABLE = Status.unresolvable('resourceclaim not available on the node');

/** The cycle's state (upstream stateData; shared by clones, as upstream's Clone returns itself). */
interface DraState {
  claims: ResourceClaim[];
  /** Per claim: where an allocated claim's devices are (undefined: everywhere). */
  availableOn: Array<NodeMatcher | undefined>;
  /** Per claim: the allocation Reserve made for it. */
  allocations: Array<AllocationResult | undefined>;
  allocator: Allocator | undefined;
  /** Per node: the allocations of the claims that need one, in claim order. */
  nodeAllocations: Map<string, AllocationResult[]>;
  /** Indices of allocated claims not available on some node (PostFilter's candidates). */
  unavailable: Set<number>;
}

function nodeSelectorMatcher(allocation: AllocationResult): NodeMatcher | undefined {
  if (!allocation.nodeSelector) return undefined;
  return compileNodeSelectorTerms(allocation.nodeSelector.nodeSelectorTerms);
}

/** A UUID-shaped share ID derived from a counter and the plugin's instance seed (no global randomness). */
function shareIdFactory(): () => string {
  let n = 0;
  return () => {
    n++;
    const hex = n.toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${hex.slice(-12)}`;
  };
}

export class DynamicResources implements PreEnqueuePlugin, PreFilterPlugin, FilterPlugin, PostFilterPlugin, ScorePlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;
  private readonly tracker: ClaimTracker;
  private readonly compiler = new SelectorCompiler();
  private readonly newShareId = shareIdFactory();

  constructor(
    private readonly handle: FrameworkHandle,
    /** DynamicResourcesArgs.bindingTimeout: how long PreBind waits for device binding conditions. */
    private readonly bindingTimeoutMs = DEFAULT_BINDING_TIMEOUT_MS,
  ) {
    this.tracker = new ClaimTracker(handle.cluster);
  }

  preEnqueue(pod: PodInfo): Status | null {
    const found = podClaims(pod.pod, this.tracker);
    return typeof found === 'string' ? Status.unresolvable(found) : null;
  }

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const s: DraState = { claims: [], availableOn: [], allocations: [], allocator: undefined, nodeAllocations: new Map(), unavailable: new Set() };
    state.write(STATE_KEY, s);
    const found = podClaims(pod.pod, this.tracker);
    if (typeof found === 'string') return Status.unresolvable(found);
    if (found.length === 0) return SKIP;
    let toAllocate = 0;
    for (const { claim } of found) {
      const allocation = claim.status?.allocation;
      s.claims.push(claim);
      s.allocations.push(undefined);
      s.availableOn.push(allocation ? nodeSelectorMatcher(allocation) : undefined);
      if (allocation) continue;
      toAllocate++;
      if (this.tracker.pendingAllocation(claim.metadata?.uid ?? '')) {
        return Status.unresolvable(`resource claim ${claimRef(claim)} is in the process of being allocated`);
      }
      const problem = this.validateRequests(claim);
      if (problem) return problem;
    }
    if (toAllocate > 0) {
      const cluster = this.handle.cluster;
      s.allocator = new Allocator({
        classes: (name) => cluster.deviceClasses.get(name),
        slices: slicesWithTaintRules(cluster.resourceSlices.values(), cluster.deviceTaintRules),
        allocated: this.tracker.allocatedState(),
        compiler: this.compiler,
        newShareId: this.newShareId,
      });
    }
    return null;
  }

  /** Upstream's PreFilter check of every request's device class. */
  private validateRequests(claim: ResourceClaim): Status | null {
    for (const request of claim.spec?.devices?.requests ?? []) {
      if (request.exactly) {
        const problem = this.validateClass(request.exactly.deviceClassName ?? '', request.name);
        if (problem) return problem;
      } else if ((request.firstAvailable?.length ?? 0) > 0) {
        for (const sub of request.firstAvailable ?? []) {
          const problem = this.validateClass(sub.deviceClassName ?? '', `${request.name}/${sub.name}`);
          if (problem) return problem;
        }
      } else {
        return Status.unresolvable(`resource claim ${claimRef(claim)}, request ${request.name}: unknown request type`);
      }
    }
    return null;
  }

  private validateClass(className: string, request: string): Status | null {
    if (className === '') return Status.error(`request ${request}: unsupported request type`);
    if (!this.handle.cluster.deviceClasses.has(className)) return Status.unresolvable(`request ${request}: device class ${className} does not exist`);
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    if (s.claims.length === 0) return null;
    const unavailable: number[] = [];
    const now = this.handle.clock.now();
    s.claims.forEach((claim, i) => {
      const matcher = s.availableOn[i];
      if (matcher && !matcher(node.labels, node.name)) unavailable.push(i);
      // Binding conditions that failed or timed out: PostFilter may deallocate the claim so other devices are tried.
      else if (claim.status?.allocation && !bindingStillPossible(claim, this.bindingTimeoutMs, now)) unavailable.push(i);
    });
    let results: AllocationResult[] | undefined;
    if (s.allocator) {
      const outcome = s.allocator.allocate({ name: node.name, labels: node.labels }, s.claims.filter((c) => !c.status?.allocation));
      if ('error' in outcome) return Status.error(outcome.error);
      if ('unschedulable' in outcome) return Status.unresolvable(outcome.unschedulable);
      if ('none' in outcome) return CANNOT_ALLOCATE;
      results = outcome.results;
    }
    if (unavailable.length > 0) {
      for (const i of unavailable) s.unavailable.add(i);
      return NOT_AVAILABLE;
    }
    if (results) s.nodeAllocations.set(node.name, results);
    return null;
  }

  /**
   * Upstream deallocates one unavailable claim nobody else has reserved (it picks at random; berth takes the first).
   * The write is not awaited (PostFilter is synchronous in berth); the claim's update event retries the pod.
   */
  postFilter(state: CycleState, pod: PodInfo): PostFilterResult {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return { status: STATE_NOT_FOUND };
    if (s.claims.length === 0) return { status: NOTHING_TO_DO };
    for (const i of [...s.unavailable].sort((a, b) => a - b)) {
      const claim = s.claims[i];
      const reserved = claim?.status?.reservedFor ?? [];
      if (!claim || !(reserved.length === 0 || (reserved.length === 1 && reserved[0]?.uid === pod.uid))) continue;
      void this.handle.api.write(deallocatePatch(claim));
      return { status: Status.unschedulable('deallocation of ResourceClaim completed') };
    }
    return { status: NOTHING_TO_DO };
  }

  /** Prioritized lists: a subrequest earlier in its list scores more (upstream computeScore). */
  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<DraState>(STATE_KEY);
    if (!s || s.claims.length === 0) return 0;
    const results = s.nodeAllocations.get(node.name);
    if (!results) return 0;
    let score = 0;
    let next = 0;
    for (const claim of s.claims) {
      const allocation = claim.status?.allocation ?? results[next++];
      const chosen = new Set((allocation?.devices?.results ?? []).map((r) => r.request).filter((r) => r.includes('/')));
      for (const request of claim.spec?.devices?.requests ?? []) {
        (request.firstAvailable ?? []).forEach((sub, i) => {
          if (chosen.has(`${request.name}/${sub.name}`)) score += FIRST_AVAILABLE_MAX_SIZE - i;
        });
      }
    }
    return score;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status | null {
    defaultNormalizeScore(scores, false);
    return null;
  }

  reserve(state: CycleState, _pod: PodInfo, nodeName: string): Status | null {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    const indices = s.claims.flatMap((c, i) => (c.status?.allocation ? [] : [i]));
    if (indices.length === 0 || !s.allocator) return null;
    const results = s.nodeAllocations.get(nodeName);
    if (!results || results.length === 0) return Status.error('claim allocation not found for node');
    if (results.length !== indices.length) {
      return Status.error(`internal error, have ${results.length} allocations, ${indices.length} claims to allocate, want ${indices.length} claims`);
    }
    indices.forEach((claimIndex, n) => {
      const allocation = results[n] as AllocationResult;
      s.allocations[claimIndex] = allocation;
      const claim = s.claims[claimIndex] as ResourceClaim;
      const finalizers = claim.metadata?.finalizers ?? [];
      this.tracker.signalPending({
        ...claim,
        metadata: { ...claim.metadata, finalizers: finalizers.includes(CLAIM_FINALIZER) ? finalizers : [...finalizers, CLAIM_FINALIZER] },
        status: { ...claim.status, allocation },
      });
    });
    return null;
  }

  unreserve(state: CycleState, pod: PodInfo): void {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return;
    for (const claim of s.claims) {
      if (this.tracker.removePending(claim.metadata?.uid ?? '', false)) this.tracker.restore(claim);
      // Not awaited: Unreserve cannot wait; a failure leaves the reservation for the next attempt to find.
      if (claim.status?.allocation && isReservedForPod(claim, pod.uid)) void this.handle.api.write(unreservePatch(claim, pod.uid));
    }
  }

  preBindPreFlight(state: CycleState): Status | null {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    return s.claims.length === 0 ? SKIP : null;
  }

  async preBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    for (const [i, claim] of s.claims.entries()) {
      if (isReservedForPod(claim, pod.uid)) continue;
      const result = await bindClaim(claim, s.allocations[i], consumerOf(pod.pod), {
        api: this.handle.api,
        signal,
        clock: this.handle.clock,
        now: () => new Date(this.handle.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      if (typeof result === 'string') return Status.error(result);
      this.tracker.assumeWritten(result);
      // Unreserve works with what was written (it removes the pod from the reservation).
      s.claims[i] = result;
    }
    for (const [i, claim] of s.claims.entries()) if (s.allocations[i]) this.tracker.removePending(claim.metadata?.uid ?? '', true);
    return this.awaitBindingConditions(s, pod, nodeName, signal);
  }

  /** DRADeviceBindingConditions: the pod binds once its devices' binding conditions are True (bindingConditions.ts). */
  private async awaitBindingConditions(s: DraState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    if (!hasBindingConditions(s.claims)) return null;
    this.handle.api.recordEvent({
      reporter: this.handle.profile.schedulerName,
      regarding: pod,
      type: 'Normal',
      reason: 'BindingConditionsPending',
      action: 'Scheduling',
      message: `waiting for binding conditions for device on node ${nodeName}`,
    });
    const failure = await waitForBindingConditions(s.claims, {
      clock: this.handle.clock,
      signal,
      timeoutMs: this.bindingTimeoutMs,
      // As upstream reads its assume cache: berth's own writes count before the watch delivers them.
      current: (claim) => this.tracker.get(claim.metadata?.namespace ?? 'default', claim.metadata?.name ?? ''),
    });
    return failure === null ? null : Status.error(failure);
  }
}

function consumerOf(pod: Pod): { apiGroup: string; resource: string; name: string; uid: string } {
  return { apiGroup: '', resource: 'pods', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

/**
 * pluginConfig args: DynamicResourcesArgs (filterTimeout, bindingTimeout) are validated as upstream validates them.
 * bindingTimeout (default 600 s) bounds PreBind's wait for device binding conditions and tells Filter when a claim
 * waited too long. berth's Filter is not cut short, so filterTimeout is validated and otherwise unused. The args
 * are not rendered: `config check` and the effective configuration leave DynamicResourcesArgs out, as before.
 */
interface DraArgs {
  bindingTimeoutMs: number;
}

const argsSpec: PluginArgsSpec<DraArgs> = {
  fields: ['filterTimeout', 'bindingTimeout'],
  defaults: () => ({ bindingTimeoutMs: DEFAULT_BINDING_TIMEOUT_MS }),
  decode: (dec, raw, path) => {
    const filterTimeout = dec.duration(raw['filterTimeout'], [...path, 'filterTimeout']);
    if (filterTimeout !== undefined && filterTimeout < 0) {
      dec.error([...path, 'filterTimeout'], `${formatGoDuration(filterTimeout)} must be zero or positive`, 'use 0s to disable the timeout');
    }
    const bindingTimeout = dec.duration(raw['bindingTimeout'], [...path, 'bindingTimeout']);
    if (bindingTimeout !== undefined && bindingTimeout < 1) {
      dec.error([...path, 'bindingTimeout'], `${formatGoDuration(bindingTimeout)} must be at least 1 second`, 'use 1s or more');
    }
    return { bindingTimeoutMs: bindingTimeout !== undefined ? bindingTimeout * 1000 : DEFAULT_BINDING_TIMEOUT_MS };
  },
};

export const descriptor = {
  name: NAME,
  points: ['preEnqueue', 'preFilter', 'filter', 'postFilter', 'score', 'reserve', 'preBind'],
  // Upstream's UpdatePodGeneratedResourceClaim needs no entry: a pending pod whose resourceClaimStatuses change is
  // updated in the queue, which runs PreEnqueue again.
  events: [
    'NodeAdd',
    { event: 'NodeUpdate', hint: afterNodeUpdate },
    { event: 'ResourceClaimChange', hint: afterClaimChange },
    { event: 'DeviceClassChange', hint: afterAddOrUpdate },
    { event: 'ResourceSliceChange', hint: afterSliceOrTaintRuleChange },
  ],
  // PreBind: the finalizer (metadata) and allocation + reservedFor (status); Unreserve and PostFilter: status.
  apiWrites: [
    // get: PreBind re-reads a claim after a conflicting write.
    { group: 'resource.k8s.io', resource: 'resourceclaims', verbs: ['patch', 'get'] },
    { group: 'resource.k8s.io', resource: 'resourceclaims/status', verbs: ['patch'] },
    // Not a subresource one writes to: the API server (DRAResourceClaimGranularStatusAuthorization, on in v1.37)
    // checks this permission as well before a status patch may change allocation or reservedFor.
    { group: 'resource.k8s.io', resource: 'resourceclaims/binding', verbs: ['patch'] },
  ],
  args: argsSpec,
  create: (handle, args) => new DynamicResources(handle, args.bindingTimeoutMs),
} satisfies PluginDescriptor<DraArgs>;
