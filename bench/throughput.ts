/**
 * Live throughput benchmark: upstream kube-scheduler vs berth on one real control plane, shaped like
 * scheduler_perf's SchedulingBasic (test/integration/scheduler_perf/misc/performance-config.yaml).
 *
 * Nodes from scheduler_perf's node template (4 CPU, 32Gi, 110 pods, Ready); pods from its pod template (pause, one
 * container, containerPort 80, requests = limits = 100m / 500Mi). For each scheduler in turn (a fresh child process,
 * its own schedulerName and namespaces, client qps/burst 5000/5000, leader election off): create the init pods and
 * wait until they are bound, then start the 1-second throughput sampler and create the measured pods with a pool of
 * parallel creates while the scheduler runs, and wait until all are bound (scheduler_perf's createPods with
 * collectMetrics). Then every pod is force-deleted so the next scheduler finds the nodes as empty.
 *
 * The ceiling row: pods naming a scheduler nobody runs, bound by this process itself with berth's KubeClient and
 * berth's binding concurrency (16): the API server's own rate for Bindings on this machine.
 *
 *   npm run bench -- [--nodes 1000] [--pods 5000] [--init-pods N] [--large] [--only upstream,berth,ceiling] [--precreate]
 *                    [--create-concurrency 64] [--bind-concurrency 128] [--cpu-prof DIR] [--json FILE]
 *
 * --precreate: the measured pods are created while no scheduler runs, then a fresh scheduler process schedules them
 * (pure scheduling rate on a machine where pod creation would otherwise be the bottleneck; no latency column).
 *
 * Reports figures; asserts nothing about time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Pod } from '../src/kube/api.js';
import { ensureBinaries, findRepoRoot, startControlPlane, type ControlPlane } from '../tools/devcluster/index.js';
import { createObject, deleteAllPods, ensureNamespace, must } from '../tools/fidelity/kube.js';
import { PodWatch } from '../tools/fidelity/podWatch.js';
import { processCpuSeconds, processPeakRssBytes, startScheduler, type SchedulerKind } from '../tools/fidelity/schedulers.js';
import { createKubeClient, type KubeClient } from '../src/adapters/live/kubeClient.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    'init-pods': { type: 'string' },
    large: { type: 'boolean', default: false },
    only: { type: 'string', default: 'upstream,berth,ceiling' },
    qps: { type: 'string', default: '5000' },
    'create-concurrency': { type: 'string', default: '64' },
    'bind-concurrency': { type: 'string', default: '128' },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    precreate: { type: 'boolean', default: false },
  },
});

const nodeCount = Number(values.nodes ?? (values.large ? 5000 : 1000));
const podCount = Number(values.pods ?? (values.large ? 10000 : 5000));
// scheduler_perf's SchedulingBasic: 500 init pods at 500 nodes, 1000 at 5000 nodes.
const initPodCount = Number(values['init-pods'] ?? Math.min(nodeCount, 1000));
const qps = Number(values.qps);
const createConcurrency = Number(values['create-concurrency']);
const bindConcurrency = Number(values['bind-concurrency']);
const precreate = values.precreate;
const only = new Set(values.only.split(',').map((s) => s.trim()));
const log = (line: string): void => {
  if (!values.quiet) process.stderr.write(`[bench] ${line}\n`);
};

interface Row {
  name: 'upstream' | 'berth' | 'ceiling';
  measuredPods: number;
  /** scheduler_perf's SchedulingThroughput: 1-second samples, the first skipped. */
  podsPerSecond: { average: number; p50: number; p90: number; p99: number; samples: number };
  /** Measured pods / wall time from the first create to the last bound pod. */
  overallPodsPerSecond: number;
  /** Create response (client side) → bound event observed by the watch. */
  latencyMs: { p50: number; p99: number } | null;
  /** The scheduler process's CPU seconds during the measured phase, and in total. */
  cpuSeconds: number | null;
  cpuSecondsTotal: number | null;
  peakRssMb: number | null;
  /** Rate at which this process created the measured pods. */
  createPodsPerSecond: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil((sorted.length * p) / 100) - 1)] as number;
}

