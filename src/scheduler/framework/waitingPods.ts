/**
 * Pods held at Permit (upstream runtime/waiting_pods_map.go). A Permit plugin that answers Wait names a timeout;
 * the pod's binding cycle then waits until every waiting plugin has allowed it, or one rejects it, or a timeout
 * fires ("rejected due to timeout after waiting 10s at plugin X"). Other plugins (a gang's last member, say) reach
 * the waiting pods through the framework handle. Timers run on the injected clock.
 */
import { formatGoDuration } from '../../kube/duration.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { Clock } from '../clock.js';
import { Status, type WaitingPod } from './types.js';

/** Upstream's cap on a Permit plugin's wait (maxTimeout). */
export const MAX_PERMIT_WAIT_MS = 15 * 60 * 1000;

class HeldPod implements WaitingPod {
  /** Waiting plugin → its timeout's abort handle. */
  private readonly timers = new Map<string, AbortController>();
  private settle: (status: Status | null) => void = () => {};
  private settled = false;
  /** Null once every plugin allowed; the rejection otherwise. Settles once: the first answer wins. */
  readonly outcome: Promise<Status | null>;

  constructor(
    readonly pod: PodInfo,
    readonly nodeName: string,
    waits: ReadonlyMap<string, number>,
    clock: Clock,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    for (const [plugin, ms] of waits) {
      const timer = new AbortController();
      this.timers.set(plugin, timer);
      void clock.sleep(ms, timer.signal).then(() => {
        if (!timer.signal.aborted) this.reject(plugin, `rejected due to timeout after waiting ${formatGoDuration(ms / 1000)} at plugin ${plugin}`);
      });
    }
  }

  pendingPlugins(): string[] {
    return [...this.timers.keys()];
  }

  allow(plugin: string): void {
    const timer = this.timers.get(plugin);
    if (timer) {
      timer.abort();
      this.timers.delete(plugin);
    }
    if (this.timers.size === 0) this.finish(null);
  }

  reject(plugin: string, message: string): boolean {
    return this.finish(Status.unschedulable(message).withPlugin(plugin));
  }

  private finish(status: Status | null): boolean {
    if (this.settled) return false;
    this.settled = true;
    for (const timer of this.timers.values()) timer.abort();
    this.timers.clear();
    this.settle(status);
    return true;
  }
}

export class WaitingPods {
  private readonly pods = new Map<string, HeldPod>();

  constructor(private readonly clock: Clock) {}

  /** Holds the pod until every plugin in `waits` (plugin → timeout in ms) allows it. */
  add(pod: PodInfo, nodeName: string, waits: ReadonlyMap<string, number>): void {
    this.pods.set(pod.uid, new HeldPod(pod, nodeName, waits, this.clock));
  }

  get(uid: string): WaitingPod | undefined {
    return this.pods.get(uid);
  }

  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  /**
   * Waits for the pod's Permit outcome (null when allowed) and forgets it; null at once when it is not held.
   * Upstream WaitOnPermit.
   */
  async wait(uid: string): Promise<Status | null> {
    const held = this.pods.get(uid);
    if (!held) return null;
    try {
      return await held.outcome;
    } finally {
      this.pods.delete(uid);
    }
  }

  iterate(visit: (pod: WaitingPod) => void): void {
    for (const held of this.pods.values()) visit(held);
  }

  get size(): number {
    return this.pods.size;
  }
}
