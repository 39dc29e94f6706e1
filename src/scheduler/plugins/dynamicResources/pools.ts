/**
 * The resource pools whose devices a node can use (upstream structured GatherPools, incubating variant): the
 * ResourceSlices that select the node (by nodeName, nodeSelector, allNodes or per device), grouped by driver and
 * pool, newest generation only. A pool with fewer slices than its resourceSliceCount is incomplete (nothing is
 * allocated from it; "all" requests fail); one with duplicate device names or bad counter references is invalid.
 * Pools are sorted by driver then pool name, and pools with binding conditions come last, so first-fit order is
 * upstream's.
 */
import type { Labels } from '../../../kube/api.js';
import { compileNodeSelectorTerms } from '../../../kube/selectors.js';
import type { CounterSet, Device, NodeSelector, ResourceSlice } from '../../../kube/resource.js';

export interface NodeFacts {
  name: string;
  labels: Labels;
}

export interface Pool {
  driver: string;
  pool: string;
  incomplete: boolean;
  invalid: boolean;
  invalidReason?: string;
  /** Slices with devices, sorted by name, that select the node. */
  slices: ResourceSlice[];
  /** The pool's other device slices (their allocated devices still consume shared counters). */
  otherSlices: ResourceSlice[];
  counterSets: Map<string, CounterSet>;
}

/** Upstream NodeMatches: a node name, allNodes, or a node selector. */
export function nodeMatches(node: NodeFacts, nodeName: string | undefined, allNodes: boolean | undefined, selector: NodeSelector | undefined): boolean {
  if (nodeName) return node.name === nodeName;
  if (allNodes) return true;
  if (selector) return compileNodeSelectorTerms(selector.nodeSelectorTerms)(node.labels, node.name);
  return false;
}

function sliceSelectsNode(slice: ResourceSlice, node: NodeFacts): boolean | undefined {
  const spec = slice.spec ?? {};
  if (spec.nodeName || spec.allNodes || spec.nodeSelector) return nodeMatches(node, spec.nodeName, spec.allNodes, spec.nodeSelector);
  if (spec.perDeviceNodeSelection) return (spec.devices ?? []).some((d) => nodeMatches(node, d.nodeName, d.allNodes, d.nodeSelector));
  // An unknown kind of node selection: not usable (upstream skips it).
  return undefined;
}

export function poolKey(driver: string, pool: string): string {
  return `${driver}/${pool}`;
}

function generation(slice: ResourceSlice): number {
  return slice.spec?.pool?.generation ?? 0;
}

/** The node's slices by pool, keeping only the newest generation seen. */
function groupByPool(slices: readonly ResourceSlice[], node: NodeFacts): Map<string, ResourceSlice[]> {
  const pools = new Map<string, ResourceSlice[]>();
  for (const slice of slices) {
    if (!sliceSelectsNode(slice, node)) continue;
    const key = poolKey(slice.spec?.driver ?? '', slice.spec?.pool?.name ?? '');
    const existing = pools.get(key);
    if (!existing || generation(slice) > generation(existing[0] as ResourceSlice)) pools.set(key, [slice]);
    else if (generation(slice) === generation(existing[0] as ResourceSlice)) existing.push(slice);
  }
  return pools;
}

/** Upstream checkSlicesInPool: every slice of the pool's generation, or 'obsolete' when a newer one exists. */
function allSlicesOfPool(all: readonly ResourceSlice[], driver: string, pool: string, gen: number): ResourceSlice[] | 'obsolete' {
  const out: ResourceSlice[] = [];
  for (const slice of all) {
    if (slice.spec?.driver !== driver || slice.spec.pool?.name !== pool) continue;
    if (generation(slice) === gen) out.push(slice);
    else if (generation(slice) > gen) return 'obsolete';
  }
  return out;
}

const byName = (a: ResourceSlice, b: ResourceSlice): number => compareStrings(a.metadata?.name ?? '', b.metadata?.name ?? '');

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalidPool(base: Pool, reason: string): Pool {
  return { ...base, invalid: true, invalidReason: reason, slices: [], otherSlices: [] };
}

