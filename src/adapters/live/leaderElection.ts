/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's tools/leaderelection:
 *
 * - acquire: try every retryPeriod × (1 + rand × 1.2) (wait.JitterUntil, JitterFactor 1.2, sliding) until the
 *   Lease is created (missing), taken over (expired or released), or already ours;
 * - expiry is judged on the LOCAL clock: a record held by someone else is valid until the time we last observed it
 *   change plus its leaseDurationSeconds (client-go's observedTime), never by the remote renewTime;
 * - renew: every retryPeriod (no jitter); each renewal may retry every retryPeriod, and if none succeeds within
 *   renewDeadline, leadership is lost at once (onStoppedLeading) and the elector stops, as client-go's Run returns
 *   (kube-scheduler then exits; so should the caller);
 * - optimistic concurrency: updates carry the resourceVersion of the Lease last read or written; a leader first
 *   tries a direct update (client-go's fast path) and on any failure, a 409 conflict included, re-reads the Lease
 *   and decides again (slow path);
 * - leaseTransitions is incremented whenever the holder changes to us; acquireTime is kept across renewals;
 * - stop() releases the Lease as ReleaseOnCancel does: holderIdentity "", leaseDurationSeconds 1, times = now,
 *   leaseTransitions unchanged, so another candidate can take over at once.
 *
 * The clock (now + sleep) and the random source for jitter are injected, so tests drive the elector on a fake clock.
 * The Lease API is a three-method interface returning HTTP status codes; `leaseApiFromRequester` adapts any client
 * with `request(method, path, {body, timeoutMs})` (such as src/adapters/live/kubeClient.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../scheduler/clock.js';
import { realClock } from '../realClock.js';

export type { Clock } from '../../scheduler/clock.js';

/** client-go wait.Jitter factor used while acquiring. */
export const JITTER_FACTOR = 1.2;
/** kube-scheduler's leader-election watchdog tolerance (NewLeaderHealthzAdaptor(20 * time.Second)). */
export const WATCHDOG_TOLERANCE_MS = 20_000;

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
  [extra: string]: unknown;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [extra: string]: unknown };
  spec?: LeaseSpec;
}

/** A Lease API answer: the HTTP status and, for 2xx, the Lease the server returned. */
export interface LeaseResponse {
  status: number;
  lease?: Lease;
  /** The server's message for non-2xx answers (for logs). */
  message?: string;
}

/**
 * What the elector needs from the API server. Methods resolve with the HTTP status for API answers (404, 409, 500...)
 * and may reject for transport failures; both count as a failed attempt. `signal` is aborted when the attempt is
 * abandoned (renewDeadline passed or the elector stopped).
 */
export interface LeaseApi {
  get(namespace: string, name: string, signal?: AbortSignal): Promise<LeaseResponse>;
  create(namespace: string, lease: Lease, signal?: AbortSignal): Promise<LeaseResponse>;
  update(namespace: string, name: string, lease: Lease, signal?: AbortSignal): Promise<LeaseResponse>;
}

/** The part of src/adapters/live/kubeClient.ts's KubeClient used here (it never throws for HTTP statuses). */
export interface Requester {
  request(
    method: string,
    path: string,
    options?: { body?: unknown; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ status: number; body: unknown }>;
}

function leasePath(namespace: string, name?: string): string {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

function toResponse(status: number, body: unknown): LeaseResponse {
  if (status >= 200 && status < 300) return { status, lease: body as Lease };
  const message =
    body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : undefined;
  return message === undefined ? { status } : { status, message };
}

/**
 * Adapts a `request(method, path, options)` client (such as createKubeClient's) to the LeaseApi; each request is
 * bounded by `timeoutMs` and by the elector's abort signal.
 */
export function leaseApiFromRequester(client: Requester, timeoutMs = 10_000): LeaseApi {
  const opts = (signal: AbortSignal | undefined, body?: unknown): { body?: unknown; timeoutMs: number; signal?: AbortSignal } => ({
    timeoutMs,
    ...(body !== undefined ? { body } : {}),
    ...(signal ? { signal } : {}),
  });
  return {
    async get(namespace, name, signal) {
      const r = await client.request('GET', leasePath(namespace, name), opts(signal));
      return toResponse(r.status, r.body);
    },
    async create(namespace, lease, signal) {
      const r = await client.request('POST', leasePath(namespace), opts(signal, lease));
      return toResponse(r.status, r.body);
    },
    async update(namespace, name, lease, signal) {
      const r = await client.request('PUT', leasePath(namespace, name), opts(signal, lease));
      return toResponse(r.status, r.body);
    },
  };
}

/** metav1.MicroTime's wire format: RFC 3339 with exactly six fractional digits, UTC. */
export function formatMicroTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  return `${iso.slice(0, 23)}000Z`;
}

/** upstream kube-scheduler's identity: hostname + "_" + a random UUID. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaderCallbacks {
  /** We became the leader: start scheduling. */
  onStartedLeading?: () => void;
  /** We are no longer the leader (renewal failed past renewDeadline, or stop()): stop scheduling at once. */
  onStoppedLeading?: () => void;
  /** The observed holder changed (our own identity included; "" when the Lease was released). */
  onNewLeader?: (identity: string) => void;
}

export interface LeaderElectorOptions extends LeaderCallbacks {
  /** false: no election, this instance is always the leader. */
  leaderElect: boolean;
  leaseApi?: LeaseApi;
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity?: string;
  clock?: Clock;
  /** Uniform [0, 1), for jitter. */
  random?: () => number;
  /** Release the Lease when stopping (client-go ReleaseOnCancel; kube-scheduler sets it). Default true. */
  releaseOnCancel?: boolean;
  /** Diagnostic messages (failed attempts, transitions). */
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** Builds elector options from the scheduler configuration's leaderElection section. */
export function electorOptionsFromConfig(cfg: {
  leaderElect: boolean;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  resourceName: string;
  resourceNamespace: string;
}): Pick<LeaderElectorOptions, 'leaderElect' | 'namespace' | 'name' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'> {
  return {
    leaderElect: cfg.leaderElect,
    namespace: cfg.resourceNamespace,
    name: cfg.resourceName,
    leaseDurationMs: cfg.leaseDurationSeconds * 1000,
    renewDeadlineMs: cfg.renewDeadlineSeconds * 1000,
    retryPeriodMs: cfg.retryPeriodSeconds * 1000,
  };
}

/** client-go NewLeaderElector's validation. Returns the problem, or undefined. */
export function validateTimings(leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number): string | undefined {
  if (leaseDurationMs <= renewDeadlineMs) return 'leaseDuration must be greater than renewDeadline';
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) return 'renewDeadline must be greater than retryPeriod*JitterFactor';
  if (leaseDurationMs < 1) return 'leaseDuration must be greater than zero';
  if (renewDeadlineMs < 1) return 'renewDeadline must be greater than zero';
  if (retryPeriodMs < 1) return 'retryPeriod must be greater than zero';
  return undefined;
}

