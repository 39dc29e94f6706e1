/**
 * The benchmark's objects and load generators: scheduler_perf's SchedulingBasic node and pod templates, a bounded
 * pool of parallel calls, pod creation, and the 1-second throughput sampler scheduler_perf uses.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { Pod } from '../../src/kube/api.js';
import { type KubeClient, WireBody } from '../../src/adapters/live/kubeClient.js';
import { encodeObject } from '../../src/adapters/live/proto/codec.js';
import { PodSchema } from '../../src/adapters/live/proto/gen/k8s.io/api/core/v1/generated_pb.js';
import type { PodWatch } from '../../tools/fidelity/podWatch.js';
import { percentile } from './stats.js';

/** Runs `fn` over 0..n-1 with at most `concurrency` calls in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

export function nodeManifest(i: number): Record<string, unknown> {
  const name = `scheduler-perf-${i}`;
  const resources = { pods: '110', cpu: '4', memory: '32Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench node' }],
      phase: 'Running',
    },
  };
}

export function podManifest(name: string, namespace: string, schedulerName: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      schedulerName,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.10.2',
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } },
        },
      ],
    } as Pod['spec'],
  };
}

/**
 * The same pod as a request body that goes as protobuf when the client speaks it: the API server decodes a JSON
 * create at several times the cost, and the controllers that create pods in a real cluster (ReplicaSet, Job) send
 * protobuf, so a JSON creator would charge both arms' control plane for work no scheduler causes.
 */
export function podBody(name: string, namespace: string, schedulerName: string): WireBody {
  return new WireBody(podManifest(name, namespace, schedulerName), () => {
    const quantities = { cpu: { string: '100m' }, memory: { string: '500Mi' } };
    const pod = create(PodSchema, {
      metadata: { name, namespace },
      spec: {
        schedulerName,
        terminationGracePeriodSeconds: 0n,
        containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10.2', ports: [{ containerPort: 80 }], resources: { limits: quantities, requests: quantities } }],
      },
    });
    return encodeObject('v1', 'Pod', toBinary(PodSchema, pod));
  });
}

/** What the benchmark's pod watch keeps of a pod: its key and whether it is bound. */
export const slimForWatch = (p: Pod): Pod => ({
  metadata: { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', uid: p.metadata?.uid ?? '' },
  spec: p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {},
});

export interface Created {
  rate: number;
  createdAt: Map<string, number>;
}

/** Creates `count` pods with a pool of parallel POSTs; returns the creation rate and each pod's create time. */
export async function createPods(
  client: KubeClient,
  namespace: string,
  prefix: string,
  schedulerName: string,
  count: number,
  concurrency: number,
  /** Open-loop pacing: pod i is sent no earlier than i / ratePerSecond seconds after the start (0: as fast as possible). */
  ratePerSecond = 0,
): Promise<Created> {
  const createdAt = new Map<string, number>();
  const t0 = performance.now();
  await pool(count, concurrency, async (i) => {
    const name = `${prefix}-${i}`;
    const early = ratePerSecond > 0 ? t0 + (i * 1000) / ratePerSecond - performance.now() : 0;
    if (early > 0) await new Promise((r) => setTimeout(r, early));
    for (let attempt = 0; ; attempt++) {
      const res = await client.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
        body: podBody(name, namespace, schedulerName),
        protobuf: true,
        discardSuccessBody: true,
      });
      if (res.status < 300 || res.status === 409) break;
      if (attempt > 20 || (res.status !== 429 && res.status < 500)) throw new Error(`create pod ${name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
    createdAt.set(`${namespace}/${name}`, Date.now());
  });
  return { rate: count / ((performance.now() - t0) / 1000), createdAt };
}

export interface Throughput {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}

/** scheduler_perf's throughput collector over a bound-pod counter: 1 s ticks, first sample skipped, empty ticks folded. */
export class ThroughputSampler {
  readonly samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private last = 0;
  private lastAt = 0;
  private skipped = 0;

  constructor(private readonly count: () => number) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), 1000);
  }

  private tick(): void {
    const now = performance.now();
    const scheduled = this.count();
    if (scheduled === 0) return;
    if (!this.started) {
      this.started = true;
      this.last = scheduled;
      this.lastAt = now;
      return;
    }
    const delta = scheduled - this.last;
    if (delta === 0) {
      this.skipped++;
      return;
    }
    const rate = delta / ((now - this.lastAt) / 1000);
    for (let i = 0; i <= this.skipped; i++) this.samples.push(rate);
    this.skipped = 0;
    this.last = scheduled;
    this.lastAt = now;
  }

  stop(): Throughput {
    if (this.timer) clearInterval(this.timer);
    const s = [...this.samples].sort((a, b) => a - b);
    const average = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
    return { average, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), samples: s.length };
  }
}

/** Creation (or bind start) → bound, from the watch, in ms. */
export function latencies(createdAt: Map<string, number>, watch: PodWatch): { p50: number; p99: number } {
  const l: number[] = [];
  for (const [key, t] of createdAt) {
    const b = watch.boundAt.get(key);
    if (b !== undefined) l.push(Math.max(0, b - t));
  }
  l.sort((a, b) => a - b);
  return { p50: percentile(l, 50), p99: percentile(l, 99) };
}

/** Waits until `count` pods are bound; fails after 120 s without progress. */
export async function waitAllBound(watch: PodWatch, count: number, what: string): Promise<void> {
  let lastProgress = Date.now();
  let lastCount = -1;
  while (watch.boundCount < count) {
    if (watch.boundCount !== lastCount) {
      lastCount = watch.boundCount;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > 120_000) throw new Error(`${what}: no progress for 120 s at ${watch.boundCount}/${count}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Force-deletes every pod in the namespaces and waits until none is left. A collection delete of thousands of pods
 * can outlast the API server's request timeout on a loaded machine (it keeps deleting): such a timeout is retried.
 */
export async function deletePods(client: KubeClient, namespaces: string[], timeoutMs = 20 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const ns of namespaces) {
    for (;;) {
      let outcome: string;
      try {
        const res = await client.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { gracePeriodSeconds: 0 }, timeoutMs: 5 * 60_000 });
        outcome = `HTTP ${res.status}`;
      } catch (err) {
        outcome = (err as Error).message; // the API server dropped a long delete: it goes on, and so do we
      }
      const left = await client.request<{ items?: unknown[] }>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { limit: 1 } });
      const items = left.status === 200 ? ((left.body as { items?: unknown[] }).items ?? []) : [];
      if (left.status === 404 || (left.status === 200 && items.length === 0)) break;
      if (Date.now() > deadline) throw new Error(`pods in ${ns} still present after ${timeoutMs} ms (last delete: ${outcome})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The run's Scheduled events too: left behind, they grow the API server's heap and watch cache run after run, and
    // the later arm of every pair paid for it (docs/benchmarks.md, "Arm order").
    await client.request('DELETE', `/api/v1/namespaces/${ns}/events`, { timeoutMs: 5 * 60_000 }).catch(() => undefined);
  }
}
