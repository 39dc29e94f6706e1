/**
 * Live throughput benchmark: upstream kube-scheduler vs berth on one real control plane, shaped like
 * scheduler_perf's SchedulingBasic (test/integration/scheduler_perf/misc/performance-config.yaml). See
 * docs/benchmarks.md for the method and the figures.
 *
 * Arms run interleaved, in the given order in odd repetitions and reversed in even ones (upstream, berth, ceiling,
 * ceiling, berth, upstream, …; `--pairs` repetitions, default 3), each on fresh namespaces with a fresh scheduler
 * process, so that drifting load on a shared machine, and state the control plane accumulates, spread over every
 * arm. `--warmup` runs (default 1, the first arm) go before them, recorded apart and not counted: the first run on
 * a new control plane is cheaper for it than any later one. Per run: pods/s (scheduler_perf's 1-second samples),
 * latency, and the costs of the measured window — CPU seconds of kube-apiserver, etcd and the scheduler (/proc), the
 * API server's request counts by verb (apiserver_request_total), bytes on the scheduler's connections (ss), the load
 * average. Per arm: medians and spread; against the first arm: per-pair ratios, their median and spread.
 *
 * The flags: USAGE below (`npm run bench -- --help`).
 *
 * --arms: ';'-separated arms, each `kind` or `name=kind [flags…]`. Kinds: upstream, berth (flags go to `berth run`,
 * e.g. 'json=berth --api-content-type json'), ceiling (the benchmark binds each pod and writes its Scheduled event
 * itself, with berth's client at --bind-concurrency: the API server's limit for a scheduler that writes what
 * upstream writes) and ceiling-bind (Bindings only). Ratios are against the first arm.
 * A berth arm's `--entry=PATH` runs that build's dist/src/cli/main.js instead of this checkout's (A/B of two commits:
 * 'base=berth --entry=/tmp/base/dist/src/cli/main.js;head=berth'); its `--node=FLAG` goes to node (V8 flags).
 * --precreate: the measured pods exist before a fresh scheduler process starts (pure scheduling rate).
 * --create-rate N: without --precreate, create the measured pods at N per second (open loop) rather than as fast as
 *   the API server takes them, so both schedulers get the same arrivals and their latencies compare.
 * --keep-logs DIR: copy the schedulers' logs and configurations there before the run's files are removed.
 *
 * Reports figures; asserts nothing about time.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBinaries, findRepoRoot, startControlPlane, type ControlPlane } from '../tools/devcluster/index.js';
import { createObject, ensureNamespace, must } from '../tools/fidelity/kube.js';
import { PodWatch } from '../tools/fidelity/podWatch.js';
import { processPeakRssBytes, startScheduler, type SchedulerProcess } from '../tools/fidelity/schedulers.js';
import { createKubeClient, type KubeClient, type KubeClientOptions } from '../src/adapters/live/kubeClient.js';
import { transportOptionsFromArgs } from '../src/adapters/live/transportFlags.js';
import { getRaw } from './lib/apiMetrics.js';
import { type Arm, type ArmKind, parseArms } from './lib/arms.js';
import { CostWindow, requestsSince, type WindowCosts } from './lib/costWindow.js';
import { cpuSeconds } from './lib/procStats.js';
import { median, spread, type Spread } from './lib/stats.js';
import { createPods, deletePods, latencies, nodeManifest, pool, slimForWatch, ThroughputSampler, type Throughput, waitAllBound } from './lib/workload.js';

/** What `--help` and a bad flag print. */
const USAGE = `usage: npm run bench -- [--nodes 1000] [--pods 5000] [--init-pods N] [--large] [--pairs 3] [--warmup 1] [--precreate]
         [--arms 'upstream;berth;ceiling'] [--create-concurrency 64] [--create-rate 0] [--bind-concurrency 128]
         [--cpu-prof DIR] [--apiserver-pprof DIR] [--pprof-seconds 20] [--keep-logs DIR] [--json FILE]
         [--qps 5000] [--idle-seconds 10] [--quiet]
arms: 'NAME=KIND FLAGS…;…', kinds upstream, berth, ceiling, ceiling-bind; a berth arm's --entry=PATH runs that build,
its --node=FLAG goes to node
(docs/benchmarks.md explains the arms, the modes and the figures)
`;

