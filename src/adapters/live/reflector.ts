/**
 * Reflector: client-go's list/watch loop, owned by berth (client-node's informer stops silently).
 *
 * - List (consistent read: no resourceVersion; paginated with limit/continue), deliver adds/updates/deletes against
 *   the local store (the first list only adds, then onSynced), then watch from the list's resourceVersion with
 *   allowWatchBookmarks=true and a randomized timeoutSeconds (5–10 min).
 * - Bookmarks and events advance the resourceVersion; a watch that ends is resumed from it.
 * - 410 Gone (HTTP, or an ERROR event with code 410) → relist and reconcile.
 * - Network errors, dropped connections, 5xx, 429 → retry with exponential backoff (0.8 s doubling to 30 s, jitter),
 *   honouring Retry-After. It never stops for good; each retry is logged at warn with the reason and delay.
 * - Watchdog: no event or bookmark within stallTimeoutMs → abort the watch and re-watch.
 * - stop() aborts everything at once and leaves no timers behind.
 * Handlers are called synchronously, in event order; a throwing handler is logged and does not stop the loop.
 */
import type { KubeClient, Query, Status, WatchEnd, WatchEvent } from './kubeClient.js';
import { isStatus } from './kubeClient.js';

/** The pino methods the live adapter uses (a pino Logger satisfies it). */
export interface LiveLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ReflectorHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
  /** Once, after the first full list has been delivered. */
  onSynced?(): void;
}

export interface KubeObjectLike {
  metadata?: { resourceVersion?: string; uid?: string };
}

export interface ReflectorOptions<T extends KubeObjectLike> {
  client: Pick<KubeClient, 'request' | 'watch'>;
  /** Collection path, e.g. /api/v1/pods or /apis/apps/v1/replicasets. */
  listPath: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Slims a raw API object to what berth keeps. */
  transform(raw: unknown): T;
  key(obj: T): string;
  /**
   * The key of a raw object that `transform` refused, when its name can be read: its delete still applies, and a bad
   * update or relist keeps the last good version rather than dropping an object the cluster still has.
   */
  keyOfRaw?(raw: unknown): string | undefined;
  handlers: ReflectorHandlers<T>;
  logger: LiveLogger;
  /** Name in logs; defaults to listPath. */
  name?: string;
  /** Called for every failure the loop recovers from (and for handler exceptions). */
  onError?(err: Error): void;
  /** List page size; default 500. 0 = unpaginated. */
  pageSize?: number;
  /** Watch timeoutSeconds is uniformly random in [min, 2·min); default 300 (client-go's 5–10 min). */
  minWatchTimeoutSeconds?: number;
  /** Abort and re-watch when no event/bookmark arrives for this long; default 2 × the watch's timeoutSeconds. */
  stallTimeoutMs?: number;
  /** Backoff for retries: initialMs doubling to maxMs; defaults 800 and 30 000. */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** List request timeout per page; default 60 s. */
  listTimeoutMs?: number;
  /** The kind has a protobuf type: lists and watches offer protobuf (used when the client speaks it). */
  protobuf?: boolean;
  random?: () => number;
}

interface ListResponse {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

class GoneError extends Error {}
class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

function statusMessage(status: number, body: unknown): string {
  if (isStatus(body)) return `HTTP ${status}${body.reason ? ` ${body.reason}` : ''}: ${body.message ?? ''}`.trim();
  return `HTTP ${status}`;
}

function rvOf(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const md = (obj as { metadata?: { resourceVersion?: unknown } }).metadata;
  return typeof md?.resourceVersion === 'string' ? md.resourceVersion : undefined;
}

export class Reflector<T extends KubeObjectLike> {
  private readonly store = new Map<string, T>();
  private readonly abort = new AbortController();
  private readonly random: () => number;
  private readonly name: string;
  private lastResourceVersion = '';
  private synced = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private failures = 0;
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relists: 0, retries: 0, stalls: 0 };

