/**
 * In-process core benchmark, shaped like scheduler_perf's SchedulingBasic: nodes of 4 CPU / 32Gi / 110 pods,
 * pods of one pause container requesting 100m / 500Mi, scheduled one after another by the default profile with
 * every default plugin: the scheduling cycle (filter, score, assume, Reserve, Permit) and the binding cycle
 * (PreBindPreFlight, DefaultBinder against a port that accepts every Binding, the Scheduled event, PostBind), no API
 * server. Reports figures; asserts nothing about time.
 *
 *   npm run bench:core -- [--nodes 5000] [--pods 10000] [--json]
 */
import { parseArgs } from 'node:util';
import type { Node, Pod } from '../src/kube/api.js';
import { ClusterState } from '../src/scheduler/cache/clusterState.js';
import { defaultSchedulerConfig } from '../src/config/index.js';
import { IN_TREE_CATALOG } from '../src/scheduler/plugins/inTree.js';
import { PodInfo } from '../src/scheduler/cache/podInfo.js';
import { SeededRandom } from '../src/scheduler/random.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import type { ClusterPort } from '../src/scheduler/ports.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    json: { type: 'boolean', default: false },
  },
});
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);

function node(i: number): Node {
  return {
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
    status: {
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(i: number): Pod {
  return {
    metadata: { name: `pod-${i}`, namespace: 'bench', uid: `uid-${i}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      schedulerName: 'default-scheduler',
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.10',
          ports: [{ containerPort: 80 }],
          resources: { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '100m', memory: '500Mi' } },
        },
      ],
    },
  };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const cluster = new ClusterState();
for (let i = 0; i < nodeCount; i++) cluster.upsertNode(node(i));
let clock = 0;
let events = 0;
/** Accepts every Binding at once: the API server's cost is what bench/throughput.ts measures. */
const port: ClusterPort = {
  bind: async () => null,
  evictVictim: async () => true,
  recordEvent: () => {
    events++;
  },
  updatePodStatus: async () => {},
  lookupPod: async () => ({ state: 'gone' }),
  write: async () => ({ status: 200 }),
  read: async () => ({ status: 404, message: 'the benchmark keeps no objects' }),
};
const scheduler = new Scheduler({
  cluster,
  config: defaultSchedulerConfig(),
  plugins: IN_TREE_CATALOG,
  random: new SeededRandom(42),
  clock: { now: () => clock, sleep: async () => {} },
  port,
});
const pods = Array.from({ length: podCount }, (_, i) => new PodInfo(pod(i)));
for (const p of pods) {
  scheduler.upsertPendingPod(p);
  clock++;
}

const cycleMs = new Float64Array(podCount);
let scheduled = 0;
let failed = 0;
const started = process.hrtime.bigint();
for (let i = 0; i < podCount; i++) {
  const t0 = process.hrtime.bigint();
  const outcome = scheduler.scheduleOne();
  if (!outcome) break;
  const t1 = process.hrtime.bigint();
  cycleMs[i] = Number(t1 - t0) / 1e6;
  if (outcome.binding) {
    const end = await outcome.binding;
    if (end.bound) scheduled++;
    else failed++;
    scheduler.notify('AssignedPodAdd');
  } else {
    failed++;
  }
}
const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
const sorted = Float64Array.from(cycleMs.subarray(0, scheduled + failed)).sort();
const result = {
  nodes: nodeCount,
  pods: podCount,
  scheduled,
  failed,
  seconds: Number(elapsedS.toFixed(3)),
  podsPerSecond: Math.round((scheduled + failed) / elapsedS),
  cycleP50Ms: Number(quantile(sorted, 0.5).toFixed(3)),
  cycleP99Ms: Number(quantile(sorted, 0.99).toFixed(3)),
  scheduledEvents: events,
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  node: process.version,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`berth core benchmark (SchedulingBasic shape, in-process, default profile)`);
  console.log(`  nodes ${result.nodes}, pods ${result.pods}: scheduled ${result.scheduled}, unschedulable ${result.failed}`);
  console.log(`  ${result.podsPerSecond} pods/s over ${result.seconds} s`);
  console.log(`  cycle time p50 ${result.cycleP50Ms} ms, p99 ${result.cycleP99Ms} ms`);
  console.log(`  peak RSS ${result.peakRssMB} MB (Node ${result.node})`);
}
