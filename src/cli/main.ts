#!/usr/bin/env node
/**
 * berth's command line: `simulate` (the embedded default), `config check`, and `run` (the live scheduler).
 * Input errors end with exit status 2 and a message naming the file, the field and the fix; never a stack trace.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, defaultSchedulerConfig, loadSchedulerConfig } from '../config/index.js';
import type { SchedulerConfig } from '../config/types.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';
import { renderExplain, renderJson, renderTable } from '../adapters/simulator/report.js';
import { simulate } from '../adapters/simulator/simulate.js';
import { loadSnapshot, SnapshotError } from '../adapters/simulator/snapshot.js';
import { runConfigCheck } from './configCheck.js';
import { catalogWith, cliGuardOptions, loadPluginModules, PluginModuleError } from './pluginModules.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import type { PluginFault } from '../scheduler/framework/pluginGuard.js';
import { PluginError } from '../scheduler/framework/types.js';
import { parseGoDuration } from '../kube/duration.js';
import { runBerth } from './run.js';
import { ServingCertificateError } from '../observe/tls.js';

/** The package root: the nearest folder above this module holding package.json (works from src/ and dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The examples folder shipped with berth. */
export const EXAMPLES_DIR = join(packageRoot(), 'examples') + '/';
export const DEFAULT_SNAPSHOT = `${EXAMPLES_DIR}jupyterhub/cluster.yaml`;
export const DEFAULT_CONFIG = `${EXAMPLES_DIR}jupyterhub/user-scheduler.yaml`;

export class UsageError extends Error {}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

interface SimulateFlags {
  config?: string;
  pods?: string[];
  explain?: boolean;
  output: 'table' | 'json';
  seed: number;
  plugins?: string[];
  pluginCallBudget?: number;
  pluginBindTimeout?: number;
}

/**
 * The in-tree plugins plus those of --plugins, guarded. Faults of loaded plugins go to `onFault` (simulate and
 * config check print them on stderr after their output).
 */
async function pluginCatalog(
  flags: Pick<SimulateFlags, 'plugins' | 'pluginCallBudget' | 'pluginBindTimeout'>,
  onFault: (fault: PluginFault) => void,
): Promise<PluginCatalog> {
  const loaded = await loadPluginModules(flags.plugins ?? [], IN_TREE_CATALOG);
  return catalogWith(IN_TREE_CATALOG, loaded, cliGuardOptions({ callBudgetMs: flags.pluginCallBudget, bindBudgetMs: flags.pluginBindTimeout }, onFault));
}

/** Loaded plugins' faults, for the end of a command's output: each message once, with how often it happened. */
class FaultReport {
  private readonly counts = new Map<string, number>();
  readonly onFault = (fault: PluginFault): void => {
    this.counts.set(fault.message, (this.counts.get(fault.message) ?? 0) + 1);
  };
  print(err: (s: string) => void): void {
    for (const [message, n] of this.counts) err(`berth: warning: ${message}${n > 1 ? ` (${n} times)` : ''}
`);
  }
}

