// The binding half of the framework on the real API server, with test-only plugins given to berth as descriptors
// (as an out-of-tree plugin would be): a Permit plugin that holds a pod until its gang is complete (and times out
// otherwise), a PreBind plugin that fails once, and a slow PreBind plugin during which the pod's
// status.nominatedNodeName names its node (cleared by the API server when the pod is bound).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { Pod } from '../../src/kube/api.js';
import { createLogger } from '../../src/observe/logging.js';
import type { PluginDescriptor } from '../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import type { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import { type CycleState, type FrameworkHandle, type PermitPlugin, type PermitResult, type PreBindPlugin, SKIP, Status } from '../../src/scheduler/framework/types.js';
import { IN_TREE_PLUGINS } from '../../src/scheduler/plugins/inTree.js';
import { Cluster, type EventV1, pod, suffix, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `livefw-${sfx}`;
const schedulerName = `berth-fw-${sfx}`;
const leaseName = `berth-fw-${sfx}`;
const GROUP = 'live.berth.test/framework';
const selector = { [GROUP]: sfx };
const WAIT_MS = 30_000;
const tmp = mkdtempSync(join(tmpdir(), 'berth-livefw-'));

/** Permit: pods labelled gang=<name>, gang-size=<n> wait until n members wait; the last one releases them all. */
class TestGang implements PermitPlugin {
  readonly name = 'TestGang';
  constructor(
    private readonly handle: FrameworkHandle,
    private readonly timeoutMs: number,
  ) {}

  permit(_state: CycleState, podInfo: PodInfo): PermitResult {
    const gang = podInfo.labels['gang'];
    if (gang === undefined) return { status: null };
    const size = Number(podInfo.labels['gang-size'] ?? '1');
    const waiting: string[] = [];
    this.handle.iterateWaitingPods((w) => {
      if (w.pod.labels['gang'] === gang) waiting.push(w.pod.uid);
    });
    if (waiting.length + 1 < size) return { status: Status.wait(), timeoutMs: this.timeoutMs };
    for (const uid of waiting) this.handle.getWaitingPod(uid)?.allow(this.name);
    return { status: null };
  }
}

const gangDescriptor: PluginDescriptor<{ timeoutSeconds: number }> = {
  name: 'TestGang',
  points: ['permit'],
  // No retry events: a timed-out member waits for the 5-minute flush, so other files' pods (the control plane is
  // shared) cannot send it around again while a test looks at it.
  events: [],
  args: {
    fields: ['timeoutSeconds'],
    defaults: () => ({ timeoutSeconds: 2 }),
    decode: (dec, raw, path) => ({ timeoutSeconds: dec.integer(raw['timeoutSeconds'], [...path, 'timeoutSeconds']) ?? 2 }),
  },
  create: (handle, args) => new TestGang(handle, args.timeoutSeconds * 1000),
};

/** PreBind: pods labelled fail-prebind fail their first PreBind. */
const failedOnce = new Set<string>();
const failOnceDescriptor: PluginDescriptor = {
  name: 'TestFailPreBind',
  points: ['preBind'],
  events: [],
  create: (): PreBindPlugin => ({
    name: 'TestFailPreBind',
    preBindPreFlight: (_s, p) => (p.labels['fail-prebind'] !== undefined ? null : SKIP),
    preBind: async (_s, p) => {
      if (failedOnce.has(p.uid)) return null;
      failedOnce.add(p.uid);
      return Status.error('injected PreBind failure');
    },
  }),
};

/** PreBind: pods labelled slow-prebind wait until the test releases them. */
const releases = new Map<string, () => void>();
const slowDescriptor: PluginDescriptor = {
  name: 'TestSlowPreBind',
  points: ['preBind'],
  events: [],
  create: (): PreBindPlugin => ({
    name: 'TestSlowPreBind',
    preBindPreFlight: (_s, p) => (p.labels['slow-prebind'] !== undefined ? null : SKIP),
    preBind: (_s, p, _node, signal) =>
      new Promise<Status | null>((resolve) => {
        releases.set(p.name, () => resolve(null));
        signal.addEventListener('abort', () => resolve(Status.error('aborted')), { once: true });
      }),
  }),
};

let cluster: Cluster;
let berth: RunningBerth | undefined;
const logLines: string[] = [];

function testPod(name: string, labels: Record<string, string>): Pod {
  return pod(ns, name, { schedulerName, nodeSelector: selector, labels });
}

async function podEvents(name: string): Promise<EventV1[]> {
  return (await cluster.events(ns)).filter((e) => e.regarding?.name === name);
}

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([{ name: `livefw-${sfx}-0`, cpu: '8', memory: '32Gi', labels: selector }]);
  const configPath = join(tmp, 'config.yaml');
  writeFileSync(
    configPath,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: true, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s, resourceName: ${leaseName}, resourceNamespace: ${ns}}
profiles:
  - schedulerName: ${schedulerName}
    plugins:
      permit: {enabled: [{name: TestGang}]}
      preBind: {enabled: [{name: TestFailPreBind}, {name: TestSlowPreBind}]}
    pluginConfig:
      - name: TestGang
        args: {timeoutSeconds: 2}
`,
  );
  const plugins = new PluginCatalog([...IN_TREE_PLUGINS, gangDescriptor as PluginDescriptor<unknown>, failOnceDescriptor, slowDescriptor]);
  const logger = createLogger('info', { write: (s: string) => void logLines.push(s) });
  berth = await startBerth(
    { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16 },
    undefined,
    logger,
    plugins,
  );
  const b = berth;
  await untilReadyAndLeading(b);
}, 60_000);

afterAll(async () => {
  for (const release of releases.values()) release();
  await berth?.shutdown('test done');
  await cluster?.cleanup([[ns, leaseName]]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('Permit, PreBind and nominatedNodeName on the real API server', () => {
  it('a Permit plugin holds a gang member (nominated to its node) until the second member arrives; both bind', async () => {
    await cluster.createPod(testPod('g1', { gang: 'pair', 'gang-size': '2' }));
    // While it waits, the pod is nominated to the node it holds (NominatedNodeNameForExpectation) and not bound.
    const nominated = await waitFor('g1 nominated while it waits', WAIT_MS, async () => {
      const p = await cluster.getPod(ns, 'g1');
      return p.status?.nominatedNodeName ? p : undefined;
    }, 20);
    expect(nominated.spec?.nodeName).toBeUndefined();
    await cluster.createPod(testPod('g2', { gang: 'pair', 'gang-size': '2' }));
    const bound = await cluster.waitBound(ns, ['g1', 'g2'], WAIT_MS);
    expect(bound.get('g1')).toBe(nominated.status?.nominatedNodeName);
    // The API server clears the nomination when it binds the pod.
    await waitFor('g1 nomination cleared', WAIT_MS, async () => ((await cluster.getPod(ns, 'g1')).status?.nominatedNodeName ? undefined : true));
  });

  it('a gang that never completes times out with upstream\'s permit-timeout text', async () => {
    await cluster.createPod(testPod('alone', { gang: 'never', 'gang-size': '2' }));
    const event = await waitFor('the FailedScheduling event', WAIT_MS, async () =>
      (await podEvents('alone')).find((e) => e.reason === 'FailedScheduling'),
    );
    expect(event.note).toBe('0/1 nodes are available: 1 rejected due to timeout after waiting 2s at plugin TestGang.');
    const p = await cluster.getPod(ns, 'alone');
    expect(p.spec?.nodeName).toBeUndefined();
    expect(p.status?.nominatedNodeName).toBeUndefined();
    expect(berth?.scheduler.cluster.isAssumed(p.metadata?.uid ?? '')).toBe(false);
  });

  it('a failing PreBind makes the pod retry (no assumed pod left behind) and it binds at the next attempt', async () => {
    const created = await cluster.createPod(testPod('flaky', { 'fail-prebind': 'once' }));
    const uid = created.metadata?.uid ?? '';
    const event = await waitFor('the FailedScheduling event', WAIT_MS, async () =>
      (await podEvents('flaky')).find((e) => e.reason === 'FailedScheduling'),
    );
    expect(event.note).toBe('running PreBind plugin "TestFailPreBind": injected PreBind failure');
    await cluster.waitBound(ns, ['flaky'], WAIT_MS);
    // Accounted once on its node: the failed attempt's assumption was forgotten.
    const node = berth!.scheduler.cluster.getNode(`livefw-${sfx}-0`)!;
    await waitFor('the watch to confirm the binding', WAIT_MS, () => (berth!.scheduler.cluster.isAssumed(uid) ? undefined : true));
    expect(node.pods.filter((p) => p.uid === uid)).toHaveLength(1);
  });

  it('nominatedNodeName appears during a slow PreBind and is cleared once the pod is bound', async () => {
    await cluster.createPod(testPod('slow', { 'slow-prebind': 'yes' }));
    const during = await waitFor('slow nominated during PreBind', WAIT_MS, async () => {
      const p = await cluster.getPod(ns, 'slow');
      return p.status?.nominatedNodeName && releases.has('slow') ? p : undefined;
    }, 20);
    expect(during.spec?.nodeName).toBeUndefined();
    releases.get('slow')?.();
    const bound = await cluster.waitBound(ns, ['slow'], WAIT_MS);
    expect(bound.get('slow')).toBe(during.status?.nominatedNodeName);
    await waitFor('slow nomination cleared', WAIT_MS, async () => ((await cluster.getPod(ns, 'slow')).status?.nominatedNodeName ? undefined : true));
  });
});
