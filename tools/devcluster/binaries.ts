// Locates (and if needed builds, via test/cluster/build.sh) the control-plane binaries.
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ControlPlaneBinaries {
  binDir: string;
  kubeApiserver: string;
  kubeScheduler: string;
  /** Runs the PersistentVolume controllers for the volume-binding handshake (see startControllerManager). */
  kubeControllerManager: string;
  /** For people poking a dev cluster by hand (`npm run cluster` prints it); no test depends on it. */
  kubectl: string;
  etcd: string;
  kwok: string;
  helm: string;
  /** kwok Stage manifests (node-initialize, node heartbeat, pod ready/complete/delete). */
  kwokStagesDir: string;
}

export type LogFn = (line: string) => void;

export const defaultLog: LogFn = (line) => {
  process.stderr.write(`[devcluster] ${line}\n`);
};

function findUpwards(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'test', 'cluster', 'build.sh'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The repository root: the nearest ancestor of this module (tools/devcluster or dist/tools/devcluster) holding
 * test/cluster/build.sh, else of the working directory.
 */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  const root = findUpwards(start) ?? findUpwards(process.cwd());
  if (root === undefined) throw new Error(`test/cluster/build.sh not found above ${start} nor ${process.cwd()}`);
  return root;
}

export function buildScriptPath(): string {
  return join(findRepoRoot(), 'test', 'cluster', 'build.sh');
}

function binariesIn(binDir: string): ControlPlaneBinaries {
  return {
    binDir,
    kubeApiserver: join(binDir, 'kube-apiserver'),
    kubeScheduler: join(binDir, 'kube-scheduler'),
    kubeControllerManager: join(binDir, 'kube-controller-manager'),
    kubectl: join(binDir, 'kubectl'),
    etcd: join(binDir, 'etcd'),
    kwok: join(binDir, 'kwok'),
    helm: join(binDir, 'helm'),
    kwokStagesDir: join(dirname(binDir), 'kwok-stages'),
  };
}

function allPresent(b: ControlPlaneBinaries): boolean {
  return [
    b.kubeApiserver,
    b.kubeScheduler,
    b.kubeControllerManager,
    b.kubectl,
    b.etcd,
    b.kwok,
    b.helm,
    join(b.kwokStagesDir, 'pod-ready.yaml'),
  ].every((f) => existsSync(f));
}

/** The cache directory build.sh uses for the pinned versions (nothing is built). */
export async function binDirFromBuildScript(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [buildScriptPath(), '--print-bin-dir']);
  return stdout.trim();
}

export interface EnsureBinariesOptions {
  log?: LogFn;
  /** Use binaries from this directory instead of build.sh's cache (also: env BERTH_CONTROL_PLANE_BIN_DIR). */
  binDir?: string;
}

/**
 * Returns the binaries, running test/cluster/build.sh first when any is missing (a cold build takes a long
 * time; a warm one returns at once). Its progress lines are passed to `log`.
 */
export async function ensureBinaries(opts: EnsureBinariesOptions = {}): Promise<ControlPlaneBinaries> {
  const log = opts.log ?? defaultLog;
  const explicit = opts.binDir ?? process.env['BERTH_CONTROL_PLANE_BIN_DIR'];
  if (explicit) {
    const b = binariesIn(resolve(explicit));
    if (!allPresent(b)) throw new Error(`control-plane binaries missing in ${b.binDir}`);
    return b;
  }
  const b = binariesIn(await binDirFromBuildScript());
  if (allPresent(b)) return b;
  log(`control-plane binaries missing in ${b.binDir}; running ${buildScriptPath()} (a cold build takes a while)`);
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn('bash', [buildScriptPath()], { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') log(line);
      }
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`test/cluster/build.sh failed (${code ?? signal})`));
    });
  });
  if (!allPresent(b)) throw new Error(`test/cluster/build.sh succeeded but binaries are missing in ${b.binDir}`);
  return b;
}
