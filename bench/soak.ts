/**
 * Soak: `berth run` (a separate process, leader election on) under continuous pod churn on a throwaway control plane
 * for a long time (default 30 minutes). Pods are created at a steady rate and each is deleted as soon as the watch
 * sees it bound, so the cluster stays small while berth's informers, queue, cache and Binding path turn over tens of
 * thousands of pods. Every `--sample-seconds` (and at the start and the end) it records berth's RSS (/proc), open
 * sockets (/proc/PID/fd), heap and event-loop delay (berth's own /metrics: prom-client's default Node.js metrics,
 * whose event-loop histogram is reset at every scrape, so each sample covers the interval since the last one).
 * At the end it counts, from berth's decision log and the watch, that every pod was bound exactly once.
 *
 *   npm run bench:soak -- [--minutes 30] [--nodes 50] [--rate 10] [--sample-seconds 60] [--json FILE] [--keep-log FILE]
 *
 * --keep-log: copy berth's log (JSON lines, its decisions at info) to FILE at the end.
 *
 * Not run in CI. Reports figures; fails (exit 1) only if a pod was lost, bound twice, or berth exited.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getFreePort, spawnManaged, startControlPlane, type ManagedProcess } from '../tools/devcluster/index.js';
import { berthMainPath } from '../tools/fidelity/schedulers.js';
import { createObject, ensureNamespace } from '../tools/fidelity/kube.js';
import { PodWatch, podKey } from '../tools/fidelity/podWatch.js';
import { createKubeClient, type KubeClient } from '../src/adapters/live/kubeClient.js';
import type { Pod } from '../src/kube/api.js';
import { cpuSeconds } from './lib/procStats.js';
import { nodeManifest, podManifest } from './lib/workload.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    nodes: { type: 'string', default: '50' },
    rate: { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '60' },
    json: { type: 'string' },
    'keep-log': { type: 'string' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const nodeCount = Number(values.nodes);
const ratePerSecond = Number(values.rate);
const sampleMs = Number(values['sample-seconds']) * 1000;
const t0 = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[soak ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  atSeconds: number;
  rssMb: number;
  sockets: number;
  openFds: number;
  heapUsedMb: number | null;
  eventLoopDelayP99Ms: number | null;
  eventLoopDelayMaxMs: number | null;
  cpuSeconds: number;
  created: number;
  boundSeen: number;
  pending: number;
  loadAvg1: number;
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Open file descriptors of a process, and how many of them are sockets (links reading "socket:[inode]"). */
function fds(pid: number): { open: number; sockets: number } {
  let open = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    open++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return { open, sockets };
}

/** One unlabelled series of a Prometheus text exposition, or null when absent. */
function metric(text: string, name: string): number | null {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function scrape(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return await res.text();
  } catch {
    return '';
  }
}

/** Runs `berth run` with leader election on, info logs (its decision lines) to a file; resolves once /readyz is 200. */
async function startBerth(dir: string, kubeconfigPath: string, schedulerName: string): Promise<{ proc: ManagedProcess; base: string; logFile: string }> {
  const configPath = join(dir, 'berth.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  resourceName: berth-soak
  resourceNamespace: default
profiles:
  - schedulerName: ${schedulerName}
`,
  );
  const port = await getFreePort();
  const logFile = join(dir, 'berth.log');
  const args = [berthMainPath(), 'run', '--config', configPath, '--kubeconfig', kubeconfigPath, '--bind-address', '127.0.0.1'];
  const proc = spawnManaged('berth', process.execPath, [...args, '--port', String(port), '--log-level', 'info', '--insecure-serving'], logFile);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.hasExited()) throw new Error(`berth exited while starting: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      if ((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('berth not ready after 120 s');
    await sleep(200);
  }
  return { proc, base, logFile };
}

/** Pods berth logged as bound (decision "scheduled", bound=true), by "ns/name", with how many times. */
function boundLinesByPod(logFile: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"decision":"scheduled"')) continue;
    try {
      const l = JSON.parse(line) as { pod?: string; bound?: boolean };
      if (l.bound === true && l.pod) out.set(l.pod, (out.get(l.pod) ?? 0) + 1);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Deletes a pod (grace 0), retried; 404 means it is gone already. */
async function deletePod(client: KubeClient, ns: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const res = await client.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, { query: { gracePeriodSeconds: 0 } });
      if (res.status < 300 || res.status === 404) return;
    } catch {
      // retried
    }
    await sleep(500);
  }
  log(`could not delete ${ns}/${name}`);
}

async function createPod(client: KubeClient, ns: string, name: string, schedulerName: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await client.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: podManifest(name, ns, schedulerName) });
    if (res.status < 300 || res.status === 409) return;
    if (attempt > 20) throw new Error(`create ${name}: HTTP ${res.status}`);
    await sleep(200 * (attempt + 1));
  }
}

