/**
 * berth's own Kubernetes API client over node:http(s), with a keep-alive agent and client-go's token-bucket rate
 * limiter. The kubeconfig (berth's own, kubeCredentials.ts, or a @kubernetes/client-node KubeConfig: both are a
 * KubeCredentialSource) gives only credentials and TLS material (client certificates, bearer tokens incl. token
 * files, CA data/files, in-cluster).
 *
 * Wire format: JSON, and — when the client is created with `protobuf` and a request says its kinds have protobuf
 * types (`protobuf: true`) — Kubernetes protobuf, as client-go's clientsets use it: the Accept header offers
 * protobuf first and JSON second, and each response is decoded by its Content-Type (./proto/codec.ts), into the
 * same objects JSON gives. Watch streams are newline-delimited JSON or length-prefixed protobuf frames.
 */
import http from 'node:http';
import https from 'node:https';
import { decodeObject, decodeWatchEvent, type DecodeOptions, PROTOBUF_MEDIA_TYPE } from './proto/codec.js';
import { Http2Pool, type RequestLike, type ResponseLike } from './http2Transport.js';
import { CachedTokenFile } from './tokenFile.js';
import type { KubeCredentialSource } from './kubeCredentials.js';

export type { KubeCredentialSource };

/** metav1.Status, as the API server returns it for failures (and in watch ERROR events). */
export interface Status {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }>; retryAfterSeconds?: number };
}

export function isStatus(body: unknown): body is Status {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}

/** A request body the client sends as protobuf when it speaks protobuf, as JSON otherwise. */
export class WireBody {
  constructor(
    readonly json: unknown,
    readonly protobuf: () => Uint8Array,
  ) {}
}

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  body?: unknown;
  /** Defaults to application/json (use application/merge-patch+json etc. for patches). */
  contentType?: string;
  /** Whole-request timeout; default 60 s. */
  timeoutMs?: number;
  query?: Query;
  signal?: AbortSignal;
  /** Every kind the response may hold has a protobuf type (./proto/codec.ts): offer protobuf. */
  protobuf?: boolean;
  /**
   * The caller reads only the status of a success: a 2xx body is not decoded and `body` is `{}` (the Event or Status
   * the API server echoes back for each write berth makes per pod). Failures are decoded as always.
   */
  discardSuccessBody?: boolean;
}

