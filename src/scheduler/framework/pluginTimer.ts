/**
 * Per-plugin execution times for the sampled scheduling cycles behind scheduler_plugin_execution_duration_seconds.
 * Upstream observes every plugin call of a sampled cycle (10 %); berth sums a plugin's calls at one extension point
 * over the cycle (Filter and Score run once per node) and observes that sum once, so a sampled cycle over thousands
 * of nodes costs a handful of observations rather than thousands. The status label is the worst status the plugin
 * returned in the cycle.
 */
import { Code, CODE_NAMES, type Status } from './types.js';

interface Entry {
  plugin: string;
  point: string;
  ms: number;
  code: Code;
}

export class PluginTimer {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly now: () => number) {}

  add(plugin: string, point: string, ms: number, status: Status | null): void {
    const key = `${point}\x00${plugin}`;
    const code = status === null ? Code.Success : status.code;
    const entry = this.entries.get(key);
    if (entry) {
      entry.ms += ms;
      if (code !== Code.Success && entry.code === Code.Success) entry.code = code;
    } else {
      this.entries.set(key, { plugin, point, ms, code });
    }
  }

  /** Hands every entry to `observe` (seconds) and starts over. */
  flush(observe: (plugin: string, extensionPoint: string, status: string, seconds: number) => void): void {
    for (const e of this.entries.values()) observe(e.plugin, e.point, CODE_NAMES[e.code], e.ms / 1000);
    this.entries.clear();
  }
}
