#!/usr/bin/env node
/**
 * The harness's way to start berth: `node dist/tools/fidelity/berthEntry.js run ...` runs berth's CLI exactly as
 * dist/src/cli/main.js does, with two test-only switches from the environment:
 *
 * - BERTH_FIDELITY_HOLD=1: load berth (the CPU-heavy part of its start, seconds on a busy 2-core machine), print
 *   HELD_MARKER, and wait for SIGUSR2 before running the CLI. The harness loads berth while upstream's run goes on
 *   and releases it once berth's run may start: nothing touches the cluster before the signal.
 * - BERTH_FIDELITY_ZERO_SCORE=<plugin>: that score plugin scores 0 (zeroScore.ts), to show a scenario needs it.
 */
export const HOLD_ENV = 'BERTH_FIDELITY_HOLD';
export const HELD_MARKER = 'berth-fidelity: loaded, waiting for SIGUSR2';

async function run(): Promise<number> {
  // The handler goes in before anything is loaded: a signal that came first would otherwise end the process.
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  if (process.env[HOLD_ENV] === '1') process.once('SIGUSR2', () => release());
  const { main } = await import('../../src/cli/main.js');
  const { IN_TREE_CATALOG } = await import('../../src/scheduler/plugins/inTree.js');
  const { installZeroScore, ZERO_SCORE_ENV } = await import('./zeroScore.js');
  const zero = process.env[ZERO_SCORE_ENV];
  if (zero) {
    installZeroScore(IN_TREE_CATALOG, zero);
    process.stderr.write(`berth-fidelity: ${zero}'s scores are zeroed (test only)\n`);
  }
  if (process.env[HOLD_ENV] === '1') {
    process.stderr.write(`${HELD_MARKER}\n`);
    // A signal listener keeps no event loop alive: without a timer node would end here (unsettled await).
    const keepAlive = setInterval(() => {}, 60_000);
    await released;
    clearInterval(keepAlive);
  }
  return main(process.argv.slice(2));
}

// Only as a process entry (the harness also imports the constants above).
if (process.argv[1]?.endsWith('berthEntry.js')) {
  try {
    process.exitCode = await run();
  } catch (err) {
    process.stderr.write(`berth-fidelity: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
