// Delegated authentication and authorization of the secure port, against a recorded fake of the two review APIs
// (the real API server is exercised in test/integration/secureServing.test.ts).
import { describe, expect, it } from 'vitest';
import type { RequestOptions, Response } from '../../src/adapters/live/kubeClient.js';
import { bearerToken, DelegatedAuth, ExpiringCache, type ReviewRequester } from '../../src/observe/delegatedAuth.js';

interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** Knows one token per user and which users may get which paths; records every review it answers. */
class FakeApi implements ReviewRequester {
  readonly calls: Call[] = [];
  fail: Error | Response<unknown> | undefined;
  constructor(
    private readonly tokens: Record<string, string>,
    private readonly grants: Record<string, string[]>,
  ) {}

  async request<T>(method: string, path: string, opts?: RequestOptions): Promise<Response<T>> {
    this.calls.push({ method, path, body: opts?.body });
    if (this.fail instanceof Error) throw this.fail;
    if (this.fail) return this.fail as Response<T>;
    const body = opts?.body as { spec: { token?: string; user?: string; nonResourceAttributes?: { path: string; verb: string } } };
    if (path.endsWith('/tokenreviews')) {
      const user = this.tokens[body.spec.token ?? ''];
      const status = user ? { authenticated: true, user: { username: user, groups: ['system:authenticated'] } } : { authenticated: false, error: 'token not found' };
      return { status: 201, body: { status } as T };
    }
    const attrs = body.spec.nonResourceAttributes!;
    const allowed = attrs.verb === 'get' && (this.grants[body.spec.user ?? ''] ?? []).includes(attrs.path);
    return { status: 201, body: { status: { allowed, ...(allowed ? {} : { reason: 'no RBAC policy matched' }) } } as T };
  }
}

function setup(now: () => number = Date.now): { api: FakeApi; auth: DelegatedAuth } {
  const api = new FakeApi({ 'tok-prom': 'prometheus', 'tok-other': 'other' }, { prometheus: ['/metrics'] });
  return { api, auth: new DelegatedAuth({ api, now, allowTtlMs: 10_000, denyTtlMs: 2_000, maxEntries: 3 }) };
}

describe('bearerToken', () => {
  it('takes the token of a Bearer header, any case of the scheme, and nothing else', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('DelegatedAuth.decide', () => {
  it('lets the probe paths through without asking the API server', async () => {
    const { api, auth } = setup();
    for (const p of ['/healthz', '/livez', '/readyz']) expect(await auth.decide(p, 'GET', undefined)).toEqual({ allowed: true });
    expect(api.calls).toEqual([]);
  });

  it('401 without a token or with one the API server does not know; 403 when not allowed; allowed otherwise', async () => {
    const { api, auth } = setup();
    expect(await auth.decide('/metrics', 'GET', undefined)).toMatchObject({ allowed: false, status: 401 });
    expect(await auth.decide('/metrics', 'GET', 'Bearer nope')).toMatchObject({ allowed: false, status: 401, message: expect.stringContaining('token not found') });
    expect(await auth.decide('/metrics', 'GET', 'Bearer tok-other')).toMatchObject({
      allowed: false,
      status: 403,
      message: 'forbidden: User "other" cannot get path "/metrics": no RBAC policy matched',
    });
    expect(await auth.decide('/metrics', 'GET', 'Bearer tok-prom')).toEqual({ allowed: true, user: { username: 'prometheus', groups: ['system:authenticated'] } });
    expect(await auth.decide('/debug/pprof/', 'GET', 'Bearer tok-prom')).toMatchObject({ allowed: false, status: 403 });
    // The review carries the user and the non-resource attributes, the verb being the lower-cased method.
    expect(api.calls.at(-1)?.body).toMatchObject({
      kind: 'SubjectAccessReview',
      spec: { user: 'prometheus', groups: ['system:authenticated'], nonResourceAttributes: { path: '/debug/pprof/', verb: 'get' } },
    });
    expect(await auth.decide('/metrics', 'POST', 'Bearer tok-prom')).toMatchObject({ allowed: false, status: 403 });
  });

  it('caches answers: allowed for the allow TTL, refusals for the shorter deny TTL', async () => {
    let t = 0;
    const { api, auth } = setup(() => t);
    await auth.decide('/metrics', 'GET', 'Bearer tok-prom');
    await auth.decide('/metrics', 'GET', 'Bearer tok-other');
    expect(api.calls).toHaveLength(4);
    t = 1_999;
    await auth.decide('/metrics', 'GET', 'Bearer tok-prom');
    await auth.decide('/metrics', 'GET', 'Bearer tok-other');
    expect(api.calls).toHaveLength(4);
    t = 2_000;
    await auth.decide('/metrics', 'GET', 'Bearer tok-other');
    // The token was remembered as authenticated (10 s); only the denied review is asked again.
    expect(api.calls.map((c) => c.path.split('/').at(-1))).toEqual(['tokenreviews', 'subjectaccessreviews', 'tokenreviews', 'subjectaccessreviews', 'subjectaccessreviews']);
    t = 10_000;
    await auth.decide('/metrics', 'GET', 'Bearer tok-prom');
    expect(api.calls).toHaveLength(7);
  });

  it('answers 500 with the cause and the fix when a review fails, and does not cache the failure', async () => {
    const { api, auth } = setup();
    api.fail = { status: 403, body: { kind: 'Status', message: 'tokenreviews.authentication.k8s.io is forbidden', code: 403 } };
    const d = await auth.decide('/metrics', 'GET', 'Bearer tok-prom');
    expect(d).toMatchObject({ allowed: false, status: 500 });
    expect(d.allowed === false && d.message).toMatch(/TokenReview failed: HTTP 403: .*forbidden.*needs create on tokenreviews\.authentication\.k8s\.io/);
    api.fail = new Error('POST /apis/authentication.k8s.io/v1/tokenreviews to https://api failed: ECONNREFUSED');
    expect(await auth.decide('/metrics', 'GET', 'Bearer tok-prom')).toMatchObject({ allowed: false, status: 500, message: expect.stringContaining('ECONNREFUSED') });
    api.fail = undefined;
    expect(await auth.decide('/metrics', 'GET', 'Bearer tok-prom')).toMatchObject({ allowed: true });
  });
});

describe('ExpiringCache', () => {
  it('drops the oldest entries beyond its bound and expired entries on read', () => {
    let t = 0;
    const c = new ExpiringCache<number>(2, () => t);
    c.set('a', 1, 100);
    c.set('b', 2, 100);
    c.set('c', 3, 100);
    expect([c.get('a'), c.get('b'), c.get('c'), c.size]).toEqual([undefined, 2, 3, 2]);
    // Setting again refreshes the age: b becomes the newest, so c goes next.
    c.set('b', 4, 100);
    c.set('d', 5, 100);
    expect([c.get('b'), c.get('c'), c.get('d')]).toEqual([4, undefined, 5]);
    t = 100;
    expect(c.get('b')).toBeUndefined();
    expect(c.size).toBe(1);
  });
});