const OPTIONS = {
  help: { type: 'boolean', default: false },
  nodes: { type: 'string' },
  pods: { type: 'string' },
  'init-pods': { type: 'string' },
  large: { type: 'boolean', default: false },
  pairs: { type: 'string', default: '3' },
  warmup: { type: 'string', default: '1' },
  arms: { type: 'string', default: 'upstream;berth;ceiling' },
  qps: { type: 'string', default: '5000' },
  'create-concurrency': { type: 'string', default: '64' },
  'bind-concurrency': { type: 'string', default: '128' },
  'cpu-prof': { type: 'string' },
  'apiserver-pprof': { type: 'string' },
  'pprof-seconds': { type: 'string', default: '20' },
  'idle-seconds': { type: 'string', default: '10' },
  'keep-logs': { type: 'string' },
  'create-rate': { type: 'string', default: '0' },
  json: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  precreate: { type: 'boolean', default: false },
} as const;

/** The flags; a bad one ends the run with the usage (exit 2) rather than a stack trace. */
function parseFlags(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>> {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const { values } = parseFlags();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const nodeCount = Number(values.nodes ?? (values.large ? 5000 : 1000));
const podCount = Number(values.pods ?? (values.large ? 10000 : 5000));
// scheduler_perf's SchedulingBasic: 500 init pods at 500 nodes, 1000 at 5000 nodes.
const initPodCount = Number(values['init-pods'] ?? Math.min(nodeCount, 1000));
const pairs = Number(values.pairs);
const warmups = Number(values.warmup);
if (!Number.isSafeInteger(pairs) || pairs < 1 || !Number.isSafeInteger(warmups) || warmups < 0) {
  process.stderr.write(`--pairs must be a whole number of at least 1 and --warmup of at least 0\n${USAGE}`);
  process.exit(2);
}
const qps = Number(values.qps);
const createConcurrency = Number(values['create-concurrency']);
/** Pods per second the measured pods are created at in the created-while-scheduling mode (0: as fast as the API server takes them). */
const createRate = Number(values['create-rate']);
const bindConcurrency = Number(values['bind-concurrency']);
const precreate = values.precreate;
const pprofDir = values['apiserver-pprof'];
const pprofSeconds = Number(values['pprof-seconds']);
const log = (line: string): void => {
  if (!values.quiet) process.stderr.write(`[bench] ${line}\n`);
};

interface RunResult {
  arm: string;
  kind: ArmKind;
  rep: number;
  measuredPods: number;
  /** scheduler_perf's SchedulingThroughput: 1-second samples, the first skipped. */
  podsPerSecond: Throughput;
  /** Measured pods / the measured window's wall time. */
  overallPodsPerSecond: number;
  /** Create response (client side) → bound event observed by the watch; bind start → bound for ceilings. */
  latencyMs: { p50: number; p99: number } | null;
  costs: WindowCosts;
  /** The scheduler's CPU seconds from readiness to the end of the window (without process start-up). */
  schedulerCpuAfterReady: number | null;
  peakRssMb: number | null;
  /** Rate at which the benchmark created the measured pods. */
  createPodsPerSecond: number;
}

/** The profile of the API server over the first `pprofSeconds` of a window, saved as DIR/<arm>-<rep>.pb.gz. */
function startApiServerProfile(cp: ControlPlane, arm: string, rep: number): Promise<void> {
  if (!pprofDir || rep <= 0) return Promise.resolve(); // warm-up runs (rep 0, -1, …) are not profiled
  mkdirSync(pprofDir, { recursive: true });
  return getRaw(cp, `/debug/pprof/profile?seconds=${pprofSeconds}`, (pprofSeconds + 60) * 1000)
    .then((b) => writeFileSync(join(pprofDir, `${arm}-${rep}.pb.gz`), b))
    .catch((err: unknown) => log(`apiserver profile for ${arm} #${rep} failed: ${(err as Error).message}`));
}

async function finishWindow(
  cp: ControlPlane,
  window: CostWindow,
  stopScheduler: () => Promise<void>,
  benchCreates: number,
): Promise<WindowCosts> {
  const closed = await window.close();
  await stopScheduler();
  const exclude: Record<string, number> = benchCreates > 0 ? { 'POST pods': benchCreates } : {};
  const { requests0, ...rest } = closed;
  return { ...rest, requests: await requestsSince(cp, requests0, exclude) };
}

async function runScheduler(arm: Arm, rep: number, cp: ControlPlane, client: KubeClient, dir: string): Promise<RunResult> {
  const kind = arm.kind as 'upstream' | 'berth';
  const schedulerName = `bench-${arm.name}-${rep}`;
  const initNs = `${schedulerName}-init`;
  const ns = `${schedulerName}-measure`;
  await ensureNamespace(client, initNs);
  await ensureNamespace(client, ns);
  const profDir = rep > 0 ? values['cpu-prof'] : undefined; // warm-up runs are not profiled
  if (profDir) mkdirSync(profDir, { recursive: true });
  const start = (): Promise<SchedulerProcess> =>
    startScheduler({
      kind,
      config: {},
      schedulerName,
      kubeconfigPath: cp.kubeconfigPath,
      binaries: cp.binaries,
      dir,
      qps,
      burst: qps,
      ...(kind === 'berth' ? { bindConcurrency, ...berthEntryAndArgs(arm.args, profDir) } : {}),
    });
  let sched = await start();
  let stopped = false;
  const stopSched = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await sched.stop();
  };
  try {
    log(`${arm.name} #${rep}: ready (pid ${sched.process.pid}); ${initPodCount} init pods`);
    const initWatch = await PodWatch.start(client, { namespace: initNs, slim: slimForWatch });
    await createPods(client, initNs, 'init', schedulerName, initPodCount, createConcurrency);
    await waitAllBound(initWatch, initPodCount, `${arm.name} init pods`);
    await initWatch.stop();

    const watch = await PodWatch.start(client, { namespace: ns, slim: slimForWatch });
    const sampler = new ThroughputSampler(() => watch.boundCount);
    let created: Awaited<ReturnType<typeof createPods>>;
    let window: CostWindow;
    let readyCpu: number;
    let profile: Promise<void>;
    let t0: number;
    if (precreate) {
      // Creation out of the way: the measured pods exist before a fresh scheduler process starts.
      await stopSched();
      log(`${arm.name} #${rep}: pre-creating ${podCount} measured pods (${createConcurrency} in flight) with no scheduler running`);
      created = await createPods(client, ns, 'pod', schedulerName, podCount, createConcurrency);
      window = await CostWindow.open(cp);
      profile = startApiServerProfile(cp, arm.name, rep);
      sampler.start();
      t0 = performance.now();
      sched = await start();
      stopped = false;
      readyCpu = cpuSeconds(sched.process.pid);
      await window.attach(sched.process.pid, true);
      log(`${arm.name} #${rep}: created at ${created.rate.toFixed(0)} pods/s; scheduler restarted (pid ${sched.process.pid})`);
    } else {
      window = await CostWindow.open(cp);
      readyCpu = cpuSeconds(sched.process.pid);
      await window.attach(sched.process.pid, false);
      profile = startApiServerProfile(cp, arm.name, rep);
      t0 = performance.now();
      sampler.start();
      log(`${arm.name} #${rep}: creating ${podCount} measured pods (${createConcurrency} in flight)`);
      created = await createPods(client, ns, 'pod', schedulerName, podCount, createConcurrency, createRate);
      log(`${arm.name} #${rep}: created at ${created.rate.toFixed(0)} pods/s; ${watch.boundCount} bound so far`);
    }
    await waitAllBound(watch, podCount, `${arm.name} measured pods`);
    const wall = (performance.now() - t0) / 1000;
    const pps = sampler.stop();
    const pid = sched.process.pid;
    const schedulerCpuAfterReady = cpuSeconds(pid) - readyCpu;
    const peakRssMb = processPeakRssBytes(pid) / 2 ** 20;
    const costs = await finishWindow(cp, window, stopSched, precreate ? 0 : podCount);
    await watch.stop();
    await profile;
    const result: RunResult = {
      arm: arm.name,
      kind: arm.kind,
      rep,
      measuredPods: podCount,
      podsPerSecond: pps,
      overallPodsPerSecond: podCount / wall,
      latencyMs: precreate ? null : latencies(created.createdAt, watch),
      costs,
      schedulerCpuAfterReady,
      peakRssMb,
      createPodsPerSecond: created.rate,
    };
    log(`${arm.name} #${rep}: ${pps.average.toFixed(0)} pods/s average, ${result.overallPodsPerSecond.toFixed(0)} overall; ${costLine(result)}`);
    return result;
  } finally {
    await stopSched();
    await deletePods(client, [initNs, ns]);
  }
}

/** A plain client's own limit: bind every pod (and, for 'ceiling', write its Scheduled event) at bindConcurrency. */
async function runCeiling(arm: Arm, rep: number, cp: ControlPlane, client: KubeClient, nodeNames: string[]): Promise<RunResult> {
  const ns = `bench-${arm.name}-${rep}`;
  const withEvents = arm.kind === 'ceiling';
  await ensureNamespace(client, ns);
  const watch = await PodWatch.start(client, { namespace: ns, slim: slimForWatch });
  try {
    log(`${arm.name} #${rep}: creating ${podCount} pods for no scheduler`);
    const { rate } = await createPods(client, ns, 'pod', 'bench-nobody', podCount, createConcurrency);
    const binder = createKubeClient(cp.kubeConfig, { qps, burst: qps, userAgent: 'berth-bench-binder', ...ceilingTransport(arm) });
    const sampler = new ThroughputSampler(() => watch.boundCount);
    const started = new Map<string, number>();
    const window = await CostWindow.open(cp);
    const profile = startApiServerProfile(cp, arm.name, rep);
    const t0 = performance.now();
    sampler.start();
    log(`${arm.name} #${rep}: binding${withEvents ? ' and writing a Scheduled event' : ''} with ${bindConcurrency} in flight`);
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
      if (withEvents) await must(`event for ${name}`, binder.request('POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, { body: scheduledEvent(ns, name, node) }));
    });
    await waitAllBound(watch, podCount, `${arm.name} bindings`);
    const wall = (performance.now() - t0) / 1000;
    const costs = await finishWindow(cp, window, async () => binder.close(), 0);
    await profile;
    const result: RunResult = {
      arm: arm.name,
      kind: arm.kind,
      rep,
      measuredPods: podCount,
      podsPerSecond: sampler.stop(),
      overallPodsPerSecond: podCount / wall,
      latencyMs: latencies(started, watch),
      costs,
      schedulerCpuAfterReady: null,
      peakRssMb: null,
      createPodsPerSecond: rate,
    };
    log(`${arm.name} #${rep}: ${result.podsPerSecond.average.toFixed(0)} pods/s average; ${costLine(result)}`);
    return result;
  } finally {
    await watch.stop();
    await deletePods(client, [ns]);
  }
}

function ceilingTransport(arm: Arm): Partial<KubeClientOptions> {
  return transportOptionsFromArgs(arm.args);
}

/** The events.k8s.io/v1 Event kube-scheduler writes for a bound pod. */
function scheduledEvent(namespace: string, name: string, node: string): Record<string, unknown> {
  const now = `${new Date().toISOString().slice(0, 23)}000Z`;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${name}.${Math.random().toString(16).slice(2, 18)}`, namespace },
    eventTime: now,
    reportingController: 'bench-ceiling',
    reportingInstance: 'bench-ceiling-1',
    action: 'Binding',
    reason: 'Scheduled',
    note: `Successfully assigned ${namespace}/${name} to ${node}`,
    type: 'Normal',
    regarding: { apiVersion: 'v1', kind: 'Pod', namespace, name },
  };
}

// ---------------------------------------------------------------- figures

const per1000 = (r: RunResult, cpu: number | null): number => (cpu === null ? Number.NaN : (cpu * 1000) / r.measuredPods);
const controlPlaneCpu = (r: RunResult): number => r.costs.cpuSeconds.apiserver + r.costs.cpuSeconds.etcd;
/** How much of the machine's CPU (every core) was busy in the run's window. */
const busyPercent = (r: RunResult): number => (100 * r.costs.cpuSeconds.machine) / (r.costs.seconds * cpus().length);
const requestsTotal = (r: RunResult): number => Object.values(r.costs.requests).reduce((a, b) => a + b, 0);

function costLine(r: RunResult): string {
  const c = r.costs.cpuSeconds;
  return (
    `CPU s/1000 pods: apiserver ${per1000(r, c.apiserver).toFixed(2)}, etcd ${per1000(r, c.etcd).toFixed(2)}, ` +
    `scheduler ${per1000(r, c.scheduler).toFixed(2)}, benchmark ${per1000(r, c.bench).toFixed(2)}; machine ${busyPercent(r).toFixed(0)} % busy; ` +
    `${(requestsTotal(r) / r.measuredPods).toFixed(2)} requests/pod; load ${r.costs.loadAverage.start[0]?.toFixed(1)}`
  );
}

interface ArmSummary {
  arm: string;
  runs: number;
  podsPerSecond: Spread;
  overallPodsPerSecond: Spread;
  latencyP99Ms: Spread | null;
  cpuPer1000Pods: { apiserver: Spread; etcd: Spread; controlPlane: Spread; scheduler: Spread; total: Spread; bench: Spread };
  requestsPerPod: { total: Spread; byVerb: Record<string, number> };
  kbPerPod: { received: Spread; sent: Spread } | null;
  /** Per-pair ratios against the first arm (same repetition). */
  vsFirst: { arm: string; podsPerSecond: Spread; overallPodsPerSecond: Spread; controlPlaneCpu: Spread; totalCpu: Spread } | null;
}

function summarize(arms: Arm[], runs: RunResult[]): ArmSummary[] {
  const first = arms[0] as Arm;
  const byRep = (arm: string, rep: number): RunResult | undefined => runs.find((r) => r.arm === arm && r.rep === rep);
  return arms.map((arm): ArmSummary => {
    const rs = runs.filter((r) => r.arm === arm.name);
    const keys = new Set(rs.flatMap((r) => Object.keys(r.costs.requests)));
    const byVerb: Record<string, number> = {};
    for (const k of keys) byVerb[k] = median(rs.map((r) => (r.costs.requests[k] ?? 0) / r.measuredPods));
    const sorted = Object.fromEntries(Object.entries(byVerb).sort((a, b) => b[1] - a[1]));
    const total = (r: RunResult): number => controlPlaneCpu(r) + (r.costs.cpuSeconds.scheduler ?? 0);
    const ratios = (f: (r: RunResult) => number): Spread =>
      spread(rs.map((r) => {
        const base = byRep(first.name, r.rep);
        return base ? f(r) / f(base) : Number.NaN;
      }));
    const withBytes = rs.filter((r) => r.costs.bytes !== null);
    return {
      arm: arm.name,
      runs: rs.length,
      podsPerSecond: spread(rs.map((r) => r.podsPerSecond.average)),
      overallPodsPerSecond: spread(rs.map((r) => r.overallPodsPerSecond)),
      latencyP99Ms: rs.every((r) => r.latencyMs) ? spread(rs.map((r) => r.latencyMs?.p99 ?? Number.NaN)) : null,
      cpuPer1000Pods: {
        apiserver: spread(rs.map((r) => per1000(r, r.costs.cpuSeconds.apiserver))),
        etcd: spread(rs.map((r) => per1000(r, r.costs.cpuSeconds.etcd))),
        controlPlane: spread(rs.map((r) => per1000(r, controlPlaneCpu(r)))),
        scheduler: spread(rs.map((r) => per1000(r, r.costs.cpuSeconds.scheduler))),
        total: spread(rs.map((r) => per1000(r, total(r)))),
        bench: spread(rs.map((r) => per1000(r, r.costs.cpuSeconds.bench))),
      },
      requestsPerPod: { total: spread(rs.map((r) => requestsTotal(r) / r.measuredPods)), byVerb: sorted },
      kbPerPod: withBytes.length
        ? {
            received: spread(withBytes.map((r) => (r.costs.bytes?.received ?? 0) / 1024 / r.measuredPods)),
            sent: spread(withBytes.map((r) => (r.costs.bytes?.sent ?? 0) / 1024 / r.measuredPods)),
          }
        : null,
      vsFirst:
        arm === first
          ? null
          : {
              arm: first.name,
              podsPerSecond: ratios((r) => r.podsPerSecond.average),
              overallPodsPerSecond: ratios((r) => r.overallPodsPerSecond),
              controlPlaneCpu: ratios((r) => per1000(r, controlPlaneCpu(r))),
              totalCpu: ratios((r) => per1000(r, total(r))),
            },
    };
  });
}

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

const sp = (s: Spread | null | undefined, digits = 0): string => (s ? `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]` : '-');

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

export function renderRuns(runs: RunResult[]): string {
  return table(
    ['run', 'pods/s avg', 'p50', 'overall', 'lat p99 ms', 'apiserver s', 'etcd s', 'sched s', 'bench s', 'busy %', 'req/pod', 'KiB/pod in', 'out', 'load'],
    runs.map((r) => [
      `${r.arm} #${r.rep}`,
      fmt(r.podsPerSecond.average),
      fmt(r.podsPerSecond.p50),
      fmt(r.overallPodsPerSecond),
      fmt(r.latencyMs?.p99),
      fmt(r.costs.cpuSeconds.apiserver, 1),
      fmt(r.costs.cpuSeconds.etcd, 1),
      fmt(r.costs.cpuSeconds.scheduler, 1),
      fmt(r.costs.cpuSeconds.bench, 1),
      fmt(busyPercent(r)),
      fmt(requestsTotal(r) / r.measuredPods, 2),
      fmt(r.costs.bytes ? r.costs.bytes.received / 1024 / r.measuredPods : null, 2),
      fmt(r.costs.bytes ? r.costs.bytes.sent / 1024 / r.measuredPods : null, 2),
      fmt(r.costs.loadAverage.start[0], 1),
    ]),
  );
}

