/**
 * Per-plugin execution times for the sampled scheduling cycles behind scheduler_plugin_execution_duration_seconds.
 * Upstream observes every plugin call of a sampled cycle (10 %); berth sums a plugin's calls at one extension point
 * over the cycle (Filter and Score run once per node) and observes that sum once, so a sampled cycle over thousands
 * of nodes costs a handful of observations rather than thousands. The status label is the worst status the plugin
 * returned in the cycle.
 *
 * Each (plugin, extension point) pair has one slot, made once when the framework builds its timed plugin wrappers:
 * a call adds to its slot's fields, with no key built or looked up per call (a sampled cycle over 1 000 nodes makes
 * about ten thousand calls).
 */
import { Code, CODE_NAMES, type Status } from './types.js';

export interface PluginTimeSlot {
  readonly plugin: string;
  readonly point: string;
  ms: number;
  code: Code;
  calls: number;
}

export class PluginTimer {
  private readonly slots: PluginTimeSlot[] = [];

  constructor(readonly now: () => number) {}

  /** The slot one wrapper adds its calls to. */
  slot(plugin: string, point: string): PluginTimeSlot {
    const s: PluginTimeSlot = { plugin, point, ms: 0, code: Code.Success, calls: 0 };
    this.slots.push(s);
    return s;
  }

  /** Adds one call's time and status to its slot. */
  static add(slot: PluginTimeSlot, ms: number, status: Status | null): void {
    slot.ms += ms;
    slot.calls++;
    if (status !== null && status.code !== Code.Success && slot.code === Code.Success) slot.code = status.code;
  }

  /** Hands every slot called since the last flush to `observe` (seconds), and empties them. */
  flush(observe: (plugin: string, extensionPoint: string, status: string, seconds: number) => void): void {
    for (const s of this.slots) {
      if (s.calls === 0) continue;
      observe(s.plugin, s.point, CODE_NAMES[s.code], s.ms / 1000);
      s.ms = 0;
      s.calls = 0;
      s.code = Code.Success;
    }
  }
}
