// kwok run out of cluster: keeps the fake nodes Ready (node lease heartbeats) and moves pods bound to them
// to Running (and through deletion), with the Stage manifests shipped by the same kwok tag.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLog, ensureBinaries, type ControlPlaneBinaries, type LogFn } from './binaries.js';
import { getFreePort, isPortClash } from './controlPlane.js';
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './nodes.js';
import { registerCleanupDir, spawnManaged, unregisterCleanupDir, type ManagedProcess } from './processes.js';

export interface StartKwokOptions {
  kubeconfigPath: string;
  binaries?: ControlPlaneBinaries;
  /** Directory for kwok's log (default: a new temp dir, removed on stop). */
  dir?: string;
  log?: LogFn;
  /** Nodes to manage (default: those annotated kwok.x-k8s.io/node=fake, which createFakeNodes sets). */
  manageNodesWithAnnotationSelector?: string;
  startupTimeoutMs?: number;
}

export interface KwokHandle {
  readonly process: ManagedProcess;
  /** http://127.0.0.1:<port> (kwok's own server: /healthz, /metrics). */
  readonly serverUrl: string;
  stop(): Promise<void>;
}

export async function startKwok(opts: StartKwokOptions): Promise<KwokHandle> {
  const log = opts.log ?? defaultLog;
  const binaries = opts.binaries ?? (await ensureBinaries({ log }));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKwokOnce({ ...opts, binaries });
    } catch (err) {
      if (attempt >= 3 || !isPortClash(err)) throw err;
      log(`port clash while starting kwok (attempt ${attempt}); retrying with a new port`);
    }
  }
}

async function startKwokOnce(opts: StartKwokOptions & { binaries: ControlPlaneBinaries }): Promise<KwokHandle> {
  const binaries = opts.binaries;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'berth-kwok-')));
  if (ownDir) registerCleanupDir(dir);
  const stages = (await readdir(binaries.kwokStagesDir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(binaries.kwokStagesDir, f));
  const port = await getFreePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const proc = spawnManaged(
    'kwok',
    binaries.kwok,
    [
      `--kubeconfig=${opts.kubeconfigPath}`,
      ...stages.map((s) => `--config=${s}`),
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${
        opts.manageNodesWithAnnotationSelector ?? `${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`
      }`,
      `--server-address=127.0.0.1:${port}`,
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.1',
    ],
    join(dir, 'kwok.log'),
    // HOME in the temp dir: kwok would otherwise read ~/.kwok/kwok.yaml if someone has one.
    { env: { ...process.env, HOME: dir } },
  );
  const stop = async (): Promise<void> => {
    await proc.stop();
    if (ownDir) {
      await rm(dir, { recursive: true, force: true });
      unregisterCleanupDir(dir);
    }
  };
  const deadline = Date.now() + (opts.startupTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (proc.hasExited()) throw new Error(`kwok exited (${await proc.exited}):\n${proc.logTail()}`);
      try {
        const res = await fetch(`${serverUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for kwok /healthz:\n${proc.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { process: proc, serverUrl, stop };
}
