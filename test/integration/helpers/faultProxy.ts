// A fault-injecting HTTP proxy in front of the test API server, for berth's fault-matrix tests. It listens on
// loopback over plain HTTP (berth's client speaks http:// server URLs) and forwards every request to the real
// kube-apiserver with the admin credentials of the test kubeconfig, streaming both ways (watches pass through).
// Rules (method + path regex, matched against the path with its query) answer in its place: a status with an
// optional Retry-After, a hold (the request waits in the proxy until released, then goes on), or a stall (a watch
// answered 200 that then sends nothing and never closes). Every request is recorded with its time, body and answer.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export type FaultAction =
  /** Answer with this status (a metav1.Status body) and, when set, a Retry-After header. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Keep the request in the proxy until the rule's release(), then forward it. */
  | { kind: 'hold' }
  /** Answer 200 with a JSON watch stream's headers, then send nothing and never close (until the proxy stops). */
  | { kind: 'stall' };

export interface FaultRule {
  method: string;
  /** Tested against the path with its query string, e.g. /api/v1/pods?watch=true&... */
  path: RegExp;
  action: FaultAction;
  /** How many requests the rule takes; default 1. */
  times?: number;
}

/** One request the proxy saw: when, what, and how it was answered (status 0 until it was). */
export interface ProxiedRequest {
  at: number;
  method: string;
  url: string;
  body: string;
  /** The rule that took it, if any. */
  fault?: FaultAction['kind'];
  status: number;
  answeredAt?: number;
  /** The client closed the connection before the proxy answered (e.g. it aborted a held request). */
  clientGone?: boolean;
}

/** A rule in force: the requests it took, and (for holds) the switch that lets them go on. */
export class InjectedFault {
  readonly hits: ProxiedRequest[] = [];
  private readonly waiting: Array<() => void> = [];
  private released = false;

  constructor(
    readonly rule: FaultRule,
    private remaining: number,
  ) {}

  /** Takes one request if the rule matches and has uses left. */
  take(method: string, url: string): boolean {
    if (this.remaining <= 0 || method !== this.rule.method || !this.rule.path.test(url)) return false;
    this.remaining--;
    return true;
  }

  /** Resolves when the held request may go on (at once after release()). */
  untilReleased(): Promise<void> {
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.released = true;
    for (const go of this.waiting.splice(0)) go();
  }

  /** No further requests are taken. */
  disarm(): void {
    this.remaining = 0;
  }
}

/** One event of a JSON watch stream the proxy forwarded (read as it passed). */
export interface ForwardedWatchEvent {
  at: number;
  url: string;
  type: string;
  kind?: string;
  name?: string;
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  readonly watchEvents: ForwardedWatchEvent[] = [];
  private readonly faults: InjectedFault[] = [];
  /** Watch responses streaming through the proxy (forwarded or stalled), to drop or end them. */
  private readonly openWatches = new Set<{ url: string; res: http.ServerResponse }>();
  private readonly agent: https.Agent;
  private readonly upstream: URL;
  private readonly headers: Record<string, string>;

  private constructor(
    private readonly server: http.Server,
    kc: KubeConfig,
    tls: https.AgentOptions,
    headers: Record<string, string>,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('fault proxy: the kubeconfig has no current cluster');
    this.upstream = new URL(cluster.server);
    this.agent = new https.Agent({ ...tls, keepAlive: true, maxSockets: 64 });
    this.headers = headers;
  }

