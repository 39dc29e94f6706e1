/**
 * NodeUtilization's background task: read the configured source, keep the samples for the cycles, report how it
 * went. It runs in the adapter (the live scheduler's timer, or once before a simulation), never in a cycle; while a
 * source fails, the samples it gave last age until they are stale, and each node then scores neutral and passes the
 * filter.
 */
import type { BackgroundIO, BackgroundReport, BackgroundTask, FrameworkHandle } from '../../../plugin.js';
import { NAME, type NodeUtilizationArgs } from './args.js';
import { MetricsServerSource } from './metricsServer.js';
import { PrometheusSource } from './prometheus.js';
import type { SampleStore } from './samples.js';
import { FileSource, type UsageSource } from './sources.js';

/** The source the args name; undefined when they name none. */
export function createSource(args: NodeUtilizationArgs): UsageSource | undefined {
  const source = args.source;
  if (source === undefined) return undefined;
  switch (source.kind) {
    case 'prometheus':
      return new PrometheusSource(source.prometheus, args.mode, args.variationWindow);
    case 'metricsServer':
      return new MetricsServerSource(args.mode, args.variationWindow, source.timeout);
    case 'file':
      return new FileSource(source.path);
  }
}

const NO_SOURCE_TIMEOUT_MS = 1_000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "a, b, c" plus how many more. */
function examples(list: readonly string[], total: number): string {
  return `${list.join(', ')}${total > list.length ? `, … ${total - list.length} more` : ''}`;
}

/** One refresh: read, keep, report. */
export async function refresh(
  source: UsageSource | undefined,
  store: SampleStore,
  handle: Pick<FrameworkHandle, 'cluster' | 'clock'>,
  io: BackgroundIO,
  signal: AbortSignal,
): Promise<BackgroundReport> {
  const nodes = handle.cluster.nodes().map((n) => n.name);
  if (source === undefined) {
    store.clear();
    return { sourceUp: false, staleNodes: nodes.length, message: 'no source configured (args.source: prometheus, metricsServer or file); every node scores neutral' };
  }
  let measured;
  try {
    measured = await source.read(io, signal, handle.cluster, handle.clock.now());
  } catch (err) {
    // The samples already read stay until they are maxSampleAge old: one slow or failed query (a busy Prometheus)
    // does not turn every node neutral at once, as Trimaran keeps its last metrics until they are stale.
    const stale = store.stale(nodes, handle.clock.now());
    const effect = stale.count === nodes.length ? 'every node scores neutral until it answers' : 'nodes score neutral once their last measurement is older than maxSampleAge';
    return { sourceUp: false, staleNodes: stale.count, message: `${source.description}: ${errorText(err)}; ${effect}` };
  }
  store.replace(measured.samples);
  const stale = store.stale(nodes, handle.clock.now());
  const problems: string[] = [];
  if (stale.count > 0) problems.push(`no recent measurement for ${stale.count} of ${nodes.length} node(s) (${examples(stale.examples, stale.count)}): they score neutral`);
  if (measured.unmatched.length > 0) {
    problems.push(`${measured.unmatched.length} result(s) matched no node (${examples(measured.unmatched.slice(0, 3), measured.unmatched.length)})`);
  }
  return { sourceUp: true, staleNodes: stale.count, ...(problems.length > 0 ? { message: `${source.description}: ${problems.join('; ')}` } : {}) };
}

/** The task the plugin registers through its handle. */
export function refreshTask(args: NodeUtilizationArgs, store: SampleStore, handle: Pick<FrameworkHandle, 'cluster' | 'clock'>): BackgroundTask {
  const source = createSource(args);
  return {
    plugin: NAME,
    intervalMs: args.refreshInterval * 1000,
    timeoutMs: source?.timeoutMs ?? NO_SOURCE_TIMEOUT_MS,
    run: (io, signal) => refresh(source, store, handle, io, signal),
  };
}
