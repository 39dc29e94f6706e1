/**
 * The allocator's search for one node (upstream incubating allocateOne/allocateDevice): claims one after the other,
 * each request's devices one after the other, every eligible device in pool/slice/device order, backtracking on
 * failure; the first complete solution wins. A device is eligible when it is not in use (unless admin access, or it
 * allows multiple allocations and has capacity left), matches the class and request selectors, has its shared
 * counters available, carries no untolerated NoSchedule/NoExecute taint, and keeps the claim's constraints.
 */
import type { Device, DeviceClass, DeviceTaint, DeviceToleration, ResourceClaim, ResourceSlice } from '../../../kube/resource.js';
import { ALLOCATION_RESULTS_MAX_SIZE } from '../../../kube/resource.js';
import { Decimal } from '../../../kube/decimal.js';
import { addConsumed, type Consumed, consumedCapacity, fitsCapacity, subConsumed } from './capacity.js';
import type { Constraint } from './constraints.js';
import type { Pool } from './pools.js';
import { claimRef, type RequestView } from './requests.js';

/** Devices in use by allocated (or in-flight) claims. Keys are "driver/pool/device". */
export interface AllocatedState {
  /** Devices allocated exclusively. */
  devices: ReadonlySet<string>;
  /** Devices with at least one shared allocation (allowMultipleAllocations). */
  shared: ReadonlySet<string>;
  /** Capacity consumed on shared devices. */
  capacity: ReadonlyMap<string, Consumed>;
}

export interface Candidate {
  key: string;
  driver: string;
  pool: Pool;
  slice: ResourceSlice;
  device: Device;
}

export interface RequestData {
  view: RequestView;
  /** The parent request's name, for a subrequest. */
  parent?: string;
  cls: DeviceClass;
  numDevices: number;
  /** For allocationMode All: the devices, fixed up front. */
  allDevices?: Candidate[];
  /** For the first subrequest's entry: which subrequest was chosen. */
  selectedSub: number;
}

export interface Picked {
  candidate: Candidate;
  request: string;
  parent?: string;
  adminAccess: boolean;
  tolerations: readonly DeviceToleration[];
  shareId?: string;
  consumed?: Consumed;
}

export class AllocatorError extends Error {}

export type Outcome = 'done' | 'fail' | 'maxsize';

export interface Position {
  claim: number;
  request: number;
  sub: number;
  device: number;
}

interface Start {
  pool: number;
  slice: number;
  device: number;
}

export function requestKey(claim: number, request: number, sub: number): string {
  return `${claim}:${request}:${sub}`;
}

export function deviceKey(driver: string, pool: string, device: string): string {
  return `${driver}/${pool}/${device}`;
}

/** Upstream ToleratesTaint. */
function tolerates(t: DeviceToleration, taint: DeviceTaint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.operator || t.operator === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return t.operator === 'Exists';
}

function taintPrevents(device: Device, tolerations: readonly DeviceToleration[]): boolean {
  return (device.taints ?? []).some((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, taint)));
}

export interface SearchDeps {
  claims: readonly ResourceClaim[];
  pools: readonly Pool[];
  requests: ReadonlyMap<string, RequestData>;
  constraints: ReadonlyArray<readonly Constraint[]>;
  allocated: AllocatedState;
  /** Whether a device matches a request's class and selectors (cached by the caller); throws AllocatorError. */
  selectable(key: string, data: RequestData, candidate: Candidate): boolean;
  /** Available counters of a pool (already reduced by allocated devices). */
  availableCounters(pool: Pool): Map<string, Map<string, Decimal>>;
  newShareId(): string;
}

/** The mutable state of one search. */
export class Search {
  readonly results: Picked[][];
  private readonly allocating = new Map<string, Set<number>>();
  private readonly allocatingCapacity = new Map<string, Consumed>();
  private readonly consumedCounters = new Map<Pool, Map<string, Map<string, Decimal>>>();
  private readonly selectedSubs = new Map<string, number>();

  constructor(private readonly deps: SearchDeps) {
    this.results = deps.claims.map(() => []);
  }

  selectedSub(key: string): number {
    return this.selectedSubs.get(key) ?? 0;
  }

  private inUse(key: string): boolean {
    return this.deps.allocated.devices.has(key) || (this.allocating.get(key)?.size ?? 0) > 0;
  }

  private capacityInUse(key: string): boolean {
    return this.deps.allocated.capacity.has(key) || this.deps.allocated.shared.has(key) || this.allocatingCapacity.has(key);
  }

