// The decision record, `berth explain` and the decision annotation against the real control plane: berth run with
// --decision-record serves a scheduled pod's scores and an unschedulable pod's filter histogram at /debug/decisions;
// the real CLI (dist/src/cli/main.js) prints both; once berth is gone it recomputes them from the cluster and says
// so; the berth.dev/decision annotation is on the pod only when --annotate-decisions is. Names, labels, nodes and
// schedulerNames are this file's own, so it shares the control plane with the other files.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningBerth, startBerth } from '../../src/cli/run.js';
import type { AttemptRecord } from '../../src/observe/decisionStore.js';
import { createLogger } from '../../src/observe/logging.js';
import { DECISION_ANNOTATION } from '../../src/adapters/live/decisionAnnotation.js';
import { Cluster, httpGet, pod, suffix, waitFor } from './helpers/live.js';

const sfx = suffix();
const ns = `decisions-${sfx}`;
const schedulerName = `berth-decisions-${sfx}`;
const GROUP = 'decisions.berth.test/group';
const tmp = mkdtempSync(join(tmpdir(), 'berth-decisions-'));
const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const nodeNames = [`decisions-${sfx}-1`, `decisions-${sfx}-2`];
// Each CLI run is a fresh node process (and a recomputation lists every watched kind): minutes on a loaded machine.
const CLI_TEST_TIMEOUT_MS = 400_000;

let cluster: Cluster;
let configPath: string;
let berth: RunningBerth | undefined;

async function start(extra: { decisionRecord?: number; annotateDecisions?: boolean }): Promise<RunningBerth> {
  const logger = createLogger('warn', { write: () => undefined });
  const flags = { config: configPath, kubeconfig: inject('kubeconfigPath'), bindAddress: '127.0.0.1', port: 0, logLevel: 'warn', bindConcurrency: 16, leaderElect: false };
  const b = await startBerth({ ...flags, ...extra }, undefined, logger);
  await waitFor('berth to be ready', 20_000, async () => ((await httpGet(`${b.server.address}/readyz`)).status === 200 ? true : undefined));
  return b;
}

