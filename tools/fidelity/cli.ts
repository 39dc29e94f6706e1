#!/usr/bin/env node
/**
 * `npm run fidelity -- [FILE|DIR ...] [--verbose] [--fresh] [--json OUT] [--pod-timeout MS] [--logs DIR] [--zero-score PLUGIN] [--plugins MODULE ...]`
 *
 * Runs each scenario through upstream kube-scheduler and berth on a real control plane and compares the decisions
 * pod by pod. Without arguments: every scenario in fidelity/scenarios/. Exit status 0 when every pod agrees or is a
 * tie shown by upstream's own scores, 1 on any difference, 2 on bad input.
 */
import { existsSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findRepoRoot } from '../devcluster/index.js';
import { comparePods, renderComparison, type ScenarioComparison } from './compare.js';
import { Harness, type HarnessOptions } from './harness.js';
import { loadScenario, ScenarioError, type Scenario } from './scenario.js';
import { scorePluginNames } from './zeroScore.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';
import { PluginModuleError } from '../../src/cli/pluginModules.js';
import { loadUserPlugins, type UserPlugins } from './userPlugins.js';

export interface FidelityReport {
  scenarios: ScenarioComparison[];
  agreed: number;
  tieAccepted: number;
  differ: number;
  total: number;
  /** Score plugin → "scenario: pod" it alone decided, by upstream's scores (coverage of the set). */
  decidedBy: Record<string, string[]>;
  ok: boolean;
}

/** The score plugins (NodeResourcesFit per strategy) every public set must let decide at least one pod alone. */
export const SCORE_PLUGINS_TO_COVER: readonly string[] = [
  'TaintToleration',
  'NodeAffinity',
  'NodeResourcesFit/LeastAllocated',
  'NodeResourcesFit/MostAllocated',
  'NodeResourcesFit/RequestedToCapacityRatio',
  'PodTopologySpread',
  'InterPodAffinity',
  'NodeResourcesBalancedAllocation',
  'ImageLocality',
  'VolumeBinding',
];

function mergeDecidedBy(comparisons: ScenarioComparison[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of comparisons) for (const [plugin, pods] of Object.entries(c.decidedBy)) (out[plugin] ??= []).push(...pods.map((p) => `${c.scenario}: ${p}`));
  return out;
}

