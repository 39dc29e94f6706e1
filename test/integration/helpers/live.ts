// Shared helpers for the live-scheduler integration tests (test/integration/live*.test.ts): raw JSON access to the
// shared control plane, pod and node builders, events, polling with a deadline, and a strict Prometheus text parser.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../../../src/kube/api.js';
import { createFakeNodes, deleteNodes, type FakeNodeSpec } from '../../../tools/devcluster/index.js';
import { createKubeClient, type KubeClient } from '../../../src/adapters/live/kubeClient.js';

export const suffix = (): string => randomBytes(3).toString('hex');

/** Polls fn until it returns a value other than undefined; throws after timeoutMs (with the last value described). */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface EventV1 {
  metadata: { name: string; namespace: string };
  type: string;
  reason: string;
  action?: string;
  note?: string;
  reportingController?: string;
  reportingInstance?: string;
  regarding?: { kind?: string; name?: string; namespace?: string; uid?: string };
  series?: { count: number };
}

/** The Lease fields the leader-election tests read (times are RFC 3339 MicroTime strings). */
export interface LeaseV1 {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The test's view of the shared control plane: raw JSON requests (no Date conversions). */
export class Cluster {
  readonly kc: KubeConfig;
  readonly client: KubeClient;
  private readonly nodes: string[] = [];
  private readonly namespaces: string[] = [];

  constructor(readonly kubeconfigPath: string) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfigPath);
    this.client = createKubeClient(this.kc, { qps: 0, burst: 0 });
  }

  async req<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.client.request<T>(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  async createNamespace(name: string): Promise<void> {
    await this.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    this.namespaces.push(name);
  }

  async createNodes(specs: FakeNodeSpec[]): Promise<void> {
    this.nodes.push(...specs.map((s) => s.name));
    await createFakeNodes(this.kc, specs);
  }

  async createPod(pod: Pod): Promise<Pod> {
    const ns = pod.metadata?.namespace ?? 'default';
    return this.req<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, pod);
  }

  async getPod(ns: string, name: string): Promise<Pod> {
    return this.req<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
  }

  async listPods(ns: string): Promise<Pod[]> {
    return (await this.req<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).items;
  }

  async nodeCount(): Promise<number> {
    return (await this.req<{ items: unknown[] }>('GET', '/api/v1/nodes')).items.length;
  }

  async events(ns: string): Promise<EventV1[]> {
    return (await this.req<{ items: EventV1[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`)).items;
  }

  async lease(ns: string, name: string): Promise<LeaseV1 | undefined> {
    const res = await this.client.request<LeaseV1>('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`);
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw new Error(`GET lease ${ns}/${name}: HTTP ${res.status}`);
    return res.body as LeaseV1;
  }

  /** Waits until every named pod has spec.nodeName; returns name → node. */
  async waitBound(ns: string, names: string[], timeoutMs: number): Promise<Map<string, string>> {
    return waitFor(`${names.length} pods in ${ns} to be bound`, timeoutMs, async () => {
      const pods = await this.listPods(ns);
      const out = new Map<string, string>();
      for (const p of pods) if (p.spec?.nodeName && names.includes(p.metadata?.name ?? '')) out.set(p.metadata?.name ?? '', p.spec.nodeName);
      return out.size === names.length ? out : undefined;
    });
  }

  async cleanup(leases: Array<[string, string]> = []): Promise<void> {
    // No namespace controller runs in the test control plane: delete the pods themselves (at once), then the namespace.
    for (const ns of this.namespaces) {
      await this.client.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { gracePeriodSeconds: 0 } }).catch(() => undefined);
      await this.client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
    await deleteNodes(this.kc, this.nodes).catch(() => undefined);
    for (const [ns, name] of leases) {
      await this.client.request('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`).catch(() => undefined);
    }
    this.client.close();
  }
}

export function podScheduledCondition(pod: Pod): PodCondition | undefined {
  return (pod.status?.conditions as PodCondition[] | undefined)?.find((c) => c.type === 'PodScheduled');
}

export interface PodOptions {
  schedulerName: string;
  nodeSelector?: Record<string, string>;
  cpu?: string;
  memory?: string;
  image?: string;
  hostPort?: number;
  extended?: Record<string, string>;
  tolerations?: Array<Record<string, string>>;
  affinity?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export function pod(ns: string, name: string, o: PodOptions): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      schedulerName: o.schedulerName,
      terminationGracePeriodSeconds: 0,
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      containers: [
        {
          name: 'c',
          image: o.image ?? 'registry.k8s.io/pause:3.10',
          resources: { requests: { cpu: o.cpu ?? '100m', memory: o.memory ?? '64Mi', ...(o.extended ?? {}) }, ...(o.extended ? { limits: o.extended } : {}) },
          ...(o.hostPort ? { ports: [{ containerPort: o.hostPort, hostPort: o.hostPort, protocol: 'TCP' }] } : {}),
        },
      ],
    },
  } as Pod;
}