/** Runs `fn` over 0..n-1 with at most `concurrency` calls in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

function nodeManifest(i: number): Record<string, unknown> {
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

function podManifest(name: string, namespace: string, schedulerName: string): Pod {
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

const slim = (p: Pod): Pod => ({
  metadata: { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', uid: p.metadata?.uid ?? '' },
  spec: p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {},
});

/** Creates `count` pods with a pool of parallel POSTs; returns the creation rate and each pod's create time. */
async function createPods(client: KubeClient, namespace: string, prefix: string, schedulerName: string, count: number): Promise<{ rate: number; createdAt: Map<string, number> }> {
  const createdAt = new Map<string, number>();
  const t0 = performance.now();
  await pool(count, createConcurrency, async (i) => {
    const name = `${prefix}-${i}`;
    for (let attempt = 0; ; attempt++) {
      const res = await client.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: podManifest(name, namespace, schedulerName) });
      if (res.status < 300) break;
      if (res.status === 409) break;
      if (attempt > 20 || (res.status !== 429 && res.status < 500)) throw new Error(`create pod ${name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
    createdAt.set(`${namespace}/${name}`, Date.now());
  });
  const seconds = (performance.now() - t0) / 1000;
  return { rate: count / seconds, createdAt };
}

/** scheduler_perf's throughput collector over a bound-pod counter: 1 s ticks, first sample skipped, empty ticks folded. */
class ThroughputSampler {
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

  stop(): Row['podsPerSecond'] {
    if (this.timer) clearInterval(this.timer);
    const s = [...this.samples].sort((a, b) => a - b);
    const average = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
    return { average, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), samples: s.length };
  }
}

function latencies(createdAt: Map<string, number>, watch: PodWatch): Row['latencyMs'] {
  const l: number[] = [];
  for (const [key, t] of createdAt) {
    const b = watch.boundAt.get(key);
    if (b !== undefined) l.push(Math.max(0, b - t));
  }
  l.sort((a, b) => a - b);
  return { p50: percentile(l, 50), p99: percentile(l, 99) };
}

async function waitAllBound(watch: PodWatch, count: number, what: string): Promise<void> {
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

async function runScheduler(kind: SchedulerKind, cp: ControlPlane, client: KubeClient, dir: string): Promise<Row> {
  const schedulerName = `bench-${kind}`;
  const initNs = `${schedulerName}-init`;
  const ns = `${schedulerName}-measure`;
  await ensureNamespace(client, initNs);
  await ensureNamespace(client, ns);
  const profDir = values['cpu-prof'];
  if (profDir) mkdirSync(profDir, { recursive: true });
  const start = (): ReturnType<typeof startScheduler> =>
    startScheduler({
      kind,
      config: {},
      schedulerName,
      kubeconfigPath: cp.kubeconfigPath,
      binaries: cp.binaries,
      dir,
      qps,
      burst: qps,
      ...(kind === 'berth' ? { bindConcurrency } : {}),
      ...(kind === 'berth' && profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    });
  let sched = await start();
  try {
    log(`${kind}: ready (pid ${sched.process.pid}); ${initPodCount} init pods`);
    const initWatch = await PodWatch.start(client, { namespace: initNs, slim });
    await createPods(client, initNs, 'init', schedulerName, initPodCount);
    await waitAllBound(initWatch, initPodCount, `${kind} init pods`);
    await initWatch.stop();

    const watch = await PodWatch.start(client, { namespace: ns, slim });
    const sampler = new ThroughputSampler(() => watch.boundCount);
    let created: { rate: number; createdAt: Map<string, number> };
    let cpu0: number;
    let t0: number;
    if (precreate) {
      // Creation out of the way: the measured pods exist before a fresh scheduler process starts.
      await sched.stop();
      log(`${kind}: pre-creating ${podCount} measured pods (${createConcurrency} in flight) with no scheduler running`);
      created = await createPods(client, ns, 'pod', schedulerName, podCount);
      sampler.start();
      t0 = performance.now();
      sched = await start();
      cpu0 = processCpuSeconds(sched.process.pid);
      log(`${kind}: created at ${created.rate.toFixed(0)} pods/s; scheduler restarted (pid ${sched.process.pid})`);
    } else {
      cpu0 = processCpuSeconds(sched.process.pid);
      t0 = performance.now();
      sampler.start();
      log(`${kind}: creating ${podCount} measured pods (${createConcurrency} in flight)`);
      created = await createPods(client, ns, 'pod', schedulerName, podCount);
      log(`${kind}: created at ${created.rate.toFixed(0)} pods/s; ${watch.boundCount} bound so far`);
    }
    await waitAllBound(watch, podCount, `${kind} measured pods`);
    const wall = (performance.now() - t0) / 1000;
    const pps = sampler.stop();
    const pid = sched.process.pid;
    const cpu1 = processCpuSeconds(pid);
    const row: Row = {
      name: kind,
      measuredPods: podCount,
      podsPerSecond: pps,
      overallPodsPerSecond: podCount / wall,
      latencyMs: precreate ? null : latencies(created.createdAt, watch),
      cpuSeconds: cpu1 - cpu0,
      cpuSecondsTotal: cpu1,
      peakRssMb: processPeakRssBytes(pid) / 2 ** 20,
      createPodsPerSecond: created.rate,
    };
    await watch.stop();
    log(`${kind}: ${pps.average.toFixed(0)} pods/s average over ${pps.samples} samples; ${row.overallPodsPerSecond.toFixed(0)} pods/s overall`);
    return row;
  } finally {
    await sched.stop();
    await deleteAllPods(client, [initNs, ns], 10 * 60_000);
  }
}

/** The API server's own Binding rate: pods no scheduler serves, bound from here with berth's client and concurrency. */
async function runCeiling(cp: ControlPlane, client: KubeClient, nodeNames: string[]): Promise<Row> {
  const ns = 'bench-ceiling';
  await ensureNamespace(client, ns);
  const watch = await PodWatch.start(client, { namespace: ns, slim });
  try {
    log(`ceiling: creating ${podCount} pods for no scheduler`);
    const { rate } = await createPods(client, ns, 'pod', 'bench-nobody', podCount);
    const binder = createKubeClient(cp.kubeConfig, { qps, burst: qps, userAgent: 'berth-bench-binder' });
    const sampler = new ThroughputSampler(() => watch.boundCount);
    const started = new Map<string, number>();
    const t0 = performance.now();
    sampler.start();
    log(`ceiling: binding with ${bindConcurrency} in flight`);
    await pool(podCount, bindConcurrency, async (i) => {
      const name = `pod-${i}`;
      const node = nodeNames[i % nodeNames.length] as string;
      started.set(`${ns}/${name}`, Date.now());
      await must(
        `bind ${name}`,
        binder.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        }),
      );
    });
    await waitAllBound(watch, podCount, 'ceiling bindings');
    const wall = (performance.now() - t0) / 1000;
    binder.close();
    return {
      name: 'ceiling',
      measuredPods: podCount,
      podsPerSecond: sampler.stop(),
      overallPodsPerSecond: podCount / wall,
      latencyMs: latencies(started, watch),
      cpuSeconds: null,
      cpuSecondsTotal: null,
      peakRssMb: null,
      createPodsPerSecond: rate,
    };
  } finally {
    await watch.stop();
    await deleteAllPods(client, [ns], 10 * 60_000);
  }
}

function machine(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return { nproc: cpus().length, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, cpuModel: model, node: process.version };
}

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined ? '-' : n.toFixed(digits);
}

export function renderTable(rows: Row[]): string {
  const header = ['', 'pods/s avg', 'p50', 'p90', 'p99', 'overall', 'lat p50 ms', 'lat p99 ms', 'CPU s', 'peak RSS MB', 'create/s'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.podsPerSecond.average),
    fmt(r.podsPerSecond.p50),
    fmt(r.podsPerSecond.p90),
    fmt(r.podsPerSecond.p99),
    fmt(r.overallPodsPerSecond),
    fmt(r.latencyMs?.p50),
    fmt(r.latencyMs?.p99),
    fmt(r.cpuSeconds, 1),
    fmt(r.peakRssMb),
    fmt(r.createPodsPerSecond),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(header), ...body.map(line)];
  const u = rows.find((r) => r.name === 'upstream');
  const b = rows.find((r) => r.name === 'berth');
  const c = rows.find((r) => r.name === 'ceiling');
  const ratio = (x: number, y: number): string => (y > 0 ? (x / y).toFixed(2) : '-');
  if (u && b) out.push(`berth/upstream: ${ratio(b.podsPerSecond.average, u.podsPerSecond.average)}× (average pods/s), ${ratio(b.overallPodsPerSecond, u.overallPodsPerSecond)}× (overall)`);
  if (c && b) out.push(`berth/ceiling:  ${ratio(b.podsPerSecond.average, c.podsPerSecond.average)} (average pods/s)`);
  if (c && u) out.push(`upstream/ceiling: ${ratio(u.podsPerSecond.average, c.podsPerSecond.average)} (average pods/s)`);
  return out.join('\n');
}

async function main(): Promise<void> {
  const binaries = await ensureBinaries({ log });
  const cp = await startControlPlane({
    binaries,
    log,
    extraApiServerArgs: ['--max-requests-inflight=4000', '--max-mutating-requests-inflight=2000'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const client = createKubeClient(cp.kubeConfig, { qps: 0, burst: 0, maxSockets: Math.max(100, createConcurrency), userAgent: 'berth-bench' });
  const rows: Row[] = [];
  const t0 = Date.now();
  const loadStart = loadavg();
  try {
    log(`creating ${nodeCount} nodes`);
    const nodeNames: string[] = [];
    await pool(nodeCount, 32, async (i) => {
      const n = nodeManifest(i);
      await createObject(client, n);
      nodeNames.push((n['metadata'] as { name: string }).name);
    });
    nodeNames.sort();
    for (const kind of ['upstream', 'berth'] as const) if (only.has(kind)) rows.push(await runScheduler(kind, cp, client, dir));
    if (only.has('ceiling')) rows.push(await runCeiling(cp, client, nodeNames));
  } finally {
    client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const version = binaries.binDir.split('/').at(-2) ?? 'unknown';
  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    kubernetes: version,
    loadAverage: { start: loadStart, end: loadavg() },
    params: { precreate, nodes: nodeCount, initPods: initPodCount, measuredPods: podCount, qps, burst: qps, createConcurrency, bindConcurrency },
    rows,
    wallSeconds: (Date.now() - t0) / 1000,
  };
  process.stdout.write(`\nSchedulingBasic-like: ${nodeCount} nodes, ${initPodCount} init + ${podCount} measured pods (${report.machine['nproc']} CPUs, ${version})\n`);
  process.stdout.write(`${renderTable(rows)}\n`);
  const jsonPath = values.json ?? join(findRepoRoot(), 'bench', 'results', `throughput-${report.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`wrote ${jsonPath}\n`);
}

await main();