/** Runs the real CLI; resolves with its exit status and output (never rejects on a non-zero exit). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 150_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function record(address: string, query: string): Promise<{ status: number; attempts: AttemptRecord[]; reason?: string }> {
  const r = await httpGet(`${address}/debug/decisions?${query}`);
  const body = JSON.parse(r.body) as { attempts?: AttemptRecord[]; reason?: string };
  return { status: r.status, attempts: body.attempts ?? [], ...(body.reason ? { reason: body.reason } : {}) };
}

const mine = (name: string, cpu = '500m') => pod(ns, name, { schedulerName, nodeSelector: { [GROUP]: sfx }, cpu });

beforeAll(async () => {
  cluster = new Cluster(inject('kubeconfigPath'));
  await cluster.createNamespace(ns);
  await cluster.createNodes(nodeNames.map((name) => ({ name, cpu: '4', memory: '16Gi', labels: { [GROUP]: sfx } })));
  configPath = join(tmp, 'config.yaml');
  writeFileSync(configPath, `apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n  - schedulerName: ${schedulerName}\n`);
});

afterAll(async () => {
  await berth?.shutdown('test over');
  await cluster?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('decision record, berth explain, decision annotation', () => {
  it('/debug/decisions shows a scheduled pod\'s scores and an unschedulable pod\'s filter histogram; the annotation is written', async () => {
    berth = await start({ decisionRecord: 3, annotateDecisions: true });
    const address = berth.server.address;
    await cluster.createPod(mine('fits'));
    await cluster.createPod(mine('huge', '64'));
    const bound = await cluster.waitBound(ns, ['fits'], 15_000);
    const node = bound.get('fits') ?? '';

    const fits = await waitFor('the record of fits', 10_000, async () => (await record(address, `pod=${ns}/fits`)).attempts[0]);
    expect(fits).toMatchObject({ pod: `${ns}/fits`, result: 'scheduled', bound: true, node, feasibleNodes: 2, scoredNodes: 2 });
    expect(fits.scores.map((s) => s.node).sort()).toEqual([...nodeNames].sort());
    const fit = fits.scores.find((s) => s.node === node)?.scores.find((s) => s.plugin === 'NodeResourcesFit');
    expect(fit).toMatchObject({ weight: 1, weighted: fit?.normalized });
    expect(fit?.normalized).toBeGreaterThan(0);

    const huge = await waitFor('the record of huge', 10_000, async () => (await record(address, `pod=${ns}/huge`)).attempts[0]);
    expect(huge).toMatchObject({ result: 'unschedulable', bound: false, node: null, scores: [] });
    expect(huge.message).toMatch(/^0\/\d+ nodes are available: .*2 Insufficient cpu/);
    const cpu = huge.filter.find((g) => g.plugin === 'NodeResourcesFit');
    expect(cpu).toMatchObject({ reasons: ['Insufficient cpu'], count: 2 });
    expect([...(cpu?.nodes ?? [])].sort()).toEqual([...nodeNames].sort());

    expect((await record(address, `node=${node}`)).attempts.map((a) => a.pod)).toEqual(expect.arrayContaining([`${ns}/fits`, `${ns}/huge`]));
    expect((await record(address, `pod=${ns}/never`)).status).toBe(404);

    const annotation = (await cluster.getPod(ns, 'fits')).metadata?.annotations?.[DECISION_ANNOTATION];
    expect(annotation).toMatch(new RegExp(`^node ${node}: [A-Za-z]+ \\d+×\\d+(, [A-Za-z]+ \\d+×\\d+)*$`));
  });

  it('berth explain (the real CLI) prints both records as simulate --explain does', async () => {
    const address = berth!.server.address;
    const fits = await cli(['explain', `${ns}/fits`, '--server', address]);
    expect(fits.code, fits.stderr).toBe(0);
    const node = (await cluster.getPod(ns, 'fits')).spec?.nodeName ?? '';
    expect(fits.stdout).toContain(`=== ${ns}/fits → ${node}`);
    expect(fits.stdout).toContain('Score (raw → normalized × weight = weighted):');
    expect(fits.stdout).toMatch(new RegExp(`\\n  \\*  ${node} +\\d+→\\d+×\\d+=\\d+`));
    const huge = await cli(['explain', `${ns}/huge`, '--server', address]);
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.stdout).toContain(`=== ${ns}/huge → <pending>`);
    expect(huge.stdout).toMatch(/NodeResourcesFit +Unschedulable\w* +Insufficient cpu/);
    expect(huge.stdout).toMatch(/0\/\d+ nodes are available: /);
  }, CLI_TEST_TIMEOUT_MS);

  it('recomputes on the live cluster once the record is gone, and says so; exit 1 without a way to', async () => {
    const address = berth!.server.address;
    await berth!.shutdown('record gone');
    berth = undefined;
    const none = await cli(['explain', `${ns}/huge`, '--server', address]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('berth is not reachable');
    const kubeconfig = inject('kubeconfigPath');
    const huge = await cli(['explain', `${ns}/huge`, '--server', address, '--kubeconfig', kubeconfig, '--config', configPath]);
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.stdout).toContain('RECOMPUTED now on a read-only snapshot');
    expect(huge.stdout).toContain(`=== ${ns}/huge → <pending>`);
    expect(huge.stdout).toMatch(/Insufficient cpu/);
    const fits = await cli(['explain', `${ns}/fits`, '--kubeconfig', kubeconfig, '--config', configPath]);
    expect(fits.code, fits.stderr).toBe(0);
    const node = (await cluster.getPod(ns, 'fits')).spec?.nodeName ?? '';
    expect(fits.stdout).toContain(`The pod is bound to ${node}; it was taken off that node for the recomputation.`);
    expect(fits.stdout).toContain('Score (raw → normalized × weight = weighted):');
    expect(fits.stdout).toMatch(/=== .*\/fits → decisions-/);
    const missing = await cli(['explain', `${ns}/no-such-pod`, '--kubeconfig', kubeconfig]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  }, CLI_TEST_TIMEOUT_MS);

  it('without the flags: no annotation, and /debug/decisions says the record is off', async () => {
    berth = await start({});
    await cluster.createPod(mine('plain'));
    await cluster.waitBound(ns, ['plain'], 15_000);
    expect((await cluster.getPod(ns, 'plain')).metadata?.annotations?.[DECISION_ANNOTATION]).toBeUndefined();
    const off = await record(berth.server.address, `pod=${ns}/plain`);
    expect(off).toMatchObject({ status: 404, reason: 'Disabled' });
  });
});
