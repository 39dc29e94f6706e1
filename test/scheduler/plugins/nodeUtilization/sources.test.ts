// NodeUtilization's sources over fake I/O: which node a Prometheus series is about (name or address, label and
// pattern), how old its measurement is, what a failing source leaves behind; the node usage file; metrics.k8s.io.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../../../src/kube/api.js';
import type { BackgroundIO, HttpResponse } from '../../../../src/scheduler/framework/background.js';
import { DEFAULT_NODE_LABEL, DEFAULT_NODE_PATTERN, defaultArgs, defaultQueries, type PrometheusSourceArgs } from '../../../../src/scheduler/plugins/nodeUtilization/args.js';
import { MetricsServerSource, NODE_METRICS_PATH } from '../../../../src/scheduler/plugins/nodeUtilization/metricsServer.js';
import { PrometheusSource, queriesFor } from '../../../../src/scheduler/plugins/nodeUtilization/prometheus.js';
import { refresh } from '../../../../src/scheduler/plugins/nodeUtilization/refresh.js';
import { SampleStore } from '../../../../src/scheduler/plugins/nodeUtilization/samples.js';
import { FileSource } from '../../../../src/scheduler/plugins/nodeUtilization/sources.js';
import { parseUsageFile, UsageFileError } from '../../../../src/scheduler/plugins/nodeUtilization/usageFile.js';
import { fixedClock, makeCluster, makeNode } from '../../../helpers/builders.js';

const signal = new AbortController().signal;

function withAddresses(node: Node, ...addresses: string[]): Node {
  node.status = { ...node.status, addresses: addresses.map((address) => ({ type: 'InternalIP', address })) };
  return node;
}

/** One series of an instant vector as Prometheus answers it. */
const series = (labels: Record<string, string>, time: number, value: string) => ({ metric: labels, value: [time, value] });
const vector = (...result: unknown[]) => ({ status: 'success', data: { resultType: 'vector', result } });

/** I/O whose fetch answers each PromQL query from `answers` (by exact text) and records what was asked. */
function promIO(answers: Record<string, unknown>, asked: string[] = []): BackgroundIO {
  const respond = (status: number, body: unknown): HttpResponse => ({ status, text: async () => JSON.stringify(body) });
  return {
    fetch: async (url) => {
      const query = new URL(url).searchParams.get('query') ?? '';
      asked.push(url);
      return query in answers ? respond(200, answers[query]) : respond(400, { status: 'error', errorType: 'bad_data', error: `unexpected query ${query}` });
    },
    apiGet: async () => Promise.reject(new Error('no API server')),
    readTextFile: async () => Promise.reject(new Error('no files')),
  };
}

function promArgs(over: Partial<PrometheusSourceArgs> = {}): PrometheusSourceArgs {
  const nodeLabel = over.nodeLabel ?? DEFAULT_NODE_LABEL;
  return { url: 'http://prom:9090', nodeLabel, nodePattern: DEFAULT_NODE_PATTERN, queries: defaultQueries(nodeLabel), variationResolution: undefined, timeout: 5, ...over };
}

