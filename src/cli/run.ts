/**
 * `berth run`: the live scheduler. Loads the configuration, connects to the API server (a kubeconfig, or the
 * in-cluster ServiceAccount), serves /healthz /livez /readyz /metrics, campaigns for the Lease, and schedules while
 * it leads. SIGTERM/SIGINT: stop taking pods, finish the bindings in flight, release the Lease, exit 0.
 */
import { randomInt } from 'node:crypto';
import { parseSchedulerConfig, readConfigText } from '../config/index.js';
import type { SchedulerConfig } from '../config/types.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';
import { SeededRandom } from '../scheduler/random.js';
import { createKubeClient, type KubeClient } from '../adapters/live/kubeClient.js';
import { loadKubeconfig } from '../adapters/live/kubeconfig.js';
import { CONFIG_DEBOUNCE_MS, ConfigWatcher, fsWatchDeps } from '../adapters/live/configWatcher.js';
import { ConfigReloader } from '../adapters/live/configReloader.js';
import { EventRecorder } from '../adapters/live/recorder.js';
import { realClock } from '../adapters/realClock.js';
import type { Pod } from '../kube/api.js';
import { DEFAULT_TRANSPORT, type TransportFlags, transportOptions } from '../adapters/live/transportFlags.js';
import { LeaderElector, electorOptionsFromConfig, leaseApiFromRequester } from '../adapters/live/leaderElection.js';
import { LiveScheduler } from '../adapters/live/liveScheduler.js';
import type { SharedReflectorOptions } from '../adapters/live/informers.js';
import { createLogger, logDecision, type Logger } from '../observe/logging.js';
import { SchedulerMetrics } from '../observe/metrics.js';
import { catalogWith, cliGuardOptions, loadPluginModules } from './pluginModules.js';
import { startServer, type RunningServer, type ServerOptions } from '../observe/server.js';
import { DecisionStore } from '../observe/decisionStore.js';
import { DelegatedAuth, type ReviewRequester } from '../observe/delegatedAuth.js';
import { ServingCertificateError, servingCertificate } from '../observe/tls.js';
import { limitHeapGrowth } from './heapGrowth.js';

