// Smoke run of the live throughput benchmark (npm run bench) at a tiny size, so its code path cannot rot.
// Asserts the report's shape only, never a time or a rate.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../tools/fidelity/build.js';

const execFileP = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-test-'));

beforeAll(async () => {
  await ensureBuilt();
}, 5 * 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke)', () => {
  it('runs upstream, berth and the bind+event ceiling once each on 20 nodes / 50 pods and writes the JSON report', async () => {
    const json = join(dir, 'smoke.json');
    const { stdout } = await execFileP(
      process.execPath,
      [join(root, 'dist', 'bench', 'throughput.js'), '--nodes', '20', '--pods', '50', '--init-pods', '10', '--pairs', '1', '--idle-seconds', '1', '--quiet', '--json', json],
      { cwd: root, timeout: 170_000 },
    );
    expect(stdout).toMatch(/upstream #1 .*\n.*berth #1 .*\n.*ceiling #1/);
    expect(stdout).toMatch(/berth\/upstream per pair: pods\/s/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      runs: Array<{ arm: string; measuredPods: number; costs: { cpuSeconds: { apiserver: number; scheduler: number | null }; requests: Record<string, number> } }>;
      summaries: Array<{ arm: string; runs: number }>;
      machine: { nproc: number };
    };
    expect(report.runs.map((r) => r.arm)).toEqual(['upstream', 'berth', 'ceiling']);
    expect(report.summaries.map((s) => [s.arm, s.runs])).toEqual([['upstream', 1], ['berth', 1], ['ceiling', 1]]);
    for (const r of report.runs) expect(r.measuredPods).toBe(50);
    const berth = report.runs[1]!;
    expect(berth.costs.cpuSeconds.scheduler).toBeGreaterThan(0);
    expect(berth.costs.cpuSeconds.apiserver).toBeGreaterThan(0);
    // Every pod is bound through the API server, whatever the rate.
    expect(berth.costs.requests['POST pods/binding']).toBe(50);
    expect(report.machine.nproc).toBeGreaterThan(0);
  }, 180_000);
});