export function renderSummary(summaries: ArmSummary[]): string {
  const out: string[] = [];
  out.push('Medians [min–max] over the repetitions. CPU seconds per 1 000 pods; control plane = kube-apiserver + etcd.');
  out.push(
    table(
      ['arm', 'pods/s avg', 'overall', 'lat p99 ms', 'apiserver', 'etcd', 'control plane', 'scheduler', 'req/pod', 'KiB/pod in'],
      summaries.map((s) => [
        s.arm,
        sp(s.podsPerSecond),
        sp(s.overallPodsPerSecond),
        sp(s.latencyP99Ms),
        sp(s.cpuPer1000Pods.apiserver, 1),
        sp(s.cpuPer1000Pods.etcd, 1),
        sp(s.cpuPer1000Pods.controlPlane, 1),
        sp(s.cpuPer1000Pods.scheduler, 1),
        sp(s.requestsPerPod.total, 2),
        sp(s.kbPerPod?.received ?? null, 1),
      ]),
    ),
  );
  for (const s of summaries) {
    if (!s.vsFirst) continue;
    out.push(
      `${s.arm}/${s.vsFirst.arm} per pair: pods/s ${sp(s.vsFirst.podsPerSecond, 2)}, overall ${sp(s.vsFirst.overallPodsPerSecond, 2)}, ` +
        `control-plane CPU/pod ${sp(s.vsFirst.controlPlaneCpu, 2)}, total CPU/pod ${sp(s.vsFirst.totalCpu, 2)}`,
    );
  }
  const keys = [...new Set(summaries.flatMap((s) => Object.keys(s.requestsPerPod.byVerb)))];
  const rows = keys
    .map((k) => [k, ...summaries.map((s) => fmt(s.requestsPerPod.byVerb[k] ?? 0, 3))])
    .filter((row) => row.slice(1).some((c) => c !== '0.000'));
  out.push('Requests per pod by verb and resource (medians; the benchmark\'s own pod creates left out):');
  out.push(table(['request', ...summaries.map((s) => s.arm)], rows));
  return out.join('\n');
}

