/**
 * What NodeUtilization knows between refreshes: the latest measurement of each node (written by the background
 * refresh, read by the cycles) and the pods it placed since (written at Reserve), so that a pod placed a moment ago
 * counts until the measurements can show it. Everything here is memory: no I/O, and time comes in as arguments.
 */
import { CPU, MEMORY, parseMilliQuantity, parseQuantity, type Node, type NodeInfo } from '../../../plugin.js';

/** One resource's measured use, as fractions of the node's capacity. */
export interface Measure {
  /** Mean use over the source's window (the latest reading when the source has no window). */
  readonly used: number;
  /** Standard deviation of the use over the window; 0 when the source gives none. */
  readonly stddev: number;
}

/** One node's measurement. */
export interface NodeSample {
  /** When it was taken, on the scheduler's clock (milliseconds). */
  readonly takenAt: number;
  readonly cpu?: Measure;
  readonly memory?: Measure;
}

/** Requested amounts: CPU in millicores, memory in bytes. */
export interface Demand {
  readonly milliCpu: number;
  readonly memory: number;
}

/** A node's capacity (the whole machine, which is what node-level measurements are fractions of). */
export interface Capacity {
  readonly milliCpu: number;
  readonly memory: number;
}

const capacities = new WeakMap<Node, Capacity>();

/**
 * The node's status.capacity for cpu and memory (allocatable where capacity lacks one; 0 when neither parses),
 * computed once per node object.
 */
export function capacityOf(node: NodeInfo): Capacity {
  const cached = capacities.get(node.node);
  if (cached) return cached;
  const capacity = node.node.status?.capacity ?? {};
  const read = (name: string, parse: (q: string | number) => number, fallback: number): number => {
    const text = capacity[name];
    if (text === undefined) return fallback;
    try {
      return Math.max(0, parse(text));
    } catch {
      return fallback;
    }
  };
  const out = { milliCpu: read(CPU, parseMilliQuantity, node.allocatable.milliCpu), memory: read(MEMORY, parseQuantity, node.allocatable.memory) };
  capacities.set(node.node, out);
  return out;
}

interface Placement {
  readonly node: string;
  readonly demand: Demand;
  readonly at: number;
}

export class SampleStore {
  private samples: ReadonlyMap<string, NodeSample> = new Map();
  /** Placements by pod uid, and the uids placed on each node. */
  private readonly placements = new Map<string, Placement>();
  private readonly byNode = new Map<string, Set<string>>();

  /**
   * @param maxAgeMs a sample older than this is stale: the cycles ignore it.
   * @param placedPodWindowMs a pod placed less than this before a sample was taken is not yet in it.
   */
  constructor(
    private readonly maxAgeMs: number,
    private readonly placedPodWindowMs: number,
  ) {}

  /** The refresh's result replaces every earlier sample (a node missing from it has none). */
  replace(samples: ReadonlyMap<string, NodeSample>): void {
    this.samples = samples;
  }

  /** The source is down: no sample is trusted any more. */
  clear(): void {
    this.samples = new Map();
  }

  /** The node's sample if there is one no older than maxAge at `now`. */
  fresh(node: string, now: number): NodeSample | undefined {
    const sample = this.samples.get(node);
    if (sample === undefined || now - sample.takenAt > this.maxAgeMs) return undefined;
    return sample;
  }

  /** How many of `nodes` have no fresh sample at `now`, and the first few of their names. */
  stale(nodes: readonly string[], now: number): { count: number; examples: string[] } {
    const missing = nodes.filter((n) => this.fresh(n, now) === undefined);
    return { count: missing.length, examples: missing.slice(0, 3) };
  }

  /** A pod was placed (Reserve) on `node` at `at`; placements too old to count for any fresh sample are dropped. */
  place(uid: string, node: string, demand: Demand, at: number): void {
    this.unplace(uid);
    this.placements.set(uid, { node, demand, at });
    let uids = this.byNode.get(node);
    if (!uids) this.byNode.set(node, (uids = new Set()));
    uids.add(uid);
    this.prune(at);
  }

  /** The placement was undone (Unreserve). */
  unplace(uid: string): void {
    const placement = this.placements.get(uid);
    if (!placement) return;
    this.placements.delete(uid);
    const uids = this.byNode.get(placement.node);
    uids?.delete(uid);
    if (uids?.size === 0) this.byNode.delete(placement.node);
  }

  /**
   * The requests of the pods placed on `node` that `sample` cannot show yet: those placed after
   * sample.takenAt − placedPodWindow (as Trimaran counts a pod until the metrics window has moved past it).
   */
  unmeasured(node: string, sample: NodeSample): Demand {
    let milliCpu = 0;
    let memory = 0;
    for (const uid of this.byNode.get(node) ?? []) {
      const p = this.placements.get(uid);
      if (p && p.at > sample.takenAt - this.placedPodWindowMs) {
        milliCpu += p.demand.milliCpu;
        memory += p.demand.memory;
      }
    }
    return { milliCpu, memory };
  }

  /**
   * Drops placements no sample fresh at `now` can count: made before now − maxAge − window. The map holds them in
   * the order they were made (oldest first), so this stops at the first one still needed.
   */
  private prune(now: number): void {
    const horizon = now - this.maxAgeMs - this.placedPodWindowMs;
    for (const [uid, p] of this.placements) {
      if (p.at > horizon) return;
      this.unplace(uid);
    }
  }

  /** Pods placed and still counted (tests, diagnostics). */
  get placedCount(): number {
    return this.placements.size;
  }
}
