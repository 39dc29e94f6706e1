// Fault matrix (issue 15, part 1): berth (in-process, startBerth) talks to the shared API server through a
// fault-injecting proxy (helpers/faultProxy.ts) and, under each fault, every pod ends bound exactly once (checked in
// the API, in the proxy's record of Binding POSTs, in berth's decision lines and its metrics) and berth stays healthy.
//
// 1. Binding answered 429 with Retry-After, 503 with Retry-After, and 500 without it. client-go's rest client retries
//    429/5xx answers that carry an integer Retry-After after that many seconds (rest.withRetry, up to 10 times), so the
//    scheduler never sees them: one bound decision, no "binding failed". A 500 without Retry-After reaches the
//    scheduler: upstream's handleBindingCycleError forgets the assumed pod, unreserves and requeues it with backoff;
//    berth logs the failed attempt (bound=false) and binds on the next one.
// 2. The pods watch stalls: the proxy cuts berth's pods watch and answers the re-watch with 200 and then nothing,
//    never closing. Upstream client-go has no watchdog for this (it waits as long as the connection lives);
//    berth's reflector re-watches when no event or bookmark arrives for stallTimeoutMs (default twice the watch's
//    timeoutSeconds; shortened here through startBerth's `watch` option). Pods created during the stall are bound only
//    after that, and all of them are.
// 3. A node deleted while its Binding is in flight (held in the proxy, node deleted, Binding released). The API server
//    does not check that the node exists (BindingREST.setPodNodeAndMetadata only refuses a pod that is being deleted,
//    already assigned, or gated), so the Binding succeeds and the pod is bound, once, to a node that no longer
//    exists — as it is with kube-scheduler, which leaves such pods to kube-controller-manager's pod GC (orphaned pods
//    are deleted after a 40 s quarantine). This control plane runs no pod GC: the test deletes the pod as it would, and
//    berth then schedules onto the remaining node as usual.
// 4. A pod deleted while assumed (its Binding held in the proxy, the pod deleted, the Binding released). Upstream
//    lets the Bind call run: the API server answers 404, handleBindingCycleError forgets the assumed pod and the
//    failure handler drops it (it is no longer in the informer cache). berth does the same: a Binding already sent is
//    left to finish (the API server may have applied it before the deletion). The test lets the held POST go once
//    the pod's DELETED event has passed the proxy, so the API server answers 404, never 201. The attempt
//    ends unbound, the pod is not requeued, the cache forgets it and the node's room comes back — a pod that fits only
//    in the freed room is then bound there — and nothing is bound twice.
//
// Shares the control plane: this file's namespace, nodes (labelled with its own case label) and schedulerName only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, onTestFailed } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import { createLogger } from '../../src/observe/logging.js';
import type { FakeNodeSpec } from '../../tools/devcluster/index.js';
import { FaultProxy, type ProxiedRequest } from './helpers/faultProxy.js';
import { Cluster, httpGet, parsePrometheus, pod, select, suffix, sum, untilReadyAndLeading, waitFor } from './helpers/live.js';
import type { LogLine } from './helpers/replica.js';

const sfx = suffix();
const ns = `fault-matrix-${sfx}`;
const schedulerName = `berth-fault-matrix-${sfx}`;
const CASE = 'faultmatrix.berth.test/case';
/** berth's watch watchdog here: a watch with no event or bookmark for this long is replaced. */
const STALL_MS = 6_000;
const tmp = mkdtempSync(join(tmpdir(), 'berth-fault-matrix-'));

let cluster: Cluster;
let proxy: FaultProxy;
let berth: RunningBerth | undefined;
const logText: string[] = [];
/** Pods deleted on purpose (cases 3 and 4): not expected bound at the end. */
const deletedPods = new Set<string>();
let failed = false;