interface Churn {
  created: string[];
  /** Every pod the watch saw bound, and the node (a pod seen on two nodes would be bound twice). */
  boundTo: Map<string, string>;
  reboundPods: string[];
  deletes: Set<Promise<void>>;
}

function watchChurn(client: KubeClient, ns: string, churn: Churn): Promise<PodWatch> {
  return PodWatch.start(client, {
    namespace: ns,
    slim: (p: Pod) => ({ metadata: { name: p.metadata?.name ?? '', namespace: ns }, spec: p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {} }),
    onPod: (p, type) => {
      const node = p.spec?.nodeName;
      if (type === 'DELETED' || !node) return;
      const key = podKey(p);
      const before = churn.boundTo.get(key);
      if (before === undefined) {
        churn.boundTo.set(key, node);
        const d = deletePod(client, ns, p.metadata?.name ?? '');
        churn.deletes.add(d);
        void d.finally(() => churn.deletes.delete(d));
      } else if (before !== node) {
        churn.reboundPods.push(key);
      }
    },
  });
}

async function takeSample(pid: number, base: string, churn: Churn): Promise<Sample> {
  const text = await scrape(`${base}/metrics`);
  const f = fds(pid);
  const ms = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000 * 10) / 10);
  const mb = (v: number | null): number | null => (v === null ? null : Math.round((v / 2 ** 20) * 10) / 10);
  return {
    atSeconds: Math.round((Date.now() - t0) / 1000),
    rssMb: Math.round(rssMb(pid) * 10) / 10,
    sockets: f.sockets,
    openFds: f.open,
    heapUsedMb: mb(metric(text, 'nodejs_heap_size_used_bytes')),
    eventLoopDelayP99Ms: ms(metric(text, 'nodejs_eventloop_lag_p99_seconds')),
    eventLoopDelayMaxMs: ms(metric(text, 'nodejs_eventloop_lag_max_seconds')),
    cpuSeconds: cpuSeconds(pid),
    created: churn.created.length,
    boundSeen: churn.boundTo.size,
    pending: churn.created.length - churn.boundTo.size,
    loadAvg1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** Creates pods at `ratePerSecond` until `until` (a steady schedule; a slow create delays the next ones). */
async function createUntil(client: KubeClient, ns: string, schedulerName: string, until: number, churn: Churn): Promise<void> {
  const start = Date.now();
  for (let i = 0; Date.now() < until; i++) {
    const due = start + (i / ratePerSecond) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const name = `soak-${String(i).padStart(6, '0')}`;
    churn.created.push(`${ns}/${name}`);
    await createPod(client, ns, name, schedulerName);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-soak-'));
  const cp = await startControlPlane({ log });
  const client = createKubeClient(cp.kubeConfig, { qps: 0, burst: 0, userAgent: 'berth-soak' });
  const ns = 'soak';
  const schedulerName = 'berth-soak';
  let berth: ManagedProcess | undefined;
  try {
    await ensureNamespace(client, ns);
    for (let i = 0; i < nodeCount; i++) await createObject(client, nodeManifest(i));
    const started = await startBerth(dir, cp.kubeconfigPath, schedulerName);
    berth = started.proc;
    const pid = berth.pid;
    log(`berth ready (pid ${pid}); churning ${ratePerSecond} pods/s for ${values.minutes} min on ${nodeCount} nodes`);
    const churn: Churn = { created: [], boundTo: new Map(), reboundPods: [], deletes: new Set() };
    const watch = await watchChurn(client, ns, churn);
    const samples: Sample[] = [await takeSample(pid, started.base, churn)];
    log(JSON.stringify(samples[0]));
    const sampler = setInterval(() => {
      if (berth?.hasExited()) return;
      void takeSample(pid, started.base, churn).then((s) => {
        samples.push(s);
        log(JSON.stringify(s));
      });
    }, sampleMs);
    await createUntil(client, ns, schedulerName, Date.now() + durationMs, churn);
    clearInterval(sampler);
    log(`created ${churn.created.length}; waiting for the last ones to be bound`);
    const deadline = Date.now() + 180_000;
    while (churn.boundTo.size < churn.created.length && Date.now() < deadline && !berth.hasExited()) await sleep(200);
    while (churn.deletes.size > 0) await Promise.all([...churn.deletes]);
    const end = await takeSample(pid, started.base, churn);
    samples.push(end);
    log(JSON.stringify(end));
    await watch.stop();
    const berthAlive = !berth.hasExited();
    const boundByMetrics = berthAlive ? await decisionLinesSettled(started.base, started.logFile) : null;
    const lines = boundLinesByPod(started.logFile);
    await berth.stop(10_000);
    if (values['keep-log']) copyFileSync(started.logFile, values['keep-log']);
    const summary = summarize(churn, lines, boundByMetrics, samples, berthAlive);
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2) + '\n');
    if (!summary.ok) process.exitCode = 1;
  } finally {
    await berth?.stop(10_000);
    client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * berth's successful bindings by its own counter, once its log holds a decision line for each (a line is written
 * after the Binding's answer and may still be on its way to the file; bounded wait).
 */
async function decisionLinesSettled(base: string, logFile: string): Promise<number | null> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await scrape(`${base}/metrics`);
    let bound = 0;
    for (const m of text.matchAll(/^scheduler_schedule_attempts_total\{[^}]*result="scheduled"[^}]*\} (\d+)$/gm)) bound += Number(m[1]);
    const lines = [...boundLinesByPod(logFile).values()].reduce((a, b) => a + b, 0);
    if (lines >= bound || Date.now() > deadline) return text === '' ? null : bound;
    await sleep(500);
  }
}

