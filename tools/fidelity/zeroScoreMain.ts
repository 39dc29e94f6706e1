#!/usr/bin/env node
/**
 * Test-only entry: berth's CLI (`run ...`, same arguments) with the score plugin named by BERTH_FIDELITY_ZERO_SCORE
 * zeroed in IN_TREE_CATALOG, the catalog `berth run` builds its plugins from. Used by `npm run fidelity --
 * --zero-score PLUGIN` to show that the scenarios would catch a wrong score of that plugin.
 */
import { main } from '../../src/cli/main.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';
import { installZeroScore, ZERO_SCORE_ENV } from './zeroScore.js';

const name = process.env[ZERO_SCORE_ENV];
if (!name) {
  process.stderr.write(`zeroScoreMain: set ${ZERO_SCORE_ENV} to a score plugin's name (or run dist/src/cli/main.js)\n`);
  process.exitCode = 2;
} else {
  try {
    installZeroScore(IN_TREE_CATALOG, name);
    process.stderr.write(`zeroScoreMain: berth runs with ${name}'s scores zeroed (test only)\n`);
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`zeroScoreMain: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
