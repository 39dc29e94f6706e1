/**
 * The two schedulers under comparison, each run as a child process against a control plane: upstream
 * kube-scheduler (the binary test/cluster/build.sh builds) and berth (`node dist/src/cli/main.js run`). Both get
 * the same KubeSchedulerConfiguration with their own schedulerName and leader election off, and are ready once
 * their /readyz answers 200 (informers synced). Shared by the fidelity harness and the throughput benchmark.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findRepoRoot, getFreePort, spawnManaged, type ControlPlaneBinaries, type ManagedProcess } from '../devcluster/index.js';
import { UPSTREAM_SCORE_LOG_FLAGS } from './upstreamScores.js';
import { HELD_MARKER, HOLD_ENV } from './berthEntry.js';
import { ZERO_SCORE_ENV } from './zeroScore.js';

export type SchedulerKind = 'upstream' | 'berth';

export interface SchedulerProcess {
  kind: SchedulerKind;
  schedulerName: string;
  process: ManagedProcess;
  /** The effective configuration file handed to the scheduler. */
  configPath: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartSchedulerOptions {
  kind: SchedulerKind;
  /** A KubeSchedulerConfiguration object (v1); its single profile is renamed to schedulerName. */
  config: Record<string, unknown>;
  schedulerName: string;
  kubeconfigPath: string;
  binaries: ControlPlaneBinaries;
  /** Directory for the config file and the log. */
  dir: string;
  /** Client rate limits for both (scheduler_perf uses 5000/5000); default: keep the config's. */
  qps?: number;
  burst?: number;
  /** Extra node flags for berth, e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
  nodeArgs?: string[];
  /** berth's --bind-concurrency (default berth's own, 128). */
  bindConcurrency?: number;
  /** Extra `berth run` flags (benchmark variants, e.g. ['--api-content-type', 'json']). */
  berthArgs?: string[];
  /** berth's CLI entry to run instead of this checkout's (an A/B benchmark of two builds). */
  berthEntry?: string;
  readyTimeoutMs?: number;
  /**
   * Upstream only: log what pkg/scheduler/schedule_one.go logs up to V(10), i.e. every plugin's and the total score
   * of every node for every attempt (the fidelity harness's tie evidence). Off for benchmarks: it costs time.
   */
  scoreLog?: boolean;
  /** berth only: a test-only score plugin to zero (tools/fidelity/zeroScore.ts); proves a scenario needs it. */
  zeroScorePlugin?: string;
  /** berth only: plugin modules it loads (--plugins), as tools/fidelity/userPlugins.ts resolved them. */
  plugins?: readonly string[];
}

