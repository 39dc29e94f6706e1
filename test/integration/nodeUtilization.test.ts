// NodeUtilization in `berth run` with a real Prometheus (Debian's package; test/cluster/prometheus.sh installs it
// when missing) started on loopback, scraping one small node-exporter stand-in per fake node that this test serves
// with controlled CPU use. With equal requests, pods go to the node that is really idle, even once it holds more
// requests than the busy one; when Prometheus goes away, berth says so and schedules on requests alone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import { createLogger } from '../../src/observe/logging.js';
import { Cluster, httpGet, parsePrometheus, pod, select, suffix, sum, waitFor } from './helpers/live.js';
import { type InstantSample, LocalPrometheus } from './helpers/prometheus.js';

const sfx = suffix();
const ns = `nodeutil-${sfx}`;
const schedulerName = `berth-nodeutil-${sfx}`;
const leaseName = `berth-nodeutil-${sfx}`;
const GROUP = 'live.berth.test/node-utilization';
const selector = { [GROUP]: sfx };
const busyNode = `nodeutil-${sfx}-busy`;
const idleNode = `nodeutil-${sfx}-idle`;
const WAIT_MS = 30_000;
/** NodeUtilization's maxSampleAge: generous, because Prometheus scrapes late on a loaded machine. */
const MAX_SAMPLE_AGE_MS = 15_000;
const CPUS = 8;
const tmp = mkdtempSync(join(tmpdir(), 'berth-nodeutil-'));

/** Fraction of its CPUs each fake node is busy with, as its exporter reports it. */
const busy = new Map([
  [busyNode, 0.8],
  [idleNode, 0.1],
]);

/**
 * Seconds each CPU counter starts at, as on a host up for ten days: Prometheus' rate() extrapolates a counter that
 * starts near zero towards zero, which reads a node's first seconds as far busier or idler than it is.
 */
const UPTIME_SECONDS = 864_000;

/**
 * node-exporter's CPU and memory metrics for `node`: per-CPU idle and user seconds growing with the wall clock at
 * the node's busy fraction (so that rate() gives it back), and memory a quarter used.
 */
function exposition(node: string, startedAt: number): string {
  const elapsed = UPTIME_SECONDS + (Date.now() - startedAt) / 1000;
  const b = busy.get(node) ?? 0;
  const lines = ['# TYPE node_cpu_seconds_total counter'];
  for (let cpu = 0; cpu < CPUS; cpu++) {
    lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${((1 - b) * elapsed).toFixed(3)}`);
    lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${(b * elapsed).toFixed(3)}`);
  }
  lines.push('# TYPE node_memory_MemTotal_bytes gauge', `node_memory_MemTotal_bytes ${32 * 2 ** 30}`);
  lines.push('# TYPE node_memory_MemAvailable_bytes gauge', `node_memory_MemAvailable_bytes ${24 * 2 ** 30}`);
  return `${lines.join('\n')}\n`;
}

/** One exporter per node on a loopback port of its own, as each host runs its own node-exporter. */
async function startExporter(node: string): Promise<Server> {
  const startedAt = Date.now();
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(req.url === '/metrics' ? exposition(node, startedAt) : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server): number => (server.address() as AddressInfo).port;

/**
 * Scrapes every second; each target's `instance` label is its node's name with node-exporter's port, as a relabelled
 * production setup has it, so NodeUtilization's default label and pattern find the node.
 */
function prometheusConfig(exporters: ReadonlyMap<string, Server>): string {
  const targets = [...exporters].map(([node, server]) => `      - targets: ['127.0.0.1:${portOf(server)}']\n        labels: {instance: '${node}:9100'}`);
  return `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: node\n    static_configs:\n${targets.join('\n')}\n`;
}

// rate() over 10 s instead of the default 2 m: the test's nodes have only just started reporting.
const CPU_QUERY = '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[10s]))';

let cluster: Cluster;
let berth: RunningBerth | undefined;
let prometheus: LocalPrometheus | undefined;
const exporters = new Map<string, Server>();
const logLines: string[] = [];

async function promQuery(query: string): Promise<InstantSample[]> {
  const answer = await prometheus!.query(query);
  return answer.ok ? answer.result : [];
}

async function berthMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const r = await httpGet(`${berth!.server.address}/metrics`);
  return sum(select(parsePrometheus(r.body), name, { plugin: 'NodeUtilization', profile: schedulerName, ...labels }));
}

/** berth's decision log lines for this test's pods (scores per plugin): the failure message when a placement is off. */
function decisions(): string {
  return logLines.filter((l) => l.includes(`"${ns}/`) || l.includes('plugin source')).join('');
}

async function startPrometheus(): Promise<void> {
  // Installs Debian's package first on a fresh machine (test/cluster/prometheus.sh, idempotent).
  prometheus = await LocalPrometheus.start(tmp, prometheusConfig(exporters), writeFileSync);
  // Both nodes' CPU use is queryable once each has been scraped twice; wait until it reads what the exporters serve.
  await waitFor('Prometheus to report both nodes\' CPU use', 60_000, async () => {
    prometheus!.assertRunning();
    const result = await promQuery(CPU_QUERY);
    const near = result.filter((r) => Math.abs(Number(r.value[1]) - (busy.get(r.metric['instance']?.replace(/:9100$/, '') ?? '') ?? -1)) < 0.02);
    return near.length === busy.size ? true : undefined;
  }, 250);
}

