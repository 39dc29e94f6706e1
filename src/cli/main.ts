#!/usr/bin/env node
/**
 * berth's command line: `simulate` (the embedded default), `config check`, and `run` (the live scheduler).
 * Input errors end with exit status 2 and a message naming the file, the field and the fix; never a stack trace.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, defaultSchedulerConfig, loadSchedulerConfig } from '../config/index.js';
import type { SchedulerConfig } from '../config/types.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';
import { renderComparison, renderExplain, renderJson, renderTable } from '../adapters/simulator/report.js';
import { renderHtml } from '../adapters/simulator/html.js';
import { type SimulationResult, simulate } from '../adapters/simulator/simulate.js';
import { buildSnapshot, readSnapshotFiles, type SnapshotObject, SnapshotError } from '../adapters/simulator/snapshot.js';
import { compareResults } from '../adapters/simulator/compare.js';
import { readClusterObjects } from '../adapters/simulator/liveSnapshot.js';
import { createKubeClient } from '../adapters/live/kubeClient.js';
import { runConfigCheck } from './configCheck.js';
import { catalogWith, cliGuardOptions, loadPluginModules, PluginModuleError } from './pluginModules.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import type { PluginFault } from '../scheduler/framework/pluginGuard.js';
import { PluginError } from '../scheduler/framework/types.js';
import { parseGoDuration } from '../kube/duration.js';
import { ListenError, runBerth } from './run.js';
import { KubeconfigError, loadKubeconfig } from '../adapters/live/kubeconfig.js';
import { ExplainUsageError, runExplain } from './explain.js';
import { API_CONTENT_TYPES, API_PROTOCOLS, type ApiContentType, type ApiProtocol, DEFAULT_TRANSPORT } from '../adapters/live/transportFlags.js';
import { ServingCertificateError } from '../observe/tls.js';
import { DEFAULT_HEAP_GROWTH_PERCENT } from './heapGrowth.js';

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

/** A TCP port, as upstream's --secure-port takes it (0: any free port). */
function parsePort(value: string): number {
  const n = parseInteger(value);
  if (n < 0 || n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return n;
}

function parsePositiveInteger(value: string): number {
  const n = parseInteger(value);
  if (n < 1) throw new InvalidArgumentError('expected an integer of at least 1');
  return n;
}

/** --heap-growth-percent: V8's own factor goes up to 4× (300 %); more would let the heap grow without bound. */
function parseHeapGrowthPercent(value: string): number {
  const n = parseInteger(value);
  if (n < 0 || n > 300) throw new InvalidArgumentError('expected an integer from 0 (V8\'s own choice) to 300');
  return n;
}

/** An IP address, as upstream's --bind-address takes it (a host name would be resolved, maybe to another address). */
function parseIp(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('expected an IP address such as 0.0.0.0, 127.0.0.1 or ::');
  return value;
}

interface SimulateFlags {
  config?: string;
  pods?: string[];
  explain?: boolean;
  output: 'table' | 'json' | 'html';
  seed: number;
  /** Read the snapshot from this cluster instead of files. */
  kubeconfig?: string;
  /** Read the snapshot from the cluster berth runs in (ServiceAccount), else $KUBECONFIG / ~/.kube/config. */
  fromCluster?: boolean;
  compareConfig?: string;
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

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function parseDurationMs(value: string): number {
  const seconds = parseGoDuration(value);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError('expected a positive Go duration such as "500ms", "2s" or "10m"');
  return seconds * 1000;
}

interface SnapshotSource {
  objects: SnapshotObject[];
  /** What was read, for the table output's first line; empty when nothing needs saying. */
  banner: string;
  warnings: string[];
  configPath: string | undefined;
}

/** Reads the cluster's objects with GET requests only (the simulation changes nothing in the cluster). */
async function clusterSource(flags: SimulateFlags, config: SchedulerConfig | undefined): Promise<SnapshotSource> {
  const kc = loadKubeconfig(flags.kubeconfig);
  const client = createKubeClient(kc, {
    qps: config?.clientConnection.qps ?? 50,
    burst: config?.clientConnection.burst ?? 100,
    userAgent: 'berth-simulate/0.1.0',
  });
  try {
    const live = await readClusterObjects(client);
    const extra = readSnapshotFiles(flags.pods ?? []);
    return { objects: [...live.objects, ...extra], banner: `Snapshot read from ${client.server}`, warnings: live.warnings, configPath: flags.config };
  } finally {
    client.close();
  }
}

function fileSource(files: string[], flags: SimulateFlags): SnapshotSource {
  if (files.length > 0) return { objects: readSnapshotFiles([...files, ...(flags.pods ?? [])]), banner: '', warnings: [], configPath: flags.config };
  const configPath = flags.config ?? DEFAULT_CONFIG;
  return {
    objects: readSnapshotFiles([DEFAULT_SNAPSHOT, ...(flags.pods ?? [])]),
    banner: `No snapshot given: simulating the bundled example ${DEFAULT_SNAPSHOT}\nwith ${configPath}`,
    warnings: [],
    configPath,
  };
}

function checkSimulateFlags(files: string[], flags: SimulateFlags): void {
  const fromCluster = flags.kubeconfig !== undefined || flags.fromCluster === true;
  if (fromCluster && files.length > 0) {
    throw new UsageError('give either snapshot files or --kubeconfig/--from-cluster, not both (add pending pods to a live snapshot with --pods)');
  }
  if (flags.compareConfig !== undefined && flags.output === 'html') {
    throw new UsageError('--compare-config prints a table or JSON; use --output table or --output json');
  }
}

export async function runSimulate(
  files: string[],
  flags: SimulateFlags,
  out: (s: string) => void,
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  checkSimulateFlags(files, flags);
  const faults = new FaultReport();
  const plugins = await pluginCatalog(flags, faults.onFault);
  const fromCluster = flags.kubeconfig !== undefined || flags.fromCluster === true;
  const early = flags.config ? loadSchedulerConfig(flags.config, plugins) : undefined;
  const source = fromCluster ? await clusterSource(flags, early) : fileSource(files, flags);
  const config = early ?? (source.configPath ? loadSchedulerConfig(source.configPath, plugins) : defaultSchedulerConfig(plugins));
  // simulate() binds pods into the snapshot's state: each run builds its own from a copy of the objects.
  const run = (c: SchedulerConfig, explain: boolean): Promise<SimulationResult> =>
    simulate(buildSnapshot(structuredClone(source.objects)), c, plugins, { explain, seed: flags.seed });
  for (const warning of source.warnings) err(`warning: ${warning}\n`);
  if (flags.compareConfig !== undefined) {
    const proposed = loadSchedulerConfig(flags.compareConfig, plugins);
    const comparison = compareResults(await run(config, false), await run(proposed, false), source.configPath ?? '(upstream defaults)', flags.compareConfig);
    out(flags.output === 'json' ? `${JSON.stringify(comparison, null, 2)}\n` : `${renderComparison(comparison)}\n`);
    faults.print(err);
    return 0;
  }
  // The page's decision table shows the explain scores, so the HTML output always explains.
  const result = await run(config, flags.explain === true || flags.output === 'html');
  if (flags.output === 'json') {
    out(`${renderJson(result)}\n`);
  } else if (flags.output === 'html') {
    out(renderHtml(result, { source: source.banner || files.join(', '), config: source.configPath ?? '(upstream defaults)' }));
  } else {
    if (source.banner) out(`${source.banner}\n\n`);
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
    .addOption(new Option('-o, --output <format>', 'output format (html: one self-contained page with node shares and explain scores)').choices(['table', 'json', 'html']).default('table'))
    .option('--seed <n>', 'seed for the tie-break among equal top scores', parseInteger, 1)
    .option('--kubeconfig <file>', "read the snapshot from this kubeconfig's cluster (list requests only; nothing is written)")
    .option('--from-cluster', 'read the snapshot from the cluster berth runs in (ServiceAccount), else $KUBECONFIG / ~/.kube/config')
    .option('--compare-config <file>', 'simulate under -c and under this configuration too; print the pods that would land elsewhere and how node shares change');
  addPluginOptions(simulateCommand).action(async (files: string[], flags: SimulateFlags) => {
    setExit(await runSimulate(files, flags, out));
  });

  const explain = program
    .command('explain')
    .description(
      'Why a pod is on its node or still pending: the running berth\'s decision record (berth run --decision-record N), ' +
        'printed as simulate --explain prints it. Without a record and with --kubeconfig, the decision is recomputed on a read-only snapshot of the cluster.',
    )
    .argument('<pod>', 'NAMESPACE/POD')
    .option('--server <url>', "berth's port, e.g. https://127.0.0.1:10259 after kubectl port-forward (http:// when it runs with --insecure-serving)")
    .option('--token <token>', 'Bearer token for berth\'s secure port, authorized for get on /debug/decisions')
    .option('--insecure-skip-tls-verify', 'accept berth\'s self-signed serving certificate')
    .option('--kubeconfig <file>', 'recompute the decision on this cluster when berth has no record of the pod')
    .option('-c, --config <file>', "berth's KubeSchedulerConfiguration, for a recomputation (default: upstream's weights)");
  addPluginOptions(explain).action(async (ref: string, flags: { server?: string; token?: string; insecureSkipTlsVerify?: boolean; kubeconfig?: string; config?: string } & Pick<SimulateFlags, 'plugins' | 'pluginCallBudget' | 'pluginBindTimeout'>) => {
    const faults = new FaultReport();
    const plugins = await pluginCatalog(flags, faults.onFault);
    const err = (s: string): void => void process.stderr.write(s);
    setExit(await runExplain(ref, flags, { out, err, plugins }));
    faults.print(err);
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
    .option('--bind-address <ip>', 'address for the health and metrics server', parseIp, '0.0.0.0')
    .option('--port <n>', 'port for the health and metrics server, HTTPS unless --insecure-serving (0: any free port)', parsePort, 10259)
    .option('--tls-cert-file <file>', 'PEM serving certificate (chain) for HTTPS; default: a self-signed certificate made at start')
    .option('--tls-private-key-file <file>', 'PEM private key of --tls-cert-file')
    .option(
      '--insecure-serving',
      'development only: serve plain HTTP with /metrics open to anyone (default: HTTPS, /metrics for Bearer tokens the API server authorizes for get on the path)',
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .option('--bind-concurrency <n>', 'bindings in flight at once (upstream binds each pod in its own goroutine; this bounds memory and sockets)', parsePositiveInteger, 128)
    .option(
      '--heap-growth-percent <n>',
      'how far the JavaScript heap may grow past what the last full garbage collection kept before the next one, in percent, 0 to 300 (0: V8\'s own choice); lower trades CPU for memory',
      parseHeapGrowthPercent,
      DEFAULT_HEAP_GROWTH_PERCENT,
    )
    .option('--no-leader-elect', 'schedule without leader election (one replica only)')
    .option('--watch-config', 'reload the profiles (plugins, weights, args) when the --config file changes, without a restart (the default)')
    .option('--no-watch-config', 'read the --config file only at start')
    .option('--decision-record <n>', 'keep the last N attempts of each pod (filter verdicts, top scores) and serve them at /debug/decisions; off by default', parsePositive)
    .option('--decision-record-pods <n>', 'pods the decision record keeps (the least recently attempted is dropped first)', parsePositive, 1000)
    .option('--annotate-decisions', 'write the berth.dev/decision annotation (node and top plugin contributions) with each binding')
    .addOption(
      new Option('--api-content-type <type>', 'wire format to the API server: protobuf (the default, as kube-scheduler: core/v1 lists, watches, Bindings and Events; JSON for the rest) or json')
        .choices([...API_CONTENT_TYPES])
        .default(DEFAULT_TRANSPORT.apiContentType),
    )
    .addOption(
      new Option('--api-protocol <protocol>', 'HTTP to the API server: http2 (the default, as client-go: requests and watches multiplexed on one connection; https servers only) or http1.1 (a keep-alive pool and a socket per watch)')
        .choices([...API_PROTOCOLS])
        .default(DEFAULT_TRANSPORT.apiProtocol),
    );
  addPluginOptions(run).action(
    async (flags: {
      config: string;
      kubeconfig?: string;
      bindAddress: string;
      port: number;
      logLevel: string;
      bindConcurrency: number;
      heapGrowthPercent: number;
      leaderElect: boolean;
      watchConfig?: boolean;
      apiContentType: ApiContentType;
      apiProtocol: ApiProtocol;
      plugins: string[];
      pluginCallBudget?: number;
      pluginBindTimeout?: number;
      decisionRecord?: number;
      decisionRecordPods: number;
      annotateDecisions?: boolean;
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
        heapGrowthPercent: flags.heapGrowthPercent,
        transport: { apiContentType: flags.apiContentType, apiProtocol: flags.apiProtocol },
        // commander sets leaderElect=true unless --no-leader-elect: only the flag's presence overrides the config.
        ...(flags.leaderElect === false ? { leaderElect: false } : {}),
        plugins: flags.plugins,
        ...(flags.pluginCallBudget !== undefined ? { pluginCallBudgetMs: flags.pluginCallBudget } : {}),
        ...(flags.pluginBindTimeout !== undefined ? { pluginBindBudgetMs: flags.pluginBindTimeout } : {}),
        // Neither flag given: commander leaves it undefined, and watching is the default.
        watchConfig: flags.watchConfig !== false,
        ...(flags.decisionRecord !== undefined ? { decisionRecord: flags.decisionRecord, decisionRecordPods: flags.decisionRecordPods } : {}),
        ...(flags.annotateDecisions ? { annotateDecisions: true } : {}),
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
    if (err instanceof ExplainUsageError) {
      process.stderr.write(`berth explain: ${err.message}\n`);
      return 2;
    }
    if (err instanceof KubeconfigError || err instanceof ListenError) {
      process.stderr.write(`berth: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SnapshotError || err instanceof UsageError) {
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