// ---------------------------------------------------------------- Prometheus text exposition

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL_RE = new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g');
// NaN in any case, as Prometheus' parser takes it: prom-client writes nodejs_eventloop_lag_mean_seconds as "Nan" before
// its first measurement.
const VALUE_RE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|[nN][aA][nN])$/;

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line is a HELP, a TYPE, a blank line or a sample; TYPE
 * comes before the samples of its family and at most once; samples belong to a declared family (with _bucket, _sum,
 * _count for histograms). Throws on the first line that does not fit.
 */
export function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) throw new Error(`bad comment at ${where}`);
      const [, kind, name = '', rest = ''] = m;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`bad metric name at ${where}`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type at ${where}`);
        if (types.has(name)) throw new Error(`duplicate TYPE at ${where}`);
        types.set(name, rest);
      }
      return;
    }
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`bad sample at ${where}`);
    const [, name = '', labelText = '', valueText = ''] = m;
    if (!VALUE_RE.test(valueText)) throw new Error(`bad value at ${where}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (type === undefined) throw new Error(`sample without a TYPE at ${where}`);
    if (family !== name && type !== 'histogram' && type !== 'summary') throw new Error(`suffixed sample of a ${type} at ${where}`);
    const labels: Record<string, string> = {};
    for (const lm of labelText.matchAll(LABEL_RE)) {
      const key = lm[1] ?? '';
      if (key in labels) throw new Error(`duplicate label ${key} at ${where}`);
      labels[key] = (lm[2] ?? '').replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: Number(valueText.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')) });
  });
  return { samples, types };
}

/** Samples of one metric whose labels include `match`. */
export function select(exp: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

export function sum(samples: Sample[]): number {
  return samples.reduce((a, s) => a + s.value, 0);
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

function histogram(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, c]) => c > 0)
    .map(([reason, c]) => `${c} ${reason}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(', ');
}

/**
 * The FailedScheduling message upstream writes, built by hand: "0/N nodes are available: <histogram>. preemption: 0/N
 * nodes are available: <preemption histogram>." Histogram entries are "<count> <reason>", sorted byte-wise as Go's
 * sort.Strings does (so "10 ..." sorts before "2 ...").
 */
export function failedSchedulingMessage(n: number, filter: Record<string, number>, preemption: Record<string, number>): string {
  return `0/${n} nodes are available: ${histogram(filter)}. preemption: 0/${n} nodes are available: ${histogram(preemption)}.`;
}

export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector";
export const PORTS_TAKEN = "node(s) didn't have free ports for the requested pod ports";

/** N from "0/N nodes are available: ...". */
export function nodesInMessage(message: string): number {
  const m = /^0\/(\d+) nodes are available: /.exec(message);
  if (!m) throw new Error(`not a FailedScheduling message: ${message}`);
  return Number(m[1]);
}

/** What a berth started in-process offers to wait on: its health server and its leader elector. */
interface StartedBerth {
  server: { address: string };
  elector: { isLeader(): boolean };
}

/** Waits until an in-process berth answers /readyz 200 and leads (generous: module loading is slow under load). */
export async function untilReadyAndLeading<B extends StartedBerth>(b: B, timeoutMs = 30_000): Promise<B> {
  await waitFor('berth to be ready and leading', timeoutMs, async () => {
    const r = await httpGet(`${b.server.address}/readyz`);
    return r.status === 200 && b.elector.isLeader() ? true : undefined;
  });
  return b;
}