  run(pos: Position, inSub: boolean, start: Start): Outcome {
    const claim = this.deps.claims[pos.claim];
    if (!claim) return 'done';
    const requests = claim.spec?.devices?.requests ?? [];
    if (pos.request >= requests.length) {
      const next = this.run({ claim: pos.claim + 1, request: 0, sub: 0, device: 0 }, false, { pool: 0, slice: 0, device: 0 });
      // Running out of room in a later claim may be fixed by another choice here: not fatal.
      return next === 'maxsize' ? 'fail' : next;
    }
    const key = requestKey(pos.claim, pos.request, pos.sub);
    const data = this.deps.requests.get(key);
    if (!data) throw new AllocatorError(`internal error: no request data for ${key}`);
    if (!inSub && data.parent !== undefined) return this.runSubRequests(pos);
    if (data.view.mode === 'All' && (data.allDevices?.length ?? 0) === 0) return 'fail';
    if (pos.device >= data.numDevices) {
      return this.run({ claim: pos.claim, request: pos.request + 1, sub: 0, device: 0 }, false, { pool: 0, slice: 0, device: 0 });
    }
    const remaining = data.numDevices - pos.device;
    if (remaining > ALLOCATION_RESULTS_MAX_SIZE - (this.results[pos.claim]?.length ?? 0)) return 'maxsize';
    if (data.view.mode === 'All') return this.runAll(pos, inSub, data);
    return this.runSearch(pos, inSub, start, data, key);
  }

  /** Tries each subrequest in order; the first that leads to a full solution is kept. */
  private runSubRequests(pos: Position): Outcome {
    let allMaxSize = true;
    for (let sub = 0; this.deps.requests.has(requestKey(pos.claim, pos.request, sub)); sub++) {
      const outcome = this.run({ ...pos, sub }, true, { pool: 0, slice: 0, device: 0 });
      if (outcome === 'maxsize') continue;
      allMaxSize = false;
      if (outcome === 'done') {
        this.selectedSubs.set(requestKey(pos.claim, pos.request, 0), sub);
        return 'done';
      }
    }
    return allMaxSize ? 'maxsize' : 'fail';
  }

  private runAll(pos: Position, inSub: boolean, data: RequestData): Outcome {
    const candidate = data.allDevices?.[pos.device];
    if (!candidate) return 'fail';
    const undo = this.allocateDevice(pos, candidate, data, true);
    if (!undo) return 'fail';
    const outcome = this.run({ ...pos, device: pos.device + 1 }, inSub, { pool: 0, slice: 0, device: 0 });
    if (outcome !== 'done') undo();
    return outcome;
  }

  private runSearch(pos: Position, inSub: boolean, start: Start, data: RequestData, key: string): Outcome {
    const pools = this.deps.pools;
    for (let p = start.pool; p < pools.length; p++) {
      const pool = pools[p] as Pool;
      if (pool.incomplete || pool.invalid) continue;
      for (let s = p === start.pool ? start.slice : 0; s < pool.slices.length; s++) {
        const slice = pool.slices[s] as ResourceSlice;
        const devices = slice.spec?.devices ?? [];
        for (let d = p === start.pool && s === start.slice ? start.device : 0; d < devices.length; d++) {
          const device = devices[d] as Device;
          const candidate: Candidate = { key: deviceKey(pool.driver, pool.pool, device.name), driver: pool.driver, pool, slice, device };
          if (!this.eligible(pos, candidate, data, key)) continue;
          const undo = this.allocateDevice(pos, candidate, data, false);
          if (!undo) continue;
          const outcome = this.run({ ...pos, device: pos.device + 1 }, inSub, { pool: p, slice: s, device: d + 1 });
          if (outcome === 'done') return 'done';
          undo();
          if (outcome === 'maxsize') return 'maxsize';
        }
      }
    }
    return 'fail';
  }

  private eligible(pos: Position, candidate: Candidate, data: RequestData, key: string): boolean {
    if (data.view.adminAccess ? this.allocating.get(candidate.key)?.has(pos.claim) : this.inUse(candidate.key)) return false;
    if (!this.deps.selectable(key, data, candidate)) return false;
    return this.capacityFits(data, candidate);
  }