/** Expands directories into their *.yaml / *.yml files (sorted). */
export function scenarioFiles(args: string[]): string[] {
  const inputs = args.length > 0 ? args : [join(findRepoRoot(), 'fidelity', 'scenarios')];
  const out: string[] = [];
  for (const a of inputs) {
    const p = resolve(a);
    if (existsSync(p) && statSync(p).isDirectory()) {
      out.push(
        ...readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(p, f)),
      );
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Loads every scenario first (bad input fails before any cluster starts), then runs and compares them. */
export async function runFidelity(
  files: string[],
  opts: HarnessOptions & { onScenario?: (c: ScenarioComparison) => void } = {},
): Promise<FidelityReport> {
  const scenarios: Scenario[] = files.map((f) => loadScenario(f));
  const harness = new Harness(opts);
  const comparisons: ScenarioComparison[] = [];
  try {
    for (const [i, s] of scenarios.entries()) {
      let c: ScenarioComparison;
      try {
        const next = scenarios[i + 1];
        const [upstream, berth] = await harness.runScenario(s, next ? { next } : {});
        c = comparePods(s, upstream, berth);
      } catch (err) {
        const n = s.pods.length;
        c = { scenario: s.name, file: s.file, pods: [], agreed: 0, tieAccepted: 0, differ: n, total: n, decidedBy: {}, error: (err as Error).message };
      }
      comparisons.push(c);
      opts.onScenario?.(c);
    }
  } finally {
    await harness.close();
  }
  const sum = (f: (c: ScenarioComparison) => number): number => comparisons.reduce((n, c) => n + f(c), 0);
  const differ = sum((c) => c.differ);
  return {
    scenarios: comparisons,
    agreed: sum((c) => c.agreed),
    tieAccepted: sum((c) => c.tieAccepted),
    differ,
    total: sum((c) => c.total),
    decidedBy: mergeDecidedBy(comparisons),
    ok: differ === 0 && comparisons.every((c) => !c.error),
  };
}

/** The closing lines: the totals, and which score plugins alone decided a pod by upstream's scores. */
export function renderSummary(report: FidelityReport, seconds: number): string {
  const failed = report.scenarios.filter((c) => c.error || c.differ > 0).length;
  const covered = SCORE_PLUGINS_TO_COVER.map((p) => `${p} ${report.decidedBy[p]?.length ?? 0}`).join(', ');
  return (
    `\nTotal: ${report.agreed} agree, ${report.tieAccepted} tie-accepted (upstream's own scores tie), ${report.differ} differ, ` +
    `of ${report.total} pods across ${report.scenarios.length} scenarios; ${failed} scenario(s) with differences; ${seconds.toFixed(0)} s\n` +
    `Pods decided by one score plugin alone (upstream's scores): ${covered}\n`
  );
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        verbose: { type: 'boolean', short: 'v', default: false },
        fresh: { type: 'boolean', default: false },
        json: { type: 'string' },
        'pod-timeout': { type: 'string', default: '20000' },
        'zero-score': { type: 'string' },
        logs: { type: 'string' },
        plugins: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`fidelity: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(
      'usage: npm run fidelity -- [FILE|DIR ...] [--verbose] [--fresh] [--json OUT] [--pod-timeout MS] [--logs DIR] [--zero-score PLUGIN] [--plugins MODULE ...]\n' +
        'Runs each scenario through upstream kube-scheduler and berth and compares decisions pod by pod.\n' +
        'Default: fidelity/scenarios/. Exit 0: no difference (ties only where upstream\'s own scores tie); 1: a difference; 2: bad input.\n' +
        '--logs DIR keeps each run\'s scheduler configuration and log in DIR/<n>-<scenario>/.\n' +
        '--zero-score PLUGIN (test only): berth runs with that score plugin scoring 0, to show the scenarios catch it.\n' +
        '--plugins MODULE (repeatable): berth loads the plugin module (a path or a package) as with berth run --plugins;\n' +
        '  upstream runs the configuration without those plugins, so the report shows what they change.\n',
    );
    return 0;
  }
  const zero = values['zero-score'];
  if (zero !== undefined && !scorePluginNames(IN_TREE_CATALOG).includes(zero)) {
    process.stderr.write(`fidelity: --zero-score ${zero}: not one of berth's score plugins (${scorePluginNames(IN_TREE_CATALOG).join(', ')})\n`);
    return 2;
  }
  let files: string[];
  let userPlugins: UserPlugins | undefined;
  try {
    files = scenarioFiles(positionals);
    for (const f of files) loadScenario(f);
    if (values.plugins?.length) userPlugins = await loadUserPlugins(values.plugins);
  } catch (err) {
    process.stderr.write(`fidelity: ${(err as Error).message}\n`);
    return err instanceof ScenarioError || err instanceof PluginModuleError ? 2 : 1;
  }
  const t0 = Date.now();
  const report = await runFidelity(files, {
    podTimeoutMs: Number(values['pod-timeout']),
    freshControlPlane: values.fresh,
    log: (l) => process.stderr.write(`[fidelity] ${l}\n`),
    onScenario: (c) => process.stdout.write(`${renderComparison(c, values.verbose)}\n`),
    ...(zero !== undefined ? { zeroScorePlugin: zero } : {}),
    ...(values.logs !== undefined ? { logDir: resolve(values.logs) } : {}),
    ...(userPlugins ? { userPlugins } : {}),
  });
  process.stdout.write(renderSummary(report, (Date.now() - t0) / 1000));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && fileURLToPath(import.meta.url) === realpathSync(entry)) {
  process.exitCode = await main(process.argv.slice(2));
}
