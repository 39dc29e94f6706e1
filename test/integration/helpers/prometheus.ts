// A real Prometheus (Debian's package; test/cluster/prometheus.sh installs it when missing) on a loopback port, with
// the configuration the test writes, and its HTTP query API.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { httpGet } from './live.js';

/** A loopback port free at the moment of asking (Prometheus takes its listen address as a flag). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** What /api/v1/query answered: Prometheus' own status, and on success the result (an instant query's). */
export type QueryAnswer =
  | { ok: true; resultType: string; result: InstantSample[] }
  | { ok: false; httpStatus: number; errorType: string; error: string };

interface ApiBody {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: InstantSample[] };
}

/** Prometheus' JSON envelope; anything else (a proxy's page, a half-started server) as an error envelope. */
function parseBody(text: string): ApiBody {
  try {
    return JSON.parse(text) as ApiBody;
  } catch {
    return { status: 'error', errorType: 'not JSON', error: text.slice(0, 200) };
  }
}

export class LocalPrometheus {
  private constructor(
    readonly url: string,
    private readonly process: ChildProcess,
    readonly logFile: string,
  ) {}

  /** Starts Prometheus with `config` (prometheus.yml text) and its data under dir. Installs it first when missing. */
  static async start(dir: string, config: string, writeConfig: (path: string, text: string) => void): Promise<LocalPrometheus> {
    execFileSync('bash', ['test/cluster/prometheus.sh'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const port = await freePort();
    const configFile = join(dir, 'prometheus.yml');
    writeConfig(configFile, config);
    const logFile = join(dir, 'prometheus.log');
    const log = createWriteStream(logFile);
    const child = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return new LocalPrometheus(`http://127.0.0.1:${port}`, child, logFile);
  }

  /** Throws when Prometheus has exited (a bad config, a taken port), naming its log. */
  assertRunning(): void {
    if (this.process.exitCode !== null) throw new Error(`prometheus exited with ${this.process.exitCode}: see ${this.logFile}`);
  }

  /** An instant query at the current time. A connection failure (not listening yet) reads as HTTP status 0. */
  async query(expr: string): Promise<QueryAnswer> {
    const r = await httpGet(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`).catch((err: unknown) => ({ status: 0, body: JSON.stringify({ status: 'error', errorType: 'connection', error: String(err) }) }));
    const body = parseBody(r.body);
    if (body.status === 'success' && body.data) return { ok: true, resultType: body.data.resultType, result: body.data.result };
    return { ok: false, httpStatus: r.status, errorType: body.errorType ?? 'unknown', error: body.error ?? r.body };
  }

  /** The summed value of an instant-vector query, or undefined when it returned nothing or failed. */
  async value(expr: string): Promise<number | undefined> {
    const a = await this.query(expr);
    if (!a.ok || a.result.length === 0) return undefined;
    return a.result.reduce((s, x) => s + Number(x.value[1]), 0);
  }

  /** SIGTERM, then waits for the process to exit (its data directory can then be removed). */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGTERM');
    await exited;
  }
}
