/**
 * Builds dist/ (tsc -p tools/tsconfig.json: the product, the tools and the benchmarks) once for test files that run berth as a child process. Test files run
 * in parallel: a lock directory makes the others wait for the one build instead of writing dist/ concurrently.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findRepoRoot } from '../devcluster/index.js';

const execFileP = promisify(execFile);

export async function ensureBuilt(timeoutMs = 10 * 60_000): Promise<void> {
  const root = findRepoRoot();
  mkdirSync(join(root, 'dist'), { recursive: true });
  const lock = join(root, 'dist', '.build-lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else builds: wait for it, then use its output (a lock older than the timeout is stale).
      try {
        if (Date.now() - statSync(lock).mtimeMs > timeoutMs) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
      try {
        statSync(lock);
      } catch {
        return;
      }
    }
  }
  try {
    await execFileP(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tools', 'tsconfig.json')], { cwd: root });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
