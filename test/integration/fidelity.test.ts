// berth against upstream kube-scheduler on a real control plane: a few scenarios of the public fidelity set run
// through both schedulers; every pod must get the same outcome (node, or FailedScheduling message).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../tools/fidelity/build.js';
import { renderComparison } from '../../tools/fidelity/compare.js';
import { runFidelity } from '../../tools/fidelity/cli.js';
import { loadScenario, ScenarioError } from '../../tools/fidelity/scenario.js';

const scenarios = join(import.meta.dirname, '..', '..', 'fidelity', 'scenarios');

beforeAll(async () => {
  await ensureBuilt();
}, 5 * 60_000);

describe('fidelity harness', () => {
  it('upstream kube-scheduler and berth agree pod by pod', async () => {
    const files = ['taints.yaml', 'resources-init-sidecar-overhead.yaml', 'inter-pod-affinity.yaml', 'jupyterhub-user-scheduler.yaml'].map((f) =>
      join(scenarios, f),
    );
    const report = await runFidelity(files);
    const text = report.scenarios.map((c) => renderComparison(c, false)).join('\n');
    expect(report.scenarios).toHaveLength(files.length);
    expect(report.total).toBeGreaterThan(15);
    expect(report.ok, text).toBe(true);
  }, 150_000);

  it('rejects a malformed scenario before starting anything', () => {
    expect(() => loadScenario(join(scenarios, '..', 'README.md'))).toThrow(ScenarioError);
  });
});
