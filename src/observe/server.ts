/**
 * The HTTP endpoints kube-scheduler serves: /healthz, /livez, /readyz and /metrics (fastify).
 *
 * Health endpoints follow k8s.io/apiserver/pkg/server/healthz's text format:
 * - every check passes: 200 "ok"; with ?verbose: "[+]ping ok\n[+]<check> ok\n<endpoint> check passed\n";
 * - a check fails: 500 "[+]ping ok\n[-]<check> failed: <reason>\n<endpoint> check failed\n". Upstream withholds the
 *   reason on this public endpoint ("reason withheld") and logs it; berth shows it (and logs it), because its checks'
 *   reasons ("caches not synced yet", a Lease renewal error) say nothing an attacker could use and save a log search;
 * - ?exclude=<check> skips a check ("[+]<check> excluded: ok"), as upstream;
 * - /<endpoint>/<check> runs one check: 200 "ok" or 500 "internal server error: <reason>".
 * A built-in "ping" check (always ok) comes first, as upstream installs it.
 *
 * Served over HTTPS when given a certificate, and then (as kube-scheduler's secure port) every path but /healthz,
 * /livez and /readyz needs a Bearer token that the API server authenticates and authorizes (delegatedAuth.ts);
 * refusals are metav1.Status JSON like upstream's. Plain HTTP without authorization is the development mode.
 */
import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DEFAULT_RECENT, type DecisionStore } from './decisionStore.js';
import type { AuthDecision } from './delegatedAuth.js';
import type { Logger } from './logging.js';
import type { SchedulerMetrics } from './metrics.js';

export interface CheckResult {
  /** The check's name in the output, e.g. "leaderElection", "informer-sync". */
  name: string;
  ok: boolean;
  /** Why the check failed. */
  reason?: string;
}

/** One endpoint's checks: one or several named results, possibly computed asynchronously. */
export type HealthCheck = () => CheckResult | CheckResult[] | Promise<CheckResult | CheckResult[]>;

export type Endpoint = 'healthz' | 'livez' | 'readyz';

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics: SchedulerMetrics;
  checks: Record<Endpoint, HealthCheck>;
  logger?: Logger;
  /** The decision record (--decision-record); without it /debug/decisions answers 404 saying how to turn it on. */
  decisions?: DecisionStore;
  /** Serve HTTPS with this PEM certificate and key; without it, plain HTTP. */
  tls?: { cert: string; key: string };
  /** Decides each request before it is served (the secure port's authentication and authorization). */
  authorize?: (path: string, method: string, authorization: string | undefined) => Promise<AuthDecision>;
}

/** Why /debug/decisions has nothing to show; `berth explain` tells the two apart. */
export type DecisionsMiss = 'Disabled' | 'NotFound';

export interface RunningServer {
  /** e.g. https://127.0.0.1:10259 */
  address: string;
  port: number;
  close(): Promise<void>;
}

const ENDPOINTS: readonly Endpoint[] = ['healthz', 'livez', 'readyz'];
const TEXT = 'text/plain; charset=utf-8';

async function runChecks(check: HealthCheck): Promise<CheckResult[]> {
  try {
    const r = await check();
    return [{ name: 'ping', ok: true }, ...(Array.isArray(r) ? r : [r])];
  } catch (err) {
    return [
      { name: 'ping', ok: true },
      { name: 'check', ok: false, reason: err instanceof Error ? err.message : String(err) },
    ];
  }
}

function queryValues(request: FastifyRequest, key: string): string[] | undefined {
  const q = request.query as Record<string, string | string[] | undefined>;
  const v = q[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

function sendText(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', TEXT).header('x-content-type-options', 'nosniff').send(body);
}

/** Refuses requests the authorizer does not allow, with upstream's Status body; logs what is the operator's to fix. */
function addAuthorization(app: FastifyInstance, authorize: NonNullable<ServerOptions['authorize']>, logger: Logger | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
    const decision = await authorize(path, request.method, request.headers.authorization);
    if (decision.allowed) return;
    if (decision.status === 500) logger?.error({ path, err: decision.message }, `cannot authorize a request for ${path}`);
    else logger?.debug({ path, status: decision.status }, decision.message);
    const reason = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'InternalError' }[decision.status];
    const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: decision.message, reason, code: decision.status };
    // Returning the sent reply ends the request here, as fastify asks of async hooks that answer early.
    return reply.code(decision.status).header('content-type', 'application/json').header('x-content-type-options', 'nosniff').send(JSON.stringify(status));
  });
}

interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { metrics, checks, logger, tls } = options;
  // One app type for both schemes: the factory picks the server (an https.Server is an http.Server to fastify).
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => (tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler)),
  });
  if (options.authorize) addAuthorization(app, options.authorize, logger);

  for (const endpoint of ENDPOINTS) {
    app.get(`/${endpoint}`, async (request, reply) => {
      const results = await runChecks(checks[endpoint]);
      const excluded = new Set((queryValues(request, 'exclude') ?? []).flatMap((v) => v.split(',')).filter((v) => v !== ''));
      let out = '';
      const failed: CheckResult[] = [];
      for (const r of results) {
        if (excluded.delete(r.name)) {
          out += `[+]${r.name} excluded: ok\n`;
        } else if (r.ok) {
          out += `[+]${r.name} ok\n`;
        } else {
          out += `[-]${r.name} failed: ${r.reason ?? 'unknown reason'}\n`;
          failed.push(r);
        }
      }
      if (excluded.size > 0) {
        out += `warn: some health checks cannot be excluded: no matches for ${[...excluded].map((n) => JSON.stringify(n)).join(',')}\n`;
      }
      if (failed.length > 0) {
        logger?.warn(
          { endpoint, failed: failed.map((f) => ({ check: f.name, reason: f.reason })) },
          `${failed.map((f) => f.name).join(',')} check failed: ${endpoint}`,
        );
        return sendText(reply, 500, `${out}${endpoint} check failed\n`);
      }
      if (queryValues(request, 'verbose') === undefined) return sendText(reply, 200, 'ok');
      return sendText(reply, 200, `${out}${endpoint} check passed\n`);
    });

    app.get<{ Params: { check: string } }>(`/${endpoint}/:check`, async (request, reply) => {
      const results = await runChecks(checks[endpoint]);
      const r = results.find((x) => x.name === request.params.check);
      if (!r) return sendText(reply, 404, '404 page not found\n');
      if (!r.ok) return sendText(reply, 500, `internal server error: ${r.reason ?? 'unknown reason'}\n`);
      return sendText(reply, 200, 'ok');
    });
  }

  app.get('/debug/decisions', async (request, reply) => {
    const answer = decisionsAnswer(options.decisions, request);
    return reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.text();
    return reply.code(200).header('content-type', metrics.contentType).send(body);
  });

  await app.listen({ host: options.host, port: options.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const address = `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`;
  const protection = options.authorize ? ' (/metrics for authorized tokens only)' : '';
  logger?.info({ address }, `serving /healthz, /livez, /readyz${options.decisions ? ', /debug/decisions' : ''} and /metrics on ${address}${protection}`);
  return {
    address,
    port,
    close: async () => {
      await app.close();
    },
  };
}

interface DecisionsAnswer {
  status: number;
  body: { attempts: unknown[] } | { error: string; reason?: DecisionsMiss };
}

/** /debug/decisions: ?pod=NAMESPACE/NAME, ?node=NAME, or the most recent attempts (?limit=N on the last two). */
function decisionsAnswer(store: DecisionStore | undefined, request: FastifyRequest): DecisionsAnswer {
  if (!store) {
    return { status: 404, body: { reason: 'Disabled', error: 'the decision record is off: start berth run with --decision-record N (chart value decisions.record)' } };
  }
  const [pod] = queryValues(request, 'pod') ?? [];
  const [node] = queryValues(request, 'node') ?? [];
  const [limitText] = queryValues(request, 'limit') ?? [];
  const limit = limitText === undefined ? DEFAULT_RECENT : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1) return { status: 400, body: { error: `limit must be a positive integer, not ${JSON.stringify(limitText)}` } };
  if (pod !== undefined) {
    if (!/^[^/]+\/[^/]+$/.test(pod)) return { status: 400, body: { error: `pod must be NAMESPACE/NAME, not ${JSON.stringify(pod)}` } };
    const attempts = store.byPod(pod);
    if (attempts.length === 0) {
      return { status: 404, body: { reason: 'NotFound', error: `no attempt of ${pod} is recorded (never attempted by this replica, or dropped: the record keeps ${store.capacity})` } };
    }
    return { status: 200, body: { attempts } };
  }
  if (node !== undefined) return { status: 200, body: { attempts: store.byNode(node, limit) } };
  return { status: 200, body: { attempts: store.recent(limit) } };
}