export interface RunFlags {
  config: string;
  kubeconfig?: string;
  bindAddress: string;
  port: number;
  logLevel: string;
  bindConcurrency: number;
  /** Overrides leaderElection.leaderElect from the config when set. */
  leaderElect?: boolean;
  /** How berth talks to the API server (default: protobuf where the API server has it). */
  transport?: TransportFlags;
  /** V8's heap growing factor in percent (--heap-growth-percent; heapGrowth.ts). The CLI sets it; embedders keep their own. */
  heapGrowthPercent?: number;
  /** Plugin modules to load (--plugins): paths or package names. */
  plugins?: readonly string[];
  /** Budgets of loaded plugins: one synchronous call, one PreBind or Bind (milliseconds). */
  pluginCallBudgetMs?: number;
  pluginBindBudgetMs?: number;
  /** Reload the configuration when the --config file changes (default true; --no-watch-config). */
  watchConfig?: boolean;
  /** berth's own pod (POD_NAMESPACE/POD_NAME from the downward API): reload outcomes become Events on it. */
  ownPod?: { namespace: string; name: string };
  /** Keep the last N attempts of each pod and serve them at /debug/decisions (--decision-record N); off when unset. */
  decisionRecord?: number;
  /** Pods kept by the decision record (least recently attempted dropped first). */
  decisionRecordPods?: number;
  /** Write the berth.dev/decision annotation with each Binding (--annotate-decisions). */
  annotateDecisions?: boolean;
  /**
   * HTTPS with delegated authentication and authorization of /metrics, as kube-scheduler's secure port. The CLI turns
   * it on unless --insecure-serving; programmatic callers (tests, embedders) get plain HTTP unless they ask, so that
   * probing a berth started in-process needs no token or certificate handling.
   */
  secureServing?: boolean;
  /** PEM serving certificate and key (both or neither); without them a self-signed certificate is made at start. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /**
   * Reflector tuning for programmatic callers (no CLI flag): tests shorten the watch stall watchdog (default: twice
   * the watch's 5–10 min timeoutSeconds) to see a stalled watch replaced within seconds.
   */
  watch?: Pick<SharedReflectorOptions, 'stallTimeoutMs' | 'minWatchTimeoutSeconds' | 'backoff'>;
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

/** The health and metrics server could not listen where the flags say: exit 2, naming the flags. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is taken; pass another --port, or --port 0 for any free one',
  EADDRNOTAVAIL: 'no interface of this machine has that address; pass another --bind-address',
  EACCES: 'ports below 1024 need privileges; pass a higher --port',
};

/** A listen failure the flags can fix becomes a ListenError; anything else is passed on as it is. */
function listenError(err: unknown, flags: Pick<RunFlags, 'bindAddress' | 'port'>): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === undefined ? undefined : LISTEN_HINTS[code];
  if (hint === undefined) return err instanceof Error ? err : new Error(String(err));
  return new ListenError(`--bind-address ${flags.bindAddress} --port ${flags.port}: cannot listen: ${code} (${hint})`);
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
  // The text berth starts with: the watcher's first read of the same text is no change.
  const initialText = config ? undefined : readConfigText(flags.config);
  config ??= parseSchedulerConfig(initialText ?? '', flags.config, plugins);
  const kc = loadKubeconfig(flags.kubeconfig ?? (config.clientConnection.kubeconfig || undefined));
  const client = createKubeClient(kc, {
    qps: config.clientConnection.qps,
    burst: config.clientConnection.burst,
    userAgent: 'berth/0.1.0',
    ...transportOptions(flags.transport ?? DEFAULT_TRANSPORT),
    // The caches slim every object (slim.ts) and never read managedFields: protobuf decoding can skip them.
    dropManagedFields: true,
    onCredentialWarning: (message) => logger.warn({}, message),
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
  const decisions = flags.decisionRecord
    ? new DecisionStore({ perPod: flags.decisionRecord, ...(flags.decisionRecordPods ? { maxPods: flags.decisionRecordPods } : {}) })
    : undefined;
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
  metrics.attachLeader({ name: le.resourceName, isLeader: () => elector.isLeader() });
  metrics.initProfiles(config.profiles.map((p) => p.schedulerName));
  scheduler = new LiveScheduler({
    config,
    client,
    plugins,
    logger,
    random: new SeededRandom(randomInt(2 ** 31)),
    metrics,
    elector,
    bindConcurrency: flags.bindConcurrency,
    ...(flags.watch ? { watchOptions: flags.watch } : {}),
    ...(decisions ? { decisions } : {}),
    ...(flags.annotateDecisions ? { annotateDecisions: true } : {}),
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
    ...(decisions ? { decisions } : {}),
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
  }).catch((err: unknown) => {
    client.close();
    throw listenError(err, flags);
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
  const reload = startConfigReload({ flags, config, initialText, plugins, live, metrics, logger, client });

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const shutdown = async (reason: string): Promise<void> => {
    if (shuttingDown) return done;
    shuttingDown = true;
    logger.info({ reason }, 'shutting down: finishing bindings in flight');
    await reload.watcher?.close();
    await live.stop();
    await started;
    // The Lease is released through the same client: close it only after the elector is done.
    await elector.stop();
    await campaign;
    await reload.ownEvents?.flush();
    client.close();
    await server.close();
    logger.info(live.counters, 'stopped');
    resolveDone();
    return done;
  };
  return { scheduler: live, server, elector, shutdown, done };
}

interface ConfigReloadParts {
  flags: RunFlags;
  config: SchedulerConfig;
  initialText: string | undefined;
  plugins: PluginCatalog;
  live: LiveScheduler;
  metrics: SchedulerMetrics;
  logger: Logger;
  client: KubeClient;
}

/**
 * Hot reload: the reloader puts each new content of the --config file in effect (or refuses it), the watcher hands
 * it the changes. Events on berth's own pod only when it knows its pod; no watcher with --no-watch-config.
 */
function startConfigReload(parts: ConfigReloadParts): { watcher: ConfigWatcher | undefined; ownEvents: OwnPodEvents | undefined } {
  const { flags, live, metrics, logger } = parts;
  const ownEvents = flags.ownPod ? new OwnPodEvents(parts.client, flags.ownPod, logger) : undefined;
  const reloader = new ConfigReloader({
    source: flags.config,
    plugins: parts.plugins,
    running: parts.config,
    apply: (next) => {
      // New profiles' series start at 0, so their first error shows in increase() (and in the alerts).
      metrics.initProfiles(next.profiles.map((p) => p.schedulerName));
      return live.applyConfig(next);
    },
    logger,
    count: (result) => metrics.countConfigReload(result),
    ...(ownEvents ? { ownEvent: (type, reason, message) => ownEvents.record(type, reason, message) } : {}),
  });
  if (flags.watchConfig === false) return { watcher: undefined, ownEvents };
  const watcher = new ConfigWatcher({
    path: flags.config,
    clock: realClock,
    debounceMs: CONFIG_DEBOUNCE_MS,
    ...fsWatchDeps,
    initialText: parts.initialText,
    onChange: (text) => reloader.reload(text),
    onProblem: (message) => reloader.problem(message),
  });
  watcher.start();
  return { watcher, ownEvents };
}

/** Events on berth's own pod: read fresh each time (reloads are rare) for the uid an Event refers to. */
class OwnPodEvents {
  private readonly recorder: EventRecorder;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly client: KubeClient,
    private readonly pod: { namespace: string; name: string },
    private readonly logger: Logger,
  ) {
    this.recorder = new EventRecorder(client, logger);
  }

  record(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const write = this.write(type, reason, message).finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private async write(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { namespace, name } = this.pod;
    const res = await this.client.request<Pod>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`).catch((err: unknown) => err as Error);
    const uid = res instanceof Error || res.status >= 300 ? undefined : (res.body as Pod).metadata?.uid;
    if (!uid) {
      const why = res instanceof Error ? res.message : `HTTP ${res.status}`;
      this.logger.warn({ pod: `${namespace}/${name}`, err: why }, 'no Event on berth\'s own pod: cannot read it (check POD_NAMESPACE and POD_NAME)');
      return;
    }
    await this.recorder.event('berth', { namespace, name, uid }, type, reason, 'Reloading', message);
  }

  /** Resolves when the Events in flight are written (or failed): before the client closes. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }
}

/** berth's own pod as the downward API gives it (the chart and deploy/ set both variables). */
function ownPodFromEnv(): Pick<RunFlags, 'ownPod'> {
  const namespace = process.env['POD_NAMESPACE'];
  const name = process.env['POD_NAME'];
  return namespace && name ? { ownPod: { namespace, name } } : {};
}

/** The CLI entry: runs until SIGTERM/SIGINT. Returns the exit status. */
export async function runBerth(flags: RunFlags): Promise<number> {
  const logger = createLogger(flags.logLevel);
  if (flags.heapGrowthPercent !== undefined && limitHeapGrowth(flags.heapGrowthPercent) === undefined) {
    logger.info({}, '--heap-growth-percent left alone: node was started with --heap-growing-percent');
  }
  const berth = await startBerth({ ...ownPodFromEnv(), ...flags }, undefined, logger);
  const onSignal = (signal: NodeJS.Signals): void => {
    void berth.shutdown(signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await berth.done;
  return 0;
}
