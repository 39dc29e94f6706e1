// kube-controller-manager against a running devcluster control plane, limited to the PersistentVolume controllers:
// the other half of the volume-binding handshake. A scheduler writes volume.kubernetes.io/selected-node on a
// WaitForFirstConsumer claim (or pre-binds a PV through its claimRef); the PV controller then asks the external
// provisioner (volume.kubernetes.io/storage-provisioner) and binds claim and volume.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { defaultLog, ensureBinaries, type ControlPlaneBinaries, type LogFn } from './binaries.js';
import { getFreePort, isPortClash, waitFor } from './controlPlane.js';
import { loadKubeConfig } from './kubeconfig.js';
import { registerCleanupDir, spawnManaged, unregisterCleanupDir, type ManagedProcess } from './processes.js';

/** The binder: binds claims to volumes, hands WaitForFirstConsumer claims to external provisioners. */
export const PV_BINDER_CONTROLLER = 'persistentvolume-binder-controller';

/**
 * What the handshake needs, by v1.37's names (cmd/kube-controller-manager/names). The two protection controllers are
 * here because the apiserver's StorageObjectInUseProtection admission puts kubernetes.io/pvc-protection and
 * kubernetes.io/pv-protection finalizers on every claim and volume: without them nothing could be deleted.
 * Left off on purpose: attach-detach (needs CSINode/VolumeAttachment from kubelets), expander, ephemeral-volume,
 * and everything not about volumes (no namespace, garbage-collector, serviceaccount or token controllers run).
 */
export const PV_HANDSHAKE_CONTROLLERS: readonly string[] = [
  PV_BINDER_CONTROLLER,
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
];

/** What kube-controller-manager needs of a control plane: a ControlPlane, or just an admin kubeconfig path. */
export interface ControllerManagerTarget {
  kubeconfigPath: string;
  /** The log goes here (a ControlPlane's dir); else into a temp dir removed by stop(). */
  dir?: string;
  binaries?: ControlPlaneBinaries;
  /** A ControlPlane's: its stop() then stops this kube-controller-manager first. */
  beforeStop?(fn: () => Promise<void>): void;
}

export interface StartControllerManagerOptions {
  log?: LogFn;
  binaries?: ControlPlaneBinaries;
  /** Overrides the target's dir. */
  dir?: string;
  /** Controllers to run (default PV_HANDSHAKE_CONTROLLERS). */
  controllers?: readonly string[];
  /**
   * --pvclaimbinder-sync-period (Go duration; default '1s', upstream's is 15s). Watch events drive the PV controller
   * anyway; the resync bounds how long a claim waits after a write of the controller failed or raced.
   */
  pvSyncPeriod?: string;
  /**
   * Run each controller under its own ServiceAccount (kube-system/persistent-volume-binder, ...) with upstream's
   * bootstrap RBAC role, as kubeadm does (default true). Tokens come from the TokenRequest API, so no token controller
   * is needed. false: every controller uses the kubeconfig's (admin) credentials.
   */
  serviceAccountCredentials?: boolean;
  extraArgs?: string[];
  /** Bound on reaching /healthz and on the PV controller acting on a probe volume (default 60 s). */
  startupTimeoutMs?: number;
}

export interface ControllerManagerHandle {
  readonly process: ManagedProcess;
  /** https://127.0.0.1:<port>/healthz (self-signed serving certificate). */
  readonly healthzUrl: string;
  readonly controllers: readonly string[];
  readonly logFile: string;
  /** Stops kube-controller-manager (and removes its temp dir, if it made one). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts kube-controller-manager (PV controllers only, --leader-elect=false, secure port on a free 127.0.0.1 port)
 * and waits until /healthz reports every controller started and, when the binder runs, until it marks a probe
 * PersistentVolume Available: then it is watching and allowed to write.
 */
export async function startControllerManager(
  target: ControllerManagerTarget,
  opts: StartControllerManagerOptions = {},
): Promise<ControllerManagerHandle> {
  const log = opts.log ?? defaultLog;
  const binaries = opts.binaries ?? target.binaries ?? (await ensureBinaries({ log }));
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await startOnce(target, { ...opts, binaries, log });
      try {
        target.beforeStop?.(handle.stop);
      } catch (err) {
        await handle.stop(); // the control plane stopped meanwhile
        throw err;
      }
      return handle;
    } catch (err) {
      if (attempt >= 3 || !isPortClash(err)) throw err;
      log(`port clash while starting kube-controller-manager (attempt ${attempt}); retrying with a new port`);
    }
  }
}

type ResolvedOptions = StartControllerManagerOptions & { binaries: ControlPlaneBinaries; log: LogFn };

