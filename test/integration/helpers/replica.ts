// A `berth run` replica as a separate process (node dist/src/cli/main.js run ...), with its JSON log lines collected.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, waitFor } from './live.js';

export interface LogLine {
  level?: string;
  msg?: string;
  decision?: string;
  pod?: string;
  node?: string;
  identity?: string;
  address?: string;
  [key: string]: unknown;
}

/** The built CLI; BERTH_MAIN_JS points elsewhere (e.g. a build of another revision, to see a test fail). */
export const MAIN_JS = process.env['BERTH_MAIN_JS'] ?? join(process.cwd(), 'dist/src/cli/main.js');

/**
 * Wire flags for every replica, from the environment, so a live test can be run on each transport without editing it:
 * BERTH_TEST_API_CONTENT_TYPE=protobuf|json, BERTH_TEST_API_PROTOCOL=http2|http1.1 (unset: berth's default).
 */
export function transportArgsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const args: string[] = [];
  const contentType = env['BERTH_TEST_API_CONTENT_TYPE'];
  const protocol = env['BERTH_TEST_API_PROTOCOL'];
  if (contentType) args.push('--api-content-type', contentType);
  if (protocol) args.push('--api-protocol', protocol);
  return args;
}

export class Replica {
  readonly lines: LogLine[] = [];
  /** Non-JSON output (stderr, stray text). */
  readonly other: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;

  constructor(
    readonly label: string,
    configPath: string,
    kubeconfigPath: string,
  ) {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: the integration global setup builds it (tsc -p tsconfig.build.json)`);
    this.child = spawn(
      process.execPath,
      [MAIN_JS, 'run', '--config', configPath, '--kubeconfig', kubeconfigPath, '--bind-address', '127.0.0.1', '--port', '0', '--log-level', 'info', '--bind-concurrency', '16', '--insecure-serving', ...transportArgsFromEnv()],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // 'close', not 'exit': it fires once stdout and stderr have ended, so every line the process wrote is read.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        resolve(this.exitInfo);
      });
    });
    let buf = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.other.push(line);
        }
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.other.push(chunk));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /**
   * The elector identity and server address from the "berth started" line. A generous bound: loading berth's
   * modules alone took over 20 s on the 2-core machine under a load average of 20 (4 of 5 runs timed out at 20 s).
   */
  async started(timeoutMs = 90_000): Promise<{ identity: string; address: string }> {
    return waitFor(`${this.label} to start`, timeoutMs, () => {
      if (!this.alive) throw new Error(`${this.label} exited early: ${JSON.stringify(this.exitInfo)} ${this.other.join('')}`);
      const l = this.lines.find((x) => x.msg === 'berth started');
      return l && typeof l.identity === 'string' && typeof l.address === 'string' ? { identity: l.identity, address: l.address } : undefined;
    });
  }

  has(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }

  /** Pods ("ns/name") this replica logged as scheduled (bound). */
  scheduledPods(): string[] {
    return this.lines.filter((l) => l.decision === 'scheduled').map((l) => l.pod ?? '');
  }

  /**
   * Waits until every pod this (running) replica counted as bound in its metrics has its decision line read: the
   * line is written when the binding ends and may still be in the pipe when the test sees the pod bound. A Binding
   * the replica has not yet had the answer to is in neither: decisionLinesFor waits for given pods.
   */
  async decisionsSettled(address: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(`${this.label}'s decision lines to catch up with its metrics`, timeoutMs, async () => {
      const res = await httpGet(`${address}/metrics`);
      let bound = 0;
      for (const m of res.body.matchAll(/^scheduler_schedule_attempts_total\{[^}]*result="scheduled"[^}]*\} (\d+)$/gm)) bound += Number(m[1]);
      return this.lines.filter((l) => l.decision === 'scheduled' && l['bound'] === true).length >= bound ? true : undefined;
    });
  }

  bindFailures(): LogLine[] {
    return this.lines.filter((l) => l.msg === 'binding failed');
  }

  /** Writes everything the replica logged to a file in the temp dir, for the post-mortem of a failed run; its path. */
  keepLog(fileName: string): string {
    const file = join(tmpdir(), fileName);
    writeFileSync(file, this.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + this.other.join(''));
    return file;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }
}

/**
 * Waits until each of `pods` ("ns/name") has a "scheduled" decision line in one of the replicas. The API server shows
 * a pod bound as soon as it stores the Binding, before the replica has read the answer, counted it and logged it;
 * a pod bound and never logged fails here, naming the pods still without a line.
 */
export async function decisionLinesFor(replicas: readonly Replica[], pods: readonly string[], timeoutMs = 10_000): Promise<void> {
  let missing: string[] = [];
  try {
    await waitFor(`a decision line for each of ${pods.length} pods`, timeoutMs, () => {
      const logged = new Set(replicas.flatMap((r) => r.scheduledPods()));
      missing = pods.filter((p) => !logged.has(p));
      return missing.length === 0 ? true : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; without one: ${missing.slice(0, 20).join(', ')}`);
  }
}
