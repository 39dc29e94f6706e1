import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerMetrics } from '../../src/observe/metrics.js';
import { type CheckResult, type RunningServer, startServer } from '../../src/observe/server.js';
import { DecisionStore } from '../../src/observe/decisionStore.js';

let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function fetchText(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

describe('startServer', () => {
  it('serves ok on all health endpoints when checks pass, and lists them with ?verbose', async () => {
    const metrics = new SchedulerMetrics({ defaultMetrics: false });
    const pass = (): CheckResult => ({ name: 'leaderElection', ok: true });
    server = await startServer({ host: '127.0.0.1', port: 0, metrics, checks: { healthz: pass, livez: pass, readyz: pass } });
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`http://127.0.0.1:${server.port}`);
    for (const ep of ['healthz', 'livez', 'readyz']) {
      const r = await fetchText(`${server.address}/${ep}`);
      expect(r).toEqual({ status: 200, body: 'ok', type: 'text/plain; charset=utf-8' });
      const v = await fetchText(`${server.address}/${ep}?verbose`);
      expect(v.status).toBe(200);
      expect(v.body).toBe(`[+]ping ok\n[+]leaderElection ok\n${ep} check passed\n`);
    }
  });

  it('answers 500 with the failing check and its reason, upstream-style', async () => {
    const metrics = new SchedulerMetrics({ defaultMetrics: false });
    let leaderOk = true;
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      checks: {
        healthz: () => [
          leaderOk ? { name: 'leaderElection', ok: true } : { name: 'leaderElection', ok: false, reason: 'failed election to renew leadership on lease kube-system/berth' },
        ],
        livez: () => ({ name: 'ping-loop', ok: true }),
        readyz: async () => [
          { name: 'informer-sync', ok: false, reason: 'pods not synced' },
          { name: 'shutdown', ok: true },
        ],
      },
    });
    expect((await fetchText(`${server.address}/healthz`)).status).toBe(200);
    leaderOk = false;
    const h = await fetchText(`${server.address}/healthz`);
    expect(h.status).toBe(500);
    expect(h.body).toBe('[+]ping ok\n[-]leaderElection failed: failed election to renew leadership on lease kube-system/berth\nhealthz check failed\n');
    const r = await fetchText(`${server.address}/readyz`);
    expect(r.status).toBe(500);
    expect(r.body).toBe('[+]ping ok\n[-]informer-sync failed: pods not synced\n[+]shutdown ok\nreadyz check failed\n');
    // Excluding the failing check makes the endpoint pass.
    const ex = await fetchText(`${server.address}/readyz?exclude=informer-sync&verbose`);
    expect(ex.status).toBe(200);
    expect(ex.body).toBe('[+]ping ok\n[+]informer-sync excluded: ok\n[+]shutdown ok\nreadyz check passed\n');
    // Individual checks.
    expect(await fetchText(`${server.address}/readyz/informer-sync`)).toMatchObject({ status: 500, body: 'internal server error: pods not synced\n' });
    expect(await fetchText(`${server.address}/readyz/shutdown`)).toMatchObject({ status: 200, body: 'ok' });
    expect(await fetchText(`${server.address}/readyz/ping`)).toMatchObject({ status: 200, body: 'ok' });
    expect((await fetchText(`${server.address}/readyz/nope`)).status).toBe(404);
    expect((await fetchText(`${server.address}/livez`)).body).toBe('ok');
  });

  it('turns a throwing check into a failure', async () => {
    const metrics = new SchedulerMetrics({ defaultMetrics: false });
    const ok = (): CheckResult => ({ name: 'x', ok: true });
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      checks: {
        healthz: () => {
          throw new Error('kaboom');
        },
        livez: ok,
        readyz: ok,
      },
    });
    const h = await fetchText(`${server.address}/healthz`);
    expect(h.status).toBe(500);
    expect(h.body).toBe('[+]ping ok\n[-]check failed: kaboom\nhealthz check failed\n');
  });

  it('serves /metrics in Prometheus text format with the registry content type', async () => {
    const metrics = new SchedulerMetrics();
    metrics.queueIncoming('active', 'PodAdd');
    const ok = (): CheckResult => ({ name: 'x', ok: true });
    server = await startServer({ host: '127.0.0.1', port: 0, metrics, checks: { healthz: ok, livez: ok, readyz: ok } });
    const m = await fetchText(`${server.address}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toBe(metrics.contentType);
    expect(m.body).toContain('# TYPE scheduler_schedule_attempts_total counter');
    expect(m.body).toContain('scheduler_queue_incoming_pods_total{queue="active",event="PodAdd"} 1');
    expect(m.body).toContain('process_cpu_user_seconds_total');
    expect((await fetchText(`${server.address}/nope`)).status).toBe(404);
  });

  it('closes and frees its port', async () => {
    const metrics = new SchedulerMetrics({ defaultMetrics: false });
    const ok = (): CheckResult => ({ name: 'x', ok: true });
    const s = await startServer({ host: '127.0.0.1', port: 0, metrics, checks: { healthz: ok, livez: ok, readyz: ok } });
    await s.close();
    await expect(fetch(`${s.address}/healthz`)).rejects.toThrow();
  });
});

describe('/debug/decisions', () => {
  const pass = (): CheckResult => ({ name: 'leaderElection', ok: true });
  const checks = { healthz: pass, livez: pass, readyz: pass };

  it('says how to turn the record on when it is off', async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, metrics: new SchedulerMetrics({ defaultMetrics: false }), checks });
    const r = await fetchText(`${server.address}/debug/decisions?pod=ns/p`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toEqual({ reason: 'Disabled', error: expect.stringContaining('--decision-record N') });
  });

  it('serves a pod\'s attempts, by node, recent; 404 for an unknown pod; 400 for bad queries', async () => {
    const decisions = new DecisionStore({ perPod: 2 });
    const diagnosis = { nodeToStatus: new Map(), absentNodesStatus: null, unschedulablePlugins: new Set<string>(), preFilterMsg: '', postFilterMsg: '' };
    decisions.add(
      {
        queued: { attempts: 1, pod: { namespace: 'ns', name: 'p', uid: 'u' } },
        profile: 'berth',
        result: { kind: 'unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.', diagnosis, numAllNodes: 1, explanation: [{ node: 'n1', verdict: 'Unschedulable', plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'] }] },
      },
      { result: 'unschedulable', bound: false },
    );
    server = await startServer({ host: '127.0.0.1', port: 0, metrics: new SchedulerMetrics({ defaultMetrics: false }), checks, decisions });
    const byPod = await fetchText(`${server.address}/debug/decisions?pod=ns/p`);
    expect(byPod.status).toBe(200);
    expect(byPod.type).toBe('application/json; charset=utf-8');
    const body = JSON.parse(byPod.body) as { attempts: Array<{ pod: string; filter: Array<{ count: number }> }> };
    expect(body.attempts.map((a) => a.pod)).toEqual(['ns/p']);
    expect(body.attempts[0]?.filter[0]?.count).toBe(1);
    expect(JSON.parse((await fetchText(`${server.address}/debug/decisions?node=n1`)).body)).toMatchObject({ attempts: [{ pod: 'ns/p' }] });
    expect(JSON.parse((await fetchText(`${server.address}/debug/decisions?node=n2`)).body)).toEqual({ attempts: [] });
    expect(JSON.parse((await fetchText(`${server.address}/debug/decisions`)).body)).toMatchObject({ attempts: [{ pod: 'ns/p' }] });
    const missing = await fetchText(`${server.address}/debug/decisions?pod=ns/other`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ reason: 'NotFound', error: expect.stringContaining('the last 2 attempt(s) of at most 1000 pods') });
    expect((await fetchText(`${server.address}/debug/decisions?pod=nonamespace`)).status).toBe(400);
    expect((await fetchText(`${server.address}/debug/decisions?limit=0`)).status).toBe(400);
  });
});