const nodeName = (c: string, i: number): string => `fm-${sfx}-${c}-${i}`;
const node = (c: string, i: number, cpu = '8'): FakeNodeSpec => ({ name: nodeName(c, i), cpu, memory: '32Gi', labels: { [CASE]: `${c}-${sfx}` }, kwok: false });
const casePod = (c: string, name: string, cpu = '100m'): ReturnType<typeof pod> => pod(ns, name, { schedulerName, cpu, memory: '64Mi', nodeSelector: { [CASE]: `${c}-${sfx}` } });
const bindingPath = (name: string): RegExp => new RegExp(`^/api/v1/namespaces/${ns}/pods/${name}/binding(\\?|$)`);
const PODS_WATCH = /^\/api\/v1\/pods\?(.*&)?watch=true(&|$)/;

function lines(): LogLine[] {
  const out: LogLine[] = [];
  for (const t of logText) {
    for (const l of t.split('\n')) {
      if (l.trim() === '') continue;
      try {
        out.push(JSON.parse(l) as LogLine);
      } catch {
        out.push({ msg: `unparsable log line: ${l}`, level: 'error' });
      }
    }
  }
  return out;
}

/** berth's scheduled decision lines for one pod (one per binding attempt, with bound=true|false). */
const scheduledLines = (name: string): LogLine[] => lines().filter((l) => l.decision === 'scheduled' && l.pod === `${ns}/${name}`);
const bindFailures = (name: string): LogLine[] => lines().filter((l) => l.msg === 'binding failed' && l.pod === `${ns}/${name}`);
const statuses = (reqs: ProxiedRequest[]): number[] => reqs.map((r) => r.status);

/** The pod is bound to `node` in the API, and berth logged exactly one bound decision for it, naming that node. */
async function expectBoundOnce(name: string, node?: string): Promise<string> {
  const bound = await cluster.waitBound(ns, [name], 60_000);
  const onNode = bound.get(name) as string;
  if (node !== undefined) expect(onNode).toBe(node);
  // The decision line is written when the binding cycle ends, just after the API server's answer.
  const boundLines = await waitFor(`berth's bound decision line for ${name}`, 10_000, () => {
    const ls = scheduledLines(name).filter((l) => l['bound'] === true);
    return ls.length > 0 ? ls : undefined;
  });
  expect(boundLines.map((l) => l.node), `bound decision lines of ${name}`).toEqual([onNode]);
  // The API server refuses a second Binding of a bound pod; none was even sent.
  const posts = proxy.seen('POST', bindingPath(name));
  expect(posts.filter((r) => r.status === 201), `successful Binding POSTs of ${name}`).toHaveLength(1);
  expect(posts.filter((r) => r.status === 409), `Binding POSTs of ${name} refused as already bound`).toEqual([]);
  return onNode;
}

async function expectHealthy(): Promise<void> {
  const b = berth as RunningBerth;
  expect((await httpGet(`${b.server.address}/healthz`)).status).toBe(200);
  expect((await httpGet(`${b.server.address}/readyz`)).status).toBe(200);
  expect(b.scheduler.running).toBe(true);
}