/** --plugins and the loaded plugins' budgets, for every command that builds plugins. */
function addPluginOptions(command: Command): Command {
  return command
    .option('--plugins <module>', 'a plugin module to load: a path to a built .js file or an installed package name (repeat for more)', collect, [])
    .option('--plugin-call-budget <duration>', 'longest one synchronous call of a loaded plugin may take, e.g. "1s"', parseDurationMs)
    .option('--plugin-bind-timeout <duration>', 'longest one PreBind or Bind of a loaded plugin may take, e.g. "10m"', parseDurationMs);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseDurationMs(value: string): number {
  const seconds = parseGoDuration(value);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError('expected a positive Go duration such as "500ms", "2s" or "10m"');
  return seconds * 1000;
}

export async function runSimulate(
  files: string[],
  flags: SimulateFlags,
  out: (s: string) => void,
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let snapshotFiles = files;
  let configPath = flags.config;
  if (snapshotFiles.length === 0) {
    snapshotFiles = [DEFAULT_SNAPSHOT];
    configPath ??= DEFAULT_CONFIG;
    if (flags.output === 'table') {
      out(`No snapshot given: simulating the bundled example ${DEFAULT_SNAPSHOT}\nwith ${configPath}\n\n`);
    }
  }
  const faults = new FaultReport();
  const plugins = await pluginCatalog(flags, faults.onFault);
  const config: SchedulerConfig = configPath ? loadSchedulerConfig(configPath, plugins) : defaultSchedulerConfig(plugins);
  const snapshot = loadSnapshot([...snapshotFiles, ...(flags.pods ?? [])]);
  const result = await simulate(snapshot, config, plugins, { explain: flags.explain === true, seed: flags.seed });
  if (flags.output === 'json') {
    out(`${renderJson(result)}\n`);
  } else {
    if (flags.explain) out(`${renderExplain(result)}\n`);
    out(`${renderTable(result)}\n`);
  }
  for (const warning of result.warnings) err(`warning: ${warning}\n`);
  faults.print(err);
  return 0;
}

function buildProgram(out: (s: string) => void, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('berth')
    .description('A Kubernetes second scheduler with upstream kube-scheduler semantics, decision explanations and a simulator.')
    .showHelpAfterError()
    .exitOverride();

  const simulateCommand = program
    .command('simulate')
    .description(
      'Schedule the pending pods of a cluster snapshot (kubectl get nodes,pods -A -o yaml) with a KubeSchedulerConfiguration, ' +
        'exactly as the live scheduler would, and show where each pod lands and why. Without files: the bundled JupyterHub example.',
    )
    .argument('[snapshot...]', 'YAML/JSON files with Nodes, Pods (assigned and pending) and optionally PVs, PVCs, Services, ...')
    .option('-c, --config <file>', 'KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1); default: upstream defaults')
    .option('-p, --pods <file...>', 'extra files with pending pods to schedule')
    .option('-e, --explain', 'print per-node filter verdicts and per-plugin raw, normalized and weighted scores')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--seed <n>', 'seed for the tie-break among equal top scores', parseInteger, 1);
  addPluginOptions(simulateCommand).action(async (files: string[], flags: SimulateFlags) => {
    setExit(await runSimulate(files, flags, out));
  });

  const config = program.command('config').description('Work with KubeSchedulerConfiguration files.');
  const check = config
    .command('check')
    .description('Validate a KubeSchedulerConfiguration and print the effective (defaulted) configuration.')
    .argument('<file>', 'configuration file (YAML or JSON)');
  addPluginOptions(check).action(async (file: string, flags: Pick<SimulateFlags, 'plugins' | 'pluginCallBudget' | 'pluginBindTimeout'>) => {
    const faults = new FaultReport();
    const plugins = await pluginCatalog(flags, faults.onFault);
    setExit(runConfigCheck(file, out, undefined, plugins));
    faults.print((s) => process.stderr.write(s));
  });

  const run = program
    .command('run')
    .description(
      'Run the live scheduler: watch the cluster, schedule pending pods that name one of the profiles, bind them, ' +
        'write events and conditions; serve /healthz /livez /readyz /metrics. Stops gracefully on SIGTERM.',
    )
    .requiredOption('-c, --config <file>', 'KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)')
    .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster ServiceAccount, then $KUBECONFIG / ~/.kube/config)')
    .option('--bind-address <ip>', 'address for the health and metrics server', '0.0.0.0')
    .option('--port <n>', 'port for the health and metrics server, HTTPS unless --insecure-serving (0: any free port)', parseInteger, 10259)
    .option('--tls-cert-file <file>', 'PEM serving certificate (chain) for HTTPS; default: a self-signed certificate made at start')
    .option('--tls-private-key-file <file>', 'PEM private key of --tls-cert-file')
    .option(
      '--insecure-serving',
      'development only: serve plain HTTP with /metrics open to anyone (default: HTTPS, /metrics for Bearer tokens the API server authorizes for get on the path)',
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .option('--bind-concurrency <n>', 'bindings in flight at once (upstream binds each pod in its own goroutine; this bounds memory and sockets)', parseInteger, 128)
    .option('--no-leader-elect', 'schedule without leader election (one replica only)');
  addPluginOptions(run).action(
    async (flags: {
      config: string;
      kubeconfig?: string;
      bindAddress: string;
      port: number;
      logLevel: string;
      bindConcurrency: number;
      leaderElect: boolean;
      plugins: string[];
      pluginCallBudget?: number;
      pluginBindTimeout?: number;
      tlsCertFile?: string;
      tlsPrivateKeyFile?: string;
      insecureServing?: boolean;
    }) => {
      const code = await runBerth({
        config: flags.config,
        ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
        bindAddress: flags.bindAddress,
        port: flags.port,
        logLevel: flags.logLevel,
        bindConcurrency: flags.bindConcurrency,
        // commander sets leaderElect=true unless --no-leader-elect: only the flag's presence overrides the config.
        ...(flags.leaderElect === false ? { leaderElect: false } : {}),
        plugins: flags.plugins,
        ...(flags.pluginCallBudget !== undefined ? { pluginCallBudgetMs: flags.pluginCallBudget } : {}),
        ...(flags.pluginBindTimeout !== undefined ? { pluginBindBudgetMs: flags.pluginBindTimeout } : {}),
        // Upstream's default: the secure port.
        secureServing: flags.insecureServing !== true,
        ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile } : {}),
        ...(flags.tlsPrivateKeyFile ? { tlsPrivateKeyFile: flags.tlsPrivateKeyFile } : {}),
      });
      setExit(code);
    },
  );

  return program;
}

/** Runs the CLI with the given arguments (without node and script); returns the exit status. */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(out, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return 2;
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.format()}\n`);
      return 2;
    }
    if (err instanceof PluginModuleError || err instanceof PluginError) {
      process.stderr.write(`berth: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ServingCertificateError) {
      process.stderr.write(`berth: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SnapshotError) {
      process.stderr.write(`berth: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`berth: ${e.message}\n`);
    return 1;
  }
}

// Run only when executed as the bin (not when imported by tests).
const entry = process.argv[1];
const invokedDirectly = entry !== undefined && existsSync(entry) && fileURLToPath(import.meta.url) === realpathSync(entry);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
