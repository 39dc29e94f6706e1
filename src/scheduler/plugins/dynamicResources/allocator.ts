/**
 * The structured-parameters allocator (upstream k8s.io/dynamic-resource-allocation/structured, the "incubating"
 * variant that v1.37's default features select: admin access, prioritized lists, partitionable devices, device
 * taints, binding conditions, consumable capacity with fractional ranges). Built once per scheduling cycle from the
 * classes, slices and devices in use; `allocate` answers for one node and the claims that still need devices.
 */
import type { AllocationResult, DeviceClass, DeviceSelector, ResourceClaim, ResourceSlice } from '../../../kube/resource.js';
import { ALLOCATION_RESULTS_MAX_SIZE } from '../../../kube/resource.js';
import { Decimal } from '../../../kube/decimal.js';
import { buildResults } from './allocationResult.js';
import { fitsCapacity } from './capacity.js';
import type { SelectorCompiler } from './cel.js';
import { type Constraint, newConstraint } from './constraints.js';
import { gatherPools, nodeMatches, type NodeFacts, type Pool } from './pools.js';
import { claimRef, exactView, requestsOf, subView, type RequestView } from './requests.js';
import { type AllocatedState, AllocatorError, type Candidate, deviceKey, requestKey, type RequestData, Search } from './search.js';

export type { AllocatedState } from './search.js';

/**
 * What one node answers: allocations (one per claim), `none` (the claims do not fit), `unschedulable` (a per-node
 * failure with a message: upstream's ErrFailedAllocationOnNode) or `error` (the claim or class is broken).
 */
export type AllocateOutcome = { results: AllocationResult[] } | { none: true } | { unschedulable: string } | { error: string };

export interface AllocatorInput {
  classes(name: string): DeviceClass | undefined;
  slices: readonly ResourceSlice[];
  allocated: AllocatedState;
  compiler: SelectorCompiler;
  /** A unique ID for a shared allocation (upstream: a random UUID). */
  newShareId(): string;
}

export class Allocator {
  private readonly onNode = new Map<string, ResourceSlice[]>();
  private readonly shared: ResourceSlice[] = [];
  private readonly counters = new Map<string, Map<string, Map<string, Decimal>>>();

  constructor(private readonly input: AllocatorInput) {
    for (const slice of input.slices) {
      const nodeName = slice.spec?.nodeName ?? '';
      if (nodeName === '') this.shared.push(slice);
      else this.onNode.set(nodeName, [...(this.onNode.get(nodeName) ?? []), slice]);
    }
  }

  allocate(node: NodeFacts, claims: readonly ResourceClaim[]): AllocateOutcome {
    try {
      return this.allocateOrThrow(node, claims);
    } catch (err) {
      if (err instanceof AllocatorError) return { error: err.message };
      throw err;
    }
  }

  private allocateOrThrow(node: NodeFacts, claims: readonly ResourceClaim[]): AllocateOutcome {
    const pools = gatherPools([...(this.onNode.get(node.name) ?? []), ...this.shared], node, this.input.slices);
    const matchCache = new Map<string, boolean>();
    const selectable = (key: string, data: RequestData, c: Candidate): boolean => {
      const cacheKey = `${c.key}|${key}`;
      let hit = matchCache.get(cacheKey);
      if (hit === undefined) matchCache.set(cacheKey, (hit = this.selectable(claims, key, data, c, node)));
      return hit;
    };
    const requests = new Map<string, RequestData>();
    const constraints: Constraint[][] = [];
    for (const [i, claim] of claims.entries()) {
      this.prepareClaim(claim, i, pools, requests, selectable);
      constraints.push(this.constraintsOf(claim));
    }
    const search = new Search({
      claims,
      pools,
      requests,
      constraints,
      allocated: this.input.allocated,
      selectable,
      availableCounters: (pool) => this.availableCounters(pool),
      newShareId: () => this.input.newShareId(),
    });
    if (search.run({ claim: 0, request: 0, sub: 0, device: 0 }, false, { pool: 0, slice: 0, device: 0 }) !== 'done') {
      // Not fatal: other nodes may do; reported only if every node fails.
      if (pools.some((p) => p.invalid)) return { unschedulable: 'invalid resource pools were encountered' };
      return { none: true };
    }
    const results = buildResults(claims, requests, search, node.name);
    if (typeof results === 'string') throw new AllocatorError(results);
    return { results };
  }

