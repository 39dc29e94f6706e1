/**
 * The simulator's clock: time moves only when the simulation moves it. Sleeps (Permit timeouts, PreBind waits)
 * register timers; when nothing else can run, the simulation jumps to the earliest of these and of the queue's
 * backoff expiries. Deterministic: timers due at the same time fire in the order they were set.
 */
import type { Clock } from '../../scheduler/clock.js';
import { Heap } from '../../scheduler/queue/heap.js';

interface Timer {
  id: number;
  at: number;
  fire: () => void;
}

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Heap<Timer>(
    (timer) => String(timer.id),
    (a, b) => a.at < b.at || (a.at === b.at && a.id < b.id),
  );

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const timer: Timer = { id: this.seq++, at: this.t + Math.max(0, ms), fire: () => resolve() };
      const onAbort = (): void => {
        this.timers.delete(String(timer.id));
        resolve();
      };
      timer.fire = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward by `ms` (no timer fires; call advanceTo to fire them). */
  tick(ms: number): void {
    this.t += ms;
  }

  /** When the earliest timer is due; undefined when none is set. */
  nextTimer(): number | undefined {
    return this.timers.peek()?.at;
  }

  /** Jumps to `at` (never backwards) and fires every timer due by then, earliest first. */
  advanceTo(at: number): void {
    this.t = Math.max(this.t, at);
    for (;;) {
      const head = this.timers.peek();
      if (!head || head.at > this.t) return;
      this.timers.pop();
      head.fire();
    }
  }
}