describe('Prometheus source', () => {
  const q = defaultQueries('instance');

  it('matches a series to a node by name or by address, the port cut off; the rest is reported unmatched', async () => {
    const cluster = makeCluster([
      withAddresses(makeNode('host-a'), '10.0.0.5'),
      makeNode('host-b'),
      // A node whose address is another node's name: the name wins.
      withAddresses(makeNode('host-c'), 'host-b'),
    ]);
    const io = promIO({
      [q.cpu]: vector(series({ instance: '10.0.0.5:9100' }, 1000, '0.25'), series({ instance: 'host-b:9100' }, 1000, '0.5'), series({ instance: '10.0.0.9:9100' }, 1000, '0.1')),
      [q.memory]: vector(series({ instance: '10.0.0.5:9100' }, 1000, '0.4')),
      [q.sampleTime]: vector(series({ instance: '10.0.0.5:9100' }, 1000, '1000'), series({ instance: 'host-b:9100' }, 1000, '1000')),
    });
    const measured = await new PrometheusSource(promArgs(), 'TargetLoadPacking', 900).read(io, signal, cluster, 50_000);
    expect(Object.fromEntries(measured.samples)).toEqual({
      'host-a': { takenAt: 50_000, cpu: { used: 0.25, stddev: 0 }, memory: { used: 0.4, stddev: 0 } },
      'host-b': { takenAt: 50_000, cpu: { used: 0.5, stddev: 0 } },
    });
    expect(measured.unmatched).toEqual(['instance="10.0.0.9:9100"']);
  });

  it('a custom label and pattern; two series for one node keep the busier', async () => {
    const args = promArgs({ nodeLabel: 'node', nodePattern: '^([^.]+)\\.example\\.com$' });
    const queries = defaultQueries('node');
    const io = promIO({
      [queries.cpu]: vector(series({ node: 'host-a.example.com' }, 10, '0.2'), series({ node: 'host-a.example.com' }, 10, '0.3'), series({ instance: 'host-a:9100' }, 10, '0.9')),
      [queries.memory]: vector(),
      [queries.sampleTime]: vector(),
    });
    const measured = await new PrometheusSource(args, 'TargetLoadPacking', 900).read(io, signal, makeCluster([makeNode('host-a')]), 7);
    expect(measured.samples.get('host-a')).toEqual({ takenAt: 7, cpu: { used: 0.3, stddev: 0 } });
    // A series without the label names no node.
    expect(measured.unmatched).toEqual(['node=""']);
  });

  it('dates each node by its latest scrape: an exporter silent for 3 minutes gives a sample 3 minutes old', async () => {
    const io = promIO({
      [q.cpu]: vector(series({ instance: 'n1:9100' }, 2000, '0.2')),
      [q.memory]: vector(),
      [q.sampleTime]: vector(series({ instance: 'n1:9100' }, 2000, '1820')),
    });
    const cluster = makeCluster([makeNode('n1')]);
    const store = new SampleStore(120_000, 60_000);
    const source = new PrometheusSource(promArgs(), 'TargetLoadPacking', 900);
    const now = 5_000_000;
    const report = await refresh(source, store, { cluster, clock: fixedClock(now) }, io, signal);
    expect(store.fresh('n1', now)).toBeUndefined();
    expect(report).toEqual({
      sourceUp: true,
      staleNodes: 1,
      message: 'Prometheus at http://prom:9090: no recent measurement for 1 of 1 node(s) (n1): they score neutral',
    });
    const measured = await source.read(io, signal, cluster, now);
    expect(measured.samples.get('n1')?.takenAt).toBe(now - 180_000);
  });

  it('LoadVariationRiskBalancing asks for the mean and deviation over the window', async () => {
    const queries = queriesFor(promArgs({ variationResolution: 60 }), 'LoadVariationRiskBalancing', 900);
    expect(queries.cpu).toBe(`avg_over_time((${q.cpu})[900s:60s])`);
    expect(queries.cpuStddev).toBe(`stddev_over_time((${q.cpu})[900s:60s])`);
    expect(queries.memoryStddev).toBe(`stddev_over_time((${q.memory})[900s:60s])`);
    expect(queriesFor(promArgs(), 'LoadVariationRiskBalancing', 300).memory).toBe(`avg_over_time((${q.memory})[300s:])`);
    const io = promIO({
      [queries.cpu!]: vector(series({ instance: 'n1' }, 1, '0.3')),
      [queries.cpuStddev!]: vector(series({ instance: 'n1' }, 1, '0.1')),
      [queries.memory!]: vector(),
      [queries.memoryStddev!]: vector(),
      [queries.sampleTime!]: vector(),
    });
    const measured = await new PrometheusSource(promArgs({ variationResolution: 60 }), 'LoadVariationRiskBalancing', 900).read(io, signal, makeCluster([makeNode('n1')]), 0);
    expect(measured.samples.get('n1')).toEqual({ takenAt: 0, cpu: { used: 0.3, stddev: 0.1 } });
  });

  it('a failing query reports the source down with Prometheus\' own error; earlier samples stay until they are stale', async () => {
    const cluster = makeCluster([makeNode('n1'), makeNode('n2')]);
    const store = new SampleStore(120_000, 60_000);
    store.replace(new Map([['n1', { takenAt: 0, cpu: { used: 0.5, stddev: 0 } }]]));
    const io = promIO({ [q.cpu]: vector(), [q.memory]: vector() }); // sampleTime answered 400
    const source = new PrometheusSource(promArgs(), 'TargetLoadPacking', 900);
    const report = await refresh(source, store, { cluster, clock: fixedClock(60_000) }, io, signal);
    // n1's sample is a minute old (fresh); n2 has none.
    expect(report.sourceUp).toBe(false);
    expect(report.staleNodes).toBe(1);
    expect(report.message).toContain('Prometheus answered bad_data: unexpected query');
    expect(report.message).toContain('nodes score neutral once their last measurement is older than maxSampleAge');
    expect(store.fresh('n1', 60_000)?.cpu?.used).toBe(0.5);
    // Still down two minutes later: nothing is fresh any more.
    const later = await refresh(source, store, { cluster, clock: fixedClock(120_001) }, io, signal);
    expect(later.staleNodes).toBe(2);
    expect(later.message).toContain('every node scores neutral until it answers');
    expect(store.fresh('n1', 120_001)).toBeUndefined();
  });

  it('an answer that is not Prometheus\' is an error naming what is wrong', async () => {
    const io: BackgroundIO = { ...promIO({}), fetch: async () => ({ status: 502, text: async () => '<html>bad gateway</html>' }) };
    await expect(new PrometheusSource(promArgs(), 'TargetLoadPacking', 900).read(io, signal, makeCluster([]), 0)).rejects.toThrow(
      /HTTP 502 from http:\/\/prom:9090\/api\/v1\/query, not JSON: <html>bad gateway/,
    );
  });
});

