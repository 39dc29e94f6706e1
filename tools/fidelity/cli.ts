#!/usr/bin/env node
/**
 * `npm run fidelity -- [FILE|DIR ...] [--verbose] [--fresh] [--json OUT] [--pod-timeout MS]`
 *
 * Runs each scenario through upstream kube-scheduler and berth on a real control plane and compares the decisions
 * pod by pod. Without arguments: every scenario in fidelity/scenarios/. Exit status 0 when everything agrees, 1 on
 * any difference, 2 on bad input.
 */
import { existsSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findRepoRoot } from '../devcluster/index.js';
import { comparePods, renderComparison, type ScenarioComparison } from './compare.js';
import { Harness, topScoringNodes, type HarnessOptions } from './harness.js';
import { loadScenario, ScenarioError, type Scenario } from './scenario.js';

export interface FidelityReport {
  scenarios: ScenarioComparison[];
  agreed: number;
  total: number;
  ok: boolean;
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
    for (const s of scenarios) {
      let c: ScenarioComparison;
      try {
        const [upstream, berth] = await harness.runScenario(s);
        const objects = await harness.clusterObjects(s);
        c = await comparePods(s, upstream!, berth!, (boundBefore, pod) => topScoringNodes(s, objects, boundBefore, pod));
      } catch (err) {
        c = { scenario: s.name, file: s.file, pods: [], agreed: 0, total: s.pods.length, error: (err as Error).message };
      }
      comparisons.push(c);
      opts.onScenario?.(c);
    }
  } finally {
    await harness.close();
  }
  const agreed = comparisons.reduce((n, c) => n + c.agreed, 0);
  const total = comparisons.reduce((n, c) => n + c.total, 0);
  return { scenarios: comparisons, agreed, total, ok: agreed === total && comparisons.every((c) => !c.error) };
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
      'usage: npm run fidelity -- [FILE|DIR ...] [--verbose] [--fresh] [--json OUT] [--pod-timeout MS]\n' +
        'Runs each scenario through upstream kube-scheduler and berth and compares decisions pod by pod.\n' +
        'Default: fidelity/scenarios/. Exit 0: all agree; 1: a difference; 2: bad input.\n',
    );
    return 0;
  }
  let files: string[];
  try {
    files = scenarioFiles(positionals);
    for (const f of files) loadScenario(f);
  } catch (err) {
    process.stderr.write(`fidelity: ${(err as Error).message}\n`);
    return err instanceof ScenarioError ? 2 : 1;
  }
  const t0 = Date.now();
  const report = await runFidelity(files, {
    podTimeoutMs: Number(values['pod-timeout']),
    freshControlPlane: values.fresh,
    log: (l) => process.stderr.write(`[fidelity] ${l}\n`),
    onScenario: (c) => process.stdout.write(`${renderComparison(c, values.verbose)}\n`),
  });
  const failed = report.scenarios.filter((c) => c.error || c.agreed !== c.total).length;
  process.stdout.write(
    `\nTotal: ${report.agreed}/${report.total} pods agree (${((report.agreed * 100) / Math.max(1, report.total)).toFixed(1)}%) ` +
      `across ${report.scenarios.length} scenarios; ${failed} scenario(s) with differences; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && fileURLToPath(import.meta.url) === realpathSync(entry)) {
  process.exitCode = await main(process.argv.slice(2));
}