  private capacityFits(data: RequestData, candidate: Candidate): boolean {
    try {
      return fitsCapacity(this.deps.allocated.capacity.get(candidate.key), data.view.capacity, candidate.device.capacity, this.allocatingCapacity.get(candidate.key));
    } catch (err) {
      throw new AllocatorError(`request ${data.view.name}: checking capacity for device ${candidate.key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Upstream allocateDevice: records the device for the request if it is usable, returning the undo function;
   * undefined when it is not. With `must` (allocationMode All), a violated constraint is an error.
   */
  private allocateDevice(pos: Position, candidate: Candidate, data: RequestData, must: boolean): (() => void) | undefined {
    const { device } = candidate;
    const multi = device.allowMultipleAllocations === true;
    if (!multi && data.view.adminAccess && this.allocating.get(candidate.key)?.has(pos.claim)) return undefined;
    if (!data.view.adminAccess && this.inUse(candidate.key)) return undefined;
    const undos: Array<() => void> = [];
    const undoAll = (): void => {
      for (const undo of undos.reverse()) undo();
    };
    const skipCounters = multi && this.capacityInUse(candidate.key);
    if (!skipCounters && (device.consumesCounters?.length ?? 0) > 0) {
      if (!this.takeCounters(candidate)) return undefined;
      undos.push(() => this.returnCounters(candidate));
    }
    if (taintPrevents(device, data.view.tolerations)) {
      undoAll();
      return undefined;
    }
    const base = data.parent ?? data.view.name;
    const sub = data.parent === undefined ? '' : data.view.name;
    for (const constraint of this.deps.constraints[pos.claim] ?? []) {
      if (!constraint.add(base, sub, device, candidate.driver)) {
        undoAll();
        if (must) {
          const claim = this.deps.claims[pos.claim];
          throw new AllocatorError(`claim ${claim ? claimRef(claim) : ''}, request ${data.view.name}: cannot add device ${candidate.key} because a claim constraint would not be satisfied`);
        }
        return undefined;
      }
      undos.push(() => constraint.remove(base, sub));
    }
    if (!multi) {
      const users = this.allocating.get(candidate.key) ?? new Set<number>();
      this.allocating.set(candidate.key, users);
      users.add(pos.claim);
      undos.push(() => users.delete(pos.claim));
    }
    if (!this.capacityFits(data, candidate)) {
      undoAll();
      return undefined;
    }
    const picked: Picked = { candidate, request: data.view.name, adminAccess: data.view.adminAccess, tolerations: data.view.tolerations };
    if (data.parent !== undefined) picked.parent = data.parent;
    if (multi) this.shareDevice(picked, data, undos);
    const results = this.results[pos.claim] as Picked[];
    results.push(picked);
    undos.push(() => results.pop());
    return undoAll;
  }

  /** A shared allocation: its consumed capacity and a share ID. */
  private shareDevice(picked: Picked, data: RequestData, undos: Array<() => void>): void {
    const key = picked.candidate.key;
    const consumed = consumedCapacity(data.view.capacity, picked.candidate.device.capacity ?? {});
    const existed = this.allocatingCapacity.has(key);
    const entry = this.allocatingCapacity.get(key) ?? new Map<string, Decimal>();
    this.allocatingCapacity.set(key, entry);
    addConsumed(entry, consumed);
    undos.push(() => {
      subConsumed(entry, consumed);
      // The entry doubles as "already shared in this attempt": keep it while an earlier share needs it.
      if (!existed && entry.size === 0) this.allocatingCapacity.delete(key);
    });
    picked.shareId = this.deps.newShareId();
    if (consumed.size > 0) picked.consumed = consumed;
  }

  /** Upstream checkAvailableCounters: adds the device's consumption and checks every counter still fits. */
  private takeCounters(candidate: Candidate): boolean {
    const available = this.deps.availableCounters(candidate.pool);
    let consumed = this.consumedCounters.get(candidate.pool);
    if (!consumed) this.consumedCounters.set(candidate.pool, (consumed = new Map()));
    this.adjustCounters(consumed, candidate.device, 1);
    for (const [setName, counters] of available) {
      for (const [name, value] of counters) {
        if (value.cmp(consumed.get(setName)?.get(name) ?? Decimal.ZERO) < 0) {
          this.adjustCounters(consumed, candidate.device, -1);
          return false;
        }
      }
    }
    return true;
  }

  private returnCounters(candidate: Candidate): void {
    const consumed = this.consumedCounters.get(candidate.pool);
    if (consumed) this.adjustCounters(consumed, candidate.device, -1);
  }

  private adjustCounters(consumed: Map<string, Map<string, Decimal>>, device: Device, sign: 1 | -1): void {
    for (const c of device.consumesCounters ?? []) {
      let set = consumed.get(c.counterSet);
      if (!set) consumed.set(c.counterSet, (set = new Map()));
      for (const [name, counter] of Object.entries(c.counters ?? {})) {
        const v = Decimal.tryParse(counter.value) ?? Decimal.ZERO;
        const current = set.get(name) ?? Decimal.ZERO;
        set.set(name, sign === 1 ? current.add(v) : current.sub(v));
      }
    }
  }
}
