// The adapters' running of plugins' background tasks, on a clock the test moves: a run's failures and overruns
// become down-source reports (a task cannot stop the scheduler), and the live loop's cadence and stop.
import { describe, expect, it } from 'vitest';
import { BackgroundRunner, runTaskOnce } from '../../src/adapters/background.js';
import type { BackgroundIO, BackgroundReport, BackgroundTask } from '../../src/scheduler/framework/background.js';
import type { Clock } from '../../src/scheduler/clock.js';
import type { ProfileTask } from '../../src/scheduler/scheduler.js';

/** A clock whose sleeps end only when the test advances it past them (or their signal aborts). */
class ManualClock implements Clock {
  t = 0;
  private sleepers: Array<{ until: number; wake: () => void }> = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { until: this.t + ms, wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.until <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.until > this.t);
    for (const s of due) s.wake();
  }
}

/** Lets pending promise callbacks run (no time passes on any clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const io: BackgroundIO = {
  fetch: () => Promise.reject(new Error('no network')),
  apiGet: () => Promise.reject(new Error('no API server')),
  readTextFile: () => Promise.reject(new Error('no files')),
};

const task = (run: BackgroundTask['run'], timeoutMs = 50): BackgroundTask => ({ plugin: 'P', intervalMs: 1_000, timeoutMs, run });
const healthy: BackgroundReport = { sourceUp: true, staleNodes: 0 };

describe('runTaskOnce', () => {
  it('passes a well-formed report through', async () => {
    expect(await runTaskOnce(task(async () => healthy), io, new ManualClock())).toEqual(healthy);
  });

  it('a throw, a rejection or a report of the wrong shape is a down source naming the problem', async () => {
    const clock = new ManualClock();
    expect(await runTaskOnce(task(() => { throw new Error('boom'); }), io, clock)).toEqual({ sourceUp: false, staleNodes: 0, message: 'boom' });
    expect(await runTaskOnce(task(() => Promise.reject(new TypeError('bad'))), io, clock)).toEqual({ sourceUp: false, staleNodes: 0, message: 'bad' });
    const garbage = task(async () => ({ sourceUp: 'yes', staleNodes: -1 }) as unknown as BackgroundReport);
    expect((await runTaskOnce(garbage, io, clock)).message).toBe('the task reported something other than { sourceUp, staleNodes, message? }');
  });

  it('a run over its time limit is aborted and reported down', async () => {
    const clock = new ManualClock();
    let signal: AbortSignal | undefined;
    const hanging = task((_io, s) => {
      signal = s;
      return new Promise<BackgroundReport>(() => {});
    });
    const report = runTaskOnce(hanging, io, clock);
    await settle();
    clock.advance(49);
    await settle();
    expect(signal?.aborted).toBe(false);
    clock.advance(1);
    expect(await report).toEqual({ sourceUp: false, staleNodes: 0, message: 'no answer within 50 ms' });
    expect(signal?.aborted).toBe(true);
  });
});

describe('BackgroundRunner', () => {
  it('runs each task at once, then intervalMs after each run, reporting each; stop() ends the loop', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const reports: Array<[string, BackgroundReport]> = [];
    const entry: ProfileTask = { profile: 'berth', task: task(async () => ({ sourceUp: true, staleNodes: ++runs })) };
    const runner = new BackgroundRunner([entry], io, clock, (t, r) => void reports.push([t.profile, r]));
    runner.start();
    await settle();
    expect(runs).toBe(1);
    clock.advance(999);
    await settle();
    expect(runs).toBe(1);
    clock.advance(1);
    await settle();
    expect(reports).toEqual([
      ['berth', { sourceUp: true, staleNodes: 1 }],
      ['berth', { sourceUp: true, staleNodes: 2 }],
    ]);
    await runner.stop();
    clock.advance(10_000);
    await settle();
    expect(runs).toBe(2);
  });
});