export interface Response<T> {
  status: number;
  body: T | Status;
  /** From a Retry-After header (429, 503), when present. */
  retryAfterSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

/** How a watch stream ended. watch() never throws: network errors are reported here too. */
export type WatchEnd =
  /** The server ended the stream cleanly (timeoutSeconds elapsed, or it closed the watch). */
  | { reason: 'closed'; events: number }
  /** The caller's signal aborted it. */
  | { reason: 'aborted'; events: number }
  /** No bytes arrived for idleTimeoutMs. */
  | { reason: 'idle'; events: number }
  /** The whole-request timeout elapsed. */
  | { reason: 'timeout'; events: number }
  /** A non-200 response to the watch request. */
  | { reason: 'status'; events: 0; status: number; body: Status; retryAfterSeconds?: number }
  /** Connection failed or dropped mid-stream, an undecodable line, or onEvent threw. */
  | { reason: 'error'; events: number; error: Error };

export interface WatchOptions {
  /** Whole-request timeout; default none (the server's timeoutSeconds ends the watch). */
  timeoutMs?: number;
  /** Abort when no bytes arrive for this long; default none. */
  idleTimeoutMs?: number;
  /** The watched kind has a protobuf type: offer protobuf. */
  protobuf?: boolean;
}

export interface KubeClient {
  /** Server URL, e.g. https://127.0.0.1:6443 */
  readonly server: string;
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<Response<T>>;
  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    opts?: WatchOptions,
  ): Promise<WatchEnd>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export interface KubeClientOptions {
  /** Non-watch requests per second; <= 0 means unlimited. */
  qps: number;
  burst: number;
  userAgent?: string;
  /** Keep-alive agent size for non-watch requests; default 100. */
  maxSockets?: number;
  /**
   * Retries of a request answered 429 or 5xx with an integer Retry-After header, each after that many seconds (and
   * a token from the rate limiter), as client-go's rest client does; default 10 (client-go's). 0 returns the first
   * answer. Watches are not retried here (the reflector backs off, honouring Retry-After).
   */
  maxRetries?: number;
  /** Injected clock for the rate limiter and the credential caches (tests); default Date.now. */
  now?: () => number;
  /** Told when a rotating token file could not be read again and the last good token stays in use. */
  onCredentialWarning?: (message: string) => void;
  /** Offer protobuf for the requests and watches that allow it; default false (JSON only). */
  protobuf?: boolean;
  /** Leave metadata.managedFields out of protobuf-decoded objects (for readers that never look at them). */
  dropManagedFields?: boolean;
  /** HTTP/2 (https only): requests and watches as streams over one connection; default false (HTTP/1.1). */
  http2?: boolean;
}

// ---------------------------------------------------------------- rate limiting

/**
 * client-go's flowcontrol.NewTokenBucketRateLimiter: a bucket of `burst` tokens refilled at `qps` per second; each
 * request takes one, waiting (FIFO, by reservation) when the bucket is empty.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = Math.max(1, burst);
    this.last = now();
  }

  get unlimited(): boolean {
    return this.qps <= 0;
  }

  /** Reserves a token and returns how long (ms) the caller must wait before using it. */
  reserve(): number {
    if (this.unlimited) return 0;
    const now = this.now();
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Returns a token that was reserved but not used (the request was aborted while waiting). */
  cancel(): void {
    if (!this.unlimited) this.tokens += 1;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.cancel();
        reject(abortError(signal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('request aborted');
}

// ---------------------------------------------------------------- credentials

interface Credentials {
  tls: https.AgentOptions;
  /** Header names in lower case (HTTP/2 requires it; HTTP/1.1 does not care), copied into every request. */
  headers: Record<string, string>;
  auth?: string;
}

/** An HTTP/1.1 socket idle this long is closed (below the API server's 90 s IdleTimeout). */
const IDLE_SOCKET_TIMEOUT_MS = 60_000;

/**
 * A request that failed before any response in a way that shows the server did not act on it, so it is sent again
 * (Go's transport resends in these cases): over HTTP/2, a stream the server refused; over HTTP/1.1, a reused
 * kept-alive socket whose write failed (EPIPE), or that was reset under a method Go replays (GET, HEAD, OPTIONS). A
 * reset POST may have been acted on (the server read it, then closed), so it is not resent.
 */
class NotActedOnError extends Error {
  constructor(
    message: string,
    /** A refused HTTP/2 stream (the server is busy: wait before sending again), else a stale HTTP/1.1 socket. */
    readonly refused: boolean,
  ) {
    super(message);
  }
}

/** Waits before sending a refused HTTP/2 stream again, as Go's transport backs off (1 s, then doubling). */
const REFUSED_RESEND_WAITS_MS: readonly number[] = [0, 1000, 2000];

/** Methods safe to send again after the server may have read them (Go's Request.isReplayable). */
const REPLAYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

function lostOnStaleSocket(method: string, err: NodeJS.ErrnoException, reusedSocket: boolean | undefined, responded: boolean): boolean {
  if (responded || reusedSocket !== true) return false;
  return err.code === 'EPIPE' || (err.code === 'ECONNRESET' && REPLAYABLE_METHODS.has(method));
}

/** Re-read credentials (token files, exec plugins) at most this often, as client-go's cached token source does. */
const CREDENTIAL_TTL_MS = 60_000;

async function readCredentials(kc: KubeCredentialSource): Promise<Credentials> {
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    const name = k.toLowerCase();
    if (typeof v === 'string') headers[name] = v;
    else if (typeof v === 'number') headers[name] = String(v);
    else if (Array.isArray(v)) headers[name] = v.join(', ');
  }
  const tls: https.AgentOptions = {};
  if (opts.ca !== undefined) tls.ca = opts.ca;
  if (opts.cert !== undefined) tls.cert = opts.cert;
  if (opts.key !== undefined) tls.key = opts.key;
  if (opts.pfx !== undefined) tls.pfx = opts.pfx;
  if (opts.passphrase !== undefined) tls.passphrase = opts.passphrase;
  if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
  if (opts.servername !== undefined) tls.servername = opts.servername;
  const creds: Credentials = { tls, headers };
  if (typeof opts.auth === 'string') creds.auth = opts.auth;
  return creds;
}

// ---------------------------------------------------------------- client

function buildPath(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const qs = params.toString();
  if (qs === '') return path;
  return path + (path.includes('?') ? '&' : '?') + qs;
}

function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** client-go's default rest.Request maxRetries. */
const DEFAULT_MAX_RETRIES = 10;

/**
 * Seconds to wait before retrying `res`, or undefined when it is not retried: client-go retries 429 and every 5xx
 * that carry a Retry-After header holding an integer (strconv.Atoi), and nothing else.
 */
function retryAfterWait(res: Response<unknown>): number | undefined {
  if (res.status !== 429 && res.status < 500) return undefined;
  const s = res.retryAfterSeconds;
  return s !== undefined && Number.isInteger(s) ? s : undefined;
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted) throw new Error(`${what} failed: aborted`);
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error(`${what} failed: aborted while waiting for Retry-After`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function statusFromText(code: number, text: string, what: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    message: text.trim() === '' ? `${what}: HTTP ${code}` : `${what}: HTTP ${code}: ${text.trim().slice(0, 500)}`,
  };
}

class NodeKubeClient implements KubeClient {
  readonly server: string;
  private readonly url: URL;
  private readonly secure: boolean;
  private readonly limiter: TokenBucket;
  private readonly userAgent: string;
  private readonly maxSockets: number;
  private readonly maxRetries: number;
  private credentials: Credentials | undefined;
  private credentialsAt = 0;
  private credentialsLoading: Promise<Credentials> | undefined;
  /** Counts the 401s that dropped the credentials: a load started before the latest one may carry the rejected set. */
  private credentialsDropped = 0;
  private agent: http.Agent | undefined;
  private watchAgent: http.Agent | undefined;
  private readonly protobuf: boolean;
  private readonly decodeOptions: DecodeOptions;
  private readonly useHttp2: boolean;
  private h2: Http2Pool | undefined;
  /** The user's rotating token file (kubeconfig tokenFile, in-cluster ServiceAccount token), re-read as client-go does. */
  private readonly tokenFile: CachedTokenFile | undefined;
  private readonly now: () => number;
  /** The server URL's parts every request uses, worked out once. */
  private readonly hostname: string;
  private readonly port: number;
  private readonly basePath: string;

  constructor(
    private readonly kc: KubeCredentialSource,
    opts: KubeClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster (set current-context, or load in-cluster config)');
    this.server = cluster.server.replace(/\/+$/, '');
    this.url = new URL(this.server);
    this.secure = this.url.protocol === 'https:';
    this.hostname = this.url.hostname.replace(/^\[|\]$/g, '');
    this.port = this.url.port === '' ? (this.secure ? 443 : 80) : Number(this.url.port);
    this.basePath = this.url.pathname === '/' ? '' : this.url.pathname.replace(/\/+$/, '');
    this.limiter = new TokenBucket(opts.qps, opts.burst, opts.now);
    this.userAgent = opts.userAgent ?? 'berth';
    this.maxSockets = opts.maxSockets ?? 100;
    this.maxRetries = Math.max(0, opts.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.protobuf = opts.protobuf ?? false;
    this.decodeOptions = { dropManagedFields: opts.dropManagedFields ?? false };
    this.useHttp2 = (opts.http2 ?? false) && this.secure;
    this.now = opts.now ?? Date.now;
    const tokenFilePath = kc.getCurrentUser()?.authProvider?.config?.['tokenFile'];
    this.tokenFile =
      typeof tokenFilePath === 'string' && tokenFilePath !== ''
        ? new CachedTokenFile(tokenFilePath, { now: this.now, ...(opts.onCredentialWarning ? { onStale: opts.onCredentialWarning } : {}) })
        : undefined;
  }

  /**
   * A 401 to a request that started at `startedAt` carrying `used`: those credentials may have been rotated or
   * revoked. The token file is read again on the next request (client-go's ResetTokenOlderThan), and the other
   * credentials are loaded again rather than kept for the rest of their minute, an exec plugin's run again even
   * before its credential's expiry (client-go's exec authenticator refreshes on a 401 too). A 401 to an older set
   * (a request in flight across a reload) changes nothing.
   */
  private unauthorized(startedAt: number, used: Credentials): void {
    this.tokenFile?.resetIfOlderThan(startedAt);
    if (used !== this.credentials || this.credentialsAt === 0) return;
    this.credentialsAt = 0;
    this.credentialsDropped++;
    this.kc.forgetCachedCredentials?.();
  }

  private async creds(): Promise<Credentials> {
    if (this.credentials && this.credentialsAt !== 0 && this.now() - this.credentialsAt < CREDENTIAL_TTL_MS) return this.credentials;
    if (!this.credentialsLoading) {
      const dropped = this.credentialsDropped;
      this.credentialsLoading = readCredentials(this.kc)
        .then((c) => {
          const first = this.credentials === undefined;
          this.credentials = c;
          // A 401 while this load ran: it may have read the cache that 401 emptied, so the next request loads again.
          this.credentialsAt = dropped === this.credentialsDropped ? this.now() : 0;
          if (first) {
            // An idle socket is closed here before the API server closes it (its IdleTimeout is 90 s, client-go's
            // IdleConnTimeout too): a request sent on a socket the server is just closing fails with nothing to show.
            const pool = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, timeout: IDLE_SOCKET_TIMEOUT_MS };
            this.agent = this.secure ? new https.Agent({ ...c.tls, ...pool }) : new http.Agent(pool);
            // Watches hold their socket for minutes: keep them off the pool binds use.
            this.watchAgent = this.secure ? new https.Agent({ ...c.tls, keepAlive: false }) : new http.Agent({ keepAlive: false });
            if (this.useHttp2) this.h2 = new Http2Pool(this.url.origin, { tls: c.tls });
          }
          return c;
        })
        .finally(() => {
          this.credentialsLoading = undefined;
        });
    }
    try {
      return await this.credentialsLoading;
    } catch (err) {
      if (this.credentials) return this.credentials; // keep using the last good credentials
      throw new Error(`loading credentials for ${this.server}: ${(err as Error).message}`);
    }
  }

  private requestOptions(c: Credentials, method: string, path: string, agent: http.Agent | undefined, accept: string): https.RequestOptions {
    const headers: Record<string, string> = { ...c.headers, accept, 'user-agent': this.userAgent };
    // The token file's current token replaces the one applyToHTTPSOptions put there (client-node's FileAuth re-reads
    // on its own clock only, and never on a 401).
    if (this.tokenFile) headers['authorization'] = `Bearer ${this.tokenFile.get()}`;
    const o: https.RequestOptions = {
      protocol: this.url.protocol,
      hostname: this.hostname,
      port: this.port,
      method,
      path: this.basePath + path,
      headers,
    };
    if (agent) o.agent = agent;
    if (c.auth !== undefined) o.auth = c.auth;
    return o;
  }

  /** Sends a request over HTTP/2 when enabled, else over node:http(s) with `ro`'s agent. */
  private open(ro: https.RequestOptions, hasBody: boolean, onResponse: (res: ResponseLike) => void): RequestLike {
    if (this.h2) {
      // requestOptions built the headers for this request alone, in lower case.
      const headers = ro.headers as Record<string, string>;
      if (ro.auth) headers['authorization'] = `Basic ${Buffer.from(ro.auth).toString('base64')}`;
      return this.h2.request(headers, ro.method ?? 'GET', ro.path ?? '/', hasBody, onResponse);
    }
    return (this.secure ? https : http).request(ro, onResponse);
  }

  /**
   * One request, retried while the answer is a 429 or 5xx with an integer Retry-After (client-go's
   * rest.withRetry/checkWait): the wait is the header's seconds, then the retry takes a rate-limiter token like any
   * request. The body is a buffer, so every kind of request (a Binding's POST too) is replayed safely, as client-go
   * replays its byte bodies. After maxRetries retries the last answer is returned.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
    let staleResends = 0;
    let refusedResends = 0;
    // Named only when a wait needs it: most requests never wait.
    const what = (): string => `${method} ${buildPath(path, opts.query)} to ${this.server}`;
    for (let retries = 0; ; retries++) {
      let res: Response<T>;
      try {
        res = await this.requestOnce<T>(method, path, opts);
      } catch (err) {
        if (!(err instanceof NotActedOnError)) throw err;
        if (err.refused) {
          const wait = REFUSED_RESEND_WAITS_MS[refusedResends++];
          if (wait === undefined) throw err;
          if (wait > 0) await sleepUnlessAborted(wait, opts.signal, what());
        } else if (staleResends++ >= this.maxSockets) {
          // Each stale socket fails once and leaves the pool, and a new socket is never stale, so this is not
          // reached in practice; the bound is for safety.
          throw err;
        }
        retries--;
        continue;
      }
      const waitSeconds = retryAfterWait(res);
      if (waitSeconds === undefined || retries >= this.maxRetries) return res;
      await sleepUnlessAborted(waitSeconds * 1000, opts.signal, what());
    }
  }

  private async requestOnce<T>(method: string, path: string, opts: RequestOptions): Promise<Response<T>> {
    const fullPath = buildPath(path, opts.query);
    const what = `${method} ${fullPath}`;
    if (opts.signal?.aborted) throw new Error(`${what}: aborted`);
    await this.limiter.acquire(opts.signal);
    const c = await this.creds();
    if (opts.signal?.aborted) throw new Error(`${what}: aborted`);
    const accept = this.protobuf && opts.protobuf ? `${PROTOBUF_MEDIA_TYPE}, application/json` : 'application/json';
    const startedAt = this.now();
    const ro = this.requestOptions(c, method, fullPath, this.agent, accept);
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      let contentType = opts.contentType ?? 'application/json';
      let body: unknown = opts.body;
      if (body instanceof WireBody) {
        if (this.protobuf) {
          const bytes = body.protobuf();
          body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          contentType = PROTOBUF_MEDIA_TYPE;
        } else {
          body = body.json;
        }
      }
      payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const h = ro.headers as Record<string, string>;
      h['content-type'] = contentType;
      h['content-length'] = String(payload.length);
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return await new Promise<Response<T>>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, res?: Response<T>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res as Response<T>);
      };
      let responded = false;
      const req = this.open(ro, payload !== undefined, (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        const code = res.statusCode ?? 0;
        const keepBody = !(opts.discardSuccessBody && code >= 200 && code < 300);
        res.on('data', (d: Buffer) => {
          if (keepBody) chunks.push(d);
        });
        res.on('error', (e) => finish(new Error(`${what} to ${this.server}: response failed: ${e.message}`)));
        // After 'end' this is a no-op; before it, the connection went away mid-response.
        res.on('close', () => finish(new Error(`${what} to ${this.server}: connection dropped mid-response`)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 401) this.unauthorized(startedAt, c);
          if (!keepBody) {
            finish(undefined, { status, body: {} as T });
            return;
          }
          const raw = Buffer.concat(chunks);
          const retryAfter = parseRetryAfter(res.headers['retry-after']);
          if (isProtobuf(res.headers['content-type']) && raw.length > 0) {
            let body: T | Status;
            try {
              body = decodeObject(raw, this.decodeOptions) as T | Status;
            } catch (err) {
              finish(new Error(`${what}: HTTP ${status} with a protobuf body berth cannot decode: ${(err as Error).message}`));
              return;
            }
            finish(undefined, retryAfter !== undefined ? { status, body, retryAfterSeconds: retryAfter } : { status, body });
            return;
          }
          const text = raw.toString('utf8');
          let body: T | Status;
          if (text === '') {
            body = status >= 200 && status < 300 ? ({} as T) : statusFromText(status, '', what);
          } else {
            try {
              body = JSON.parse(text) as T | Status;
            } catch {
              if (status >= 200 && status < 300) {
                finish(new Error(`${what}: HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`));
                return;
              }
              body = statusFromText(status, text, what);
            }
          }
          finish(undefined, retryAfter !== undefined ? { status, body, retryAfterSeconds: retryAfter } : { status, body });
        });
      });
      // Settle here as well as through the request's 'error': a stream that is already closed emits nothing more.
      const timer = setTimeout(() => {
        req.destroy(new Error(`timed out after ${timeoutMs} ms`));
        finish(new Error(`${what} to ${this.server} failed: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy(new Error('aborted'));
        finish(new Error(`${what} to ${this.server} failed: aborted`));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => {
        const message = `${what} to ${this.server} failed: ${e.message}`;
        const refused = !responded && req.refused === true;
        const notActedOn = refused || lostOnStaleSocket(method, e as NodeJS.ErrnoException, req.reusedSocket, responded);
        finish(notActedOn ? new NotActedOnError(message, refused) : new Error(message));
      });
      req.end(payload);
    });
  }

  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    opts: WatchOptions = {},
  ): Promise<WatchEnd> {
    const fullPath = buildPath(path, { ...query, watch: 'true' });
    const what = `watch ${fullPath}`;
    if (signal.aborted) return { reason: 'aborted', events: 0 };
    let c: Credentials;
    try {
      c = await this.creds();
    } catch (err) {
      return { reason: 'error', events: 0, error: err as Error };
    }
    if (signal.aborted) return { reason: 'aborted', events: 0 };
    const accept = this.protobuf && opts.protobuf ? `${PROTOBUF_MEDIA_TYPE};stream=watch, application/json` : 'application/json';
    const startedAt = this.now();
    let ro: https.RequestOptions;
    try {
      ro = this.requestOptions(c, 'GET', fullPath, this.watchAgent, accept);
    } catch (err) {
      return { reason: 'error', events: 0, error: err as Error };
    }
    return await new Promise<WatchEnd>((resolve) => {
      let events = 0;
      let settled = false;
      let idleTimer: NodeJS.Timeout | undefined;
      let totalTimer: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idleTimer);
        clearTimeout(totalTimer);
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        resolve(end);
      };
      const armIdle = (): void => {
        if (opts.idleTimeoutMs === undefined) return;
        // Once per chunk of events: restarting the one timer costs less than a new timer each time.
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(() => finish({ reason: 'idle', events }), opts.idleTimeoutMs);
      };
      const onAbort = (): void => finish({ reason: 'aborted', events });
      const req = this.open(ro, false, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 401) this.unauthorized(startedAt, c);
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('error', (e) => finish({ reason: 'error', events, error: new Error(`${what}: ${e.message}`) }));
          // Without this a connection lost mid-way through an error response would leave the watch waiting forever.
          res.on('close', () => {
            if (!res.complete) finish({ reason: 'error', events, error: new Error(`${what}: connection dropped mid-response (HTTP ${status})`) });
          });
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const text = raw.toString('utf8');
            let body: Status;
            try {
              const parsed = isProtobuf(res.headers['content-type']) ? decodeObject(raw) : (JSON.parse(text) as unknown);
              body = isStatus(parsed) ? parsed : statusFromText(status, text, what);
            } catch {
              body = statusFromText(status, text, what);
            }
            const retryAfter = parseRetryAfter(res.headers['retry-after']);
            finish(
              retryAfter !== undefined
                ? { reason: 'status', events: 0, status, body, retryAfterSeconds: retryAfter }
                : { reason: 'status', events: 0, status, body },
            );
          });
          return;
        }
        armIdle();
        // One event to the caller; false once the watch is over (an error, or onEvent ended it).
        const deliver = (event: WatchEvent): boolean => {
          events++;
          try {
            onEvent(event);
          } catch (err) {
            finish({ reason: 'error', events, error: err instanceof Error ? err : new Error(String(err)) });
            return false;
          }
          return !settled; // onEvent may have aborted the watch
        };
        const ended = (): void => {
          res.on('end', () => finish({ reason: 'closed', events }));
          res.on('error', (e) => finish({ reason: 'error', events, error: new Error(`${what}: connection dropped: ${e.message}`) }));
          res.on('close', () => {
            if (!res.complete) finish({ reason: 'error', events, error: new Error(`${what}: connection dropped mid-stream`) });
          });
        };
        if (isProtobuf(res.headers['content-type'])) {
          this.readProtobufFrames(res, what, () => settled, armIdle, deliver, (error) => finish({ reason: 'error', events, error }));
          ended();
          return;
        }
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          if (settled) return;
          armIdle();
          buffered += chunk;
          let start = 0;
          let nl: number;
          while ((nl = buffered.indexOf('\n', start)) >= 0) {
            const line = buffered.slice(start, nl).trim();
            start = nl + 1;
            if (line === '') continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              finish({ reason: 'error', events, error: new Error(`${what}: undecodable watch event: ${line.slice(0, 200)}`) });
              return;
            }
            if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
              finish({ reason: 'error', events, error: new Error(`${what}: malformed watch event: ${line.slice(0, 200)}`) });
              return;
            }
            if (!deliver(event)) return;
          }
          if (start > 0) buffered = buffered.slice(start);
        });
        ended();
      });
      req.on('error', (e) => finish({ reason: 'error', events, error: new Error(`${what} to ${this.server} failed: ${e.message}`) }));
      if (opts.timeoutMs !== undefined) totalTimer = setTimeout(() => finish({ reason: 'timeout', events }), opts.timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      armIdle();
      req.end();
    });
  }

  /** Splits a protobuf watch stream into frames (4-byte big-endian length, then a metav1.WatchEvent) and decodes them. */
  private readProtobufFrames(
    res: ResponseLike,
    what: string,
    isSettled: () => boolean,
    armIdle: () => void,
    deliver: (event: WatchEvent) => boolean,
    fail: (error: Error) => void,
  ): void {
    let buffered: Buffer = Buffer.alloc(0);
    res.on('data', (chunk: Buffer) => {
      if (isSettled()) return;
      armIdle();
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let off = 0;
      while (buffered.length - off >= 4) {
        const size = buffered.readUInt32BE(off);
        if (buffered.length - off - 4 < size) break;
        const frame = buffered.subarray(off + 4, off + 4 + size);
        off += 4 + size;
        let event: WatchEvent;
        try {
          event = decodeWatchEvent(frame, this.decodeOptions) as WatchEvent;
        } catch (err) {
          fail(new Error(`${what}: undecodable protobuf watch event (${size} bytes): ${(err as Error).message}`));
          return;
        }
        if (!deliver(event)) return;
      }
      buffered = off === buffered.length ? Buffer.alloc(0) : buffered.subarray(off);
    });
  }

  close(): void {
    this.agent?.destroy();
    this.watchAgent?.destroy();
    this.h2?.close();
  }
}

function isProtobuf(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith(PROTOBUF_MEDIA_TYPE);
}

export function createKubeClient(kc: KubeCredentialSource, opts: KubeClientOptions): KubeClient {
  return new NodeKubeClient(kc, opts);
}
