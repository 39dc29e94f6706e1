/**
 * NodeUtilization's Prometheus source: instant queries (GET /api/v1/query) whose series carry the node label, one
 * value per node. TargetLoadPacking reads the cpu and memory queries as they are; LoadVariationRiskBalancing wraps
 * each in avg_over_time and stddev_over_time subqueries over variationWindow. The sampleTime query dates each
 * node's measurement (how long ago its exporter was last scraped), so a node whose exporter stopped goes stale.
 */
import type { BackgroundIO, ClusterView, HttpResponse } from '../../../plugin.js';
import type { Mode, PrometheusSourceArgs } from './args.js';
import type { NodeSample } from './samples.js';
import { nodeIndex, type Measured, type UsageSource } from './sources.js';

type QueryName = 'cpu' | 'cpuStddev' | 'memory' | 'memoryStddev' | 'sampleTime';

/** One series of an instant vector: its labels, evaluation time (unix seconds) and value. */
export interface VectorSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly time: number;
  readonly value: number;
}

/** The PromQL of every query the mode needs. */
export function queriesFor(args: PrometheusSourceArgs, mode: Mode, windowSeconds: number): Partial<Record<QueryName, string>> {
  if (mode === 'TargetLoadPacking') return { cpu: args.queries.cpu, memory: args.queries.memory, sampleTime: args.queries.sampleTime };
  const range = `[${windowSeconds}s:${args.variationResolution !== undefined ? `${args.variationResolution}s` : ''}]`;
  return {
    cpu: `avg_over_time((${args.queries.cpu})${range})`,
    cpuStddev: `stddev_over_time((${args.queries.cpu})${range})`,
    memory: `avg_over_time((${args.queries.memory})${range})`,
    memoryStddev: `stddev_over_time((${args.queries.memory})${range})`,
    sampleTime: args.queries.sampleTime,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An /api/v1/query answer's series; throws naming what is wrong (Prometheus' own error, or the shape). */
export function parseVector(body: unknown): VectorSample[] {
  if (!isRecord(body)) throw new Error('the answer is not a JSON object');
  if (body['status'] === 'error') throw new Error(`Prometheus answered ${String(body['errorType'] ?? 'error')}: ${String(body['error'] ?? '')}`);
  const data = body['data'];
  if (body['status'] !== 'success' || !isRecord(data)) throw new Error('the answer has no data (is the URL a Prometheus server?)');
  if (data['resultType'] !== 'vector') throw new Error(`the query answered a ${String(data['resultType'])}, not an instant vector`);
  const result = data['result'];
  if (!Array.isArray(result)) throw new Error('the answer\'s data.result is not a list');
  return result.map((item: unknown, i) => {
    const value = isRecord(item) ? item['value'] : undefined;
    if (!isRecord(item) || !isRecord(item['metric']) || !Array.isArray(value) || typeof value[0] !== 'number' || typeof value[1] !== 'string') {
      throw new Error(`series ${i} of the answer is not {metric, value: [time, "value"]}`);
    }
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(item['metric'])) if (typeof v === 'string') labels[k] = v;
    return { labels, time: value[0], value: Number(value[1]) };
  });
}

async function bodyOf(res: HttpResponse, url: string): Promise<unknown> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}, not JSON${text ? `: ${text.slice(0, 120)}` : ''}`);
  }
  // Prometheus answers a bad query with 400 and a JSON error: parseVector reports its text.
  if ((res.status < 200 || res.status >= 300) && !(isRecord(body) && body['status'] === 'error')) throw new Error(`HTTP ${res.status} from ${url}`);
  return body;
}

export class PrometheusSource implements UsageSource {
  readonly description: string;
  readonly timeoutMs: number;
  private readonly pattern: RegExp;
  private readonly queries: Partial<Record<QueryName, string>>;

  constructor(
    private readonly args: PrometheusSourceArgs,
    mode: Mode,
    windowSeconds: number,
  ) {
    this.description = `Prometheus at ${args.url}`;
    this.timeoutMs = args.timeout * 1000;
    this.pattern = new RegExp(args.nodePattern);
    this.queries = queriesFor(args, mode, windowSeconds);
  }

  async read(io: BackgroundIO, signal: AbortSignal, cluster: ClusterView, now: number): Promise<Measured> {
    const names = Object.keys(this.queries) as QueryName[];
    const answers = await Promise.all(names.map((name) => this.query(io, name, signal)));
    const perNode = new Map<string, Partial<Record<QueryName, VectorSample>>>();
    const unmatched = new Set<string>();
    const index = nodeIndex(cluster);
    names.forEach((name, i) => {
      for (const series of answers[i] ?? []) {
        const node = this.nodeOf(series, index);
        if (node === undefined) {
          unmatched.add(`${this.args.nodeLabel}="${series.labels[this.args.nodeLabel] ?? ''}"`);
          continue;
        }
        const values = perNode.get(node) ?? {};
        // Two series for one node (a host scraped twice): the higher value, the busier reading.
        const earlier = values[name];
        if (!earlier || series.value > earlier.value) values[name] = series;
        perNode.set(node, values);
      }
    });
    const samples = new Map<string, NodeSample>();
    for (const [node, values] of perNode) {
      const sample = sampleOf(values, now);
      if (sample) samples.set(node, sample);
    }
    return { samples, unmatched: [...unmatched] };
  }

  private async query(io: BackgroundIO, name: QueryName, signal: AbortSignal): Promise<VectorSample[]> {
    const promql = this.queries[name] ?? '';
    const url = `${this.args.url}/api/v1/query?query=${encodeURIComponent(promql)}`;
    try {
      return parseVector(await bodyOf(await io.fetch(url, { method: 'GET', headers: { Accept: 'application/json' }, signal }), `${this.args.url}/api/v1/query`));
    } catch (err) {
      throw new Error(`query ${name} (${promql}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The node a series is about: the pattern's first group of its node label, as a node name or address. */
  private nodeOf(series: VectorSample, index: ReadonlyMap<string, string>): string | undefined {
    const value = series.labels[this.args.nodeLabel];
    if (value === undefined) return undefined;
    const key = this.pattern.exec(value)?.[1];
    return key === undefined ? undefined : index.get(key);
  }
}

function finite(sample: VectorSample | undefined): number | undefined {
  return sample !== undefined && Number.isFinite(sample.value) ? sample.value : undefined;
}

/** A node's sample from its query values: dated by sampleTime (else the evaluation time), undefined without data. */
function sampleOf(values: Partial<Record<QueryName, VectorSample>>, now: number): NodeSample | undefined {
  const cpu = finite(values.cpu);
  const memory = finite(values.memory);
  if (cpu === undefined && memory === undefined) return undefined;
  const evaluated = (values.cpu ?? values.memory)?.time ?? 0;
  const sampled = finite(values.sampleTime);
  const ageSeconds = sampled === undefined ? 0 : Math.max(0, evaluated - sampled);
  return {
    takenAt: now - ageSeconds * 1000,
    ...(cpu !== undefined ? { cpu: { used: cpu, stddev: finite(values.cpuStddev) ?? 0 } } : {}),
    ...(memory !== undefined ? { memory: { used: memory, stddev: finite(values.memoryStddev) ?? 0 } } : {}),
  };
}