function summarize(
  churn: Churn,
  lines: Map<string, number>,
  boundByMetrics: number | null,
  samples: Sample[],
  berthAlive: boolean,
): Record<string, unknown> & { ok: boolean } {
  const neverBound = churn.created.filter((k) => !churn.boundTo.has(k));
  const boundTwiceInLog = [...lines].filter(([, n]) => n > 1).map(([k]) => k);
  const boundWithoutLine = churn.created.filter((k) => churn.boundTo.has(k) && !lines.has(k));
  const ok =
    berthAlive &&
    neverBound.length === 0 &&
    boundTwiceInLog.length === 0 &&
    churn.reboundPods.length === 0 &&
    boundWithoutLine.length === 0 &&
    boundByMetrics === churn.created.length;
  const first = samples[0] as Sample;
  const last = samples[samples.length - 1] as Sample;
  return {
    ok,
    minutes: Number(values.minutes),
    nodes: nodeCount,
    ratePerSecond,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    pods: {
      created: churn.created.length,
      boundSeenByWatch: churn.boundTo.size,
      boundLinesInBerthLog: [...lines.values()].reduce((a, b) => a + b, 0),
      /** scheduler_schedule_attempts_total{result="scheduled"}: successful bindings by berth's own count. */
      boundByBerthMetrics: boundByMetrics,
      neverBound: neverBound.slice(0, 20),
      neverBoundCount: neverBound.length,
      boundTwiceInLog,
      reboundPods: churn.reboundPods,
      boundWithoutDecisionLine: boundWithoutLine.length,
    },
    berthAlive,
    start: first,
    end: last,
    max: {
      rssMb: Math.max(...samples.map((s) => s.rssMb)),
      sockets: Math.max(...samples.map((s) => s.sockets)),
      heapUsedMb: Math.max(...samples.map((s) => s.heapUsedMb ?? 0)),
      eventLoopDelayP99Ms: Math.max(...samples.map((s) => s.eventLoopDelayP99Ms ?? 0)),
    },
    samples,
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
