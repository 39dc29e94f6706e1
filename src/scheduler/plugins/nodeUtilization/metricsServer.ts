/**
 * NodeUtilization's metrics.k8s.io source: metrics-server's NodeMetrics (GET /apis/metrics.k8s.io/v1beta1/nodes,
 * through the API server with berth's credentials: RBAC `list` on nodes.metrics.k8s.io, which berth's ClusterRole
 * does not grant; add it when this source is configured, as docs/design.md says). Each node's usage is the kubelet's whole-node reading (every process,
 * Kubernetes or not) as a fraction of its capacity. metrics-server keeps no history, so for
 * LoadVariationRiskBalancing this source keeps the readings of the last variationWindow itself and takes their mean
 * and standard deviation.
 *
 * NodeMetrics timestamps are wall-clock times: this source is meant for `berth run`, whose clock is the wall clock
 * (`berth simulate` has no API server to ask).
 */
import { parseMilliQuantity, parseQuantity, type BackgroundIO, type ClusterView } from '../../../plugin.js';
import type { Mode } from './args.js';
import { capacityOf, type Measure, type NodeSample } from './samples.js';
import type { Measured, UsageSource } from './sources.js';

/** The one API path this source calls (GET: RBAC verb list on nodes in group metrics.k8s.io). */
export const NODE_METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/nodes';

/** One reading: when, and cpu/memory as fractions of capacity. */
interface Reading {
  readonly at: number;
  readonly cpu: number | undefined;
  readonly memory: number | undefined;
}

interface NodeMetrics {
  readonly name: string;
  readonly at: number;
  readonly cpu: string | undefined;
  readonly memory: string | undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The NodeMetricsList's items; throws when it is not one. */
export function parseNodeMetricsList(body: unknown, now: number): NodeMetrics[] {
  const items = record(body)?.['items'];
  if (!Array.isArray(items)) throw new Error(`${NODE_METRICS_PATH} answered something other than a NodeMetricsList`);
  const out: NodeMetrics[] = [];
  for (const item of items) {
    const name = record(record(item)?.['metadata'])?.['name'];
    const usage = record(record(item)?.['usage']);
    if (typeof name !== 'string' || !usage) continue;
    const stamp = record(item)?.['timestamp'];
    const parsed = typeof stamp === 'string' ? Date.parse(stamp) : NaN;
    const cpu = usage['cpu'];
    const memory = usage['memory'];
    out.push({
      name,
      at: Number.isNaN(parsed) ? now : Math.min(now, parsed),
      cpu: typeof cpu === 'string' ? cpu : undefined,
      memory: typeof memory === 'string' ? memory : undefined,
    });
  }
  return out;
}

function fraction(quantity: string | undefined, parse: (q: string) => number, capacity: number): number | undefined {
  if (quantity === undefined || capacity <= 0) return undefined;
  try {
    return parse(quantity) / capacity;
  } catch {
    return undefined;
  }
}

/** Mean and population standard deviation of the defined values; undefined when there are none. */
export function meanAndStddev(values: readonly (number | undefined)[]): Measure | undefined {
  const xs = values.filter((v): v is number => v !== undefined);
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { used: mean, stddev: Math.sqrt(variance) };
}

export class MetricsServerSource implements UsageSource {
  readonly description = `metrics.k8s.io (${NODE_METRICS_PATH})`;
  readonly timeoutMs: number;
  private readonly history = new Map<string, Reading[]>();

  constructor(
    private readonly mode: Mode,
    private readonly windowSeconds: number,
    timeoutSeconds: number,
  ) {
    this.timeoutMs = timeoutSeconds * 1000;
  }

  async read(io: BackgroundIO, signal: AbortSignal, cluster: ClusterView, now: number): Promise<Measured> {
    const items = parseNodeMetricsList(await io.apiGet(NODE_METRICS_PATH, signal), now);
    const samples = new Map<string, NodeSample>();
    const unmatched: string[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const node = cluster.getNode(item.name);
      if (!node) {
        unmatched.push(`node "${item.name}"`);
        continue;
      }
      seen.add(item.name);
      const capacity = capacityOf(node);
      const reading = { at: item.at, cpu: fraction(item.cpu, parseMilliQuantity, capacity.milliCpu), memory: fraction(item.memory, parseQuantity, capacity.memory) };
      const sample = this.sampleOf(item.name, reading);
      if (sample) samples.set(item.name, sample);
    }
    for (const name of this.history.keys()) if (!seen.has(name)) this.history.delete(name);
    return { samples, unmatched };
  }

  /** The node's sample: the reading itself, or (LoadVariationRiskBalancing) the statistics of the window's readings. */
  private sampleOf(node: string, reading: Reading): NodeSample | undefined {
    const window = this.mode === 'LoadVariationRiskBalancing' ? this.remember(node, reading) : [reading];
    const cpu = meanAndStddev(window.map((r) => r.cpu));
    const memory = meanAndStddev(window.map((r) => r.memory));
    if (!cpu && !memory) return undefined;
    return { takenAt: reading.at, ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) };
  }

  /** Adds a reading (once per timestamp) and returns the readings within variationWindow of it. */
  private remember(node: string, reading: Reading): Reading[] {
    const kept = (this.history.get(node) ?? []).filter((r) => r.at > reading.at - this.windowSeconds * 1000 && r.at !== reading.at);
    kept.push(reading);
    this.history.set(node, kept);
    return kept;
  }
}