  constructor(private readonly opts: ReflectorOptions<T>) {
    this.random = opts.random ?? Math.random;
    this.name = opts.name ?? opts.listPath;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion the next watch resumes from. */
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** The current (slimmed) objects by key. */
  items(): ReadonlyMap<string, T> {
    return this.store;
  }

  start(): this {
    if (!this.running && !this.stopped) this.running = this.run();
    return this;
  }

  /** Aborts the current request at once; resolves when the loop has exited. No handler runs after this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('reflector stopped'));
    for (const t of this.pendingTimers) clearTimeout(t);
    this.pendingTimers.clear();
    await this.running;
  }

  // ------------------------------------------------------------------ loop

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.listAndReconcile();
          needList = false;
          this.failures = 0;
        }
        if (this.stopped) break;
        const outcome = await this.watchOnce();
        if (outcome === 'relist') needList = true;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof GoneError) {
          this.opts.logger.info({ reflector: this.name, reason: err.message }, 'resourceVersion expired; relisting');
          needList = true;
          continue;
        }
        const e = err instanceof Error ? err : new Error(String(err));
        await this.backoff(e, err instanceof RetryableError ? err.retryAfterSeconds : undefined);
      }
    }
  }

  private backoffDelayMs(): number {
    const initial = this.opts.backoff?.initialMs ?? 800;
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const jitter = this.opts.backoff?.jitter ?? 0.5;
    const base = Math.min(max, initial * 2 ** Math.min(this.failures, 30));
    return Math.min(max, base * (1 + jitter * this.random()));
  }

  private async backoff(err: Error, retryAfterSeconds?: number): Promise<void> {
    let delay = this.backoffDelayMs();
    if (retryAfterSeconds !== undefined) delay = Math.max(delay, Math.min(retryAfterSeconds * 1000, 60_000));
    this.failures++;
    this.stats.retries++;
    this.opts.onError?.(err);
    this.opts.logger.warn(
      { reflector: this.name, err: err.message, delayMs: Math.round(delay), attempt: this.failures },
      `list/watch failed; retrying in ${Math.round(delay)} ms`,
    );
    await this.sleep(delay);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const onAbort = (): void => {
        clearTimeout(t);
        this.pendingTimers.delete(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.pendingTimers.delete(t);
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.pendingTimers.add(t);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ------------------------------------------------------------------ list

  private selectorQuery(): Query {
    const q: Query = {};
    if (this.opts.fieldSelector) q['fieldSelector'] = this.opts.fieldSelector;
    if (this.opts.labelSelector) q['labelSelector'] = this.opts.labelSelector;
    return q;
  }

  /** Lists every page, slimming each page as it arrives (the raw list is never held whole). */
  private async listAll(paginate: boolean): Promise<{ items: Map<string, T>; resourceVersion: string }> {
    const items = new Map<string, T>();
    const limit = paginate ? (this.opts.pageSize ?? 500) : 0;
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query: Query = { ...this.selectorQuery() };
      if (limit > 0) query['limit'] = limit;
      if (cont) query['continue'] = cont;
      const res = await this.opts.client.request<ListResponse>('GET', this.opts.listPath, {
        query,
        timeoutMs: this.opts.listTimeoutMs ?? 60_000,
        signal: this.abort.signal,
        ...(this.opts.protobuf ? { protobuf: true } : {}),
      });
      if (res.status === 410) {
        if (cont !== undefined && paginate) {
          // The continue token expired mid-list: fall back to one unpaginated consistent list, as client-go's pager.
          this.opts.logger.info({ reflector: this.name }, 'list continue token expired; listing without pagination');
          return this.listAll(false);
        }
        throw new RetryableError(`list ${this.opts.listPath}: ${statusMessage(res.status, res.body)}`);
      }
      if (res.status !== 200 || isStatus(res.body)) {
        throw new RetryableError(`list ${this.opts.listPath}: ${statusMessage(res.status, res.body)}`, res.retryAfterSeconds);
      }
      const body = res.body as ListResponse;
      for (const raw of body.items ?? []) {
        try {
          const obj = this.opts.transform(raw);
          items.set(this.opts.key(obj), obj);
        } catch (err) {
          this.keepLastGood(raw, items, err);
        }
      }
      resourceVersion = body.metadata?.resourceVersion ?? '';
      cont = body.metadata?.continue || undefined;
    } while (cont !== undefined && !this.stopped);
    return { items, resourceVersion };
  }

