/**
 * HTTP/2 to the API server, as client-go talks to it: requests and watches are streams multiplexed over one TLS
 * connection (a second one only when the first has no stream left under the server's SETTINGS_MAX_CONCURRENT_STREAMS,
 * as Go's transport does). A connection that goes silent is found by a PING every `pingIntervalMs` that must be
 * answered within `pingTimeoutMs` (client-go's ReadIdleTimeout 30 s / PingTimeout 15 s); it is then closed, its
 * streams fail (watches resume, requests report the error) and the next request dials a new one. GOAWAY lets the
 * streams in flight finish and sends new ones to a new connection.
 *
 * The request/response objects mimic the parts of node:http's ClientRequest and IncomingMessage the client uses,
 * so kubeClient.ts handles both protocols with one code path.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecureClientSessionOptions } from 'node:http2';

/** What the client reads of a response (node:http's IncomingMessage has all of it). */
export interface ResponseLike {
  readonly statusCode?: number | undefined;
  readonly headers: IncomingHttpHeaders;
  /** True once the whole body arrived. */
  readonly complete: boolean;
  on(event: 'data', fn: (chunk: Buffer & string) => void): this;
  on(event: 'end' | 'close', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  setEncoding(encoding: BufferEncoding): this;
}

/** What the client does with a request (node:http's ClientRequest has all of it). */
export interface RequestLike {
  /** HTTP/1.1: the request went out on a kept-alive socket another request had used. */
  readonly reusedSocket?: boolean;
  /**
   * HTTP/2: the server refused the stream (RST_STREAM REFUSED_STREAM, or a GOAWAY below its id, which nghttp2 reports
   * the same way): by the protocol it did not act on the request.
   */
  readonly refused?: boolean;
  on(event: 'error', fn: (err: Error) => void): this;
  destroy(err?: Error): void;
  end(payload?: Buffer): void;
}

class H2Response implements ResponseLike {
  complete = false;

  constructor(
    private readonly stream: http2.ClientHttp2Stream,
    /** The connection the stream runs on, kept here: Node clears `stream.session` when it destroys the stream. */
    private readonly session: http2.ClientHttp2Session,
    readonly statusCode: number,
    readonly headers: IncomingHttpHeaders,
  ) {
    // Registered before any caller's listener, so 'end' handlers and 'close' see complete = true.
    stream.once('end', () => (this.complete = this.cleanEnd()));
  }

  /**
   * Node ends a stream's readable side also when its connection goes away; only an end the server sent
   * (END_STREAM, no RST_STREAM but NO_ERROR, connection alive) is a complete response. The connection is judged by
   * the session the stream was opened on: a stream the server ended is often destroyed (and `stream.session`
   * cleared) before its 'end' is emitted, under load about 1 in 25 responses — such a response is complete.
   */
  private cleanEnd(): boolean {
    const rst = this.stream.rstCode;
    return (rst === undefined || rst === http2.constants.NGHTTP2_NO_ERROR) && !this.session.destroyed;
  }

  on(event: string, fn: (...args: never[]) => void): this {
    const f = fn as (...args: unknown[]) => void;
    // A truncated stream is not an end: the caller hears 'close' with complete = false instead.
    this.stream.on(event, event === 'end' ? (...args: unknown[]) => (this.complete ? f(...args) : undefined) : f);
    return this;
  }

  setEncoding(encoding: BufferEncoding): this {
    this.stream.setEncoding(encoding);
    return this;
  }
}

class H2Request implements RequestLike {
  constructor(private readonly stream: http2.ClientHttp2Stream) {}

  get refused(): boolean {
    return this.stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
  }

  on(event: 'error', fn: (err: Error) => void): this {
    this.stream.on(event, fn);
    return this;
  }

  destroy(err?: Error): void {
    this.stream.destroy(err);
  }

