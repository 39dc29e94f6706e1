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
 * Extended resources backed by devices (dynamicResources/extendedResources.ts): a pod requesting a resource a
 * DeviceClass serves gets a special claim, last among its claims, allocated like the others on nodes that do not
 * advertise the resource; PreBind creates it in the API server and records it in the pod's status.
 *
 * Pods without claims see upstream's behaviour: PreFilter skips, Score is 0, and PostFilter returns the Error "not
 * found" when an earlier PreFilter rejected the pod (upstream fails to read its state; it stops preemption).
 */
import type { ContainerExtendedResourceRequest, Pod } from '../../kube/api.js';
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
import {
  createClaimWrite,
  deleteClaimWrites,
  draScalarRequests,
  findExtendedResourceClaim,
  inMemoryClaim,
  isSpecialClaim,
  nodeExtendedClaim,
  podStatusWrite,
} from './dynamicResources/extendedResources.js';
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
  /** The special claim for extended resources, when the pod requests one a DeviceClass serves. */
  extended: ExtendedState | undefined;
}

interface ExtendedState {
  /** Its index in `claims`: after the pod's own claims. */
  index: number;
  /** The pod's scalar requests. */
  scalars: ReadonlyMap<string, number>;
  /** The uid its allocation in flight is known by (the in-memory claim's, or the prior cycle's claim's). */
  initialUid: string;
  /** Per node: the claim with the requests the node needs, and the containers each request serves. */
  perNode: Map<string, { claim: ResourceClaim; mappings: ContainerExtendedResourceRequest[] }>;
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
    const s: DraState = { claims: [], availableOn: [], allocations: [], allocator: undefined, nodeAllocations: new Map(), unavailable: new Set(), extended: undefined };
    state.write(STATE_KEY, s);
    const found = podClaims(pod.pod, this.tracker);
    if (typeof found === 'string') return Status.unresolvable(found);
    const claims = found.map((f) => f.claim);
    const scalars = draScalarRequests(pod, this.handle.cluster);
    if (scalars) {
      const special = findExtendedResourceClaim(pod.pod, this.tracker.all()) ?? inMemoryClaim(pod.pod);
      s.extended = { index: claims.length, scalars, initialUid: special.metadata?.uid ?? '', perNode: new Map() };
      claims.push(special);
    }
    if (claims.length === 0) return SKIP;
    let toAllocate = 0;
    for (const [index, claim] of claims.entries()) {
      const allocation = claim.status?.allocation;
      s.claims.push(claim);
      s.allocations.push(undefined);
      s.availableOn.push(allocation ? nodeSelectorMatcher(allocation) : undefined);
      if (allocation) continue;
      toAllocate++;
      if (this.tracker.pendingAllocation(claim.metadata?.uid ?? '')) {
        return Status.unresolvable(`resource claim ${claimRef(claim)} is in the process of being allocated`);
      }
      // The special claim has no requests yet (or is a prior cycle's, which Filter rejects).
      if (index === s.extended?.index) continue;
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

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    if (s.claims.length === 0) return null;
    let nodeClaim: { claim: ResourceClaim; mappings: ContainerExtendedResourceRequest[] } | undefined;
    if (s.extended) {
      const special = s.claims[s.extended.index] as ResourceClaim;
      const outcome = nodeExtendedClaim(special, pod.pod, s.extended.scalars, node, this.handle.cluster, s.extended.index > 0);
      if ('unresolvable' in outcome) return Status.unresolvable(outcome.unresolvable);
      // Device plugins serve every extended resource here and the pod has no claims of its own: nothing to do.
      if (outcome.claim === undefined && s.extended.index === 0) return null;
      if (outcome.claim) nodeClaim = { claim: outcome.claim, mappings: outcome.mappings };
    }
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
      // The special claim is replaced by the node's variant, with the requests this node needs.
      const toAllocate = s.claims.flatMap((c, i) => (c.status?.allocation ? [] : [i === s.extended?.index && nodeClaim ? nodeClaim.claim : c]));
      const outcome = s.allocator.allocate({ name: node.name, labels: node.labels }, toAllocate);
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
    if (results && nodeClaim) s.extended?.perNode.set(node.name, nodeClaim);
    return null;
  }

  /**
   * Upstream deallocates one unavailable claim nobody else has reserved (it picks at random; berth takes the first).
   * The write is not awaited (PostFilter is synchronous in berth); the claim's update event retries the pod.
   * A special claim for extended resources left by a prior cycle is deleted instead (the pod then starts afresh).
   */
  postFilter(state: CycleState, pod: PodInfo): PostFilterResult {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return { status: STATE_NOT_FOUND };
    if (s.claims.length === 0) return { status: NOTHING_TO_DO };
    const extended = s.extended ? (s.claims[s.extended.index] as ResourceClaim) : undefined;
    const staleExtended = extended !== undefined && !isSpecialClaim(extended);
    for (const i of [...s.unavailable].sort((a, b) => a - b)) {
      if (i === s.extended?.index) {
        if (staleExtended) break;
        continue;
      }
      const claim = s.claims[i];
      const reserved = claim?.status?.reservedFor ?? [];
      if (!claim || !(reserved.length === 0 || (reserved.length === 1 && reserved[0]?.uid === pod.uid))) continue;
      void this.handle.api.write(deallocatePatch(claim));
      return { status: Status.unschedulable('deallocation of ResourceClaim completed') };
    }
    if (staleExtended && extended) {
      this.deleteClaim(extended);
      return { status: Status.unschedulable('deletion of ResourceClaim completed') };
    }
    return { status: NOTHING_TO_DO };
  }