function controllerManagerArgs(kubeconfigPath: string, dir: string, port: number, o: ResolvedOptions): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--controllers=${(o.controllers ?? PV_HANDSHAKE_CONTROLLERS).join(',')}`,
    `--use-service-account-credentials=${o.serviceAccountCredentials ?? true}`,
    '--leader-elect=false',
    `--pvclaimbinder-sync-period=${o.pvSyncPeriod ?? '1s'}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    // Self-signed serving certificate, generated there; /healthz is always allowed without authentication.
    `--cert-dir=${join(dir, 'kube-controller-manager-certs')}`,
    '--profiling=false',
    '--v=2',
    ...(o.extraArgs ?? []),
  ];
}

async function startOnce(target: ControllerManagerTarget, o: ResolvedOptions): Promise<ControllerManagerHandle> {
  const started = Date.now();
  const explicitDir = o.dir ?? target.dir;
  const ownDir = explicitDir === undefined;
  const dir = explicitDir ?? (await mkdtemp(join(tmpdir(), 'berth-kcm-')));
  if (ownDir) registerCleanupDir(dir);
  await mkdir(dir, { recursive: true });
  const controllers = o.controllers ?? PV_HANDSHAKE_CONTROLLERS;
  const port = await getFreePort();
  const logFile = join(dir, 'kube-controller-manager.log');
  const proc = spawnManaged(
    'kube-controller-manager',
    o.binaries.kubeControllerManager,
    controllerManagerArgs(target.kubeconfigPath, dir, port, o),
    logFile,
  );
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await proc.stop();
    if (ownDir) {
      await rm(dir, { recursive: true, force: true });
      unregisterCleanupDir(dir);
    }
  };
  const healthzUrl = `https://127.0.0.1:${port}/healthz`;
  const deadline = Date.now() + (o.startupTimeoutMs ?? 60_000);
  // '*' and '-name' select controllers by default/exclusion: only the names given outright can be checked by name.
  const named = controllers.filter((c) => c !== '*' && !c.startsWith('-'));
  const binderRuns =
    (controllers.includes(PV_BINDER_CONTROLLER) || controllers.includes('*')) &&
    !controllers.includes(`-${PV_BINDER_CONTROLLER}`);
  try {
    await waitFor('kube-controller-manager /healthz to list every controller as started', proc, deadline, () =>
      controllersHealthy(healthzUrl, named),
    );
    if (binderRuns) {
      await probePvController(await loadKubeConfig(target.kubeconfigPath), proc, deadline);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  o.log(`kube-controller-manager ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${controllers.join(', ')}; log ${logFile})`);
  return { process: proc, healthzUrl, controllers, logFile, stop };
}

/** GET /healthz?verbose: 200, and one "[+]<controller> ok" line per controller (kube-controller-manager adds a
 * check per controller once it has started it). */
async function controllersHealthy(healthzUrl: string, controllers: readonly string[]): Promise<boolean> {
  const { status, body } = await getInsecure(`${healthzUrl}?verbose`);
  return status === 200 && controllers.every((c) => body.includes(`[+]${c} ok`));
}

function getInsecure(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Loopback, our own child, self-signed certificate: nothing to verify it against.
    const req = request(url, { method: 'GET', rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * /healthz only says the controller was started. A PV created here goes Pending → Available only once the binder's
 * informers have synced and its credentials (a ServiceAccount token, by default) may update persistentvolumes/status.
 */
async function probePvController(kc: KubeConfig, proc: ManagedProcess, deadline: number): Promise<void> {
  const client = createKubeClient(kc, { qps: 0, burst: 0, userAgent: 'berth-devcluster' });
  const name = `berth-kcm-probe-${randomBytes(4).toString('hex')}`;
  try {
    const created = await client.request('POST', '/api/v1/persistentvolumes', { body: probeVolume(name) });
    if (created.status >= 300) {
      throw new Error(`creating probe PersistentVolume ${name}: HTTP ${created.status}: ${JSON.stringify(created.body)}`);
    }
    await waitFor(`the PersistentVolume controller to mark probe volume ${name} Available`, proc, deadline, async () => {
      const res = await client.request<{ status?: { phase?: string } }>('GET', `/api/v1/persistentvolumes/${name}`);
      return res.status === 200 && (res.body as { status?: { phase?: string } }).status?.phase === 'Available';
    });
  } finally {
    await removeProbe(client, name);
    client.close();
  }
}

function probeVolume(name: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'berth.dev/probe': 'kube-controller-manager' } },
    spec: {
      capacity: { storage: '1Mi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      // A class of its own: no claim can match it.
      storageClassName: name,
      hostPath: { path: `/tmp/${name}` },
    },
  };
}

async function removeProbe(client: KubeClient, name: string): Promise<void> {
  // Drop the pv-protection finalizer first, so the probe goes even when that controller is not among those running.
  await client
    .request('PATCH', `/api/v1/persistentvolumes/${name}`, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    })
    .catch(() => undefined);
  await client.request('DELETE', `/api/v1/persistentvolumes/${name}`).catch(() => undefined);
}
