/**
 * A bearer token read from a file that something else rotates (a projected ServiceAccount token the kubelet renews,
 * a token a sidecar refreshes, a kubeconfig's `tokenFile`), cached as client-go's NewCachedFileTokenSource caches it
 * (k8s.io/client-go/transport/token_source.go):
 *
 * - a token read is good for `periodMs` (1 minute) less `leewayMs` (10 s): the file is read again ~every 50 s;
 * - a 401 answer to a request sent after the token was read makes the next request read the file again
 *   (ResetTokenOlderThan(request start)): a token read after that request started is kept, so a burst of 401s from
 *   requests sent with the old token does not make every later request re-read the file;
 * - when the file cannot be read (or is empty) after a good read, the last good token is kept (client-go logs
 *   "Unable to rotate token" and does the same); with no good read yet, the error is thrown.
 *
 * The clock is injected; the file is read synchronously (it is small and local, as client-go's os.ReadFile).
 */
import { readFileSync } from 'node:fs';

export const TOKEN_FILE_PERIOD_MS = 60_000;
export const TOKEN_FILE_LEEWAY_MS = 10_000;

export interface TokenFileOptions {
  now?: () => number;
  periodMs?: number;
  leewayMs?: number;
  /** Reads the file (tests); default readFileSync as UTF-8. */
  read?: (path: string) => string;
  /** Told when a re-read failed and the last good token stays in use. */
  onStale?: (message: string) => void;
}

export class CachedTokenFile {
  private token: string | undefined;
  /** When the cached token was read (0 when reset). */
  private readAt = 0;
  private readonly now: () => number;
  private readonly periodMs: number;
  private readonly leewayMs: number;
  private readonly read: (path: string) => string;

  constructor(
    readonly path: string,
    private readonly options: TokenFileOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.periodMs = options.periodMs ?? TOKEN_FILE_PERIOD_MS;
    this.leewayMs = options.leewayMs ?? TOKEN_FILE_LEEWAY_MS;
    this.read = options.read ?? ((p) => readFileSync(p, 'utf8'));
  }

  /** The token to send now: the cached one while fresh, else the file's current content. */
  get(): string {
    const now = this.now();
    if (this.token !== undefined && this.readAt !== 0 && now < this.readAt + this.periodMs - this.leewayMs) return this.token;
    let fresh: string;
    try {
      fresh = this.read(this.path).trim();
      if (fresh === '') throw new Error(`read an empty token from ${this.path}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.token === undefined) throw new Error(`failed to read token file ${this.path}: ${message}`);
      this.options.onStale?.(`unable to rotate the token from ${this.path} (keeping the last one): ${message}`);
      return this.token;
    }
    this.token = fresh;
    this.readAt = now;
    return fresh;
  }

  /** A request started at `startedAt` got 401: forget the token if it was read before that request started. */
  resetIfOlderThan(startedAt: number): void {
    if (this.readAt < startedAt) this.readAt = 0;
  }
}
