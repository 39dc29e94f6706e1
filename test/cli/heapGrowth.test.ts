import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from '../../src/cli/heapGrowth.js';

describe('limitHeapGrowth', () => {
  it('sets V8 heap growing factor to the percent asked for', () => {
    const set: string[] = [];
    expect(limitHeapGrowth(50, [], (f) => set.push(f))).toBe(50);
    expect(limitHeapGrowth(0, [], (f) => set.push(f))).toBe(0);
    expect(set).toEqual(['--heap-growing-percent=50', '--heap-growing-percent=0']);
  });

  it('leaves a value given to node itself alone, in either spelling', () => {
    const set: string[] = [];
    expect(limitHeapGrowth(50, ['--heap-growing-percent=20'], (f) => set.push(f))).toBeUndefined();
    expect(limitHeapGrowth(50, ['--heap_growing_percent=20'], (f) => set.push(f))).toBeUndefined();
    expect(limitHeapGrowth(50, ['--heap-growing-percentage-x'], (f) => set.push(f))).toBe(50);
    expect(set).toEqual(['--heap-growing-percent=50']);
  });

  it('refuses a negative or fractional percent', () => {
    expect(() => limitHeapGrowth(-1, [], () => undefined)).toThrow(/at least 0/);
    expect(() => limitHeapGrowth(1.5, [], () => undefined)).toThrow(/integer/);
  });

  it('takes effect in a running node: at 50 % the same garbage takes several times more full collections than at 300 %', () => {
    // A child sets the factor at run time, as berth run does, then allocates a live set and garbage that outlives
    // young-generation collections, and counts its full (mark-compact) collections. Both runs set the factor
    // explicitly (V8's own choice depends on timing), and both get the same heap limit (V8 clamps growth near its
    // limit, which it otherwise sizes from the host's memory). If setting the flag at run time did nothing, both
    // counts would be the same. Counts, unlike peak sizes, do not depend on when concurrent marking finishes.
    const script = `
      const v8 = require('node:v8');
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      v8.setFlagsFromString('--heap-growing-percent=' + process.argv[1]);
      let majors = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.detail && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
      }).observe({ entryTypes: ['gc'] });
      const live = []; for (let i = 0; i < 1000000; i++) live.push({ a: i, b: [i, i + 1] });
      const ring = new Array(200000);
      (async () => {
        for (let round = 0; round < 30; round++) {
          for (let i = 0; i < 200000; i++) ring[i] = { a: i, b: [i, round], c: { d: i } };
          await new Promise((r) => setImmediate(r));
        }
        await new Promise((r) => setTimeout(r, 50));
        console.log(majors, live.length);
      })();`;
    const fullCollections = (percent: number): number => {
      const r = spawnSync(process.execPath, ['--max-old-space-size=2048', '-e', script, String(percent)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout.trim().split(' ')[0]);
    };
    const wide = fullCollections(300);
    const limited = fullCollections(DEFAULT_HEAP_GROWTH_PERCENT);
    // Measured 8–10 against 3 (three runs each, quiet and with two CPU burners beside them).
    expect(wide).toBeGreaterThan(0);
    expect(limited).toBeGreaterThanOrEqual(2 * wide);
  });
});
