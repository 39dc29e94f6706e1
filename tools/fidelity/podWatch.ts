/**
 * A watch-fed view of pods (all namespaces or one), keeping each pod's latest state and the time a watch event
 * first showed it bound. Used by the fidelity harness (outcome of each pod) and the throughput benchmark (bound
 * counts and creation → bound latency).
 */
import type { Pod } from '../../src/kube/api.js';
import { isStatus, type KubeClient, type WatchEvent } from '../../src/adapters/live/kubeClient.js';
import { must } from './kube.js';

export interface PodWatchOptions {
  /** Namespace to watch; all namespaces when omitted. */
  namespace?: string;
  /** Keep only these fields of each pod (the benchmark keeps memory low); default the whole object. */
  slim?: (pod: Pod) => Pod;
  /** Called on every pod change, after the view was updated. */
  onPod?: (pod: Pod, type: 'ADDED' | 'MODIFIED' | 'DELETED') => void;
}

export function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

export class PodWatch {
  readonly pods = new Map<string, Pod>();
  /** Wall-clock ms at which the watch first delivered the pod with spec.nodeName set. */
  readonly boundAt = new Map<string, number>();
  boundCount = 0;
  private readonly abort = new AbortController();
  private waiters = new Set<() => void>();
  private running: Promise<void> | undefined;
  private rv = '';

  private constructor(
    private readonly client: KubeClient,
    private readonly opts: PodWatchOptions,
  ) {}

  private get path(): string {
    return this.opts.namespace ? `/api/v1/namespaces/${this.opts.namespace}/pods` : '/api/v1/pods';
  }

  /** Lists, then watches until stop(). Resolves once the initial list is in. */
  static async start(client: KubeClient, opts: PodWatchOptions = {}): Promise<PodWatch> {
    const w = new PodWatch(client, opts);
    await w.relist();
    w.running = w.loop();
    return w;
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: Pod): void {
    const pod = this.opts.slim ? this.opts.slim(raw) : raw;
    const key = podKey(pod);
    if (type === 'DELETED') {
      if (this.pods.get(key)?.spec?.nodeName) this.boundCount--;
      this.pods.delete(key);
      this.boundAt.delete(key);
    } else {
      const old = this.pods.get(key);
      if (old?.spec?.nodeName) this.boundCount--;
      this.pods.set(key, pod);
      if (pod.spec?.nodeName) {
        this.boundCount++;
        if (!this.boundAt.has(key)) this.boundAt.set(key, Date.now());
      }
    }
    this.opts.onPod?.(pod, type);
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) w();
  }

  private async relist(): Promise<void> {
    const body = await must<{ items?: Pod[]; metadata?: { resourceVersion?: string } }>(
      `list ${this.path}`,
      this.client.request('GET', this.path, { timeoutMs: 120_000, protobuf: true }),
    );
    const seen = new Set<string>();
    for (const p of body.items ?? []) {
      seen.add(podKey(p));
      this.apply(this.pods.has(podKey(p)) ? 'MODIFIED' : 'ADDED', p);
    }
    for (const [key, p] of [...this.pods]) if (!seen.has(key)) this.apply('DELETED', p);
    this.rv = body.metadata?.resourceVersion ?? '';
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let gone = false;
      const end = await this.client.watch(
        this.path,
        { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: 600 },
        (ev: WatchEvent) => {
          if (ev.type === 'ERROR') {
            if (isStatus(ev.object) && ev.object.code === 410) gone = true;
            return;
          }
          const obj = ev.object as Pod;
          const rv = obj.metadata?.resourceVersion;
          if (rv) this.rv = rv;
          if (ev.type !== 'BOOKMARK') this.apply(ev.type, obj);
        },
        this.abort.signal,
        // Pods have a protobuf type: a client created with protobuf shares the encoding the schedulers' watches get.
        { protobuf: true },
      );
      if (this.abort.signal.aborted) return;
      if (gone || end.reason === 'status') {
        await new Promise((r) => setTimeout(r, 100));
        try {
          await this.relist();
        } catch {
          // retried on the next round
        }
      }
    }
  }

  /** Resolves with the first non-undefined value of `probe`, re-evaluated on every pod change. */
  waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = probe();
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        const v = probe();
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else {
          this.waiters.add(check);
        }
      };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