  /** Starts a proxy on 127.0.0.1 (a free port) in front of the kubeconfig's API server. */
  static async start(kubeconfigPath: string): Promise<FaultProxy> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const opts: https.RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    const tls: https.AgentOptions = {};
    if (opts.ca !== undefined) tls.ca = opts.ca;
    if (opts.cert !== undefined) tls.cert = opts.cert;
    if (opts.key !== undefined) tls.key = opts.key;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    // Idle keep-alive connections live 90 s, as kube-apiserver's (secure_serving.go IdleTimeout), not Node's 5 s: a
    // client reusing a socket the proxy is just closing would see ECONNRESET, a fault the real server rarely causes.
    const server = http.createServer();
    server.keepAliveTimeout = 90_000;
    const proxy = new FaultProxy(server, kc, tls, headers);
    server.on('request', (req, res) => void proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Writes a kubeconfig that points at the proxy (the proxy adds the real credentials). insecure-skip-tls-verify:
   * the proxy speaks plain HTTP, which @kubernetes/client-node (whose credential loading berth uses) refuses unless
   * that flag is set ("HTTP protocol is not allowed when skipTLSVerify is not set or false"); there is no TLS to skip.
   */
  writeKubeconfig(path: string): void {
    writeFileSync(
      path,
      `apiVersion: v1
kind: Config
clusters:
  - name: fault-proxy
    cluster:
      server: ${this.url}
      insecure-skip-tls-verify: true
users:
  - name: fault-proxy
    user:
      token: the-fault-proxy-adds-the-real-credentials
contexts:
  - name: fault-proxy
    context:
      cluster: fault-proxy
      user: fault-proxy
current-context: fault-proxy
`,
    );
  }

  inject(rule: FaultRule): InjectedFault {
    const fault = new InjectedFault(rule, rule.times ?? 1);
    this.faults.push(fault);
    return fault;
  }

  /** Requests whose method matches and whose path (with query) matches `path`. */
  seen(method: string, path: RegExp): ProxiedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.url));
  }

  /** Cuts the watch streams whose URL matches (the client sees its connection drop mid-stream); returns how many. */
  dropWatches(path: RegExp): number {
    let n = 0;
    for (const w of [...this.openWatches]) {
      if (!path.test(w.url)) continue;
      w.res.destroy();
      this.openWatches.delete(w);
      n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const f of this.faults) f.release();
    for (const w of this.openWatches) w.res.destroy();
    this.openWatches.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rec: ProxiedRequest = { at: Date.now(), method, url, body: body.toString('utf8'), status: 0 };
    this.requests.push(rec);
    res.on('finish', () => (rec.answeredAt = Date.now()));
    res.on('close', () => {
      if (!res.writableFinished) rec.clientGone = true;
    });
    const fault = this.faults.find((f) => f.take(method, url));
    if (fault) {
      fault.hits.push(rec);
      rec.fault = fault.rule.action.kind;
      const action = fault.rule.action;
      if (action.kind === 'status') return this.answerStatus(rec, res, action.status, action.retryAfterSeconds);
      if (action.kind === 'stall') return this.stall(rec, res);
      await fault.untilReleased();
      if (res.destroyed) return; // the client gave up while the request was held
    }
    this.forward(req, res, rec, body);
  }

  private answerStatus(rec: ProxiedRequest, res: http.ServerResponse, status: number, retryAfterSeconds: number | undefined): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
    rec.status = status;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, message: `fault proxy: injected HTTP ${status}` }));
  }

  private stall(rec: ProxiedRequest, res: http.ServerResponse): void {
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w = { url: rec.url, res };
    this.openWatches.add(w);
    res.on('close', () => this.openWatches.delete(w));
  }

  /** Records the events of a JSON watch stream as they pass (the stream itself is piped untouched). */
  private tapWatch(url: string, upRes: http.IncomingMessage): void {
    let buffered = '';
    upRes.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        try {
          const ev = JSON.parse(line) as { type?: string; object?: { kind?: string; metadata?: { name?: string } } };
          this.watchEvents.push({ at: Date.now(), url, type: String(ev.type), ...(ev.object?.kind ? { kind: ev.object.kind } : {}), ...(ev.object?.metadata?.name ? { name: ev.object.metadata.name } : {}) });
        } catch {
          // not an event line: nothing to record
        }
      }
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, rec: ProxiedRequest, body: Buffer): void {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || ['host', 'authorization', 'connection', 'content-length', 'transfer-encoding'].includes(k)) continue;
      headers[k] = v;
    }
    Object.assign(headers, this.headers);
    if (body.length > 0) headers['content-length'] = String(body.length);
    const up = https.request(
      {
        protocol: 'https:',
        hostname: this.upstream.hostname,
        port: this.upstream.port === '' ? 443 : Number(this.upstream.port),
        method: rec.method,
        path: rec.url,
        headers,
        agent: this.agent,
      },
      (upRes) => {
        rec.status = upRes.statusCode ?? 0;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const isWatch = /[?&]watch=(true|1)(&|$)/.test(rec.url);
        if (isWatch) {
          res.flushHeaders();
          const w = { url: rec.url, res };
          this.openWatches.add(w);
          res.on('close', () => {
            this.openWatches.delete(w);
            upRes.destroy();
          });
          if (String(upRes.headers['content-type'] ?? '').startsWith('application/json')) this.tapWatch(rec.url, upRes);
        }
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    // The API server went away: a 502 if nothing was answered yet, else the client sees its connection drop.
    up.on('error', () => {
      if (rec.clientGone) return; // the client left first (the proxy then cut the upstream request)
      if (res.headersSent) res.destroy();
      else this.answerStatus(rec, res, 502, undefined);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  }
}
