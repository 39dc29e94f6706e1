/**
 * Where NodeUtilization's measurements come from: Prometheus (prometheus.ts), metrics.k8s.io (metricsServer.ts) or
 * a node usage file (here). A source only reads, through the I/O the adapter lends its background task, and answers
 * samples by Kubernetes node name; the refresh (refresh.ts) keeps them for the cycles.
 */
import type { BackgroundIO, ClusterView } from '../../../plugin.js';
import { capacityOf, type Measure, type NodeSample } from './samples.js';
import { fractionOf, parseUsageFile, type Amount } from './usageFile.js';

/** A source's answer. */
export interface Measured {
  /** Samples by Kubernetes node name. */
  readonly samples: Map<string, NodeSample>;
  /** What the answer held for no known node (e.g. `instance="10.0.0.9:9100"`), for the refresh's report. */
  readonly unmatched: readonly string[];
}

export interface UsageSource {
  /** Names the source in messages, e.g. "Prometheus at http://prometheus:9090". */
  readonly description: string;
  /** The longest one read may take (milliseconds). */
  readonly timeoutMs: number;
  /** Reads every node's use; `now` is the scheduler's clock at the start. Throws when the source cannot be read. */
  read(io: BackgroundIO, signal: AbortSignal, cluster: ClusterView, now: number): Promise<Measured>;
}

/** Each node's name and addresses (InternalIP, Hostname, ...), each to the node's name. */
export function nodeIndex(cluster: ClusterView): Map<string, string> {
  const index = new Map<string, string>();
  for (const node of cluster.nodes()) {
    for (const a of node.node.status?.addresses ?? []) if (a.address && !index.has(a.address)) index.set(a.address, node.name);
  }
  // Names win over addresses: a node named like another node's address is that node.
  for (const node of cluster.nodes()) index.set(node.name, node.name);
  return index;
}

const FILE_TIMEOUT_MS = 10_000;

/** A node usage file (usageFile.ts), read again on every refresh; its samples count as taken when read. */
export class FileSource implements UsageSource {
  readonly description: string;
  readonly timeoutMs = FILE_TIMEOUT_MS;

  constructor(private readonly path: string) {
    this.description = `node usage file ${path}`;
  }

  async read(io: BackgroundIO, signal: AbortSignal, cluster: ClusterView, now: number): Promise<Measured> {
    const entries = parseUsageFile(await io.readTextFile(this.path, signal), this.path);
    const samples = new Map<string, NodeSample>();
    const unmatched: string[] = [];
    for (const [name, entry] of entries) {
      const node = cluster.getNode(name);
      if (!node) {
        unmatched.push(`node "${name}"`);
        continue;
      }
      const capacity = capacityOf(node);
      const cpu = measure(entry.cpu, entry.cpuStddev, capacity.milliCpu);
      const memory = measure(entry.memory, entry.memoryStddev, capacity.memory);
      samples.set(name, { takenAt: now, ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) });
    }
    return { samples, unmatched };
  }
}

function measure(used: Amount | undefined, stddev: Amount | undefined, capacity: number): Measure | undefined {
  const u = used && fractionOf(used, capacity);
  if (u === undefined) return undefined;
  return { used: u, stddev: (stddev && fractionOf(stddev, capacity)) ?? 0 };
}
