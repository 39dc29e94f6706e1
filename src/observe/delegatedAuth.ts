/**
 * Delegated authentication and authorization for berth's secure port, as kube-scheduler does it
 * (k8s.io/apiserver/pkg/server/options DelegatingAuthenticationOptions / DelegatingAuthorizationOptions):
 * the request's Bearer token goes to the API server in a TokenReview (authentication.k8s.io/v1); the user it names
 * goes into a SubjectAccessReview (authorization.k8s.io/v1) for the request's non-resource path and verb. Both
 * answers are cached briefly, so a Prometheus scraping every few seconds costs the API server little.
 *
 * /healthz, /livez and /readyz are always allowed (upstream's --authorization-always-allow-paths default), with or
 * without a token: kubelet probes carry none. Everything else (/metrics, /debug/..., unknown paths) needs a token
 * whose user may `get` the path. One difference from upstream: a request without a token is refused 401 here,
 * where upstream treats it as system:anonymous and refuses it 403 unless RBAC grants anonymous users the path.
 */
import { createHash } from 'node:crypto';
import type { RequestOptions, Response, Status } from '../adapters/live/kubeClient.js';

/** The part of the API client the reviews need (the scheduler's own client: berth's ServiceAccount). */
export interface ReviewRequester {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<Response<T>>;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** What the server does with a request: serve it, or answer with this status and message. */
export type AuthDecision = { allowed: true; user?: UserInfo } | { allowed: false; status: 401 | 403 | 500; message: string };

export const ALWAYS_ALLOW_PATHS: readonly string[] = ['/healthz', '/livez', '/readyz'];

export interface DelegatedAuthOptions {
  api: ReviewRequester;
  /** How long an authenticated token / an allowed review is remembered; upstream's default is 10 s. */
  allowTtlMs?: number;
  /** How long a rejected token / a denied review is remembered: shorter, so a fresh RoleBinding takes effect soon. */
  denyTtlMs?: number;
  /** Entries per cache; the oldest go first beyond it (a flood of random tokens cannot grow memory). */
  maxEntries?: number;
  now?: () => number;
}

/** A map with per-entry expiry and a size bound (insertion order is age order: the oldest entry is evicted first). */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: UserInfo;
  error?: string;
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

type Authn = { ok: true; user: UserInfo } | { ok: false; reason: string };
type Authz = { allowed: boolean; reason: string };

/** The Bearer token of an Authorization header; undefined when there is none (or it is not a Bearer one). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** A failed review's reason, with what to do about it (the usual cause is missing RBAC for berth's own account). */
function reviewFailure(kind: string, resource: string, r: Response<unknown>): Error {
  const message = (r.body as Status).message ?? `HTTP ${r.status}`;
  const hint =
    r.status === 403
      ? `: berth's own ServiceAccount needs create on ${resource} (the chart's and deploy/'s ClusterRole grant it; kube-scheduler gets it from system:auth-delegator)`
      : '';
  return new Error(`${kind} failed: HTTP ${r.status}: ${message}${hint}`);
}

export class DelegatedAuth {
  private readonly api: ReviewRequester;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;
  private readonly tokens: ExpiringCache<Authn>;
  private readonly reviews: ExpiringCache<Authz>;

  constructor(opts: DelegatedAuthOptions) {
    this.api = opts.api;
    this.allowTtlMs = opts.allowTtlMs ?? 10_000;
    this.denyTtlMs = opts.denyTtlMs ?? 5_000;
    const max = opts.maxEntries ?? 1024;
    this.tokens = new ExpiringCache(max, opts.now);
    this.reviews = new ExpiringCache(max, opts.now);
  }

  /** Decides one request. Never throws: a failing review is a 500 whose message says why. */
  async decide(path: string, method: string, authorization: string | undefined): Promise<AuthDecision> {
    if (ALWAYS_ALLOW_PATHS.includes(path)) return { allowed: true };
    const token = bearerToken(authorization);
    if (token === undefined) return { allowed: false, status: 401, message: 'Unauthorized: no Bearer token' };
    try {
      const authn = await this.authenticate(token);
      if (!authn.ok) return { allowed: false, status: 401, message: `Unauthorized: ${authn.reason}` };
      // Non-resource requests' verb is the lower-cased HTTP method, as the API server's RequestInfoFactory makes it.
      const verb = method.toLowerCase();
      const authz = await this.authorize(authn.user, path, verb);
      if (!authz.allowed) {
        const why = authz.reason ? `: ${authz.reason}` : '';
        return { allowed: false, status: 403, message: `forbidden: User "${authn.user.username}" cannot ${verb} path "${path}"${why}` };
      }
      return { allowed: true, user: authn.user };
    } catch (err) {
      return { allowed: false, status: 500, message: `Internal Server Error: ${(err as Error).message}` };
    }
  }

  async authenticate(token: string): Promise<Authn> {
    // The cache is keyed by a digest, so raw tokens are not kept in memory longer than the request.
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const r = await this.api.request<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    if (r.status !== 201 && r.status !== 200) throw reviewFailure('TokenReview', 'tokenreviews.authentication.k8s.io', r);
    const status = (r.body as { status?: TokenReviewStatus }).status ?? {};
    const result: Authn =
      status.authenticated === true && status.user?.username
        ? { ok: true, user: status.user }
        : { ok: false, reason: status.error ? `invalid token: ${status.error}` : 'invalid token' };
    this.tokens.set(key, result, result.ok ? this.allowTtlMs : this.denyTtlMs);
    return result;
  }

  async authorize(user: UserInfo, path: string, verb: string): Promise<Authz> {
    const spec = {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.groups ? { groups: user.groups } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
      nonResourceAttributes: { path, verb },
    };
    const key = JSON.stringify(spec);
    const cached = this.reviews.get(key);
    if (cached) return cached;
    const r = await this.api.request<{ status?: SubjectAccessReviewStatus }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
    });
    if (r.status !== 201 && r.status !== 200) throw reviewFailure('SubjectAccessReview', 'subjectaccessreviews.authorization.k8s.io', r);
    const status = (r.body as { status?: SubjectAccessReviewStatus }).status ?? {};
    const result: Authz = { allowed: status.allowed === true && status.denied !== true, reason: status.reason ?? status.evaluationError ?? '' };
    this.reviews.set(key, result, result.allowed ? this.allowTtlMs : this.denyTtlMs);
    return result;
  }
}