function validateCounters(counterSets: Map<string, CounterSet>, slices: readonly ResourceSlice[]): string | undefined {
  for (const slice of slices) {
    for (const device of slice.spec?.devices ?? []) {
      for (const consumption of device.consumesCounters ?? []) {
        const set = counterSets.get(consumption.counterSet);
        if (!set) return `counter set ${consumption.counterSet} not found`;
        for (const name of Object.keys(consumption.counters ?? {})) {
          if (!set.counters?.[name]) return `counter ${name} not found in counter set ${set.name}`;
        }
      }
    }
  }
  return undefined;
}

/** Upstream buildPool: device slices sorted by name, counter sets, validation. */
function buildPool(driver: string, pool: string, slices: ResourceSlice[], allOfPool: readonly ResourceSlice[]): Pool {
  const sorted = [...slices].sort(byName);
  const base: Pool = { driver, pool, incomplete: false, invalid: false, slices: [], otherSlices: [], counterSets: new Map() };
  const counterSlices = sorted.filter((s) => (s.spec?.sharedCounters?.length ?? 0) > 0);
  const deviceSlices = sorted.filter((s) => (s.spec?.sharedCounters?.length ?? 0) === 0);
  const names = new Set(sorted.map((s) => s.metadata?.name ?? ''));
  const others: ResourceSlice[] = [];
  for (const slice of allOfPool) {
    if (names.has(slice.metadata?.name ?? '')) continue;
    if ((slice.spec?.sharedCounters?.length ?? 0) > 0) counterSlices.push(slice);
    else others.push(slice);
  }
  const seen = new Set<string>();
  for (const device of deviceSlices.flatMap((s) => s.spec?.devices ?? [])) {
    if (seen.has(device.name)) return invalidPool(base, `duplicate device name ${device.name}`);
    seen.add(device.name);
  }
  const counterSets = new Map<string, CounterSet>();
  for (const set of counterSlices.flatMap((s) => s.spec?.sharedCounters ?? [])) {
    if (counterSets.has(set.name)) return invalidPool(base, `duplicate counter set name ${set.name}`);
    counterSets.set(set.name, set);
  }
  const problem = validateCounters(counterSets, deviceSlices) ?? validateCounters(counterSets, others);
  if (problem) return invalidPool(base, problem);
  return { ...base, slices: deviceSlices, otherSlices: others, counterSets };
}

function hasBindingConditions(pool: Pool): boolean {
  return pool.slices.some((s) => (s.spec?.devices ?? []).some((d: Device) => d.bindingConditions !== undefined));
}

/** Upstream GatherPools for one node. `slices` are the node's own and the shared ones; `all` every slice. */
export function gatherPools(slices: readonly ResourceSlice[], node: NodeFacts, all: readonly ResourceSlice[]): Pool[] {
  const result: Pool[] = [];
  const withBindingConditions: Pool[] = [];
  for (const [, poolSlices] of groupByPool(slices, node)) {
    const first = poolSlices[0] as ResourceSlice;
    const driver = first.spec?.driver ?? '';
    const poolName = first.spec?.pool?.name ?? '';
    const count = first.spec?.pool?.resourceSliceCount ?? 0;
    let pool: Pool;
    if (poolSlices.length === count) {
      pool = buildPool(driver, poolName, poolSlices, []);
    } else {
      const allOfPool = allSlicesOfPool(all, driver, poolName, generation(first));
      if (allOfPool === 'obsolete') continue;
      if (allOfPool.length !== count) {
        result.push({ driver, pool: poolName, incomplete: true, invalid: false, slices: [], otherSlices: [], counterSets: new Map() });
        continue;
      }
      pool = buildPool(driver, poolName, poolSlices, allOfPool);
    }
    (hasBindingConditions(pool) ? withBindingConditions : result).push(pool);
  }
  const byId = (a: Pool, b: Pool): number => compareStrings(a.driver, b.driver) || compareStrings(a.pool, b.pool);
  return [...result.sort(byId), ...withBindingConditions.sort(byId)];
}