  /** Upstream's per-request validation and request data; the claim needs at most 32 devices. */
  private prepareClaim(
    claim: ResourceClaim,
    claimIndex: number,
    pools: readonly Pool[],
    requests: Map<string, RequestData>,
    selectable: (key: string, data: RequestData, c: Candidate) => boolean,
  ): void {
    let minTotal = 0;
    for (const [r, request] of requestsOf(claim).entries()) {
      let min: number;
      if ((request.firstAvailable?.length ?? 0) > 0) {
        min = Number.MAX_SAFE_INTEGER;
        for (const [s, sub] of (request.firstAvailable ?? []).entries()) {
          const data = this.requestData(claim, subView(sub), request.name, requestKey(claimIndex, r, s), pools, selectable);
          requests.set(requestKey(claimIndex, r, s), data);
          min = Math.min(min, data.numDevices);
        }
      } else {
        const data = this.requestData(claim, exactView(request), undefined, requestKey(claimIndex, r, 0), pools, selectable);
        requests.set(requestKey(claimIndex, r, 0), data);
        min = data.numDevices;
      }
      if (min > ALLOCATION_RESULTS_MAX_SIZE - minTotal) {
        throw new AllocatorError(
          `claim ${claimRef(claim)}, request ${request.name}: adding ${min} devices exceeds the claim limit of ${ALLOCATION_RESULTS_MAX_SIZE}, with ${minTotal} already accounted for`,
        );
      }
      minTotal += min;
    }
  }

  private requestData(
    claim: ResourceClaim,
    view: RequestView,
    parent: string | undefined,
    key: string,
    pools: readonly Pool[],
    selectable: (key: string, data: RequestData, c: Candidate) => boolean,
  ): RequestData {
    const where = `claim ${claimRef(claim)}, request ${view.name}`;
    view.selectors.forEach((s, i) => {
      if (!s.cel) throw new AllocatorError(`${where}, selector #${i}: CEL expression empty (unsupported selector type?)`);
    });
    if (view.className === '') throw new AllocatorError(`${where}: missing device class name (unsupported request type?)`);
    const cls = this.input.classes(view.className);
    if (!cls) throw new AllocatorError(`${where}: could not retrieve device class ${view.className}: deviceclass.resource.k8s.io "${view.className}" not found`);
    const data: RequestData = { view, cls, numDevices: 0, selectedSub: 0, ...(parent !== undefined ? { parent } : {}) };
    if (view.mode === 'ExactCount') {
      data.numDevices = view.count;
    } else if (view.mode === 'All') {
      data.allDevices = this.allDevices(where, data, key, pools, selectable);
      data.numDevices = data.allDevices.length;
    } else {
      throw new AllocatorError(`${where}: unsupported count mode ${view.mode}`);
    }
    return data;
  }

  /** allocationMode All: every matching device with the static capacity, from complete and valid pools only. */
  private allDevices(where: string, data: RequestData, key: string, pools: readonly Pool[], selectable: (key: string, data: RequestData, c: Candidate) => boolean): Candidate[] {
    const out: Candidate[] = [];
    for (const pool of pools) {
      if (pool.incomplete) throw new AllocatorError(`${where}: asks for all devices, but resource pool ${pool.driver}/${pool.pool} is currently being updated`);
      if (pool.invalid) throw new AllocatorError(`${where}: asks for all devices, but resource pool ${pool.driver}/${pool.pool} is currently invalid`);
      for (const slice of pool.slices) {
        for (const device of slice.spec?.devices ?? []) {
          const c: Candidate = { key: deviceKey(pool.driver, pool.pool, device.name), driver: pool.driver, pool, slice, device };
          if (selectable(key, data, c) && staticCapacityFits(data, c)) out.push(c);
        }
      }
    }
    return out;
  }

