// A small fake Kubernetes API server on 127.0.0.1 (node:http) for the list/watch tests: one collection per path,
// a global resourceVersion counter, an event log watches replay from, pagination, compaction (410), injected
// failures, dropped connections and bookmarks. For the live scheduler's tests it also serves what a scheduler
// writes about pods kept in the /api/v1/pods collection: get, binding (409 once bound), status patches (with a
// resourceVersion precondition), delete, and events; `intercept` lets a test answer any request itself.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeObject {
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface LoggedEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeObject;
}

interface Collection {
  objects: Map<string, FakeObject>;
  log: LoggedEvent[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  watch: boolean;
}

interface OpenWatch {
  path: string;
  res: http.ServerResponse;
  from: number;
}

export interface InjectedFailure {
  status: number;
  /** Applies to list requests, watch requests, or both (default both). */
  on?: 'list' | 'watch';
  retryAfter?: number;
}

/** A request with its decoded JSON body, as an interceptor sees it. */
export interface InterceptedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(?:\/(binding|status))?$/;
const EVENTS_PATH = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/;

function statusBody(code: number, reason: string, message: string): FakeAnswer {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message } };
}

export class FakeApiServer {
  private readonly server: http.Server;
  private readonly collections = new Map<string, Collection>();
  private rv = 100;
  /** Watches from a resourceVersion older than this get 410 (as after etcd compaction). */
  compactedRv = 0;
  /** Deliver 410 for too-old watches as an ERROR event on a 200 stream (true, the API server's way) or HTTP 410. */
  goneAsErrorEvent = true;
  /** Continue tokens minted before this are expired (410). */
  continueExpiredBefore = 0;
  readonly requests: RecordedRequest[] = [];
  private readonly failures: InjectedFailure[] = [];
  private readonly watches = new Set<OpenWatch>();
  /** Answers a request before the built-in behaviour (undefined lets it through); may be async (a slow server). */
  intercept: ((req: InterceptedRequest) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>) | undefined;
  /** Writes to pods and events, in order (method, path, body). */
  readonly writes: InterceptedRequest[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  get currentRv(): number {
    return this.rv;
  }

  openWatchCount(path?: string): number {
    return [...this.watches].filter((w) => path === undefined || w.path === path).length;
  }

  watchRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.watch);
  }

  listRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && !r.watch);
  }

  failNext(...f: InjectedFailure[]): void {
    this.failures.push(...f);
  }

  private coll(path: string): Collection {
    let c = this.collections.get(path);
    if (!c) this.collections.set(path, (c = { objects: new Map(), log: [] }));
    return c;
  }

  private static key(o: FakeObject): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  /** Creates or replaces an object (ADDED or MODIFIED), streaming it to open watches. Returns its resourceVersion. */
  upsert(path: string, obj: FakeObject): string {
    const c = this.coll(path);
    const k = FakeApiServer.key(obj);
    const rv = ++this.rv;
    const stored: FakeObject = {
      ...obj,
      metadata: { uid: `uid-${obj.metadata.name}`, ...obj.metadata, resourceVersion: String(rv) },
    };
    const type = c.objects.has(k) ? 'MODIFIED' : 'ADDED';
    c.objects.set(k, stored);
    this.push(path, { rv, type, object: stored });
    return String(rv);
  }

  /** Changes an object without anyone watching seeing it (the event is lost, e.g. during compaction). */
  upsertSilently(path: string, obj: FakeObject): void {
    const c = this.coll(path);
    const rv = ++this.rv;
    c.objects.set(FakeApiServer.key(obj), { ...obj, metadata: { uid: `uid-${obj.metadata.name}`, ...obj.metadata, resourceVersion: String(rv) } });
  }

  delete(path: string, name: string, namespace?: string, opts: { silently?: boolean } = {}): void {
    const c = this.coll(path);
    const k = `${namespace ?? ''}/${name}`;
    const old = c.objects.get(k);
    if (!old) throw new Error(`fake: no ${k} in ${path}`);
    c.objects.delete(k);
    const rv = ++this.rv;
    if (!opts.silently) this.push(path, { rv, type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } } });
  }

  /** Forgets the event log up to now: watches from older resourceVersions get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    for (const c of this.collections.values()) c.log = [];
  }

  /** Sends a BOOKMARK with the current resourceVersion to every open watch of path. */
  bookmark(path: string, kind = 'Pod'): void {
    for (const w of this.watches) {
      if (w.path === path) this.write(w, { type: 'BOOKMARK', object: { kind, metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Bumps the resourceVersion (activity elsewhere in the cluster). */
  tick(): void {
    this.rv++;
  }

  /** Destroys every open watch connection (a dropped TCP connection, mid-stream). */
  dropWatches(path?: string): void {
    for (const w of [...this.watches]) {
      if (path === undefined || w.path === path) {
        w.res.socket?.destroy();
        this.watches.delete(w);
      }
    }
  }

  /** Ends every open watch cleanly (as timeoutSeconds elapsing does). */
  endWatches(path?: string): void {
    for (const w of [...this.watches]) {
      if (path === undefined || w.path === path) {
        w.res.end();
        this.watches.delete(w);
      }
    }
  }

  /** Sends raw bytes on open watches of path. */
  sendRaw(path: string, text: string | Buffer): void {
    for (const w of this.watches) if (w.path === path) w.res.write(text);
  }

  private push(path: string, ev: LoggedEvent): void {
    this.coll(path).log.push(ev);
    for (const w of this.watches) {
      if (w.path === path && ev.rv > w.from) this.write(w, { type: ev.type, object: ev.object });
    }
  }

  private write(w: OpenWatch, ev: unknown): void {
    w.res.write(JSON.stringify(ev) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const watch = u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1';
    this.requests.push({ method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, watch });
    const fi = this.failures.findIndex((f) => f.on === undefined || f.on === (watch ? 'watch' : 'list'));
    if (fi >= 0) {
      const f = this.failures.splice(fi, 1)[0]!;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
      res.writeHead(f.status, headers);
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: f.status, message: `injected ${f.status}` }));
      return;
    }
    if (POD_PATH.test(u.pathname) || EVENTS_PATH.test(u.pathname) || this.intercept) {
      this.handleScheduler(req, u, res);
      return;
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            echo: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown,
            contentType: req.headers['content-type'] ?? null,
            authorization: req.headers['authorization'] ?? null,
            userAgent: req.headers['user-agent'] ?? null,
          }),
        );
      });
      return;
    }
    if (watch) this.handleWatch(u, res);
    else this.handleList(u, res);
  }

  /** Pods and events as a scheduler uses them, after the interceptor had its say. */
  private handleScheduler(req: http.IncomingMessage, u: URL, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: InterceptedRequest = { method: req.method ?? 'GET', path: u.pathname, body: text ? (JSON.parse(text) as unknown) : undefined };
      if (request.method !== 'GET' && (POD_PATH.test(u.pathname) || EVENTS_PATH.test(u.pathname))) this.writes.push(request);
      const answer = async (): Promise<FakeAnswer | undefined> => (this.intercept ? this.intercept(request) : undefined);
      void answer().then((intercepted) => {
        if (res.destroyed) return; // the client gave up (aborted) while the interceptor held the answer
        const a = intercepted ?? this.builtIn(request, u);
        if (a === undefined) {
          if (request.method === 'GET' && !u.searchParams.has('watch')) this.handleList(u, res);
          else if (u.searchParams.get('watch') === 'true') this.handleWatch(u, res);
          else {
            res.writeHead(404, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(statusBody(404, 'NotFound', `no route for ${request.method} ${u.pathname}`).body));
          }
          return;
        }
        res.writeHead(a.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(a.body));
      });
    });
  }

  private builtIn(req: InterceptedRequest, u: URL): FakeAnswer | undefined {
    const ev = EVENTS_PATH.exec(u.pathname);
    if (ev) return { status: req.method === 'POST' ? 201 : 200, body: req.body ?? {} };
    const m = POD_PATH.exec(u.pathname);
    if (!m) return undefined;
    const [, namespace, name, sub] = m as unknown as [string, string, string, string | undefined];
    const pods = this.coll('/api/v1/pods');
    const pod = pods.objects.get(`${namespace}/${name}`);
    if (!pod) return statusBody(404, 'NotFound', `pods "${name}" not found`);
    const spec = (pod['spec'] ?? {}) as { nodeName?: string };
    if (sub === 'binding' && req.method === 'POST') {
      if (spec.nodeName) {
        return statusBody(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      const target = (req.body as { target?: { name?: string } } | undefined)?.target?.name ?? '';
      const status = { ...((pod['status'] ?? {}) as Record<string, unknown>) };
      delete status['nominatedNodeName']; // the API server clears it when binding
      this.upsert('/api/v1/pods', { ...pod, spec: { ...spec, nodeName: target }, status });
      return { status: 201, body: { kind: 'Status', status: 'Success', code: 201 } };
    }
    if (sub === 'status' && req.method === 'PATCH') return this.patchStatus(pod, req.body);
    if (sub === undefined && req.method === 'DELETE') {
      this.delete('/api/v1/pods', name, namespace);
      return { status: 200, body: pod };
    }
    if (sub === undefined && req.method === 'GET') return { status: 200, body: pod };
    return undefined;
  }

  /** A strategic-merge status patch: conditions merged by type, other fields replaced (null removes). */
  private patchStatus(pod: FakeObject, body: unknown): FakeAnswer {
    const patch = (body ?? {}) as { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> };
    const want = patch.metadata?.resourceVersion;
    if (want !== undefined && want !== pod.metadata.resourceVersion) {
      return statusBody(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const status = { ...((pod['status'] ?? {}) as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch.status ?? {})) {
      if (key === 'conditions' && Array.isArray(value)) {
        const conditions = [...((status['conditions'] ?? []) as Array<{ type?: string }>)];
        for (const c of value as Array<{ type?: string }>) {
          const i = conditions.findIndex((x) => x.type === c.type);
          if (i >= 0) conditions[i] = { ...conditions[i], ...c };
          else conditions.push(c);
        }
        status['conditions'] = conditions;
      } else if (value === null) delete status[key];
      else status[key] = value;
    }
    this.upsert('/api/v1/pods', { ...pod, status });
    return { status: 200, body: this.coll('/api/v1/pods').objects.get(FakeApiServer.key(pod)) };
  }

  /** The pod as the fake holds it now. */
  pod(namespace: string, name: string): FakeObject | undefined {
    return this.coll('/api/v1/pods').objects.get(`${namespace}/${name}`);
  }

  private handleList(u: URL, res: http.ServerResponse): void {
    if (!this.collections.has(u.pathname) && u.pathname.endsWith('/missing')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 404, status: 'Failure', reason: 'NotFound', message: 'not found' }));
      return;
    }
    const c = this.coll(u.pathname);
    const all = [...c.objects.values()].sort((a, b) => FakeApiServer.key(a).localeCompare(FakeApiServer.key(b)));
    const limit = Number(u.searchParams.get('limit') ?? '0');
    const cont = u.searchParams.get('continue');
    let start = 0;
    let listRv = this.rv;
    if (cont) {
      const [offset, rv, minted] = cont.split(':').map(Number) as [number, number, number];
      if (minted < this.continueExpiredBefore) {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 410, status: 'Failure', reason: 'Expired', message: 'continue token expired' }));
        return;
      }
      start = offset;
      listRv = rv;
    }
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const next = limit > 0 && start + limit < all.length ? `${start + limit}:${listRv}:${this.rv}` : undefined;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'List',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(listRv), ...(next ? { continue: next } : {}) },
        items: page,
      }),
    );
  }

  private handleWatch(u: URL, res: http.ServerResponse): void {
    const from = Number(u.searchParams.get('resourceVersion') ?? '0');
    if (from < this.compactedRv) {
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.compactedRv})` };
      if (this.goneAsErrorEvent) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
        res.end();
      } else {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status));
      }
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: OpenWatch = { path: u.pathname, res, from };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
    for (const ev of this.coll(u.pathname).log) if (ev.rv > from) this.write(w, { type: ev.type, object: ev.object });
  }
}

export const silentLogger = {
  entries: [] as Array<{ level: string; obj: object; msg?: string }>,
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, ...(msg !== undefined ? { msg } : {}) });
  },
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, ...(msg !== undefined ? { msg } : {}) });
  },
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, ...(msg !== undefined ? { msg } : {}) });
  },
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, ...(msg !== undefined ? { msg } : {}) });
  },
};

export function makeLogger(): typeof silentLogger {
  return { ...silentLogger, entries: [] };
}

/** Polls cond until true. The bound is generous: it is only reached on failure, and a loaded machine is slow. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
