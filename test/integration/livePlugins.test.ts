// Out-of-tree plugins in `berth run` on the real API server, loaded with --plugins as an operator would:
// - the example PreferNodeLabel (examples/plugins/prefer-node-label, built to dist/ by the global setup) places pods
//   on the labelled pool, refuses the unlabelled node, and its queueing hint retries a refused pod once the node
//   gains the label. Built JavaScript imports berth/plugin from dist/, a copy of berth other than the one this test
//   runs from, as a plugin installed beside berth would.
// - a faulty plugin (plain JavaScript written by the test) that throws at Filter and returns garbage at Score once
//   per pod: each fault is a FailedScheduling event naming the plugin, a berth_plugin_faults_total sample and a
//   warning log line; the pod is retried and bound, and berth keeps running.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { Pod } from '../../src/kube/api.js';
import { createLogger } from '../../src/observe/logging.js';
import { Cluster, type EventV1, httpGet, parsePrometheus, pod, select, suffix, sum, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `liveplug-${sfx}`;
const schedulerName = `berth-plug-${sfx}`;
const leaseName = `berth-plug-${sfx}`;
const GROUP = 'live.berth.test/plugins';
const selector = { [GROUP]: sfx };
const POOL = 'berth.example/pool';
const WAIT_MS = 30_000;
const EXAMPLE = resolve('dist/examples/plugins/prefer-node-label/index.js');
const tmp = mkdtempSync(join(tmpdir(), 'berth-liveplug-'));
const interactive = `liveplug-${sfx}-interactive`;
const plain = `liveplug-${sfx}-plain`;

// Plain JavaScript, no import of berth at all: statuses are Status-shaped objects ({ code, reasons }).
const FAULTY = `
const seen = new Set();
const once = (pod, what) => pod.labels.fault === what && !seen.has(pod.uid + what) && seen.add(pod.uid + what);
export const descriptor = {
  name: 'Faulty',
  points: ['filter', 'score'],
  events: ['NodeAdd'],
  create: () => ({
    name: 'Faulty',
    filter(_state, pod) {
      if (once(pod, 'throw')) throw new TypeError("Cannot read properties of undefined (reading 'zone')");
      return pod.labels.fault === 'reject' ? { code: 2, reasons: ['node(s) are not faulty enough'] } : null;
    },
    score(_state, pod) {
      return once(pod, 'garbage') ? { score: 7 } : 0;
    },
  }),
};
`;

let cluster: Cluster;
let berth: RunningBerth | undefined;
const logLines: string[] = [];

function testPod(name: string, labels: Record<string, string> = {}, nodeName?: string): Pod {
  const nodeSelector = nodeName ? { ...selector, 'kubernetes.io/hostname': nodeName } : selector;
  return pod(ns, name, { schedulerName, nodeSelector, labels });
}

async function failedScheduling(name: string): Promise<EventV1 | undefined> {
  return (await cluster.events(ns)).find((e) => e.regarding?.name === name && e.reason === 'FailedScheduling');
}

async function faults(labels: Record<string, string>): Promise<number> {
  const r = await httpGet(`${berth!.server.address}/metrics`);
  return sum(select(parsePrometheus(r.body), 'berth_plugin_faults_total', labels));
}

beforeAll(async () => {
  if (!existsSync(EXAMPLE)) throw new Error(`${EXAMPLE} is missing: the integration global setup builds it (tsc -p tools/tsconfig.json)`);
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([
    { name: interactive, cpu: '8', memory: '32Gi', labels: { ...selector, [POOL]: 'interactive', 'kubernetes.io/hostname': interactive } },
    { name: plain, cpu: '8', memory: '32Gi', labels: { ...selector, 'kubernetes.io/hostname': plain } },
  ]);
  writeFileSync(join(tmp, 'faulty.mjs'), FAULTY);
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
        enabled: [{name: PreferNodeLabel, weight: 5}, {name: Faulty}]
    pluginConfig:
      - name: PreferNodeLabel
        args: {label: ${POOL}, values: [interactive], requireLabel: true}
`,
  );
  const logger = createLogger('info', { write: (s: string) => void logLines.push(s) });
  berth = await startBerth(
    {
      config: configPath,
      kubeconfig: inject('kubeconfigPath'),
      bindAddress: '127.0.0.1',
      port: 0,
      logLevel: 'info',
      bindConcurrency: 16,
      plugins: [EXAMPLE, join(tmp, 'faulty.mjs')],
    },
    undefined,
    logger,
  );
  const b = berth;
  await untilReadyAndLeading(b);
}, 60_000);

afterAll(async () => {
  await berth?.shutdown('test done');
  await cluster?.cleanup([[ns, leaseName]]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('--plugins in berth run', () => {
  it('loads both modules and says so', () => {
    const line = logLines.find((l) => l.includes('"plugins loaded"'));
    expect(line && JSON.parse(line)).toMatchObject({ plugins: ['PreferNodeLabel', 'Faulty'] });
  });

  it('the example plugin places pods on the labelled pool', async () => {
    await cluster.createPod(testPod('a'));
    await cluster.createPod(testPod('b'));
    const bound = await cluster.waitBound(ns, ['a', 'b'], WAIT_MS);
    expect([...bound.values()]).toEqual([interactive, interactive]);
  });

  it('a pod only the unlabelled node may take waits with the plugin\'s reason, and binds once the node gains the label', async () => {
    await cluster.createPod(testPod('pinned', {}, plain));
    const event = await waitFor('pinned to be refused', WAIT_MS, () => failedScheduling('pinned'));
    expect(event.note).toContain(`node(s) didn't have label ${POOL} in [interactive]`);
    await cluster.req('PATCH', `/api/v1/nodes/${plain}`, { metadata: { labels: { [POOL]: 'interactive' } } }, 'application/merge-patch+json');
    // The NodeUpdate's hint sees the label change and queues the pod (it would otherwise wait 5 minutes).
    const bound = await cluster.waitBound(ns, ['pinned'], WAIT_MS);
    expect(bound.get('pinned')).toBe(plain);
  });

  it('a plugin that throws at Filter fails that attempt with an Error naming it; the pod is retried and bound', async () => {
    const before = await faults({ plugin: 'Faulty', extension_point: 'Filter', kind: 'threw' });
    await cluster.createPod(testPod('thrower', { fault: 'throw' }));
    const event = await waitFor('the fault event', WAIT_MS, () => failedScheduling('thrower'));
    expect(event.note).toBe(`plugin "Faulty" threw at Filter: Cannot read properties of undefined (reading 'zone')`);
    await cluster.waitBound(ns, ['thrower'], WAIT_MS);
    expect(await faults({ plugin: 'Faulty', extension_point: 'Filter', kind: 'threw' })).toBe(before + 1);
    expect(logLines.some((l) => l.includes('"level":"warn"') && l.includes('plugin \\"Faulty\\" threw at Filter'))).toBe(true);
  });

  it('a Score that is not a number is an Error naming the plugin; the pod is retried and bound', async () => {
    await cluster.createPod(testPod('garbage', { fault: 'garbage' }));
    const event = await waitFor('the fault event', WAIT_MS, () => failedScheduling('garbage'));
    expect(event.note).toBe('plugin "Faulty" returned an object (score) at Score, not a finite number');
    await cluster.waitBound(ns, ['garbage'], WAIT_MS);
    expect(await faults({ plugin: 'Faulty', extension_point: 'Score', kind: 'invalid' })).toBe(1);
  });

  it('a Status-shaped rejection from plain JavaScript is a rejection like any other', async () => {
    await cluster.createPod(testPod('rejected', { fault: 'reject' }));
    const event = await waitFor('the rejection', WAIT_MS, () => failedScheduling('rejected'));
    expect(event.note).toContain('2 node(s) are not faulty enough');
  });
});
