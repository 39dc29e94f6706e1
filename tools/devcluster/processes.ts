// Child processes that must never outlive us: each runs in its own process group (so stop() can kill the group),
// under `setpriv --pdeathsig KILL` when available (so the kernel kills it if we die without running any hook),
// and is registered so a process 'exit' hook and SIGINT/SIGTERM/SIGHUP handlers kill whatever is left.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Last `lines` lines of its log. */
  logTail(lines?: number): string;
}

const live = new Set<ManagedProcess>();
const cleanupDirs = new Set<string>();
let hooksInstalled = false;
let setprivAvailable: boolean | undefined;

function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    setprivAvailable = r.status === 0;
  }
  return setprivAvailable;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  // Children are spawned detached, so each is the leader of its own group (pgid == pid).
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

/** Synchronous last-resort cleanup: kill every live group and remove registered directories. */
function killEverythingNow(): void {
  for (const p of live) {
    if (!p.hasExited()) killGroup(p.pid, 'SIGKILL');
  }
  live.clear();
  for (const dir of cleanupDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  cleanupDirs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      // Someone else handles this signal (e.g. the CLI stops gracefully, then exits): the 'exit' hook still
      // guarantees cleanup. Otherwise clean up now and terminate as the default action would.
      if (process.listenerCount(signal) > 1) return;
      killEverythingNow();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Registers a directory to be removed by the exit/signal hooks (unless unregistered first). */
export function registerCleanupDir(dir: string): void {
  installHooks();
  cleanupDirs.add(dir);
}

export function unregisterCleanupDir(dir: string): void {
  cleanupDirs.delete(dir);
}

export interface SpawnManagedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnManaged(
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  opts: SpawnManagedOptions = {},
): ManagedProcess {
  installHooks();
  const fd = openSync(logFile, 'a');
  const [cmd, cmdArgs] = hasSetpriv()
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, args];
  let child: ChildProcess;
  try {
    child = spawn(cmd, cmdArgs, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new Error(`failed to start ${name} (${binary})`);
  }
  const pid = child.pid;
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      exitedFlag = true;
      resolve(err.message);
    });
  });
  // Don't keep the event loop alive for it; the exit hook kills it if nobody calls stop().
  child.unref();

  const proc: ManagedProcess = {
    name,
    pid,
    logFile,
    child,
    exited,
    hasExited: () => exitedFlag,
    async stop(graceMs = 5000): Promise<void> {
      if (!exitedFlag) {
        killGroup(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), graceMs);
          }),
        ]);
        if (timer) clearTimeout(timer);
        if (timedOut) {
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      }
      // Anything else left in its group (none expected) goes too.
      killGroup(pid, 'SIGKILL');
      live.delete(proc);
    },
    logTail(lines = 40): string {
      try {
        const text = readFileSync(logFile, 'utf8');
        return text.split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
  live.add(proc);
  return proc;
}
