/**
 * Running plugins' background tasks (src/scheduler/framework/background.ts) for the adapters: one run with a time
 * limit and every failure turned into a report (runTaskOnce, which `berth simulate` uses), and the live adapter's
 * loop (BackgroundRunner). The core registers tasks; only adapters run them, with their own I/O and clock.
 */
import { readFile } from 'node:fs/promises';
import { type BackgroundIO, type BackgroundReport, type BackgroundTask, RUN_TIMEOUT_MS } from '../scheduler/framework/background.js';
import type { Clock } from '../scheduler/clock.js';
import type { ProfileTask } from '../scheduler/scheduler.js';

/**
 * The I/O every adapter lends alike: the platform's fetch and the file system; each adapter brings its own way to
 * the API server (`berth run`: its client; `berth simulate`: none).
 */
export function hostBackgroundIO(apiGet: BackgroundIO['apiGet']): BackgroundIO {
  return {
    async fetch(url, init = {}) {
      const res = await fetch(url, {
        method: init.method ?? 'GET',
        ...(init.headers ? { headers: init.headers } : {}),
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return { status: res.status, text: () => res.text() };
    },
    apiGet,
    readTextFile: (path, signal) => readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) }),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** The report itself, or a report of a down source naming what was wrong with it. */
function checkedReport(value: unknown): BackgroundReport {
  const r = value as Partial<BackgroundReport> | null | undefined;
  const shaped =
    typeof r === 'object' &&
    r !== null &&
    typeof r.sourceUp === 'boolean' &&
    Number.isSafeInteger(r.staleNodes) &&
    (r.staleNodes ?? -1) >= 0 &&
    (r.message === undefined || typeof r.message === 'string');
  if (shaped) return r as BackgroundReport;
  return { sourceUp: false, staleNodes: 0, message: 'the task reported something other than { sourceUp, staleNodes, message? }' };
}

/**
 * One run of `task`: its report, or a down-source report when it throws, rejects, answers garbage or takes longer
 * than its time limit (its signal is then aborted). `stop` aborts the run early (shutdown); `clock` times the limit.
 */
export async function runTaskOnce(task: BackgroundTask, io: BackgroundIO, clock: Clock, stop?: AbortSignal): Promise<BackgroundReport> {
  const controller = new AbortController();
  const onStop = (): void => controller.abort(stop?.reason);
  stop?.addEventListener('abort', onStop, { once: true });
  const limitMs = task.timeoutMs ?? RUN_TIMEOUT_MS;
  const timer = new AbortController();
  try {
    const run = Promise.resolve()
      .then(() => task.run(io, controller.signal))
      .then(checkedReport, (err: unknown): BackgroundReport => ({ sourceUp: false, staleNodes: 0, message: errorText(err) }));
    // The sleep also ends (early) when the run has finished and `timer` is aborted: then nothing is to be aborted.
    const timedOut = clock.sleep(limitMs, timer.signal).then((): BackgroundReport => {
      if (!timer.signal.aborted) controller.abort(new Error('timed out'));
      return { sourceUp: false, staleNodes: 0, message: `no answer within ${limitMs} ms` };
    });
    return await Promise.race([run, timedOut]);
  } finally {
    timer.abort();
    stop?.removeEventListener('abort', onStop);
  }
}

/** Called with each run's report (metrics, logs); must not throw. */
export type ReportSink = (task: ProfileTask, report: BackgroundReport) => void;

/**
 * The live adapter's loop: every task runs at once on start(), then `intervalMs` after each run ends, until
 * stop() (which aborts the runs and waits in flight and resolves when every loop has ended).
 */
export class BackgroundRunner {
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly tasks: readonly ProfileTask[],
    private readonly io: BackgroundIO,
    private readonly clock: Clock,
    private readonly onReport: ReportSink,
  ) {}

  start(): void {
    if (this.loops.length > 0 || this.stopping.signal.aborted) return;
    this.loops = this.tasks.map((t) => this.loop(t));
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('stopping'));
    await Promise.all(this.loops);
  }

  private async loop(entry: ProfileTask): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const report = await runTaskOnce(entry.task, this.io, this.clock, stop);
      if (stop.aborted) return;
      this.onReport(entry, report);
      await this.clock.sleep(Math.max(1, entry.task.intervalMs), stop);
    }
  }
}
