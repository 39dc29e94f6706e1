import { describe, expect, it } from 'vitest';
import { Code, Status, type Diagnosis } from '../../src/scheduler/framework/types.js';
import { attemptsLabel, type AttemptOutcome, type QueueSource, SchedulerMetrics, WEIGHTED_SCORE_BUCKETS } from '../../src/observe/metrics.js';
import type { CycleOutcome } from '../../src/scheduler/scheduler.js';
import { podInfo } from '../helpers/builders.js';

/** Compile-time check: the scheduler's CycleOutcome is what the metrics record. */
export const acceptsCycleOutcome = (o: CycleOutcome): AttemptOutcome => o;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

/** A small Prometheus text-format (0.0.4) parser: # HELP, # TYPE and samples with escaped label values. */
function parseProm(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { help: '', type: 'untyped', samples: [] }));
    return f;
  };
  const baseOf = (sample: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = sample.slice(0, -suffix.length);
      if (sample.endsWith(suffix) && families.get(base)?.type === 'histogram') return base;
    }
    return sample;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      family(m[1] as string).help = (m[2] as string).replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      continue;
    }
    m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      family(m[1] as string).type = m[2] as string;
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let consumed = 0;
    for (let lm = re.exec(labelText); lm; lm = re.exec(labelText)) {
      labels[lm[1] as string] = (lm[2] as string).replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      consumed += lm[0].length;
    }
    if (consumed !== labelText.length) throw new Error(`bad labels: ${line}`);
    const raw = m[4] as string;
    // Values parse as Go's strconv.ParseFloat (what Prometheus uses): NaN and Inf are case-insensitive.
    const lower = raw.toLowerCase();
    const value = lower === '+inf' || lower === 'inf' ? Infinity : lower === '-inf' ? -Infinity : lower === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && lower !== 'nan') throw new Error(`bad value: ${line}`);
    const name = m[1] as string;
    family(baseOf(name)).samples.push({ name, labels, value });
  }
  return families;
}

function get(families: Map<string, Family>, name: string): Family {
  const f = families.get(name);
  if (!f) throw new Error(`metric ${name} missing`);
  return f;
}