  end(payload?: Buffer): void {
    this.stream.end(payload);
  }
}

interface Conn {
  session: http2.ClientHttp2Session;
  active: number;
  usable: boolean;
  ping?: NodeJS.Timeout;
}

export interface Http2Options {
  /** TLS material for the connection (CA, client certificate, servername …). */
  tls: SecureClientSessionOptions;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

/** Streams beyond this per connection wait for a new connection even if the server allows more. */
const MAX_STREAMS_CAP = 1000;

export class Http2Pool {
  private readonly conns: Conn[] = [];

  constructor(
    private readonly authority: string,
    private readonly opts: Http2Options,
  ) {}

  /**
   * Opens a stream; `onResponse` gets the response once its headers arrived. `headers` is this request's own object
   * with lower-case names (HTTP/2 requires them): the pseudo-headers are added to it rather than to a copy.
   */
  request(headers: Record<string, string>, method: string, path: string, hasBody: boolean, onResponse: (res: ResponseLike) => void): RequestLike {
    const conn = this.pick();
    headers[':method'] = method;
    headers[':path'] = path;
    const stream = conn.session.request(headers, { endStream: !hasBody });
    if (conn.active++ === 0) conn.session.ref();
    let responded = false;
    let failed = false;
    stream.once('error', () => (failed = true));
    stream.once('close', () => {
      // An idle pool must not keep the process alive (as node:http's keep-alive agent unrefs its free sockets).
      if (--conn.active === 0 && !conn.session.destroyed) conn.session.unref();
      // A stream closed before any response without an error (RST_STREAM NO_ERROR, a session torn down without
      // one) would leave its caller waiting: report it as the failure it is.
      if (!responded && !failed) stream.emit('error', new Error(`stream closed before a response (code ${stream.rstCode ?? 'none'})`));
    });
    stream.once('response', (h) => {
      responded = true;
      const { ':status': status, ...rest } = h;
      onResponse(new H2Response(stream, conn.session, Number(status ?? 0), rest as IncomingHttpHeaders));
    });
    return new H2Request(stream);
  }

  /** Closes every connection at once (streams in flight fail). */
  close(): void {
    for (const c of this.conns.splice(0)) this.drop(c, true);
  }

  private pick(): Conn {
    for (const c of this.conns) {
      if (!c.usable || c.session.closed || c.session.destroyed) continue;
      const limit = Math.min(c.session.remoteSettings.maxConcurrentStreams ?? 100, MAX_STREAMS_CAP);
      if (c.active < limit) return c;
    }
    return this.connect();
  }

  private connect(): Conn {
    const session = http2.connect(this.authority, { ...this.opts.tls, ALPNProtocols: ['h2'] });
    const conn: Conn = { session, active: 0, usable: true };
    this.conns.push(conn);
    // A failed or closed connection takes its streams with it (they report the error); new streams go elsewhere.
    session.on('error', () => this.drop(conn, true));
    session.on('close', () => this.drop(conn, false));
    session.on('goaway', () => {
      conn.usable = false; // streams in flight may finish; nothing new starts here
    });
    const interval = this.opts.pingIntervalMs ?? 30_000;
    const timeout = this.opts.pingTimeoutMs ?? 15_000;
    conn.ping = setInterval(() => this.healthCheck(conn, timeout), interval);
    conn.ping.unref();
    return conn;
  }

  private healthCheck(conn: Conn, timeoutMs: number): void {
    if (conn.session.closed || conn.session.destroyed) return;
    const timer = setTimeout(() => this.drop(conn, true), timeoutMs);
    timer.unref();
    const sent = conn.session.ping((err) => {
      clearTimeout(timer);
      if (err) this.drop(conn, true);
    });
    if (!sent) clearTimeout(timer);
  }

  private drop(conn: Conn, destroy: boolean): void {
    conn.usable = false;
    clearInterval(conn.ping);
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    if (destroy && !conn.session.destroyed) conn.session.destroy();
  }
}
