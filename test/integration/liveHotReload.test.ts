// Hot reload of the configuration against the real API server, under a steady stream of pods. berth's --config is
// a symlink into a `..data` directory swapped atomically, as the kubelet updates a ConfigMap volume:
// 1. a weight change (NodeAffinity 5 / TaintToleration 1 → 1 / 5) flips where new pods land, from the node the
//    pods prefer to the untainted one;
// 2. an invalid file is refused: berth_config_reloads_total{result="failure"}, a log line and an Event on berth's
//    pod with config check's located message, and scheduling goes on with the weights in effect;
// 3. a profile is removed (and another added): its pending pods stay pending, each with an Event saying why, even
//    once they would fit; the added profile's pods, created while no profile named them, are picked up and bound.
// Throughout, no pod is lost or bound twice (one Scheduled event per bound pod) and the Lease never changes hands.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runConfigCheck } from '../../src/cli/configCheck.js';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import { createLogger } from '../../src/observe/logging.js';
import { Cluster, type EventV1, httpGet, parsePrometheus, pod, select, suffix, sum, waitFor, untilReadyAndLeading } from './helpers/live.js';

const sfx = suffix();
const ns = `hotreload-${sfx}`;
const main = `berth-hr-${sfx}`;
const doomed = `berth-hr-doomed-${sfx}`;
const adopted = `berth-hr-new-${sfx}`;
const leaseName = `berth-hr-${sfx}`;
const GROUP = 'live.berth.test/hotreload';
const left = `hotreload-${sfx}-left`;
const right = `hotreload-${sfx}-right`;
const WAIT_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'berth-hotreload-'));
const configPath = join(dir, 'config.yaml');

let cluster: Cluster;
let berth: RunningBerth | undefined;
const logLines: string[] = [];

function configText(weights: { affinity: number; taint: number }, profiles: string[], scorePlugin = 'NodeAffinity'): string {
  const rest = profiles.map((name) => `  - schedulerName: ${name}\n`).join('');
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: true, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s, resourceName: ${leaseName}, resourceNamespace: ${ns}}
profiles:
  - schedulerName: ${main}
    plugins:
      score:
        disabled: [{name: '*'}]
        enabled: [{name: ${scorePlugin}, weight: ${weights.affinity}}, {name: TaintToleration, weight: ${weights.taint}}]