  /**
   * A listed object that cannot be decoded: logged, and its last good version kept, so that a relist does not turn
   * an unreadable object into a delete (a bound pod's resources would look free).
   */
  private keepLastGood(raw: unknown, items: Map<string, T>, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const k = this.opts.keyOfRaw?.(raw);
    const old = k === undefined ? undefined : this.store.get(k);
    if (k !== undefined && old !== undefined) items.set(k, old);
    this.opts.logger.error({ reflector: this.name, err: e.message }, old ? 'cannot decode listed object; keeping its last good version' : 'cannot decode listed object; skipped');
    this.opts.onError?.(e);
  }

  private async listAndReconcile(): Promise<void> {
    this.stats.lists++;
    const wasSynced = this.synced;
    if (wasSynced) this.stats.relists++;
    const { items: fresh, resourceVersion } = await this.listAll((this.opts.pageSize ?? 500) > 0);
    if (this.stopped) return;
    // Deletes first (frees capacity before new objects arrive), then adds and updates in list order.
    for (const [k, old] of this.store) {
      if (!fresh.has(k)) {
        this.store.delete(k);
        this.call('onDelete', () => this.opts.handlers.onDelete?.(old));
      }
    }
    for (const [k, obj] of fresh) this.applyUpsert(k, obj, true);
    this.lastResourceVersion = resourceVersion;
    this.opts.logger.debug(
      { reflector: this.name, items: fresh.size, resourceVersion },
      wasSynced ? 'relisted and reconciled' : 'initial list delivered',
    );
    if (!wasSynced) {
      this.synced = true;
      this.call('onSynced', () => this.opts.handlers.onSynced?.());
    }
  }

  /** Adds or updates; a changed uid under the same key is a delete plus an add. */
  private applyUpsert(k: string, obj: T, fromList: boolean): void {
    const old = this.store.get(k);
    this.store.set(k, obj);
    if (old === undefined) {
      this.call('onAdd', () => this.opts.handlers.onAdd?.(obj));
      return;
    }
    const oldUid = old.metadata?.uid;
    const newUid = obj.metadata?.uid;
    if (oldUid !== undefined && newUid !== undefined && oldUid !== newUid) {
      this.call('onDelete', () => this.opts.handlers.onDelete?.(old));
      this.call('onAdd', () => this.opts.handlers.onAdd?.(obj));
      return;
    }
    if (fromList && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata?.resourceVersion) {
      this.store.set(k, old); // unchanged: keep the object the consumer already holds
      return;
    }
    this.call('onUpdate', () => this.opts.handlers.onUpdate?.(old, obj));
  }

  private call(what: string, fn: () => void): void {
    if (this.stopped) return;
    try {
      fn();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.opts.logger.error({ reflector: this.name, handler: what, err: e.message, stack: e.stack }, 'event handler threw');
      this.opts.onError?.(e);
    }
  }

  // ------------------------------------------------------------------ watch