function value(f: Family, name: string, labels: Record<string, string>): number | undefined {
  return f.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** The `le` bounds of a histogram family (first series), without +Inf. */
function buckets(f: Family): number[] {
  const first = f.samples.find((s) => s.name.endsWith('_bucket'));
  if (!first) throw new Error('no buckets');
  const key = JSON.stringify({ ...first.labels, le: undefined });
  return f.samples
    .filter((s) => s.name.endsWith('_bucket') && JSON.stringify({ ...s.labels, le: undefined }) === key)
    .map((s) => Number(s.labels['le']))
    .filter((b) => Number.isFinite(b));
}

function goExp(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(v);
  return out;
}

const diagnosis = (plugins: string[]): Diagnosis => ({
  nodeToStatus: new Map(),
  absentNodesStatus: null,
  unschedulablePlugins: new Set(plugins),
  preFilterMsg: '',
  postFilterMsg: '',
});

function scheduled(node: string, attempts = 1): AttemptOutcome {
  return {
    queued: { attempts, initialAttemptTimestamp: 1_000 },
    profile: 'berth',
    startedAt: 5_000,
    endedAt: 5_004,
    result: {
      kind: 'scheduled',
      nodeName: node,
      totalScore: 300,
      evaluatedNodes: 10,
      feasibleNodes: 7,
      contributions: [
        { plugin: 'TaintToleration', weight: 3, score: 100, weighted: 300 },
        { plugin: 'NodeResourcesFit', weight: 1, score: 0, weighted: 0 },
      ],
    },
  };
}

function unschedulable(preempt?: { node?: string; victims: number }): AttemptOutcome {
  return {
    queued: { attempts: 2, initialAttemptTimestamp: 0 },
    profile: 'berth',
    startedAt: 0,
    endedAt: 20,
    result: {
      kind: 'unschedulable',
      message: '0/3 nodes are available: 3 Insufficient cpu.',
      diagnosis: diagnosis(['NodeResourcesFit']),
      numAllNodes: 3,
      ...(preempt
        ? {
            postFilter: {
              status: preempt.node ? new Status(Code.Success) : Status.unschedulable('no victims'),
              ...(preempt.node ? { nominatedNodeName: preempt.node } : {}),
              victims: Array.from({ length: preempt.victims }, (_, i) => podInfo(`v${i}`)),
            },
          }
        : {}),
    },
  };
}

describe('SchedulerMetrics', () => {
  it('exposes every upstream metric with its type, labels and exact buckets', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    m.recordCycle(unschedulable({ node: 'n1', victims: 3 }));
    m.preemptionVictims.observe(3);
    m.recordCycle(scheduled('n1'));
    m.recordAttemptEnd(scheduled('n1'), { result: 'scheduled', bound: true, durationSeconds: 0.01 });
    m.permitWaitDuration.observe({ result: 'Success' }, 0.5);
    m.queueIncoming('active', 'PodAdd');
    m.observeExtensionPoint('Filter', 'Success', 'berth', 0.0002);
    m.observePluginExecution('NodeResourcesFit', 'Filter', 'Success', 0.00002);
    const f = parseProm(await m.text());

    const expectations: Array<[string, string, number[] | undefined]> = [
      ['scheduler_schedule_attempts_total', 'counter', undefined],
      ['scheduler_scheduling_attempt_duration_seconds', 'histogram', goExp(0.001, 2, 15)],
      ['scheduler_scheduling_algorithm_duration_seconds', 'histogram', goExp(0.001, 2, 15)],
      ['scheduler_pending_pods', 'gauge', undefined],
      ['scheduler_pod_scheduling_sli_duration_seconds', 'histogram', goExp(0.01, 2, 20)],
      ['scheduler_pod_scheduling_attempts', 'histogram', [1, 2, 4, 8, 16]],
      ['scheduler_framework_extension_point_duration_seconds', 'histogram', goExp(0.0001, 2, 12)],
      ['scheduler_plugin_execution_duration_seconds', 'histogram', goExp(0.00001, 1.5, 20)],
      ['scheduler_queue_incoming_pods_total', 'counter', undefined],
      ['scheduler_preemption_attempts_total', 'counter', undefined],
      ['scheduler_preemption_victims', 'histogram', [1, 2, 4, 8, 16, 32, 64]],
      ['scheduler_unschedulable_pods', 'gauge', undefined],
      ['berth_pods_placed_total', 'counter', undefined],
      ['berth_plugin_weighted_score', 'histogram', [...WEIGHTED_SCORE_BUCKETS]],
      ['berth_plugin_score_share', 'histogram', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]],
      ['scheduler_permit_wait_duration_seconds', 'histogram', goExp(0.001, 2, 15)],
      ['scheduler_goroutines', 'gauge', undefined],
      ['leader_election_master_status', 'gauge', undefined],
    ];
    for (const [name, type, bs] of expectations) {
      const fam = get(f, name);
      expect(fam.type, name).toBe(type);
      expect(fam.help.length, name).toBeGreaterThan(0);
      if (bs) expect(buckets(fam), name).toEqual(bs);
    }
    // Label sets as upstream.
    expect(Object.keys(get(f, 'scheduler_schedule_attempts_total').samples[0]?.labels ?? {}).sort()).toEqual(['profile', 'result']);
    expect(value(get(f, 'scheduler_framework_extension_point_duration_seconds'), 'scheduler_framework_extension_point_duration_seconds_count', { extension_point: 'Filter', status: 'Success', profile: 'berth' })).toBe(1);
    expect(value(get(f, 'scheduler_plugin_execution_duration_seconds'), 'scheduler_plugin_execution_duration_seconds_count', { plugin: 'NodeResourcesFit', extension_point: 'Filter', status: 'Success' })).toBe(1);
    expect(value(get(f, 'scheduler_queue_incoming_pods_total'), 'scheduler_queue_incoming_pods_total', { queue: 'active', event: 'PodAdd' })).toBe(1);
    expect(value(get(f, 'scheduler_permit_wait_duration_seconds'), 'scheduler_permit_wait_duration_seconds_count', { result: 'Success' })).toBe(1);
    expect(value(get(f, 'scheduler_goroutines'), 'scheduler_goroutines', { operation: 'binding' })).toBe(0);
  });

  it('counts each attempt when it ends, under its result, with its whole duration', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    const error = { ...unschedulable(), result: { kind: 'error' as const, message: 'boom', plugin: 'X' } };
    for (const o of [unschedulable(), error, scheduled('node-a', 3)]) m.recordCycle(o);
    let f = parseProm(await m.text());
    // Nothing counted before the attempts end; the algorithm latency is recorded for every cycle.
    expect(get(f, 'scheduler_schedule_attempts_total').samples).toEqual([]);
    const algo = get(f, 'scheduler_scheduling_algorithm_duration_seconds');
    expect(value(algo, 'scheduler_scheduling_algorithm_duration_seconds_count', {})).toBe(3);
    expect(value(algo, 'scheduler_scheduling_algorithm_duration_seconds_sum', {})).toBeCloseTo(0.044);
    expect(value(algo, 'scheduler_scheduling_algorithm_duration_seconds_bucket', { le: '0.004' })).toBe(1);
    expect(value(algo, 'scheduler_scheduling_algorithm_duration_seconds_bucket', { le: '0.002' })).toBe(0);

    m.recordAttemptEnd(unschedulable(), { result: 'unschedulable', bound: false, durationSeconds: 0.02 });
    m.recordAttemptEnd(error, { result: 'error', bound: false, durationSeconds: 0.02 });
    m.recordAttemptEnd(scheduled('node-a', 3), { result: 'scheduled', bound: true, durationSeconds: 0.5 });
    m.recordAttemptEnd(scheduled('node-b', 20), { result: 'scheduled', bound: true, durationSeconds: 0.5 });
    // A binding cycle that failed: an error attempt, no placement.
    m.recordAttemptEnd(scheduled('node-c'), { result: 'error', bound: false, durationSeconds: 0.25 });
    f = parseProm(await m.text());
    const a2 = get(f, 'scheduler_schedule_attempts_total');
    expect(value(a2, 'scheduler_schedule_attempts_total', { result: 'unschedulable', profile: 'berth' })).toBe(1);
    expect(value(a2, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile: 'berth' })).toBe(2);
    expect(value(a2, 'scheduler_schedule_attempts_total', { result: 'error', profile: 'berth' })).toBe(2);
    const dur = get(f, 'scheduler_scheduling_attempt_duration_seconds');
    expect(value(dur, 'scheduler_scheduling_attempt_duration_seconds_sum', { result: 'unschedulable', profile: 'berth' })).toBeCloseTo(0.02);
    expect(value(dur, 'scheduler_scheduling_attempt_duration_seconds_sum', { result: 'error', profile: 'berth' })).toBeCloseTo(0.27);
    const sli = get(f, 'scheduler_pod_scheduling_sli_duration_seconds');
    // Ends at startedAt 5 s + 0.5 s; the pod entered the queue at 1 s: 4.5 s.
    expect(value(sli, 'scheduler_pod_scheduling_sli_duration_seconds_sum', { attempts: '3' })).toBeCloseTo(4.5);
    expect(value(sli, 'scheduler_pod_scheduling_sli_duration_seconds_count', { attempts: '15+' })).toBe(1);
    const att = get(f, 'scheduler_pod_scheduling_attempts');
    expect(value(att, 'scheduler_pod_scheduling_attempts_bucket', { le: '4' })).toBe(1);
    expect(value(att, 'scheduler_pod_scheduling_attempts_bucket', { le: '+Inf' })).toBe(2);
    const placed = get(f, 'berth_pods_placed_total');
    expect(value(placed, 'berth_pods_placed_total', { node: 'node-a', profile: 'berth' })).toBe(1);
    expect(value(placed, 'berth_pods_placed_total', { node: 'node-b', profile: 'berth' })).toBe(1);
    expect(value(placed, 'berth_pods_placed_total', { node: 'node-c', profile: 'berth' })).toBeUndefined();
  });

  it("records each plugin's weighted contribution and share of the chosen node's score", async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    m.recordCycle(scheduled('n'));
    const f = parseProm(await m.text());
    const ws = get(f, 'berth_plugin_weighted_score');
    expect(value(ws, 'berth_plugin_weighted_score_sum', { plugin: 'TaintToleration', profile: 'berth' })).toBe(300);
    expect(value(ws, 'berth_plugin_weighted_score_bucket', { plugin: 'TaintToleration', le: '200' })).toBe(0);
    expect(value(ws, 'berth_plugin_weighted_score_bucket', { plugin: 'TaintToleration', le: '500' })).toBe(1);
    expect(value(ws, 'berth_plugin_weighted_score_bucket', { plugin: 'NodeResourcesFit', le: '0' })).toBe(1);
    const share = get(f, 'berth_plugin_score_share');
    expect(value(share, 'berth_plugin_score_share_sum', { plugin: 'TaintToleration' })).toBe(1);
  });

  it('counts a preemption attempt for every cycle whose PostFilter ran', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    m.recordCycle(unschedulable());
    m.recordCycle(unschedulable({ victims: 0 }));
    m.recordCycle(unschedulable({ node: 'n1', victims: 3 }));
    // The victims are observed when they are evicted (the live adapter's preempting report).
    m.preemptionVictims.observe(3);
    const f = parseProm(await m.text());
    expect(value(get(f, 'scheduler_preemption_attempts_total'), 'scheduler_preemption_attempts_total', {})).toBe(2);
    const v = get(f, 'scheduler_preemption_victims');
    expect(value(v, 'scheduler_preemption_victims_count', {})).toBe(1);
    expect(value(v, 'scheduler_preemption_victims_bucket', { le: '2' })).toBe(0);
    expect(value(v, 'scheduler_preemption_victims_bucket', { le: '4' })).toBe(1);
  });

  it('reads pending and unschedulable pod gauges from the queue at scrape time', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    let f = parseProm(await m.text());
    expect(value(get(f, 'scheduler_pending_pods'), 'scheduler_pending_pods', { queue: 'gated' })).toBe(0);
    let waiting = [
      { pod: { schedulerName: 'berth' }, unschedulablePlugins: new Set(['NodeResourcesFit', 'TaintToleration']) },
      { pod: { schedulerName: 'berth' }, unschedulablePlugins: new Set(['NodeResourcesFit']) },
    ];
    const source: QueueSource = {
      counts: () => ({ active: 4, backoff: 3, unschedulable: waiting.length, gated: 1 }),
      unschedulablePods: () => waiting,
    };
    m.attachQueue(source);
    f = parseProm(await m.text());
    const pending = get(f, 'scheduler_pending_pods');
    expect(['active', 'backoff', 'unschedulable', 'gated'].map((queue) => value(pending, 'scheduler_pending_pods', { queue }))).toEqual([4, 3, 2, 1]);
    const un = get(f, 'scheduler_unschedulable_pods');
    expect(value(un, 'scheduler_unschedulable_pods', { plugin: 'NodeResourcesFit', profile: 'berth' })).toBe(2);
    expect(value(un, 'scheduler_unschedulable_pods', { plugin: 'TaintToleration', profile: 'berth' })).toBe(1);
    waiting = [];
    f = parseProm(await m.text());
    expect(value(get(f, 'scheduler_unschedulable_pods'), 'scheduler_unschedulable_pods', { plugin: 'TaintToleration', profile: 'berth' })).toBe(0);
  });

  it('creates the failure series the alerts count at 0 for each profile, before any attempt', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    m.initProfiles(['berth', 'packer']);
    const f = parseProm(await m.text());
    for (const profile of ['berth', 'packer']) {
      for (const result of ['scheduled', 'unschedulable', 'error']) {
        expect(value(get(f, 'scheduler_schedule_attempts_total'), 'scheduler_schedule_attempts_total', { result, profile }), `${profile} ${result}`).toBe(0);
      }
      for (const point of ['PreBind', 'Bind']) {
        const ep = get(f, 'scheduler_framework_extension_point_duration_seconds');
        expect(value(ep, 'scheduler_framework_extension_point_duration_seconds_count', { extension_point: point, status: 'Error', profile }), `${profile} ${point}`).toBe(0);
      }
    }
  });

  it('reports leadership of the attached Lease at scrape time, and nothing before one is attached', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    expect(get(parseProm(await m.text()), 'leader_election_master_status').samples).toEqual([]);
    let leading = false;
    m.attachLeader({ name: 'berth-lock', isLeader: () => leading });
    const status = async (): Promise<number | undefined> =>
      value(get(parseProm(await m.text()), 'leader_election_master_status'), 'leader_election_master_status', { name: 'berth-lock' });
    expect(await status()).toBe(0);
    leading = true;
    expect(await status()).toBe(1);
  });

  it('includes default process metrics on its own registry, not the global one', async () => {
    const a = new SchedulerMetrics();
    const b = new SchedulerMetrics();
    const f = parseProm(await a.text());
    expect(f.has('process_cpu_user_seconds_total')).toBe(true);
    expect(f.has('nodejs_heap_size_total_bytes')).toBe(true);
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(a.registry).not.toBe(b.registry);
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('scheduler_schedule_attempts_total')).toBeUndefined();
  });

  it('caps the attempts label at 15+', () => {
    expect(attemptsLabel(1)).toBe('1');
    expect(attemptsLabel(14)).toBe('14');
    expect(attemptsLabel(15)).toBe('15+');
  });
});