beforeAll(async () => {
  const kubeconfigPath = inject('kubeconfigPath');
  cluster = new Cluster(kubeconfigPath);
  await cluster.createNamespace(ns);
  await cluster.createNodes([node('c1', 0), node('c2', 0), node('c3', 0), node('c3', 1), node('c4', 0, '1')]);
  proxy = await FaultProxy.start(kubeconfigPath);
  const proxyKubeconfig = join(tmp, 'kubeconfig');
  proxy.writeKubeconfig(proxyKubeconfig);
  const config = join(tmp, 'config.yaml');
  writeFileSync(
    config,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: ${schedulerName}
`,
  );
  const logger = createLogger('info', { write: (s: string) => void logText.push(s) });
  // JSON on the wire: the proxy reads Binding bodies and watch streams as JSON (berth's default is protobuf). Retries,
  // watch replacement and the binding cycle are the same code for both content types.
  const transport = { apiContentType: 'json', apiProtocol: 'http1.1' } as const;
  berth = await startBerth(
    { config, kubeconfig: proxyKubeconfig, bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16, watch: { stallTimeoutMs: STALL_MS }, transport },
    undefined,
    logger,
  );
  await untilReadyAndLeading(berth, 90_000).catch((err: unknown) => {
    failed = true;
    throw err;
  });
}, 180_000);

afterAll(async () => {
  if (failed) {
    // Keep berth's log and the proxy's record for the post-mortem.
    const file = join(tmpdir(), `berth-fault-matrix-${sfx}.log`);
    const record = (proxy?.requests ?? []).map((r) => `${new Date(r.at).toISOString()} ${r.method} ${r.url} -> ${r.status}${r.fault ? ` (${r.fault})` : ''}`);
    writeFileSync(file, [...logText, '--- proxy ---', ...record].join('\n'));
    process.stderr.write(`[liveFaultMatrix] berth's log and the proxy's record kept in ${file}\n`);
  }
  await berth?.shutdown('test done');
  await proxy?.stop();
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  onTestFailed(() => {
    failed = true;
  });
});

describe('berth under injected API faults (fault-injecting proxy, shared control plane)', () => {
  it('Binding answered 429/503 with Retry-After (retried after the wait, unseen by the scheduler) and 500 (requeued): every pod bound once', async () => {
    const throttled = proxy.inject({ method: 'POST', path: bindingPath('c1-throttled'), action: { kind: 'status', status: 429, retryAfterSeconds: 2 } });
    const unavailable = proxy.inject({ method: 'POST', path: bindingPath('c1-unavailable'), action: { kind: 'status', status: 503, retryAfterSeconds: 1 }, times: 2 });
    const failing = proxy.inject({ method: 'POST', path: bindingPath('c1-error'), action: { kind: 'status', status: 500 } });
    const plain = Array.from({ length: 5 }, (_, i) => `c1-plain-${i}`);
    const names = ['c1-throttled', 'c1-unavailable', 'c1-error', ...plain];
    await Promise.all(names.map((n) => cluster.createPod(casePod('c1', n))));
    for (const n of names) await expectBoundOnce(n, nodeName('c1', 0));
    expect(throttled.hits).toHaveLength(1);
    expect(unavailable.hits).toHaveLength(2);
    expect(failing.hits).toHaveLength(1);

    // 429 + Retry-After: 2 → the same Binding again, no sooner than 2 s after the answer; the scheduler never saw it.
    const t = proxy.seen('POST', bindingPath('c1-throttled'));
    expect(statuses(t)).toEqual([429, 201]);
    const throttledWait = (t[1] as ProxiedRequest).at - ((t[0] as ProxiedRequest).answeredAt as number);
    expect(throttledWait).toBeGreaterThanOrEqual(1_950);
    expect(throttledWait).toBeLessThan(30_000);
    expect(bindFailures('c1-throttled')).toEqual([]);
    expect(scheduledLines('c1-throttled')).toHaveLength(1);

    // 503 + Retry-After: 1, twice → two waits of at least 1 s each, then 201; also unseen by the scheduler.
    const u = proxy.seen('POST', bindingPath('c1-unavailable'));
    expect(statuses(u)).toEqual([503, 503, 201]);
    for (let i = 1; i < u.length; i++) expect((u[i] as ProxiedRequest).at - ((u[i - 1] as ProxiedRequest).answeredAt as number)).toBeGreaterThanOrEqual(950);
    expect(bindFailures('c1-unavailable')).toEqual([]);

    // 500 without Retry-After → a failed binding cycle: logged, the pod requeued, bound by the next attempt.
    expect(statuses(proxy.seen('POST', bindingPath('c1-error')))).toEqual([500, 201]);
    const failed = bindFailures('c1-error');
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.['err'])).toContain('fault proxy: injected HTTP 500');
    expect(scheduledLines('c1-error').map((l) => l['bound'])).toEqual([false, true]);

    for (const n of plain) expect(statuses(proxy.seen('POST', bindingPath(n)))).toEqual([201]);
    await expectHealthy();
  });

  it('a pods watch that stalls (200, then nothing, never closed) is replaced by the watchdog; pods created meanwhile are all bound', async () => {
    const stall = proxy.inject({ method: 'GET', path: PODS_WATCH, action: { kind: 'stall' } });
    // Cut berth's pods watch: its re-watch is the one that stalls.
    expect(proxy.dropWatches(PODS_WATCH)).toBe(1);
    const stalled = await waitFor('berth to re-watch pods into the stall', 30_000, () => stall.hits[0]);
    const names = Array.from({ length: 5 }, (_, i) => `c2-${i}`);
    await Promise.all(names.map((n) => cluster.createPod(casePod('c2', n))));
    for (const n of names) await expectBoundOnce(n, nodeName('c2', 0));
    expect(stall.hits).toHaveLength(1);

    // The watchdog replaced the stalled watch about STALL_MS after it began (berth arms it just before the request
    // leaves, hence the slack), and berth learned of the pods only from the replacement: every Binding came after it.
    const replacement = proxy.seen('GET', PODS_WATCH).find((r) => r.at > stalled.at && r.fault === undefined) as ProxiedRequest;
    expect(replacement, 'a pods watch after the stalled one').toBeDefined();
    expect(replacement.status).toBe(200);
    expect(replacement.at - stalled.at).toBeGreaterThanOrEqual(STALL_MS - 1_000);
    expect(stalled.clientGone, 'berth closed the stalled stream').toBe(true);
    for (const n of names) {
      const post = proxy.seen('POST', bindingPath(n))[0] as ProxiedRequest;
      expect(post.at, `${n}'s Binding after the replacement watch`).toBeGreaterThanOrEqual(replacement.at);
    }
    const noticed = lines().filter((l) => l.msg === 'watch stalled (no event or bookmark); re-watching' && l['reflector'] === 'Pod' && Date.parse(String(l['time'])) >= stalled.at);
    expect(noticed.length).toBeGreaterThanOrEqual(1);
    await expectHealthy();
  });

  it('a node deleted while its Binding is in flight: the API server binds the pod to the gone node, once; berth carries on', async () => {
    const hold = proxy.inject({ method: 'POST', path: bindingPath('c3-held'), action: { kind: 'hold' } });
    await cluster.createPod(casePod('c3', 'c3-held'));
    const held = await waitFor('the Binding of c3-held to reach the proxy', 30_000, () => hold.hits[0]);
    const target = (JSON.parse(held.body) as { target: { name: string } }).target.name;
    const other = target === nodeName('c3', 0) ? nodeName('c3', 1) : nodeName('c3', 0);
    expect([nodeName('c3', 0), nodeName('c3', 1)]).toContain(target);

    const deletedAt = Date.now();
    await cluster.req('DELETE', `/api/v1/nodes/${target}`);
    // berth's node watch delivers the deletion before the Binding is let go.
    await waitFor(`the DELETED event of ${target} to reach berth`, 30_000, () =>
      proxy.watchEvents.some((e) => e.type === 'DELETED' && e.kind === 'Node' && e.name === target && e.at >= deletedAt) ? true : undefined,
    );
    hold.release();

    // The API server took the Binding: bound once, to the node that is gone (upstream: same; pod GC removes it later).
    await expectBoundOnce('c3-held', target);
    expect(statuses(proxy.seen('POST', bindingPath('c3-held')))).toEqual([201]);
    expect((await cluster.client.request('GET', `/api/v1/nodes/${target}`)).status).toBe(404);

    // As kube-controller-manager's pod GC would: the orphaned pod is deleted. berth schedules on as before.
    await cluster.client.request('DELETE', `/api/v1/namespaces/${ns}/pods/c3-held`, { query: { gracePeriodSeconds: 0 } });
    deletedPods.add('c3-held');
    await cluster.createPod(casePod('c3', 'c3-after'));
    await expectBoundOnce('c3-after', other);
    await expectHealthy();
  });

  it('a pod deleted while assumed (its Binding held): the attempt ends unbound, berth forgets the pod, its room is free again, nothing bound twice', async () => {
    const hold = proxy.inject({ method: 'POST', path: bindingPath('c4-victim'), action: { kind: 'hold' } });
    // The node has 1 cpu: the victim (800m) and the next pod (800m) cannot both be held on it.
    await cluster.createPod(casePod('c4', 'c4-victim', '800m'));
    const held = await waitFor('the Binding of c4-victim to reach the proxy', 30_000, () => hold.hits[0]);
    expect((JSON.parse(held.body) as { target: { name: string } }).target.name).toBe(nodeName('c4', 0));

    const deletedAt = Date.now();
    await cluster.client.request('DELETE', `/api/v1/namespaces/${ns}/pods/c4-victim`, { query: { gracePeriodSeconds: 0 } });
    deletedPods.add('c4-victim');
    expect((await cluster.client.request('GET', `/api/v1/namespaces/${ns}/pods/c4-victim`)).status).toBe(404);
    await waitFor('the DELETED event of c4-victim to reach berth', 30_000, () =>
      proxy.watchEvents.some((e) => e.type === 'DELETED' && e.kind === 'Pod' && e.name === 'c4-victim' && e.at >= deletedAt) ? true : undefined,
    );
    hold.release();

    // berth ends the attempt unbound and does not try again: its one Binding, left to finish, was answered 404.
    await waitFor('berth to end the attempt of c4-victim', 30_000, () => (scheduledLines('c4-victim').length > 0 ? true : undefined));
    expect(scheduledLines('c4-victim').map((l) => l['bound'])).toEqual([false]);
    const victimPosts = proxy.seen('POST', bindingPath('c4-victim'));
    expect(victimPosts).toHaveLength(1);
    const post = victimPosts[0] as ProxiedRequest;
    await waitFor('the Binding of c4-victim to be answered', 30_000, () => (post.answeredAt !== undefined || post.clientGone ? true : undefined));
    expect(post.status, `Binding of c4-victim: ${JSON.stringify(post)}`).toBe(404);
    expect(String(bindFailures('c4-victim')[0]?.['err'])).toMatch(/not found/i);

    // Only in the room the victim held: bound there once the cache forgot the victim.
    await cluster.createPod(casePod('c4', 'c4-next', '800m'));
    await expectBoundOnce('c4-next', nodeName('c4', 0));
    expect(proxy.seen('POST', bindingPath('c4-victim'))).toHaveLength(1);
    await expectHealthy();
  });

  it('after the whole matrix: every remaining pod bound once, counters agree, berth healthy and never logged an error', async () => {
    const pods = await cluster.listPods(ns);
    const names = pods.map((p) => p.metadata?.name ?? '');
    expect(names.length).toBeGreaterThan(0);
    for (const p of pods) expect(p.spec?.nodeName, `${p.metadata?.name} bound`).toBeTruthy();
    for (const n of names) expect(deletedPods.has(n)).toBe(false);
    const boundLines = lines().filter((l) => l.decision === 'scheduled' && l['bound'] === true && l.pod?.startsWith(`${ns}/`));
    const boundPods = boundLines.map((l) => (l.pod ?? '').slice(ns.length + 1));
    // One bound line per pod that was ever bound: the pods still there plus the one pod GC'd in case 3.
    expect([...boundPods].sort()).toEqual([...names, 'c3-held'].sort());
    const metrics = parsePrometheus((await httpGet(`${(berth as RunningBerth).server.address}/metrics`)).body);
    expect(sum(select(metrics, 'scheduler_schedule_attempts_total', { result: 'scheduled', profile: schedulerName }))).toBe(boundLines.length);
    expect(lines().filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    await expectHealthy();
  });
});