${rest}`;
}

let generation = 0;
/** Writes the configuration as the kubelet does: a new timestamped directory, then `..data` renamed onto it. */
function swapConfig(text: string): void {
  const previous = generation === 0 ? undefined : join(dir, `..gen_${generation}`);
  generation++;
  const fresh = `..gen_${generation}`;
  mkdirSync(join(dir, fresh));
  writeFileSync(join(dir, fresh, 'config.yaml'), text);
  symlinkSync(fresh, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  if (previous) rmSync(previous, { recursive: true, force: true });
}

async function reloads(result: 'success' | 'failure'): Promise<number> {
  const r = await httpGet(`${berth!.server.address}/metrics`);
  return sum(select(parsePrometheus(r.body), 'berth_config_reloads_total', { result }));
}

async function waitReloads(result: 'success' | 'failure', count: number): Promise<void> {
  await waitFor(`${count} reload(s) with result ${result}`, WAIT_MS, async () => ((await reloads(result)) >= count ? true : undefined));
}

/** A pod of `schedulerName` that prefers the right node (weight 100) and may go to either of the two. */
function streamPod(name: string, schedulerName: string, extraSelector: Record<string, string> = {}) {
  return pod(ns, name, {
    schedulerName,
    cpu: '10m',
    memory: '8Mi',
    nodeSelector: { [GROUP]: sfx, ...extraSelector },
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'side', operator: 'In', values: ['right'] }] } }] } },
  });
}

/** Creates a pod of the main profile every 150 ms until stopped; remembers when each creation started. */
class PodStream {
  readonly createdAt = new Map<string, number>();
  private stopped = false;
  private readonly done: Promise<void>;

  constructor() {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const name = `s-${i}`;
      this.createdAt.set(name, Date.now());
      await cluster.createPod(streamPod(name, main));
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Pods whose creation started after `t`. */
  after(t: number): string[] {
    return [...this.createdAt].filter(([, at]) => at > t).map(([name]) => name);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    await this.done;
    return [...this.createdAt.keys()];
  }
}

async function placements(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of await cluster.listPods(ns)) if (p.spec?.nodeName) out.set(p.metadata?.name ?? '', p.spec.nodeName);
  return out;
}

/** Waits until every named pod is bound; returns their nodes. */
async function boundNodes(names: string[]): Promise<string[]> {
  const bound = await cluster.waitBound(ns, names, WAIT_MS);
  return names.map((n) => bound.get(n) ?? '');
}

const eventsOf = (events: EventV1[], name: string, reason: string): EventV1[] => events.filter((e) => e.regarding?.name === name && e.reason === reason);
const occurrences = (events: EventV1[]): number => events.reduce((n, e) => n + (e.series?.count ?? 1), 0);

let stream: PodStream;
let leaseAtStart: { holder: string | null | undefined; transitions: number | null | undefined };

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes([
    { name: left, cpu: '32', memory: '64Gi', pods: '500', labels: { [GROUP]: sfx, side: 'left' } },
    { name: right, cpu: '32', memory: '64Gi', pods: '500', labels: { [GROUP]: sfx, side: 'right' }, taints: [{ key: 'berth.test/avoid', value: 'yes', effect: 'PreferNoSchedule' }] },
  ]);
  // berth's own pod, as the downward API names it: a pod no scheduler serves, so it just exists to carry Events.
  await cluster.createPod(pod(ns, 'berth-self', { schedulerName: `nobody-${sfx}`, nodeSelector: { [GROUP]: 'none' } }));
  swapConfig(configText({ affinity: 5, taint: 1 }, [doomed]));
  symlinkSync('..data/config.yaml', configPath);
  const logger = createLogger('info', { write: (s: string) => void logLines.push(s) });
  berth = await startBerth(
    { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 16, ownPod: { namespace: ns, name: 'berth-self' } },
    undefined,
    logger,
  );
  const b = berth;
  await untilReadyAndLeading(b);
  const lease = await cluster.lease(ns, leaseName);
  leaseAtStart = { holder: lease?.spec?.holderIdentity, transitions: lease?.spec?.leaseTransitions };
  stream = new PodStream();
}, 60_000);

afterAll(async () => {
  await stream?.stop().catch(() => undefined);
  await berth?.shutdown('test done');
  await cluster?.cleanup([[ns, leaseName]]);
  rmSync(dir, { recursive: true, force: true });
});

describe('hot reload of the configuration under a stream of pods', () => {
  const doomedPods = ['d-0', 'd-1', 'd-2'];

  it('a changed weight decides the placements of the pods that follow', async () => {
    // Pods of the profile that will be removed, waiting for a label no node has yet.
    for (const name of doomedPods) await cluster.createPod(streamPod(name, doomed, { 'hotreload/ready': 'yes' }));
    const early = await boundNodes(['s-0', 's-1', 's-2']);
    expect(early).toEqual([right, right, right]);

    swapConfig(configText({ affinity: 1, taint: 5 }, [doomed]));
    await waitReloads('success', 1);
    const reloadedAt = Date.now();
    await waitFor('3 pods created after the reload', WAIT_MS, () => (stream.after(reloadedAt).length >= 3 ? true : undefined));
    const late = stream.after(reloadedAt).slice(0, 3);
    expect(await boundNodes(late)).toEqual([left, left, left]);
    expect(logLines.some((l) => l.includes('"configuration reloaded"') && l.includes(`"changed":["${main}"]`))).toBe(true);
  });

  it('an invalid file is refused with its located message; the running weights go on scheduling', async () => {
    swapConfig(configText({ affinity: 1, taint: 5 }, [doomed], 'NodeAfinity'));
    await waitReloads('failure', 1);
    const refusedAt = Date.now();
    // The very message `berth config check` prints for the file as it now is.
    let checked = '';
    expect(runConfigCheck(configPath, () => {}, (text) => (checked += text))).toBe(2);
    const located = checked.trimEnd();
    expect(located).toMatch(new RegExp(`^${configPath}:\\d+:\\d+: profiles\\[0\\]\\.plugins\\.score\\.enabled\\[0\\]\\.name: unknown plugin "NodeAfinity"; did you mean "NodeAffinity"\\?`));
    const line = logLines.find((l) => l.includes('"configuration reload refused'));
    expect(line && (JSON.parse(line) as { err: string }).err).toBe(located);
    const event = await waitFor('the ConfigReloadFailed event on berth\'s pod', WAIT_MS, async () => eventsOf(await cluster.events(ns), 'berth-self', 'ConfigReloadFailed')[0]);
    expect(event.type).toBe('Warning');
    expect(event.note).toBe(`${located}\n(the running configuration stays in effect)`);
    await waitFor('3 pods created after the refusal', WAIT_MS, () => (stream.after(refusedAt).length >= 3 ? true : undefined));
    expect(await boundNodes(stream.after(refusedAt).slice(0, 3))).toEqual([left, left, left]);
    expect(await reloads('success')).toBe(1);
  });

  it("a removed profile's pods stay pending with an Event; an added profile's pods are picked up", async () => {
    const adoptedPods = ['n-0', 'n-1'];
    for (const name of adoptedPods) await cluster.createPod(streamPod(name, adopted));
    swapConfig(configText({ affinity: 1, taint: 5 }, [adopted]));
    await waitReloads('success', 2);
    await boundNodes(adoptedPods);
    const events = await waitFor('an Event on each pod of the removed profile', WAIT_MS, async () => {
      const all = await cluster.events(ns);
      return doomedPods.every((n) => eventsOf(all, n, 'SchedulerProfileRemoved').length === 1) ? all : undefined;
    });
    expect(eventsOf(events, 'd-0', 'SchedulerProfileRemoved')[0]?.note).toContain(`berth no longer has a profile named "${doomed}"`);
    // Now they would fit; a stream pod created after the label and bound shows berth has seen the change.
    await cluster.req('PATCH', `/api/v1/nodes/${left}`, { metadata: { labels: { 'hotreload/ready': 'yes' } } }, 'application/merge-patch+json');
    const labelledAt = Date.now();
    await waitFor('2 pods created after the label', WAIT_MS, () => (stream.after(labelledAt).length >= 2 ? true : undefined));
    await boundNodes(stream.after(labelledAt).slice(0, 2));
    // One more pod of the removed profile: nobody takes it (checked at the end, after the stream).
    await cluster.createPod(streamPod('d-late', doomed));
    const bound = await placements();
    expect(doomedPods.filter((n) => bound.has(n))).toEqual([]);
  });

  it('no pod was lost or bound twice, and the Lease never changed hands', async () => {
    const streamed = await stream.stop();
    const bound = await cluster.waitBound(ns, [...streamed, 'n-0', 'n-1'], WAIT_MS);
    expect(bound.size).toBe(streamed.length + 2);
    // The Scheduled event is written after the binding: wait until every bound pod has one, then count them.
    const events = await waitFor('a Scheduled event for every bound pod', WAIT_MS, async () => {
      const all = await cluster.events(ns);
      return [...bound.keys()].every((name) => occurrences(eventsOf(all, name, 'Scheduled')) >= 1) ? all : undefined;
    });
    const notOnce = [...bound.keys()].filter((name) => occurrences(eventsOf(events, name, 'Scheduled')) !== 1);
    expect(notOnce).toEqual([]);
    const pending = ['d-0', 'd-1', 'd-2', 'd-late'];
    const finalNodes = await placements();
    expect(pending.filter((name) => finalNodes.has(name))).toEqual([]);
    for (const name of [...pending, 'berth-self']) expect(occurrences(eventsOf(events, name, 'Scheduled'))).toBe(0);
    const lease = await cluster.lease(ns, leaseName);
    expect({ holder: lease?.spec?.holderIdentity, transitions: lease?.spec?.leaseTransitions }).toEqual(leaseAtStart);
    expect(berth!.elector.isLeader()).toBe(true);
  });
});
