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
  it('runs upstream, berth and the ceiling on 20 nodes / 50 pods and writes the JSON report', async () => {
    const json = join(dir, 'smoke.json');
    const { stdout } = await execFileP(
      process.execPath,
      [join(root, 'dist', 'bench', 'throughput.js'), '--nodes', '20', '--pods', '50', '--init-pods', '10', '--quiet', '--json', json],
      { cwd: root, timeout: 110_000 },
    );
    expect(stdout).toMatch(/upstream .*\n.*berth .*\n.*ceiling/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { rows: Array<{ name: string; measuredPods: number; cpuSeconds: number | null }>; machine: { nproc: number } };
    expect(report.rows.map((r) => r.name)).toEqual(['upstream', 'berth', 'ceiling']);
    for (const r of report.rows) expect(r.measuredPods).toBe(50);
    expect(report.rows[1]!.cpuSeconds).toBeGreaterThan(0);
    expect(report.machine.nproc).toBeGreaterThan(0);
  }, 120_000);
});