  /** Not awaited (PostFilter and Unreserve cannot wait); the claim's delete event retries the pod. */
  private deleteClaim(claim: ResourceClaim): void {
    this.tracker.forgetCreated(claim);
    const api = this.handle.api;
    void (async () => {
      for (const write of deleteClaimWrites(claim)) {
        const result = await api.write(write);
        if ((result.status < 200 || result.status >= 300) && result.status !== 404) return;
      }
    })();
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
    if (!results || results.length === 0) {
      // Only the special claim, and device plugins serve its resources on this node: nothing to allocate.
      if (indices.every((i) => i === s.extended?.index)) return null;
      return Status.error('claim allocation not found for node');
    }
    if (results.length !== indices.length) {
      return Status.error(`internal error, have ${results.length} allocations, ${indices.length} claims to allocate, want ${indices.length} claims`);
    }
    indices.forEach((claimIndex, n) => {
      const allocation = results[n] as AllocationResult;
      s.allocations[claimIndex] = allocation;
      const isExtended = claimIndex === s.extended?.index;
      const claim = (isExtended ? (s.extended?.perNode.get(nodeName)?.claim ?? s.claims[claimIndex]) : s.claims[claimIndex]) as ResourceClaim;
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
    for (const [i, claim] of s.claims.entries()) {
      if (i === s.extended?.index) {
        this.unreserveExtended(claim, s.extended.initialUid);
        continue;
      }
      if (this.tracker.removePending(claim.metadata?.uid ?? '', false)) this.tracker.restore(claim);
      // Not awaited: Unreserve cannot wait; a failure leaves the reservation for the next attempt to find.
      if (claim.status?.allocation && isReservedForPod(claim, pod.uid)) void this.handle.api.write(unreservePatch(claim, pod.uid));
    }
  }

  /** The special claim's allocation is no longer in flight; one PreBind already created is deleted. */
  private unreserveExtended(claim: ResourceClaim, initialUid: string): void {
    if (this.tracker.removePending(initialUid, false)) this.tracker.restore(claim);
    if (!isSpecialClaim(claim)) this.deleteClaim(claim);
  }

  preBindPreFlight(state: CycleState): Status | null {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    return s.claims.length === 0 ? SKIP : null;
  }

  async preBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    const s = state.read<DraState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    const deps = {
      api: this.handle.api,
      signal,
      clock: this.handle.clock,
      now: () => new Date(this.handle.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    for (const [i, claim] of s.claims.entries()) {
      if (isReservedForPod(claim, pod.uid)) continue;
      if (i === s.extended?.index) {
        const problem = await this.bindExtended(s, pod.pod, nodeName, deps);
        if (problem) return Status.error(problem);
        continue;
      }
      const result = await bindClaim(claim, s.allocations[i], consumerOf(pod.pod), deps);
      if (typeof result === 'string') return Status.error(result);
      this.tracker.assumeWritten(result);
      // Unreserve works with what was written (it removes the pod from the reservation).
      s.claims[i] = result;
    }
    for (const [i, claim] of s.claims.entries()) {
      if (!s.allocations[i]) continue;
      this.tracker.removePending(i === s.extended?.index ? s.extended.initialUid : (claim.metadata?.uid ?? ''), true);
    }
    return this.awaitBindingConditions(s, pod, nodeName, signal);
  }

  /**
   * Upstream bindClaim for the special claim: created in the API server (with the node's requests), allocated and
   * reserved for the pod, then named in the pod's status.extendedResourceClaimStatus. Returns an error message.
   */
  private async bindExtended(s: DraState, pod: Pod, nodeName: string, deps: Parameters<typeof bindClaim>[3]): Promise<string | null> {
    const ext = s.extended as ExtendedState;
    let claim = s.claims[ext.index] as ResourceClaim;
    const allocation = s.allocations[ext.index];
    // Device plugins serve the pod's extended resources on this node.
    if (!allocation && claim.spec?.devices?.requests === undefined) return null;
    const perNode = ext.perNode.get(nodeName);
    if (isSpecialClaim(claim)) {
      if (!perNode) return `extended resource claim not found for node ${nodeName}`;
      const created = await deps.api.write(createClaimWrite(perNode.claim), deps.signal);
      if (created.status < 200 || created.status >= 300 || !created.object) {
        return `create claim for extended resources ${claim.metadata?.namespace ?? ''}/: ${created.message ?? `HTTP ${created.status}`}`;
      }
      claim = created.object as ResourceClaim;
      this.tracker.rememberCreated(claim);
      // Unreserve deletes what was created.
      s.claims[ext.index] = claim;
    }
    const result = await bindClaim(claim, allocation, consumerOf(pod), deps);
    if (typeof result === 'string') return result;
    this.tracker.assumeWritten(result);
    s.claims[ext.index] = result;
    const mappings = perNode?.mappings ?? [];
    const where = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    if (mappings.length === 0) return `nil or empty request mappings, no update of pod ${where} ExtendedResourceClaimStatus`;
    const patched = await deps.api.write(podStatusWrite(pod, result.metadata?.name ?? '', mappings), deps.signal);
    if (patched.status < 200 || patched.status >= 300) return `update pod ${where} ExtendedResourceClaimStatus: ${patched.message ?? `HTTP ${patched.status}`}`;
    return null;
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
    // Extended resources backed by devices: PreBind creates the pod's special claim and records it in the pod's
    // status.extendedResourceClaimStatus; Unreserve and PostFilter delete a stale special claim.
    { group: 'resource.k8s.io', resource: 'resourceclaims', verbs: ['create', 'delete'] },
    { group: '', resource: 'pods/status', verbs: ['patch'] },
  ],
  args: argsSpec,
  create: (handle, args) => new DynamicResources(handle, args.bindingTimeoutMs),
} satisfies PluginDescriptor<DraArgs>;
