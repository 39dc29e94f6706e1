/**
 * `berth run`: the live scheduler. Loads the configuration, connects to the API server (a kubeconfig, or the
 * in-cluster ServiceAccount), serves /healthz /livez /readyz /metrics, campaigns for the Lease, and schedules while
 * it leads. SIGTERM/SIGINT: stop taking pods, finish the bindings in flight, release the Lease, exit 0.
 */
import { randomInt } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { loadSchedulerConfig } from '../config/index.js';
import type { SchedulerConfig } from '../config/types.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';
import { SeededRandom } from '../scheduler/random.js';
import { createKubeClient } from '../adapters/live/kubeClient.js';
import { LeaderElector, electorOptionsFromConfig, leaseApiFromRequester } from '../adapters/live/leaderElection.js';
import { LiveScheduler } from '../adapters/live/liveScheduler.js';
import { createLogger, logDecision, type Logger } from '../observe/logging.js';
import { SchedulerMetrics } from '../observe/metrics.js';
import { catalogWith, cliGuardOptions, loadPluginModules } from './pluginModules.js';
import { startServer, type RunningServer, type ServerOptions } from '../observe/server.js';
import { DelegatedAuth, type ReviewRequester } from '../observe/delegatedAuth.js';
import { ServingCertificateError, servingCertificate } from '../observe/tls.js';

export interface RunFlags {
  config: string;
  kubeconfig?: string;
  bindAddress: string;
  port: number;
  logLevel: string;
  bindConcurrency: number;
  /** Overrides leaderElection.leaderElect from the config when set. */
  leaderElect?: boolean;
  /** Plugin modules to load (--plugins): paths or package names. */
  plugins?: readonly string[];
  /** Budgets of loaded plugins: one synchronous call, one PreBind or Bind (milliseconds). */
  pluginCallBudgetMs?: number;
  pluginBindBudgetMs?: number;
  /**
   * HTTPS with delegated authentication and authorization of /metrics, as kube-scheduler's secure port. The CLI turns
   * it on unless --insecure-serving; programmatic callers (tests, embedders) get plain HTTP unless they ask, so that
   * probing a berth started in-process needs no token or certificate handling.
   */
  secureServing?: boolean;
  /** PEM serving certificate and key (both or neither); without them a self-signed certificate is made at start. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
}

export interface RunningBerth {
  scheduler: LiveScheduler;
  server: RunningServer;
  elector: LeaderElector;
  /** Graceful shutdown; resolves when everything stopped. */
  shutdown(reason: string): Promise<void>;
  /** Resolves after shutdown completed. */
  done: Promise<void>;
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      path
        ? `${path}: the kubeconfig has no current cluster; set current-context or pass another --kubeconfig`
        : 'no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a ServiceAccount',
    );
  }
  return kc;
}

/** The secure port's certificate and authorizer (the reviews go through berth's own client and ServiceAccount). */
function secureServingOptions(flags: RunFlags, client: ReviewRequester, logger: Logger): Pick<ServerOptions, 'tls' | 'authorize'> {
  if (flags.secureServing !== true) {
    if (flags.tlsCertFile || flags.tlsPrivateKeyFile) throw new ServingCertificateError('--tls-cert-file and --tls-private-key-file need secure serving: drop --insecure-serving');
    return {};
  }
  const cert = servingCertificate({ certFile: flags.tlsCertFile, keyFile: flags.tlsPrivateKeyFile, bindAddress: flags.bindAddress });
  if (cert.selfSigned) logger.info({}, 'serving with a self-signed certificate made at start: pass --tls-cert-file and --tls-private-key-file to serve with your own');
  const auth = new DelegatedAuth({ api: client });
  return { tls: { cert: cert.cert, key: cert.key }, authorize: (path, method, authorization) => auth.decide(path, method, authorization) };
}

