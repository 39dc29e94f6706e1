// berth against upstream kube-scheduler on a real control plane: the whole public fidelity set runs through both
// schedulers; no pod may differ (a different node only where upstream's own scores tie), and every score plugin
// must alone decide at least one pod by upstream's scores, so that a wrong score in berth would show.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../tools/fidelity/build.js';
import { renderComparison } from '../../tools/fidelity/compare.js';
import { runFidelity, scenarioFiles, SCORE_PLUGINS_TO_COVER } from '../../tools/fidelity/cli.js';
import { loadScenario, ScenarioError } from '../../tools/fidelity/scenario.js';

const scenarios = join(import.meta.dirname, '..', '..', 'fidelity', 'scenarios');

beforeAll(async () => {
  await ensureBuilt();
}, 12 * 60_000);

describe('fidelity harness', () => {
  it('upstream kube-scheduler and berth agree pod by pod on the whole public set', async () => {
    const files = scenarioFiles([scenarios]);
    const t0 = Date.now();
    const report = await runFidelity(files);
    const text = report.scenarios.map((c) => renderComparison(c, false)).join('\n');
    process.stderr.write(
      `[fidelity] ${report.agreed} agree, ${report.tieAccepted} tie-accepted, ${report.differ} differ of ${report.total} pods ` +
        `in ${files.length} scenarios, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
    );
    expect(report.scenarios).toHaveLength(files.length);
    expect(files.length).toBeGreaterThanOrEqual(24);
    expect(report.ok, text).toBe(true);
    const uncovered = SCORE_PLUGINS_TO_COVER.filter((p) => (report.decidedBy[p] ?? []).length === 0);
    expect(uncovered, 'score plugins that alone decide no pod of the public set').toEqual([]);
  }, 10 * 60_000);

  it('rejects a malformed scenario before starting anything', () => {
    expect(() => loadScenario(join(scenarios, '..', 'README.md'))).toThrow(ScenarioError);
  });
});