/** berth's CLI entry, built by `npm run build`. */
export function berthMainPath(): string {
  return join(findRepoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/** The harness's berth entry (held start, zeroed score plugin; built by `npm run build:tools`). */
export function berthEntryPath(): string {
  return join(findRepoRoot(), 'dist', 'tools', 'fidelity', 'berthEntry.js');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The configuration a scheduler run gets: the given one with its profile renamed, leader election off, and the
 * client connection pointed at the kubeconfig (upstream ignores --kubeconfig when --config is given).
 */
export function effectiveConfig(
  config: Record<string, unknown>,
  schedulerName: string,
  kubeconfigPath: string,
  limits: { qps?: number; burst?: number } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(config);
  out['apiVersion'] ??= 'kubescheduler.config.k8s.io/v1';
  out['kind'] ??= 'KubeSchedulerConfiguration';
  const profiles = Array.isArray(out['profiles']) ? (out['profiles'] as unknown[]) : [{}];
  if (profiles.length !== 1) throw new Error(`the configuration must have exactly one profile (it has ${profiles.length})`);
  const profile = isRecord(profiles[0]) ? { ...profiles[0] } : {};
  profile['schedulerName'] = schedulerName;
  out['profiles'] = [profile];
  out['leaderElection'] = { ...(isRecord(out['leaderElection']) ? out['leaderElection'] : {}), leaderElect: false };
  const cc: Record<string, unknown> = { ...(isRecord(out['clientConnection']) ? out['clientConnection'] : {}), kubeconfig: kubeconfigPath };
  if (limits.qps !== undefined) cc['qps'] = limits.qps;
  if (limits.burst !== undefined) cc['burst'] = limits.burst;
  out['clientConnection'] = cc;
  return out;
}

function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.text();
  return res.status;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A spawned scheduler process that may not be ready (or, held, not even started) yet. */
export interface SpawnedScheduler {
  readonly process: ManagedProcess;
  readonly configPath: string;
  readonly logFile: string;
  /** Releases a held berth, then waits until /readyz answers 200. */
  ready(): Promise<SchedulerProcess>;
  stop(): Promise<void>;
}

function berthArgs(opts: StartSchedulerOptions, configPath: string, port: number): string[] {
  return [
    'run',
    '--config',
    configPath,
    '--no-leader-elect',
    '--kubeconfig',
    opts.kubeconfigPath,
    '--bind-address',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    // The harness and the bench poll /readyz and read /metrics over plain HTTP on loopback.
    '--insecure-serving',
    ...(opts.bindConcurrency !== undefined ? ['--bind-concurrency', String(opts.bindConcurrency)] : []),
    ...(opts.plugins ?? []).flatMap((m) => ['--plugins', m]),
    ...(opts.berthArgs ?? []),
  ];
}

/** berth through the harness entry (held and/or with a zeroed plugin), else through its own CLI entry. */
function spawnBerth(opts: StartSchedulerOptions & { hold?: boolean }, configPath: string, port: number, logFile: string): ManagedProcess {
  const viaEntry = opts.hold === true || opts.zeroScorePlugin !== undefined;
  if (viaEntry && opts.berthEntry) throw new Error('berthEntry runs another build as it is: it cannot be held or given a zeroed score plugin');
  const main = viaEntry ? berthEntryPath() : (opts.berthEntry ?? berthMainPath());
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build:tools first`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (opts.hold) env[HOLD_ENV] = '1';
  if (opts.zeroScorePlugin) env[ZERO_SCORE_ENV] = opts.zeroScorePlugin;
  return spawnManaged('berth', process.execPath, [...(opts.nodeArgs ?? []), main, ...berthArgs(opts, configPath, port)], logFile, { env });
}

/**
 * Spawns one scheduler. With `hold` (berth only), berth loads but waits for ready() before it touches the cluster:
 * the harness overlaps berth's slow module loading with upstream's run.
 */
export async function spawnScheduler(opts: StartSchedulerOptions & { hold?: boolean }): Promise<SpawnedScheduler> {
  const cfg = effectiveConfig(opts.config, opts.schedulerName, opts.kubeconfigPath, {
    ...(opts.qps !== undefined ? { qps: opts.qps } : {}),
    ...(opts.burst !== undefined ? { burst: opts.burst } : {}),
  });
  const configPath = join(opts.dir, `${opts.kind}-${opts.schedulerName}.yaml`);
  await writeFile(configPath, stringify(cfg));
  const logFile = join(opts.dir, `${opts.kind}-${opts.schedulerName}.log`);
  const port = await getFreePort();
  let proc: ManagedProcess;
  let readyUrl: string;
  if (opts.kind === 'upstream') {
    proc = spawnManaged(
      'kube-scheduler',
      opts.binaries.kubeScheduler,
      [`--config=${configPath}`, `--secure-port=${port}`, '--bind-address=127.0.0.1', ...(opts.scoreLog ? UPSTREAM_SCORE_LOG_FLAGS : ['--v=1'])],
      logFile,
    );
    readyUrl = `https://127.0.0.1:${port}/readyz`;
  } else {
    proc = spawnBerth(opts, configPath, port, logFile);
    readyUrl = `http://127.0.0.1:${port}/readyz`;
  }
  const stop = (): Promise<void> => proc.stop(10_000);
  const ready = async (): Promise<SchedulerProcess> => {
    if (opts.hold) await releaseHeld(proc, logFile, opts.readyTimeoutMs ?? 60_000);
    await waitReady(opts, proc, readyUrl, logFile);
    return { kind: opts.kind, schedulerName: opts.schedulerName, process: proc, configPath, logFile, stop };
  };
  return { process: proc, configPath, logFile, ready, stop };
}

/** Starts one scheduler and waits until its /readyz answers 200. */
export async function startScheduler(opts: StartSchedulerOptions): Promise<SchedulerProcess> {
  return (await spawnScheduler(opts)).ready();
}

/** Waits until a held berth has loaded (its marker is in the log), then lets it start. */
async function releaseHeld(proc: ManagedProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(logFile, 'utf8').includes(HELD_MARKER)) {
    if (proc.hasExited()) throw new Error(`berth exited while loading (exit ${await proc.exited}):\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`berth not loaded after ${timeoutMs} ms:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(proc.pid, 'SIGUSR2');
}

async function waitReady(opts: StartSchedulerOptions, proc: ManagedProcess, readyUrl: string, logFile: string): Promise<void> {
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (proc.hasExited()) {
      throw new Error(`${opts.kind} scheduler exited before it was ready (exit ${await proc.exited}):\n${tail(logFile)}`);
    }
    try {
      const status = opts.kind === 'upstream' ? await httpsStatus(readyUrl) : await httpStatus(readyUrl);
      if (status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${opts.kind} scheduler not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds (utime + stime) of a live process, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based); fields[0] here is field 3 (state).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** Peak resident set size in bytes (VmHWM) of a live process. */
export function processPeakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** USER_HZ: 100 on every Linux configuration that matters here. */
function clockTicks(): number {
  return 100;
}