// ---------------------------------------------------------------- main

function machine(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return { nproc: cpus().length, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, cpuModel: model, node: process.version };
}

/** The control plane's CPU with nothing scheduling: the floor under every window's figures. */
async function idleBaseline(cp: ControlPlane, seconds: number): Promise<Record<string, unknown>> {
  const w = await CostWindow.open(cp);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const closed = await w.close();
  return {
    seconds: closed.seconds,
    apiserverCpuPerSecond: closed.cpuSeconds.apiserver / closed.seconds,
    etcdCpuPerSecond: closed.cpuSeconds.etcd / closed.seconds,
    requests: await requestsSince(cp, closed.requests0, {}),
  };
}

function runOnce(arm: Arm, rep: number, cp: ControlPlane, client: KubeClient, dir: string, nodeNames: string[]): Promise<RunResult> {
  return arm.kind === 'upstream' || arm.kind === 'berth' ? runScheduler(arm, rep, cp, client, dir) : runCeiling(arm, rep, cp, client, nodeNames);
}

interface Measured {
  idle: Record<string, unknown>;
  warmupRuns: RunResult[];
  runs: RunResult[];
}

/** The nodes, the idle baseline, the uncounted warm-up runs, then the interleaved repetitions. */
async function measure(arms: readonly Arm[], cp: ControlPlane, client: KubeClient, dir: string): Promise<Measured> {
  log(`creating ${nodeCount} nodes`);
  const nodeNames: string[] = [];
  await pool(nodeCount, 32, async (i) => {
    const n = nodeManifest(i);
    await createObject(client, n);
    nodeNames.push((n['metadata'] as { name: string }).name);
  });
  nodeNames.sort();
  const idle = await idleBaseline(cp, Number(values['idle-seconds']));
  // The first run on a new control plane cost it less per pod than any later one, whatever its arm (1.93–1.99
  // CPU-s per 1 000 pods against 2.2–2.5 in two A/Bs of one build pair): it is recorded apart and not counted.
  const warmupRuns: RunResult[] = [];
  for (let w = 1; w <= warmups; w++) {
    const arm = arms[0] as Arm;
    log(`warm-up run ${w} of ${warmups} (${arm.name}), not counted`);
    warmupRuns.push(await runOnce(arm, 1 - w, cp, client, dir, nodeNames));
  }
  const runs: RunResult[] = [];
  for (let rep = 1; rep <= pairs; rep++) {
    // Odd repetitions run the arms in the given order, even ones reversed (A B, B A, …): whatever drifts from run to
    // run on one control plane then weighs on every arm alike.
    for (const arm of rep % 2 === 1 ? arms : [...arms].reverse()) runs.push(await runOnce(arm, rep, cp, client, dir, nodeNames));
  }
  return { idle, warmupRuns, runs };
}

