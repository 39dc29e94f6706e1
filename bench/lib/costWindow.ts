/**
 * One measured window of a benchmark run: the control plane's CPU seconds (kube-apiserver, etcd), the API
 * server's request counts, the scheduler's CPU and the bytes on its connections to the API server, and the load
 * average at both ends.
 */
import { loadavg } from 'node:os';
import type { ControlPlane } from '../../tools/devcluster/index.js';
import { diffCounts, fetchRequestCounts, type RequestCounts } from './apiMetrics.js';
import { cpuSeconds, machineBusySeconds, ownCpuSeconds, type SocketBytes, SocketByteSampler } from './procStats.js';

export interface WindowCosts {
  seconds: number;
  /** bench: this process (the pod creator, its watch, a ceiling's client); machine: every CPU's busy time. */
  cpuSeconds: { apiserver: number; etcd: number; scheduler: number | null; bench: number; machine: number };
  /** Requests the API server counted in the window, "VERB resource[/subresource]" → count. */
  requests: Record<string, number>;
  bytes: SocketBytes | null;
  loadAverage: { start: number[]; end: number[] };
}

function pidOf(cp: ControlPlane, name: string): number {
  const p = cp.processes.find((x) => x.name === name && !x.hasExited());
  if (!p) throw new Error(`no running ${name} in the control plane`);
  return p.pid;
}

export class CostWindow {
  private sampler: SocketByteSampler | undefined;
  private schedulerPid: number | undefined;
  private schedulerCpu0 = 0;

  private constructor(
    private readonly cp: ControlPlane,
    private readonly apiPort: number,
    private readonly startedAt: number,
    private readonly cpu0: { apiserver: number; etcd: number; bench: number; machine: number },
    private readonly requests0: RequestCounts,
    private readonly load0: number[],
  ) {}

  static async open(cp: ControlPlane): Promise<CostWindow> {
    const requests0 = await fetchRequestCounts(cp);
    const cpu0 = {
      apiserver: cpuSeconds(pidOf(cp, 'kube-apiserver')),
      etcd: cpuSeconds(pidOf(cp, 'etcd')),
      bench: ownCpuSeconds(),
      machine: machineBusySeconds(),
    };
    return new CostWindow(cp, Number(new URL(cp.server).port), performance.now(), cpu0, requests0, loadavg());
  }

  /**
   * Attributes a scheduler process to the window. `startedInside`: it was spawned after open(), so all its CPU and
   * every byte on its connections count; otherwise only what happens from now on.
   */
  async attach(pid: number, startedInside: boolean): Promise<void> {
    this.schedulerPid = pid;
    this.schedulerCpu0 = startedInside ? 0 : cpuSeconds(pid);
    this.sampler = new SocketByteSampler(pid, this.apiPort, startedInside);
    await this.sampler.start();
  }

  /** Closes the window: CPU and bytes now. Request counts are read by requestsSince() once watches have ended. */
  async close(): Promise<Omit<WindowCosts, 'requests'> & { requests0: RequestCounts }> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cpu = {
      apiserver: cpuSeconds(pidOf(this.cp, 'kube-apiserver')) - this.cpu0.apiserver,
      etcd: cpuSeconds(pidOf(this.cp, 'etcd')) - this.cpu0.etcd,
      scheduler: this.schedulerPid !== undefined ? cpuSeconds(this.schedulerPid) - this.schedulerCpu0 : null,
      bench: ownCpuSeconds() - this.cpu0.bench,
      machine: machineBusySeconds() - this.cpu0.machine,
    };
    const bytes = this.sampler ? await this.sampler.stop() : null;
    return { seconds, cpuSeconds: cpu, bytes, loadAverage: { start: this.load0, end: loadavg() }, requests0: this.requests0 };
  }
}

/**
 * The requests counted since `before`, less `exclude` (the benchmark's own pod creates). Read after the scheduler
 * stopped, so its WATCH requests (counted when they end) are in.
 */
export async function requestsSince(cp: ControlPlane, before: RequestCounts, exclude: Record<string, number>): Promise<Record<string, number>> {
  const d = diffCounts(before, await fetchRequestCounts(cp));
  for (const [k, n] of Object.entries(exclude)) {
    const left = (d.get(k) ?? 0) - n;
    if (left > 0) d.set(k, left);
    else d.delete(k);
  }
  return Object.fromEntries([...d].sort((a, b) => b[1] - a[1]));
}