describe('node usage file', () => {
  const file = `nodes:
  host-a: {cpu: "5", memory: 50%}
  host-b: {cpu: 25%, cpuStddev: 5%}
  ghost: {cpu: "1"}
`;

  it('absolute amounts over the node\'s capacity, or percents; unknown nodes reported', async () => {
    const io: BackgroundIO = { ...promIO({}), readTextFile: async () => file };
    const cluster = makeCluster([makeNode('host-a', { cpu: '10' }), makeNode('host-b')]);
    const measured = await new FileSource('usage.yaml').read(io, signal, cluster, 42);
    expect(Object.fromEntries(measured.samples)).toEqual({
      'host-a': { takenAt: 42, cpu: { used: 0.5, stddev: 0 }, memory: { used: 0.5, stddev: 0 } },
      'host-b': { takenAt: 42, cpu: { used: 0.25, stddev: 0.05 } },
    });
    expect(measured.unmatched).toEqual(['node "ghost"']);
  });

  it('reports every problem at once with line and column', () => {
    const bad = `nodes:
  host-a: {cpu: lots, memory: 120%}
  host-b: {disk: 5%}
`;
    let error: unknown;
    try {
      parseUsageFile(bad, 'usage.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageFileError);
    expect((error as UsageFileError).problems).toEqual([
      'usage.yaml:2:12: nodes.host-a.cpu: "lots" is neither a quantity nor a percentage; write e.g. "12" (cores), "1500m" or "60%"',
      'usage.yaml:2:23: nodes.host-a.memory: 120% is more than the whole node; write a percent of the node\'s capacity, from 0% to 100%',
      'usage.yaml:3:12: nodes.host-b.disk: unknown field "disk"; fields allowed here: cpu, memory, cpuStddev, memoryStddev',
    ]);
  });
});

describe('metrics.k8s.io source', () => {
  const list = (at: string, cpu: string, memory: string) => ({
    kind: 'NodeMetricsList',
    items: [
      { metadata: { name: 'n1' }, timestamp: at, usage: { cpu, memory } },
      { metadata: { name: 'gone' }, timestamp: at, usage: { cpu: '1', memory: '1Gi' } },
    ],
  });
  const node = () => makeNode('n1', { cpu: '4', memory: '8Gi' });

  function io(answers: unknown[], paths: string[]): BackgroundIO {
    return { ...promIO({}), apiGet: async (path) => (paths.push(path), answers.shift()) };
  }

  it('TargetLoadPacking: the latest reading over the capacity, dated by its timestamp', async () => {
    const paths: string[] = [];
    const source = new MetricsServerSource('TargetLoadPacking', 900, 5);
    const measured = await source.read(io([list('2026-01-01T00:00:00Z', '1', '2Gi')], paths), signal, makeCluster([node()]), Date.parse('2026-01-01T00:00:30Z'));
    expect(paths).toEqual([NODE_METRICS_PATH]);
    expect(measured.samples.get('n1')).toEqual({ takenAt: Date.parse('2026-01-01T00:00:00Z'), cpu: { used: 0.25, stddev: 0 }, memory: { used: 0.25, stddev: 0 } });
    expect(measured.unmatched).toEqual(['node "gone"']);
  });

  it('LoadVariationRiskBalancing: mean and population deviation of the readings within the window', async () => {
    const source = new MetricsServerSource('LoadVariationRiskBalancing', 60, 5);
    const cluster = makeCluster([node()]);
    const answers = [list('2026-01-01T00:00:00Z', '400m', '2Gi'), list('2026-01-01T00:00:30Z', '1200m', '2Gi'), list('2026-01-01T00:01:10Z', '2', '2Gi')];
    const a = io(answers, []);
    await source.read(a, signal, cluster, Date.parse('2026-01-01T00:00:00Z'));
    const second = await source.read(a, signal, cluster, Date.parse('2026-01-01T00:00:30Z'));
    // CPU 0.1 and 0.3 of 4 cores: mean 0.2, deviation 0.1. Memory steady at 0.25.
    expect(second.samples.get('n1')?.cpu?.used).toBeCloseTo(0.2, 12);
    expect(second.samples.get('n1')?.cpu?.stddev).toBeCloseTo(0.1, 12);
    expect(second.samples.get('n1')?.memory).toEqual({ used: 0.25, stddev: 0 });
    // 70 s later the first reading has left the 60 s window: 0.3 and 0.5 → mean 0.4, deviation 0.1.
    const third = await source.read(a, signal, cluster, Date.parse('2026-01-01T00:01:10Z'));
    expect(third.samples.get('n1')?.cpu?.used).toBeCloseTo(0.4, 12);
    expect(third.samples.get('n1')?.cpu?.stddev).toBeCloseTo(0.1, 12);
  });

  it('an answer that is no NodeMetricsList is an error', async () => {
    const source = new MetricsServerSource('TargetLoadPacking', 900, 5);
    await expect(source.read(io([{ kind: 'Status' }], []), signal, makeCluster([]), 0)).rejects.toThrow('answered something other than a NodeMetricsList');
  });
});

describe('refresh without a source', () => {
  it('every node is stale and the report says why', async () => {
    const store = new SampleStore(120_000, 60_000);
    const report = await refresh(undefined, store, { cluster: makeCluster([makeNode('n1')]), clock: fixedClock(0) }, promIO({}), signal);
    expect(report).toEqual({ sourceUp: false, staleNodes: 1, message: expect.stringContaining('no source configured') });
    expect(defaultArgs().source).toBeUndefined();
  });
});