describe('plugin sources', () => {
  it('each background refresh sets the source\'s up and stale gauges and counts the refresh by result', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    const labels = { plugin: 'NodeUtilization', profile: 'berth' };
    m.recordSourceReport('NodeUtilization', 'berth', { sourceUp: true, staleNodes: 1 });
    m.recordSourceReport('NodeUtilization', 'berth', { sourceUp: false, staleNodes: 3 });
    const f = parseProm(await m.text());
    expect(get(f, 'berth_plugin_source_up').type).toBe('gauge');
    expect(value(get(f, 'berth_plugin_source_up'), 'berth_plugin_source_up', labels)).toBe(0);
    expect(value(get(f, 'berth_plugin_source_stale_nodes'), 'berth_plugin_source_stale_nodes', labels)).toBe(3);
    const refreshes = get(f, 'berth_plugin_source_refreshes_total');
    expect([value(refreshes, 'berth_plugin_source_refreshes_total', { ...labels, result: 'up' }), value(refreshes, 'berth_plugin_source_refreshes_total', { ...labels, result: 'down' })]).toEqual([1, 1]);
  });
  it('counts configuration reloads by result, both series present from the start', async () => {
    const m = new SchedulerMetrics({ defaultMetrics: false });
    const reloads = async (): Promise<Array<number | undefined>> => {
      const f = get(parseProm(await m.text()), 'berth_config_reloads_total');
      expect(f.type).toBe('counter');
      return [value(f, 'berth_config_reloads_total', { result: 'success' }), value(f, 'berth_config_reloads_total', { result: 'failure' })];
    };
    expect(await reloads()).toEqual([0, 0]);
    m.countConfigReload('success');
    m.countConfigReload('failure');
    m.countConfigReload('failure');
    expect(await reloads()).toEqual([1, 2]);
  });
});