async function main(): Promise<void> {
  const arms = parseArms(values.arms);
  const binaries = await ensureBinaries({ log });
  const cp = await startControlPlane({
    binaries,
    log,
    extraApiServerArgs: ['--max-requests-inflight=4000', '--max-mutating-requests-inflight=2000', ...(pprofDir ? ['--profiling=true'] : [])],
  });
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  // The benchmark's own client (nodes, pod creates, its pod watch) speaks as the controllers that create pods in a
  // cluster do, protobuf over HTTP/2: as JSON it cost the API server 7 % of its CPU in both arms (docs/benchmarks.md).
  const client = createKubeClient(cp.kubeConfig, {
    qps: 0,
    burst: 0,
    maxSockets: Math.max(100, createConcurrency),
    userAgent: 'berth-bench',
    protobuf: true,
    http2: true,
  });
  const t0 = Date.now();
  const loadStart = loadavg();
  let measured: Measured = { idle: {}, warmupRuns: [], runs: [] };
  try {
    measured = await measure(arms, cp, client, dir);
  } finally {
    client.close();
    await cp.stop();
    if (values['keep-logs']) cpSync(dir, values['keep-logs'], { recursive: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const version = binaries.binDir.split('/').at(-2) ?? 'unknown';
  const { idle, warmupRuns, runs } = measured;
  const summaries = summarize(arms, runs);
  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    kubernetes: version,
    loadAverage: { start: loadStart, end: loadavg() },
    params: { precreate, nodes: nodeCount, initPods: initPodCount, measuredPods: podCount, pairs, warmups, arms, qps, burst: qps, createConcurrency, createRate, bindConcurrency },
    idle,
    summaries,
    runs,
    warmupRuns,
    wallSeconds: (Date.now() - t0) / 1000,
  };
  process.stdout.write(
    `\nSchedulingBasic-like, ${precreate ? 'pods pre-created' : `pods created while scheduling${createRate > 0 ? ` at ${createRate}/s` : ''}`}: ${nodeCount} nodes, ${initPodCount} init + ${podCount} measured pods, ` +
      `${pairs} interleaved repetitions (${report.machine['nproc']} CPUs, ${version}, load ${loadStart.map((l) => l.toFixed(1)).join(' ')} → ${report.loadAverage.end.map((l) => l.toFixed(1)).join(' ')})\n`,
  );
  process.stdout.write(`${renderRuns(runs)}\n\n${renderSummary(summaries)}\n`);
  const jsonPath = values.json ?? join(findRepoRoot(), 'bench', 'results', `throughput-${report.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`wrote ${jsonPath}\n`);
}

await main();

/**
 * A berth arm's flags: `--entry=PATH` picks the build to run, each `--node=FLAG` goes to node itself (a V8 flag such
 * as --max-semi-space-size=32 must be set before the heap exists), the rest go to `berth run`.
 */
function berthEntryAndArgs(args: readonly string[], profDir: string | undefined): { berthArgs: string[]; berthEntry?: string; nodeArgs: string[] } {
  const entry = args.find((a) => a.startsWith('--entry='));
  const nodeArgs = args.filter((a) => a.startsWith('--node=')).map((a) => a.slice('--node='.length));
  if (profDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  const berthArgs = args.filter((a) => !a.startsWith('--entry=') && !a.startsWith('--node='));
  return entry ? { berthArgs, berthEntry: entry.slice('--entry='.length), nodeArgs } : { berthArgs, nodeArgs };
}