  private constraintsOf(claim: ResourceClaim): Constraint[] {
    return (claim.spec?.devices?.constraints ?? []).map((spec, i) => {
      const c = newConstraint(spec);
      if (!c) throw new AllocatorError(`claim ${claimRef(claim)}, constraint #${i}: empty constraint (unsupported constraint type?)`);
      return c;
    });
  }

  /** Class selectors, then the request's, then the device's own node selection. */
  private selectable(claims: readonly ResourceClaim[], key: string, data: RequestData, c: Candidate, node: NodeFacts): boolean {
    const claim = claims[Number(key.split(':')[0])];
    if (!this.selectorsMatch(`class ${data.cls.metadata?.name ?? ''}`, data.cls.spec?.selectors ?? [], c)) return false;
    if (!this.selectorsMatch(`claim ${claim ? claimRef(claim) : ''}`, data.view.selectors, c)) return false;
    if (c.slice.spec?.perDeviceNodeSelection === true) return nodeMatches(node, c.device.nodeName, c.device.allNodes, c.device.nodeSelector);
    return true;
  }

  private selectorsMatch(owner: string, selectors: readonly DeviceSelector[], c: Candidate): boolean {
    for (const [i, selector] of selectors.entries()) {
      const compiled = this.input.compiler.compile(selector.cel?.expression ?? '');
      if (compiled.error !== undefined) throw new AllocatorError(`${owner}: selector #${i}: CEL compile error: ${compiled.error}`);
      const device = c.device;
      const result = this.input.compiler.matches(compiled.program, {
        driver: c.driver,
        ...(device.allowMultipleAllocations !== undefined ? { allowMultipleAllocations: device.allowMultipleAllocations } : {}),
        ...(device.attributes ? { attributes: device.attributes } : {}),
        ...(device.capacity ? { capacity: device.capacity } : {}),
      });
      if (result.error !== undefined) throw new AllocatorError(`${owner}: selector #${i} on device ${c.key}: CEL runtime error: ${result.error}`);
      if (!result.matches) return false;
    }
    return true;
  }

  /** A pool's shared counters less what allocated devices consume (computed once per pool). */
  private availableCounters(pool: Pool): Map<string, Map<string, Decimal>> {
    const key = `${pool.driver}/${pool.pool}`;
    const cached = this.counters.get(key);
    if (cached) return cached;
    const available = new Map<string, Map<string, Decimal>>();
    for (const [name, set] of pool.counterSets) {
      available.set(name, new Map(Object.entries(set.counters ?? {}).map(([n, c]) => [n, Decimal.tryParse(c.value) ?? Decimal.ZERO])));
    }
    const allocated = this.input.allocated;
    for (const slice of [...pool.slices, ...pool.otherSlices]) {
      for (const device of slice.spec?.devices ?? []) {
        const id = deviceKey(pool.driver, pool.pool, device.name);
        if (!allocated.devices.has(id) && !allocated.shared.has(id) && !allocated.capacity.has(id)) continue;
        for (const c of device.consumesCounters ?? []) {
          const set = available.get(c.counterSet);
          for (const [n, counter] of Object.entries(c.counters ?? {})) {
            const current = set?.get(n);
            if (set && current) set.set(n, current.sub(Decimal.tryParse(counter.value) ?? Decimal.ZERO));
          }
        }
      }
    }
    this.counters.set(key, available);
    return available;
  }
}

function staticCapacityFits(data: RequestData, c: Candidate): boolean {
  try {
    return fitsStatic(data, c);
  } catch (err) {
    throw new AllocatorError(`request ${data.view.name}: checking capacity for device ${c.device.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function fitsStatic(data: RequestData, c: Candidate): boolean {
  return fitsCapacity(undefined, data.view.capacity, c.device.capacity, undefined);
}
