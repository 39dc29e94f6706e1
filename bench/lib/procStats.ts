/**
 * What a process costs, read from /proc: CPU seconds (utime + stime) and the bytes its TCP connections to one
 * port carried (tcp_info's bytes_received + bytes_acked from `ss`, so TLS records and HTTP framing count as sent).
 * Rates on a shared machine are noisy; these costs are the steadier figures the benchmark reports first.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** USER_HZ: 100 on every Linux configuration that matters here. */
const CLOCK_TICKS = 100;

/** CPU seconds (utime + stime) of a live process; 0 once it has gone (its last figure was read before). */
export function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds the whole machine spent busy (all CPUs, /proc/stat: everything but idle and iowait), so a window can
 * tell how much of the machine its processes left unused.
 */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
  const t = cpu.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = t.reduce((a, b) => a + b, 0) - (t[3] ?? 0) - (t[4] ?? 0);
  return busy / CLOCK_TICKS;
}

/** CPU seconds of this process (the benchmark's own client: pod creates, its pod watch, the ceiling's binds). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface SocketBytes {
  /** Bytes the process received on the sockets. */
  received: number;
  /** Bytes the process sent that the peer acknowledged. */
  sent: number;
  /** Connections seen. */
  connections: number;
}

interface SocketSample {
  received: number;
  sent: number;
}

/** Parses `ss -tinpH` output into socket key → bytes, for sockets owned by `pid`. */
export function parseSs(text: string, pid: number): Map<string, SocketSample> {
  const out = new Map<string, SocketSample>();
  const lines = text.split('\n');
  const owner = `pid=${pid},`;
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i] ?? '';
    if (head.startsWith('\t') || head.trim() === '') continue;
    // The tcp_info line follows its socket line (indented).
    const info = lines[i + 1]?.startsWith('\t') ? (lines[i + 1] as string) : '';
    if (!head.includes(owner)) continue;
    const cols = head.trim().split(/\s+/);
    const key = `${cols[2]}>${cols[3]}`;
    const received = Number(/bytes_received:(\d+)/.exec(info)?.[1] ?? 0);
    const sent = Number(/bytes_acked:(\d+)/.exec(info)?.[1] ?? 0);
    out.set(key, { received, sent });
  }
  return out;
}

/**
 * Samples the TCP connections of one process to one port every `intervalMs` and sums what each carried since the
 * sampler started (a connection open at the start counts from its bytes then). A connection that closes between
 * two samples loses its last interval: keep-alive pools and long watches make that small, and equal for both sides.
 */
export class SocketByteSampler {
  private readonly base = new Map<string, SocketSample>();
  private readonly last = new Map<string, SocketSample>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private first = true;

  /**
   * `fromZero`: count every connection from its first byte (a process started inside the measured window), instead
   * of from what it had carried at the first sample.
   */
  constructor(
    private readonly pid: number,
    private readonly port: number,
    private readonly fromZero = false,
    private readonly intervalMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => {
      this.sampling ??= this.sample().finally(() => (this.sampling = undefined));
    }, this.intervalMs);
  }

  private async sample(): Promise<void> {
    let text: string;
    try {
      ({ stdout: text } = await execFileP('ss', ['-tinpH', 'state', 'established', `( dport = :${this.port} )`], { maxBuffer: 64 * 2 ** 20 }));
    } catch {
      return; // ss missing or failed: the figure stays what it was
    }
    for (const [key, s] of parseSs(text, this.pid)) {
      if (this.first && !this.fromZero) this.base.set(key, s);
      this.last.set(key, s);
    }
    this.first = false;
  }

  /** Takes a last sample and returns the totals. */
  async stop(): Promise<SocketBytes> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    let received = 0;
    let sent = 0;
    for (const [key, s] of this.last) {
      const b = this.base.get(key) ?? { received: 0, sent: 0 };
      received += s.received - b.received;
      sent += s.sent - b.sent;
    }
    return { received, sent, connections: this.last.size };
  }
}