/** The leader-election record carried in a Lease's spec (client-go LeaderElectionRecord). */
interface LeaderRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

function recordFromSpec(spec: LeaseSpec | undefined): LeaderRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: spec?.acquireTime ?? '',
    renewTime: spec?.renewTime ?? '',
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

function rawRecord(r: LeaderRecord): string {
  return `${r.holderIdentity}\n${r.leaseDurationSeconds}\n${r.acquireTime}\n${r.renewTime}\n${r.leaseTransitions}`;
}

export type HealthResult = { ok: true } | { ok: false; reason: string };

type RenewOutcome = 'stopped' | 'lost';

export class LeaderElector {
  readonly identity: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly releaseOnCancel: boolean;
  private readonly leaseDurationSeconds: number;

  /** Last Lease read or written (its resourceVersion is what the next update is conditional on). */
  private cachedLease: Lease | undefined;
  private observedRecord: LeaderRecord | undefined;
  private observedRaw = '';
  /** Local time at which observedRecord last changed (or was written by us). */
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;
  private running: Promise<void> | undefined;
  private stopController = new AbortController();

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.releaseOnCancel = options.releaseOnCancel ?? true;
    this.leaseDurationSeconds = Math.ceil(options.leaseDurationMs / 1000);
    if (options.leaderElect) {
      if (!options.leaseApi) throw new Error('leader election: a Lease API is required when leaderElect is true');
      if (!this.identity) throw new Error('leader election: identity must not be empty');
      const problem = validateTimings(options.leaseDurationMs, options.renewDeadlineMs, options.retryPeriodMs);
      if (problem) throw new Error(`leader election: ${problem}`);
    }
  }

  /** True between onStartedLeading and onStoppedLeading (always, from start() on, when leaderElect is false). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder identity last observed on the Lease ("" if none or released). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Upstream's leader-election watchdog (HealthzAdaptor.Check): unhealthy when the Lease names us but we have not
   * renewed it for leaseDuration + tolerance. Healthy when not leading or when leaderElect is false.
   */
  check(toleranceMs = WATCHDOG_TOLERANCE_MS): HealthResult {
    if (!this.options.leaderElect) return { ok: true };
    if (this.observedRecord?.holderIdentity !== this.identity) return { ok: true };
    const since = this.clock.now() - this.observedTime;
    if (since > this.options.leaseDurationMs + toleranceMs) {
      return {
        ok: false,
        reason: `failed election to renew leadership on lease ${this.options.namespace}/${this.options.name}`,
      };
    }
    return { ok: true };
  }

  /**
   * Starts campaigning (idempotent while running). The returned promise resolves when the elector is done: after
   * stop(), or when leadership was lost (like client-go's Run; a new start() campaigns again).
   */
  start(): Promise<void> {
    if (!this.running) {
      this.stopController = new AbortController();
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Stops campaigning or leading; releases the Lease if we hold it. Resolves once everything has finished. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.options.log?.(level, msg);
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    if (!this.options.leaderElect) {
      this.becomeLeader();
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.stopLeading();
      return;
    }
    if (!(await this.acquire())) return;
    this.becomeLeader();
    const outcome = await this.renew();
    this.stopLeading();
    if (outcome === 'lost') this.log('error', `leader election lost: failed to renew lease ${this.options.namespace}/${this.options.name} within the renew deadline`);
    if (this.releaseOnCancel) await this.release();
  }

  private becomeLeader(): void {
    this.leading = true;
    this.log('info', `successfully acquired lease ${this.options.namespace}/${this.options.name} as ${this.identity}`);
    this.options.onStartedLeading?.();
  }

  private stopLeading(): void {
    if (!this.leading) return;
    this.leading = false;
    this.options.onStoppedLeading?.();
  }

  /** Tries until the Lease is ours or we are stopped. */
  private async acquire(): Promise<boolean> {
    const signal = this.stopController.signal;
    this.log('info', `attempting to acquire leader lease ${this.options.namespace}/${this.options.name}...`);
    while (!this.stopped) {
      // Bounded like a renewal, so a hung request cannot stall the campaign.
      const ok = await this.attempt(this.clock.now() + this.options.renewDeadlineMs);
      if (this.stopped) return false;
      if (ok) return true;
      const period = this.options.retryPeriodMs * (1 + this.random() * JITTER_FACTOR);
      await this.clock.sleep(period, signal);
    }
    return false;
  }

  /** Renews every retryPeriod until stopped, or until one renewal has not succeeded within renewDeadline. */
  private async renew(): Promise<RenewOutcome> {
    const signal = this.stopController.signal;
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!this.stopped) {
      const deadline = this.clock.now() + renewDeadlineMs;
      let renewed = false;
      for (;;) {
        renewed = await this.attempt(deadline);
        if (this.stopped) return 'stopped';
        if (renewed) break;
        const remaining = deadline - this.clock.now();
        if (remaining <= 0) break;
        await this.clock.sleep(Math.min(retryPeriodMs, remaining), signal);
        if (this.stopped) return 'stopped';
        if (this.clock.now() >= deadline) break;
      }
      if (!renewed) return 'lost';
      await this.clock.sleep(retryPeriodMs, signal);
    }
    return 'stopped';
  }

  /**
   * One tryAcquireOrRenew, abandoned (false) when `deadline` passes or the elector stops first. An abandoned attempt
   * is aborted and its late answer ignored.
   */
  private async attempt(deadline: number): Promise<boolean> {
    const controller = new AbortController();
    const onStop = (): void => controller.abort();
    const stopSignal = this.stopController.signal;
    stopSignal.addEventListener('abort', onStop, { once: true });
    const timerController = new AbortController();
    try {
      const work = this.tryAcquireOrRenew(controller.signal).catch((err: unknown) => {
        if (!controller.signal.aborted) this.log('warn', `lease request failed: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      });
      const racers: Array<Promise<boolean>> = [work];
      racers.push(this.clock.sleep(Math.max(0, deadline - this.clock.now()), timerController.signal).then(() => false));
      racers.push(
        new Promise<boolean>((resolve) => {
          if (controller.signal.aborted) resolve(false);
          else controller.signal.addEventListener('abort', () => resolve(false), { once: true });
        }),
      );
      const result = await Promise.race(racers);
      return result && !controller.signal.aborted;
    } finally {
      controller.abort();
      timerController.abort();
      stopSignal.removeEventListener('abort', onStop);
    }
  }

  private isLeaseValid(now: number): boolean {
    const rec = this.observedRecord;
    if (!rec) return false;
    return this.observedTime + rec.leaseDurationSeconds * 1000 > now;
  }

  private holdsObserved(): boolean {
    return this.observedRecord !== undefined && this.observedRecord.holderIdentity === this.identity;
  }

  private setObserved(record: LeaderRecord, lease: Lease | undefined): void {
    this.observedRecord = record;
    this.observedRaw = rawRecord(record);
    this.observedTime = this.clock.now();
    if (lease) this.cachedLease = lease;
    if (record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      this.log('info', `new leader elected: ${record.holderIdentity === '' ? '(none)' : record.holderIdentity}`);
      this.options.onNewLeader?.(record.holderIdentity);
    }
  }

  private leaseWith(record: LeaderRecord): Lease {
    const base = this.cachedLease;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...(base?.metadata ?? {}), name: this.options.name, namespace: this.options.namespace },
      spec: { ...(base?.spec ?? {}), ...record },
    };
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const api = this.options.leaseApi as LeaseApi;
    const { namespace, name } = this.options;
    const now = this.clock.now();
    const stamp = formatMicroTime(now);
    const record: LeaderRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };

    // Fast path: we lead and our view of the Lease is fresh; update it directly, conditional on its resourceVersion.
    if (this.holdsObserved() && this.isLeaseValid(now) && this.cachedLease && this.observedRecord) {
      record.acquireTime = this.observedRecord.acquireTime;
      record.leaseTransitions = this.observedRecord.leaseTransitions;
      const res = await api.update(namespace, name, this.leaseWith(record), signal).catch(
        (err: unknown): LeaseResponse => ({ status: 0, message: err instanceof Error ? err.message : String(err) }),
      );
      if (signal.aborted) return false;
      if (res.status >= 200 && res.status < 300) {
        this.setObserved(record, res.lease);
        return true;
      }
      this.log('warn', `failed to update lease optimistically (HTTP ${res.status}${res.message ? `: ${res.message}` : ''}), falling back to slow path`);
    }

    // Slow path: read the Lease.
    const got = await api.get(namespace, name, signal);
    if (signal.aborted) return false;
    if (got.status === 404) {
      this.cachedLease = undefined;
      const created = await api.create(namespace, this.leaseWith(record), signal);
      if (signal.aborted) return false;
      if (created.status < 200 || created.status >= 300) {
        this.log('warn', `error initially creating lease ${namespace}/${name}: HTTP ${created.status}${created.message ? `: ${created.message}` : ''}`);
        return false;
      }
      this.setObserved(record, created.lease);
      return true;
    }
    if (got.status < 200 || got.status >= 300 || !got.lease) {
      this.log('warn', `error retrieving lease ${namespace}/${name}: HTTP ${got.status}${got.message ? `: ${got.message}` : ''}`);
      return false;
    }
    const old = recordFromSpec(got.lease.spec);
    this.cachedLease = got.lease;
    if (rawRecord(old) !== this.observedRaw) this.setObserved(old, got.lease);
    if (old.holderIdentity !== '' && this.isLeaseValid(now) && !this.holdsObserved()) {
      return false; // held by someone else, not yet expired as we observe it
    }
    if (this.holdsObserved()) {
      record.acquireTime = old.acquireTime;
      record.leaseTransitions = old.leaseTransitions;
    } else {
      record.leaseTransitions = old.leaseTransitions + 1;
    }
    const updated = await api.update(namespace, name, this.leaseWith(record), signal);
    if (signal.aborted) return false;
    if (updated.status < 200 || updated.status >= 300) {
      this.log('warn', `failed to update lease ${namespace}/${name}: HTTP ${updated.status}${updated.message ? `: ${updated.message}` : ''}`);
      return false;
    }
    this.setObserved(record, updated.lease);
    return true;
  }

  /**
   * ReleaseOnCancel: hand the Lease back if we hold it, within renewDeadline. The update is conditional on the
   * resourceVersion last seen; when it conflicts (a renewal that stop() aborted in flight may still have been applied
   * by the server, moving the version on), the Lease is read again and, while it still names us, released at its
   * new version. Giving up would leave other replicas waiting a whole leaseDuration.
   */
  private async release(): Promise<boolean> {
    if (!this.holdsObserved() || !this.observedRecord) return true;
    const deadline = this.clock.now() + this.options.renewDeadlineMs;
    const timer = new AbortController();
    const expired = this.clock.sleep(this.options.renewDeadlineMs, timer.signal).then(() => 'expired' as const);
    try {
      for (let tries = 0; this.clock.now() < deadline && tries < 5; tries++) {
        const outcome = await Promise.race([this.releaseOnce(timer.signal), expired]);
        if (outcome === 'released') return true;
        if (outcome === 'expired' || outcome === 'failed') break;
        // 'stale': our view of the Lease was out of date; releaseOnce re-read it; try again if it is still ours.
        if (!this.holdsObserved()) return true;
      }
      this.log('warn', `failed to release lease ${this.options.namespace}/${this.options.name}`);
      return false;
    } finally {
      timer.abort();
    }
  }

  /** One release update; on a conflict the Lease is re-read ('stale'). */
  private async releaseOnce(signal: AbortSignal): Promise<'released' | 'stale' | 'failed'> {
    const api = this.options.leaseApi as LeaseApi;
    const { namespace, name } = this.options;
    const stamp = formatMicroTime(this.clock.now());
    const record: LeaderRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: this.observedRecord?.leaseTransitions ?? 0,
    };
    const res = await api.update(namespace, name, this.leaseWith(record), signal).catch(() => ({ status: 0 }) as LeaseResponse);
    if (res.status >= 200 && res.status < 300) {
      this.setObserved(record, res.lease);
      return 'released';
    }
    this.log('warn', `failed to release lease ${namespace}/${name}: HTTP ${res.status}${res.message ? `: ${res.message}` : ''}`);
    if (res.status !== 409) return 'failed';
    const got = await api.get(namespace, name, signal).catch(() => ({ status: 0 }) as LeaseResponse);
    if (got.status < 200 || got.status >= 300 || !got.lease) return 'failed';
    this.cachedLease = got.lease;
    const current = recordFromSpec(got.lease.spec);
    if (rawRecord(current) !== this.observedRaw) this.setObserved(current, got.lease);
    return 'stale';
  }
}
