// A real, throwaway Kubernetes control plane (etcd + kube-apiserver) on loopback ports, for tests and `npm run cluster`.
import { request } from 'node:https';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ensureBinaries, defaultLog, type ControlPlaneBinaries, type LogFn } from './binaries.js';
import { generateControlPlaneCerts, pemBase64, type ControlPlaneCerts } from './certs.js';
import {
  kubeconfigForServiceAccount,
  loadKubeConfig,
  renderKubeconfig,
  type ServiceAccountKubeconfig,
  type ServiceAccountKubeconfigOptions,
} from './kubeconfig.js';
import { registerCleanupDir, spawnManaged, unregisterCleanupDir, type ManagedProcess } from './processes.js';

export interface StartControlPlaneOptions {
  log?: LogFn;
  /** Binaries to use (default: ensureBinaries(), which builds them once into the cache). */
  binaries?: ControlPlaneBinaries;
  /** Parent of the temp dir (default os.tmpdir()). */
  baseDir?: string;
  /** Keep the temp dir (logs, certs, etcd data) after stop() (also: env BERTH_KEEP_CLUSTER_DIR=1). */
  keepDir?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--max-requests-inflight=2000']. */
  extraApiServerArgs?: string[];
  /** How long to wait for etcd and /readyz (default 90 s). */
  startupTimeoutMs?: number;
}

export interface RestartApiServerOptions {
  /** How long the API server stays down between the kill and the new start (default 0). */
  downMs?: number;
  /** SIGKILL (default: a crash, no graceful shutdown) or SIGTERM (graceful; SIGKILL after 5 s). */
  signal?: 'SIGKILL' | 'SIGTERM';
}

export interface ControlPlane {
  /** Temp dir holding certs, kubeconfig, logs and etcd data; removed by stop(). */
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin (system:masters) client. */
  readonly kubeConfig: KubeConfig;
  readonly etcdUrl: string;
  readonly certs: ControlPlaneCerts;
  readonly binaries: ControlPlaneBinaries;
  readonly processes: readonly ManagedProcess[];
  /** A kubeconfig for ServiceAccount ns/name (created if missing) via TokenRequest, written into `dir`. */
  kubeconfigForServiceAccount(
    namespace: string,
    name: string,
    opts?: ServiceAccountKubeconfigOptions,
  ): Promise<ServiceAccountKubeconfig>;
  /** Kills kube-apiserver (SIGKILL by default) and waits until it has exited; etcd keeps running. */
  killApiServer(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts kube-apiserver again (same flags, port, certs and etcd) and waits for /readyz. No-op if it runs. */
  startApiServer(): Promise<void>;
  /** killApiServer, wait downMs, startApiServer: an API server crash and restart, for fault tests. */
  restartApiServer(opts?: RestartApiServerOptions): Promise<void>;
  /** Kills etcd (SIGKILL by default) and waits until it has exited; kube-apiserver keeps running (and retrying). */
  killEtcd(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts etcd again (same flags, ports and data dir) and waits for its /health. No-op if it runs. */
  startEtcd(): Promise<void>;
  /** killEtcd, wait downMs, startEtcd: an etcd crash and restart with its data kept, for fault tests. */
  restartEtcd(opts?: RestartApiServerOptions): Promise<void>;
  /**
   * Registers a stop function to run at the start of stop(), before kube-apiserver goes (latest first): a
   * kube-controller-manager or provisioner started against this control plane would otherwise outlive it, retrying
   * a dead server and logging into a removed dir.
   */
  beforeStop(fn: () => Promise<void>): void;
  /** Stops what beforeStop registered, kills etcd and kube-apiserver and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

const DIR_PREFIX = 'berth-cluster-';
const OWNER_FILE = 'owner.pid';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes control-plane dirs left behind by owners that died without cleaning up (SIGKILL: their children die
 * with them through PR_SET_PDEATHSIG, but the dir stays). Only dirs whose owner.pid names a dead process go.
 */
async function sweepStaleDirs(baseDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(baseDir)).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = join(baseDir, e);
    try {
      const pid = Number.parseInt(await readFile(join(dir, OWNER_FILE), 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(dir, { recursive: true, force: true });
    } catch {
      // no owner file (kept dir, or not ours): leave it
    }
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released again before returning). */
export async function getFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not get a free port'));
        return;
      }
      const port = addr.port;
      srv.close(() => resolvePort(port));
    });
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await getFreePort());
  return [...ports];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface HttpResult {
  status: number;
  body: string;
}

