#!/usr/bin/env node
/**
 * `npm run fidelity:zero-proof [-- PLUGIN ...]` (test only, about 1 min per plugin on 2 cores)
 *
 * Shows that the public set would catch a wrong score in each score plugin: for every plugin of the table below,
 * berth runs that plugin's scenarios with the plugin scoring 0 everywhere (zeroScore.ts), and the harness must report
 * at least one difference. The scenarios are those where upstream's own scores show the plugin alone deciding a pod
 * (the "decided by one score plugin alone" line of `npm run fidelity`). Exit 0 when every plugin is caught.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from '../devcluster/index.js';
import { comparePods, renderComparison, type ScenarioComparison } from './compare.js';
import { Harness } from './harness.js';
import { loadScenario } from './scenario.js';

/** Score plugin → public scenarios in which it alone decides at least one pod (each NodeResourcesFit strategy). */
export const ZERO_PROOF: Readonly<Record<string, readonly string[]>> = {
  TaintToleration: ['taints-prefer'],
  NodeAffinity: ['node-affinity'],
  NodeResourcesFit: ['resources-fit', 'jupyterhub-user-scheduler', 'requested-to-capacity-ratio'],
  PodTopologySpread: ['topology-spread'],
  InterPodAffinity: ['inter-pod-affinity'],
  NodeResourcesBalancedAllocation: ['resources-extended-podcount'],
  ImageLocality: ['image-locality-weight-high'],
  VolumeBinding: ['volume-static-local'],
};

async function proveOne(harness: Harness, plugin: string, scenarios: readonly string[]): Promise<ScenarioComparison[]> {
  const out: ScenarioComparison[] = [];
  for (const name of scenarios) {
    const s = loadScenario(join(findRepoRoot(), 'fidelity', 'scenarios', `${name}.yaml`));
    const [upstream, berth] = await harness.runScenario(s, { zeroScorePlugin: plugin });
    const c = comparePods(s, upstream, berth);
    process.stdout.write(`[${plugin} zeroed] ${renderComparison(c, false)}\n`);
    out.push(c);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const plugins = argv.length > 0 ? argv : Object.keys(ZERO_PROOF);
  const unknown = plugins.filter((p) => !ZERO_PROOF[p]);
  if (unknown.length > 0) {
    process.stderr.write(`zero-proof: no scenarios listed for ${unknown.join(', ')} (known: ${Object.keys(ZERO_PROOF).join(', ')})\n`);
    return 2;
  }
  const harness = new Harness({ log: (l) => process.stderr.write(`[fidelity] ${l}\n`) });
  const rows: string[] = [];
  let missed = 0;
  try {
    for (const plugin of plugins) {
      const comparisons = await proveOne(harness, plugin, ZERO_PROOF[plugin]!);
      const differ = comparisons.reduce((n, c) => n + c.differ, 0);
      const pods = comparisons.flatMap((c) => c.pods.filter((p) => p.verdict === 'differ').map((p) => `${c.scenario}: ${p.pod}`));
      if (differ === 0) missed++;
      rows.push(`| ${plugin} | ${ZERO_PROOF[plugin]!.join(', ')} | ${differ} | ${pods.join('; ') || 'NOT CAUGHT'} |`);
    }
  } finally {
    await harness.close();
  }
  process.stdout.write(`\n| Score plugin zeroed in berth | Scenarios | Differences | Pods |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  return missed === 0 ? 0 : 1;
}

const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && fileURLToPath(import.meta.url) === realpathSync(entry)) {
  process.exitCode = await main(process.argv.slice(2));
}
