import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DecisionStore } from '../../src/observe/decisionStore.js';
import { SchedulerMetrics } from '../../src/observe/metrics.js';
import { type RunningServer, startServer } from '../../src/observe/server.js';
import type { ScheduleResult } from '../../src/scheduler/framework/schedulePod.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(store?: DecisionStore): Promise<string> {
  const ok = () => ({ name: 'x', ok: true });
  server = await startServer({ host: '127.0.0.1', port: 0, metrics: new SchedulerMetrics({ defaultMetrics: false }), checks: { healthz: ok, livez: ok, readyz: ok }, ...(store ? { decisions: store } : {}) });
  return server.address;
}

async function explain(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['explain', ...args], (s) => (out += s));
  return { code, out };
}

const scores = (fit: number) => [
  { plugin: 'NodeResourcesFit', weight: 2, raw: fit, normalized: fit, weighted: 2 * fit },
  { plugin: 'ImageLocality', weight: 1, raw: 0, normalized: 0, weighted: 0 },
];

describe('berth explain', () => {
  it('prints the record as simulate --explain prints a decision: grouped filter verdicts, the score table, the chosen node starred', async () => {
    const store = new DecisionStore({ perPod: 3 });
    const result: ScheduleResult = {
      kind: 'scheduled',
      nodeName: 'n-2',
      totalScore: 160,
      evaluatedNodes: 4,
      feasibleNodes: 2,
      contributions: [{ plugin: 'NodeResourcesFit', weight: 2, score: 80, weighted: 160 }],
      explanation: [
        { node: 'n-3', verdict: 'Unschedulable', plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'] },
        { node: 'n-4', verdict: 'Unschedulable', plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'] },
        { node: 'n-1', verdict: 'feasible', total: 40, scores: scores(20) },
        { node: 'n-2', verdict: 'feasible', total: 160, scores: scores(80) },
      ],
    };
    store.add({ queued: { attempts: 2, pod: { namespace: 'ns', name: 'web', uid: 'u' } }, profile: 'berth', result }, { result: 'scheduled', bound: true });
    const address = await serve(store);
    const { code, out } = await explain(['ns/web', '--server', address]);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines).toContain('=== ns/web → n-2 (attempt 2)');
    expect(out).toMatch(/ {4}n-3, n-4 {2}NodeResourcesFit {2}Unschedulable {2}Insufficient cpu/);
    expect(out).toContain('Score (raw → normalized × weight = weighted):');
    expect(lines.some((l) => /^ {2}\* {2}n-2 +80→80×2=160 +0→0×1=0 +160$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {5}n-1 +20→20×2=40/.test(l))).toBe(true);
  });

  it('exit 1 without a record and no kubeconfig, saying why and how to recompute; exit 2 on bad input', async () => {
    const off = await serve();
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write;
    try {
      expect((await explain(['ns/web', '--server', off])).code).toBe(1);
      expect((await explain(['not-a-pod-ref', '--server', off])).code).toBe(2);
      expect((await explain(['ns/web'])).code).toBe(2);
      expect((await explain(['ns/web', '--server', 'ftp://x'])).code).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain('the decision record is off: start berth run with --decision-record N');
    expect(errors.join('')).toContain('pass --kubeconfig FILE');
    expect(errors.join('')).toContain('"not-a-pod-ref" is not NAMESPACE/POD');
  });
});

describe('berth explain --kubeconfig', () => {
  it('exit 2 for a kubeconfig that cannot be loaded, naming it', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write;
    try {
      expect((await explain(['ns/web', '--kubeconfig', '/nonexistent/kubeconfig'])).code).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain('--kubeconfig /nonexistent/kubeconfig: cannot load it');
  });
});
