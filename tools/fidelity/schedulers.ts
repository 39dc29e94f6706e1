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
  readyTimeoutMs?: number;
}

/** berth's CLI entry, built by `npm run build`. */
export function berthMainPath(): string {
  return join(findRepoRoot(), 'dist', 'src', 'cli', 'main.js');
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

/** Starts one scheduler and waits until its /readyz answers 200. */
export async function startScheduler(opts: StartSchedulerOptions): Promise<SchedulerProcess> {
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
      [`--config=${configPath}`, `--secure-port=${port}`, '--bind-address=127.0.0.1', '--v=1'],
      logFile,
    );
    readyUrl = `https://127.0.0.1:${port}/readyz`;
  } else {
    const main = berthMainPath();
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    proc = spawnManaged(
      'berth',
      process.execPath,
      [
        ...(opts.nodeArgs ?? []),
        main,
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
        ...(opts.bindConcurrency !== undefined ? ['--bind-concurrency', String(opts.bindConcurrency)] : []),
        ...(opts.berthArgs ?? []),
      ],
      logFile,
    );
    readyUrl = `http://127.0.0.1:${port}/readyz`;
  }
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (proc.hasExited()) {
      throw new Error(`${opts.kind} scheduler exited before it was ready (exit ${await proc.exited}):\n${tail(logFile)}`);
    }
    try {
      const status = opts.kind === 'upstream' ? await httpsStatus(readyUrl) : await httpStatus(readyUrl);
      if (status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${opts.kind} scheduler not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kind: opts.kind,
    schedulerName: opts.schedulerName,
    process: proc,
    configPath,
    logFile,
    stop: () => proc.stop(10_000),
  };
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