  /** One watch request. Returns 'relist' after 410, 'rewatch' otherwise; throws retryable errors. */
  private async watchOnce(): Promise<'relist' | 'rewatch'> {
    const minTimeout = this.opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.max(1, Math.floor(minTimeout * (1 + this.random())));
    const stallMs = this.opts.stallTimeoutMs ?? timeoutSeconds * 2000;
    const query: Query = {
      ...this.selectorQuery(),
      resourceVersion: this.lastResourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
    };
    const watchAbort = new AbortController();
    const onStop = (): void => watchAbort.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    let stalled = false;
    let gone: Status | undefined;
    let errorEvent: Status | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const armWatchdog = (): void => {
      if (watchdog !== undefined) {
        clearTimeout(watchdog);
        this.pendingTimers.delete(watchdog);
      }
      const timer = setTimeout(() => {
        this.pendingTimers.delete(timer);
        stalled = true;
        watchAbort.abort();
      }, stallMs);
      watchdog = timer;
      this.pendingTimers.add(timer);
    };
    const onEvent = (ev: WatchEvent): void => {
      armWatchdog();
      if (ev.type === 'ERROR') {
        const st = isStatus(ev.object) ? ev.object : ({ message: JSON.stringify(ev.object) } as Status);
        if (st.code === 410 || st.reason === 'Expired' || st.reason === 'Gone') gone = st;
        else errorEvent = st;
        watchAbort.abort();
        return;
      }
      this.handleEvent(ev);
    };
    const startedAt = Date.now();
    this.stats.watches++;
    armWatchdog();
    let end: WatchEnd;
    try {
      // The client-side timeout is a backstop behind the server's timeoutSeconds.
      end = await this.opts.client.watch(this.opts.listPath, query, onEvent, watchAbort.signal, {
        timeoutMs: timeoutSeconds * 1000 + 30_000,
        idleTimeoutMs: stallMs,
        ...(this.opts.protobuf ? { protobuf: true } : {}),
      });
    } finally {
      this.abort.signal.removeEventListener('abort', onStop);
      if (watchdog !== undefined) {
        clearTimeout(watchdog);
        this.pendingTimers.delete(watchdog);
      }
    }
    if (this.stopped) return 'rewatch';
    if (gone) throw new GoneError(`watch ERROR event: ${gone.message ?? 'Gone'}`);
    if (errorEvent) {
      throw new RetryableError(`watch ERROR event: code ${errorEvent.code ?? '?'} ${errorEvent.reason ?? ''} ${errorEvent.message ?? ''}`.trim());
    }
    if (stalled || end.reason === 'idle') {
      this.stats.stalls++;
      this.opts.logger.warn(
        { reflector: this.name, stallTimeoutMs: stallMs, resourceVersion: this.lastResourceVersion },
        'watch stalled (no event or bookmark); re-watching',
      );
      return 'rewatch';
    }
    switch (end.reason) {
      case 'status':
        if (end.status === 410) throw new GoneError(statusMessage(end.status, end.body));
        throw new RetryableError(`watch ${this.opts.listPath}: ${statusMessage(end.status, end.body)}`, end.retryAfterSeconds);
      case 'error':
        throw new RetryableError(end.error.message);
      case 'closed':
      case 'timeout':
      case 'aborted': {
        // A clean end: re-watch at once, unless the server keeps closing watches immediately (then back off).
        const lasted = Date.now() - startedAt;
        if (end.events === 0 && lasted < 1000) throw new RetryableError(`watch ${this.opts.listPath} closed immediately`);
        this.failures = 0;
        return 'rewatch';
      }
    }
  }

  /**
   * A watched object that cannot be decoded: a delete still removes the stored object (a deleted pod must not hold
   * its node's resources); an add or update is skipped and the last good version, if any, stays.
   */
  private undecodable(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: unknown, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const k = this.opts.keyOfRaw?.(raw);
    const old = k === undefined ? undefined : this.store.get(k);
    let outcome = 'skipped';
    if (old !== undefined && k !== undefined) {
      if (type === 'DELETED') {
        this.store.delete(k);
        outcome = 'deleted its last good version';
      } else outcome = 'keeping its last good version';
    }
    this.opts.logger.error({ reflector: this.name, type, err: e.message }, `cannot decode watched object; ${outcome}`);
    this.opts.onError?.(e);
    if (type === 'DELETED' && old !== undefined) this.call('onDelete', () => this.opts.handlers.onDelete?.(old));
  }

  private handleEvent(ev: WatchEvent): void {
    if (this.stopped) return;
    const rv = rvOf(ev.object);
    switch (ev.type) {
      case 'BOOKMARK':
        if (rv) this.lastResourceVersion = rv;
        return;
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        let obj: T;
        let k: string;
        try {
          obj = this.opts.transform(ev.object);
          k = this.opts.key(obj);
        } catch (err) {
          // A malformed object must not wedge the loop (re-watching would replay it forever): skip it.
          this.undecodable(ev.type, ev.object, err);
          break;
        }
        if (ev.type !== 'DELETED') {
          this.applyUpsert(k, obj, false);
        } else {
          this.store.delete(k);
          // Deliver the final state (it carries the deletion), as client-go does.
          this.call('onDelete', () => this.opts.handlers.onDelete?.(obj));
        }
        break;
      }
      default:
        this.opts.logger.warn({ reflector: this.name, type: String(ev.type) }, 'unknown watch event type ignored');
        return;
    }
    if (rv) this.lastResourceVersion = rv;
    this.failures = 0;
  }
}