function httpsGet(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<HttpResult> {
  return new Promise((resolveResult, reject) => {
    const req = request(url, { method: 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveResult({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function httpGet(url: string): Promise<HttpResult> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** Polls probe every 200 ms until it returns true; fails early (with the log tail) when proc exits. */
export async function waitFor(
  what: string,
  proc: ManagedProcess,
  deadline: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  let lastErr = '';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(`${proc.name} exited while waiting for ${what} (exit ${await proc.exited}):\n${proc.logTail()}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}:\n${proc.logTail()}`);
}

/**
 * Starts etcd and kube-apiserver (RBAC, client-certificate admin in system:masters, ServiceAccount tokens) on free
 * 127.0.0.1 ports in a fresh temp dir, waits for /readyz, and returns handles plus an admin kubeconfig.
 */
export async function startControlPlane(opts: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? defaultLog;
  const binaries = opts.binaries ?? (await ensureBinaries({ log }));
  // Free ports are picked before the processes bind them; another process on the machine may take one in
  // between, so a bind failure is retried with new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ ...opts, binaries, log });
    } catch (err) {
      if (attempt >= 3 || !isPortClash(err)) throw err;
      log(`port clash while starting the control plane (attempt ${attempt}); retrying with new ports`);
    }
  }
}

export function isPortClash(err: unknown): boolean {
  return err instanceof Error && /address already in use|bind: /i.test(err.message);
}

async function startOnce(
  opts: StartControlPlaneOptions & { binaries: ControlPlaneBinaries; log: LogFn },
): Promise<ControlPlane> {
  const { log, binaries } = opts;
  const started = Date.now();
  const keepDir = opts.keepDir ?? process.env['BERTH_KEEP_CLUSTER_DIR'] === '1';
  const baseDir = opts.baseDir ?? tmpdir();
  await sweepStaleDirs(baseDir);
  const dir = await mkdtemp(join(baseDir, DIR_PREFIX));
  if (!keepDir) registerCleanupDir(dir);
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  const processes: ManagedProcess[] = [];
  const dependents: Array<() => Promise<void>> = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const fn of dependents.reverse()) {
      await fn().catch((err: unknown) => log(`stopping a dependent of the control plane failed: ${String(err)}`));
    }
    // apiserver first, so it doesn't log etcd connection errors while shutting down.
    for (const p of [...processes].reverse()) await p.stop();
    if (!keepDir) {
      await rm(dir, { recursive: true, force: true });
      unregisterCleanupDir(dir);
    } else {
      log(`kept control-plane dir ${dir}`);
    }
  };

  try {
    return await startInDir();
  } catch (err) {
    await stop();
    throw err;
  }

  async function startInDir(): Promise<ControlPlane> {
    const pki = join(dir, 'pki');
    const certs = await generateControlPlaneCerts(pki);
    const [etcdClientPort, etcdPeerPort, apiPort] = (await distinctFreePorts(3)) as [number, number, number];
    const timeoutMs = opts.startupTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcdArgs = [
        '--name=berth',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=berth=${peerUrl}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
        '--log-level=warn',
        '--quota-backend-bytes=8589934592',
    ];
    let etcd = spawnManaged('etcd', binaries.etcd, etcdArgs, join(dir, 'etcd.log'));
    processes.push(etcd);
    const waitEtcdHealthy = (until: number): Promise<void> =>
      waitFor('etcd /health', etcd, until, async () => {
        const r = await httpGet(`${etcdUrl}/health`);
        return r.status === 200 && r.body.includes('"health":"true"');
      });
    await waitEtcdHealthy(deadline);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${certs.servingCert}`,
      `--tls-private-key-file=${certs.servingKey}`,
      `--client-ca-file=${certs.caCert}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // Since 1.37 the endpoint reconcilers refuse a loopback advertise address; nothing needs the
      // default/kubernetes Endpoints here.
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${certs.serviceAccountPub}`,
      `--service-account-signing-key-file=${certs.serviceAccountKey}`,
      // No node-lifecycle controller runs, so new nodes would stay tainted not-ready; no token controller either.
      '--disable-admission-plugins=TaintNodesByCondition,ServiceAccount',
      '--profiling=false',
      '--v=1',
      ...(opts.extraApiServerArgs ?? []),
    ];
    let apiserver = spawnManaged('kube-apiserver', binaries.kubeApiserver, apiserverArgs, join(dir, 'kube-apiserver.log'));
    processes.push(apiserver);
    const tls = {
      ca: await readFile(certs.caCert),
      cert: await readFile(certs.adminCert),
      key: await readFile(certs.adminKey),
    };
    const waitApiReady = (until: number): Promise<void> =>
      waitFor('kube-apiserver /readyz', apiserver, until, async () => {
        const r = await httpsGet(`${server}/readyz`, tls);
        return r.status === 200;
      });
    await waitApiReady(deadline);

    // Restarts (fault tests): the replacement process takes the old one's place in `processes`, so stop() kills it.
    const killApiServer = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
      if (stopped || apiserver.hasExited()) return;
      if (signal === 'SIGTERM') {
        await apiserver.stop();
        return;
      }
      try {
        process.kill(-apiserver.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await apiserver.exited;
      await apiserver.stop(); // unregisters it
    };
    const startApiServer = async (): Promise<void> => {
      if (stopped) throw new Error('control plane stopped');
      if (!apiserver.hasExited()) return;
      const timeout = opts.startupTimeoutMs ?? 90_000;
      for (let attempt = 1; ; attempt++) {
        const old = apiserver;
        apiserver = spawnManaged('kube-apiserver', binaries.kubeApiserver, apiserverArgs, join(dir, 'kube-apiserver.log'));
        processes.splice(processes.indexOf(old), 1, apiserver);
        try {
          await waitApiReady(Date.now() + timeout);
          log(`kube-apiserver restarted at ${server}`);
          return;
        } catch (err) {
          await apiserver.stop();
          // The port is ours, but a client's outgoing socket may hold it for a moment: retry the same port.
          if (attempt >= 5 || !isPortClash(err)) throw err;
          await sleep(1000);
        }
      }
    };

    // etcd restarts (fault tests): the same data dir, so the cluster's objects and resourceVersions survive.
    const killEtcd = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
      if (stopped || etcd.hasExited()) return;
      if (signal === 'SIGTERM') {
        await etcd.stop();
        return;
      }
      try {
        process.kill(-etcd.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await etcd.exited;
      await etcd.stop(); // unregisters it
    };
    const startEtcd = async (): Promise<void> => {
      if (stopped) throw new Error('control plane stopped');
      if (!etcd.hasExited()) return;
      const timeout = opts.startupTimeoutMs ?? 90_000;
      for (let attempt = 1; ; attempt++) {
        const old = etcd;
        etcd = spawnManaged('etcd', binaries.etcd, etcdArgs, join(dir, 'etcd.log'));
        processes.splice(processes.indexOf(old), 1, etcd);
        try {
          await waitEtcdHealthy(Date.now() + timeout);
          log(`etcd restarted at ${etcdUrl}`);
          return;
        } catch (err) {
          await etcd.stop();
          // Our ports, briefly held by the API server's outgoing sockets: retry the same ports.
          if (attempt >= 5 || !isPortClash(err)) throw err;
          await sleep(1000);
        }
      }
    };

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({
        name: 'berth-dev',
        server,
        certificateAuthorityData: await pemBase64(certs.caCert),
        user: {
          clientCertificateData: await pemBase64(certs.adminCert),
          clientKeyData: await pemBase64(certs.adminKey),
        },
      }),
      { mode: 0o600 },
    );
    const kubeConfig = await loadKubeConfig(kubeconfigPath);
    log(`control plane ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s (dir ${dir})`);
    const saDir = join(dir, 'serviceaccounts');

    return {
      dir,
      kubeconfigPath,
      server,
      kubeConfig,
      etcdUrl,
      certs,
      binaries,
      processes,
      async kubeconfigForServiceAccount(namespace, name, saOpts = {}) {
        await mkdir(saDir, { recursive: true });
        return kubeconfigForServiceAccount(kubeConfig, namespace, name, {
          writeTo: join(saDir, `${namespace}-${name}.kubeconfig`),
          ...saOpts,
        });
      },
      killApiServer,
      startApiServer,
      killEtcd,
      startEtcd,
      async restartEtcd(restartOpts = {}) {
        await killEtcd(restartOpts.signal ?? 'SIGKILL');
        if (restartOpts.downMs) await sleep(restartOpts.downMs);
        await startEtcd();
      },
      beforeStop(fn) {
        if (stopped) throw new Error('control plane already stopped');
        dependents.push(fn);
      },
      async restartApiServer(restartOpts = {}) {
        await killApiServer(restartOpts.signal ?? 'SIGKILL');
        if (restartOpts.downMs) await sleep(restartOpts.downMs);
        await startApiServer();
      },
      stop,
    };
  }
}