/** Starts berth against a cluster; used by the CLI and by tests (which call shutdown themselves). */
export async function startBerth(
  flags: RunFlags,
  config?: SchedulerConfig,
  logger: Logger = createLogger(flags.logLevel),
  basePlugins: PluginCatalog = IN_TREE_CATALOG,
): Promise<RunningBerth> {
  const metrics = new SchedulerMetrics();
  const loaded = await loadPluginModules(flags.plugins ?? [], basePlugins);
  const guard = cliGuardOptions({ callBudgetMs: flags.pluginCallBudgetMs, bindBudgetMs: flags.pluginBindBudgetMs }, (fault) => {
    metrics.countPluginFault(fault.plugin, fault.point, fault.kind);
    logger.warn({ plugin: fault.plugin, extensionPoint: fault.point, kind: fault.kind }, fault.message);
  });
  const plugins = catalogWith(basePlugins, loaded, guard);
  if (loaded.length > 0) logger.info({ plugins: loaded.map((d) => d.name), modules: flags.plugins }, 'plugins loaded');
  config ??= loadSchedulerConfig(flags.config, plugins);
  const kc = loadKubeConfig(flags.kubeconfig ?? (config.clientConnection.kubeconfig || undefined));
  const client = createKubeClient(kc, {
    qps: config.clientConnection.qps,
    burst: config.clientConnection.burst,
    userAgent: 'berth/0.1.0',
  });
  const le = config.leaderElection;
  const leaderElect = flags.leaderElect ?? le.leaderElect;
  if (leaderElect && le.resourceName === 'kube-scheduler' && le.resourceNamespace === 'kube-system') {
    logger.warn(
      { lease: 'kube-system/kube-scheduler' },
      "leader election uses kube-scheduler's own Lease: set leaderElection.resourceName to berth's own name, or berth and kube-scheduler will take turns",
    );
  }
  if (config.profiles.some((p) => p.schedulerName === 'default-scheduler')) {
    logger.warn({}, 'a profile is named default-scheduler: berth will compete with kube-scheduler for the same pods');
  }
  let scheduler: LiveScheduler | undefined;
  const elector = new LeaderElector({
    ...electorOptionsFromConfig({ ...le, leaderElect }),
    leaseApi: leaseApiFromRequester({ request: (method, path, options) => client.request<unknown>(method, path, options) }),
    onStartedLeading: () => {
      logger.info({}, 'started leading: scheduling');
      scheduler?.poke();
    },
    onStoppedLeading: () => logger.warn({}, 'stopped leading: not scheduling'),
    onNewLeader: (identity) => logger.info({ leader: identity }, 'new leader observed'),
    log: (level, msg) => logger[level]({}, msg),
  });
  scheduler = new LiveScheduler({
    config,
    client,
    plugins,
    logger,
    random: new SeededRandom(randomInt(2 ** 31)),
    metrics,
    elector,
    bindConcurrency: flags.bindConcurrency,
    // A scheduled decision is logged once its binding cycle ended: bound=false when it failed (the pod is requeued
    // or dropped; see the "binding failed" line), so a failed attempt never reads as a placement.
    onDecision: (outcome, end) => logDecision(outcome.result.kind === 'scheduled' ? logger.child({ bound: end.bound }) : logger, outcome),
  });
  const live = scheduler;
  let shuttingDown = false;
  const server = await startServer({
    host: flags.bindAddress,
    port: flags.port,
    metrics,
    logger,
    ...secureServingOptions(flags, client, logger),
    checks: {
      healthz: () => {
        const r = elector.check();
        return { name: 'leaderElection', ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) };
      },
      livez: () => {
        const r = elector.check();
        return { name: 'leaderElection', ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) };
      },
      readyz: () => [
        { name: 'informer-sync', ok: live.synced, ...(live.synced ? {} : { reason: 'caches not synced yet' }) },
        { name: 'shutdown', ok: !shuttingDown, ...(shuttingDown ? { reason: 'shutting down' } : {}) },
      ],
    },
  });
  logger.info({ address: server.address, profiles: config.profiles.map((p) => p.schedulerName), identity: elector.identity }, 'berth started');

  // Campaign again after losing the lease (the API server may come back); stop only on shutdown.
  const campaign = (async () => {
    while (!shuttingDown) {
      await elector.start();
      if (!shuttingDown) await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const started = live.start().catch((err: unknown) => {
    logger.error({ err: (err as Error).message }, 'scheduler stopped before its caches synced');
  });

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const shutdown = async (reason: string): Promise<void> => {
    if (shuttingDown) return done;
    shuttingDown = true;
    logger.info({ reason }, 'shutting down: finishing bindings in flight');
    await live.stop();
    await started;
    // The Lease is released through the same client: close it only after the elector is done.
    await elector.stop();
    await campaign;
    client.close();
    await server.close();
    logger.info(live.counters, 'stopped');
    resolveDone();
    return done;
  };
  return { scheduler: live, server, elector, shutdown, done };
}

/** The CLI entry: runs until SIGTERM/SIGINT. Returns the exit status. */
export async function runBerth(flags: RunFlags): Promise<number> {
  const logger = createLogger(flags.logLevel);
  const berth = await startBerth(flags, undefined, logger);
  const onSignal = (signal: NodeJS.Signals): void => {
    void berth.shutdown(signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await berth.done;
  return 0;
}