beforeAll(async () => {
  for (const node of busy.keys()) exporters.set(node, await startExporter(node));
  await startPrometheus();
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([busyNode, idleNode].map((name) => ({ name, cpu: String(CPUS), memory: '32Gi', labels: { ...selector, 'kubernetes.io/hostname': name } })));
  const configPath = join(tmp, 'config.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: true, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s, resourceName: ${leaseName}, resourceNamespace: ${ns}}
profiles:
  - schedulerName: ${schedulerName}
    plugins:
      multiPoint:
        enabled: [{name: NodeUtilization, weight: 10}]
    pluginConfig:
      - name: NodeUtilization
        args:
          source: {prometheus: {url: "${prometheus!.url}", queries: {cpu: '${CPU_QUERY}'}, timeout: 2s}}
          refreshInterval: 1s
          maxSampleAge: ${MAX_SAMPLE_AGE_MS / 1000}s
`,
  );
  const logger = createLogger('info', { write: (s: string) => void logLines.push(s) });
  berth = await startBerth({ config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16 }, undefined, logger);
  const b = berth;
  await waitFor('berth to lead and to have read Prometheus', 30_000, async () => {
    const r = await httpGet(`${b.server.address}/readyz`);
    if (r.status !== 200 || !b.elector.isLeader()) return undefined;
    return (await berthMetric('berth_plugin_source_refreshes_total', { result: 'up' })) >= 1 ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  await berth?.shutdown('test done');
  await prometheus?.stop();
  for (const server of exporters.values()) server.close();
  await cluster?.cleanup([[ns, leaseName]]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('NodeUtilization with Prometheus in berth run', () => {
  it('pods with equal requests go to the node that is really idle, even once it holds more requests', async () => {
    expect(await berthMetric('berth_plugin_source_up')).toBe(1);
    // One refresh that read Prometheus is not enough: on a loaded machine its samples of our nodes may already be
    // older than maxSampleAge (Prometheus scrapes late). Wait for a refresh with both of ours fresh: other files'
    // nodes (the control plane is shared) have no exporter and are always stale, so at most the rest may be.
    await waitFor('berth to hold fresh measurements of both nodes', WAIT_MS, async () => {
      const before = await cluster.nodeCount();
      const stale = await berthMetric('berth_plugin_source_stale_nodes');
      const after = await cluster.nodeCount();
      return stale <= Math.min(before, after) - busy.size ? true : undefined;
    }, 250);
    // Each pod is 1 of 8 cores. Idle node: 10 % measured + 12.5 % per pod (those just placed count until Prometheus
    // could show them): 22.5 %, 35 %, 47.5 % → 74, 93, 35. Busy node: 92.5 % → 5. Requests (LeastAllocated,
    // weight 1) favour the empty busy node from the second pod on, by far less than NodeUtilization's weight 10.
    const names = ['a', 'b', 'c'];
    for (const name of names) await cluster.createPod(pod(ns, name, { schedulerName, nodeSelector: selector, cpu: '1', memory: '1Gi' }));
    const bound = await cluster.waitBound(ns, names, WAIT_MS);
    expect(names.map((n) => bound.get(n)), decisions()).toEqual([idleNode, idleNode, idleNode]);
  });

  it('when Prometheus goes away, berth reports the source down and schedules on requests alone', async () => {
    const stoppedAt = Date.now();
    await prometheus!.stop();
    await waitFor('berth to see Prometheus gone', WAIT_MS, async () => ((await berthMetric('berth_plugin_source_up')) === 0 ? true : undefined));
    expect(logLines.some((l) => l.includes('"plugin source down"') && l.includes('NodeUtilization'))).toBe(true);
    // The last measurements are used until they are maxSampleAge old (scoring checks their age): ours were taken
    // before Prometheus stopped, so they are stale once that much time has passed. Then berth's report says so too
    // (other files' nodes come and go on the shared control plane, so the count alone could agree too early).
    await waitFor('our measurements to be older than maxSampleAge', 2 * WAIT_MS, () => (Date.now() - stoppedAt > MAX_SAMPLE_AGE_MS + 1_000 ? true : undefined), 250);
    await waitFor('every node\'s measurement to be stale', 2 * WAIT_MS, async () =>
      (await berthMetric('berth_plugin_source_stale_nodes')) >= (await cluster.nodeCount()) ? true : undefined,
    );
    // Every node now scores neutral on measurements: the busy node, with no requests yet, wins on requests.
    await cluster.createPod(pod(ns, 'd', { schedulerName, nodeSelector: selector, cpu: '1', memory: '1Gi' }));
    const bound = await cluster.waitBound(ns, ['d'], WAIT_MS);
    expect(bound.get('d'), decisions()).toBe(busyNode);
  });
});
