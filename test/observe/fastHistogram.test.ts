import { exponentialBuckets, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/observe/fastHistogram.js';

// The oracle is prom-client's own Histogram: the same observations must give the same exposition text.

type Labels = 'extension_point' | 'status' | 'profile';

function pair(buckets: number[], labelNames: Labels[] = ['extension_point', 'status', 'profile']): { slow: Histogram<Labels>; fast: FastHistogram<Labels>; slowReg: Registry; fastReg: Registry } {
  const slowReg = new Registry();
  const fastReg = new Registry();
  const config = { name: 'scheduler_framework_extension_point_duration_seconds', help: 'Latency for running all plugins of a specific extension point.', labelNames, buckets };
  return { slow: new Histogram({ ...config, registers: [slowReg] }), fast: new FastHistogram({ ...config, registers: [fastReg] }), slowReg, fastReg };
}

describe('FastHistogram', () => {
  it('writes the text prom-client writes for the same observations, bounds and edges included', async () => {
    const buckets = exponentialBuckets(0.0001, 2, 12);
    const { slow, fast, slowReg, fastReg } = pair(buckets);
    const values = [0, 0.0001, 0.00010001, 0.0002, 0.05, 0.2048, 0.2049, 3, 1e9, -1];
    const points = ['PreFilter', 'Filter', 'Score', 'Bind'];
    for (const [i, v] of values.entries()) {
      const labels = { extension_point: points[i % points.length] as string, status: i % 3 === 0 ? 'Error' : 'Success', profile: 'default-scheduler' };
      slow.observe(labels, v);
      fast.observe(labels, v);
    }
    slow.zero({ extension_point: 'PreBind', status: 'Error', profile: 'p2' });
    fast.zero({ extension_point: 'PreBind', status: 'Error', profile: 'p2' });
    expect(await fastReg.metrics()).toBe(await slowReg.metrics());
    expect(await fastReg.getMetricsAsJSON()).toEqual(await slowReg.getMetricsAsJSON());
  });

  it('a histogram without labels has its series from the start, and takes observe(value)', async () => {
    const slowReg = new Registry();
    const fastReg = new Registry();
    const config = { name: 'scheduler_pod_scheduling_attempts', help: 'Number of attempts to successfully schedule a pod.', buckets: exponentialBuckets(1, 2, 5) };
    const slow = new Histogram({ ...config, registers: [slowReg] });
    const fast = new FastHistogram({ ...config, registers: [fastReg] });
    expect(await fastReg.metrics()).toBe(await slowReg.metrics());
    for (const v of [1, 2, 2, 17]) {
      slow.observe(v);
      fast.observe(v);
    }
    expect(await fastReg.metrics()).toBe(await slowReg.metrics());
  });

  it('a label order different from the declared one is the same series; reset empties it', async () => {
    const { slow, fast, slowReg, fastReg } = pair([0.1, 1]);
    slow.observe({ profile: 'a', status: 'Success', extension_point: 'Bind' }, 0.5);
    slow.observe({ extension_point: 'Bind', status: 'Success', profile: 'a' }, 0.05);
    fast.observe({ profile: 'a', status: 'Success', extension_point: 'Bind' }, 0.5);
    fast.observe({ extension_point: 'Bind', status: 'Success', profile: 'a' }, 0.05);
    expect(await fastReg.metrics()).toBe(await slowReg.metrics());
    fastReg.resetMetrics();
    slowReg.resetMetrics();
    expect(await fastReg.metrics()).toBe(await slowReg.metrics());
  });

  it('zero() on a series that has observations keeps them; observe(v) and observe({}, v) are one series', async () => {
    const { fast, fastReg } = pair([1]);
    fast.observe({ extension_point: 'Bind', status: 'Error', profile: 'p' }, 0.5);
    fast.zero({ extension_point: 'Bind', status: 'Error', profile: 'p' });
    expect(await fastReg.metrics()).toContain('scheduler_framework_extension_point_duration_seconds_count{extension_point="Bind",status="Error",profile="p"} 1');
    fast.observe(2);
    fast.observe({}, 3);
    expect(await fastReg.metrics()).toContain('scheduler_framework_extension_point_duration_seconds_count 2');
  });

  it('refuses what prom-client refuses: an undeclared label, a value that is not a number, le as a label', () => {
    const { fast } = pair([1]);
    expect(() => fast.observe({ extension_point: 'Bind', node: 'n1' } as unknown as Record<Labels, string>, 1)).toThrow(/"node" is not included/);
    expect(() => fast.observe({ extension_point: 'Bind' }, Number.NaN)).toThrow(/not a valid number/);
    expect(() => new FastHistogram({ name: 'x', help: 'x', labelNames: ['le'], buckets: [1] })).toThrow(/reserved/);
  });
});
