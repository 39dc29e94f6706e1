/**
 * Background work: what a plugin fetches from outside berth's cache (a metrics server, Prometheus, a file) to read
 * in its scheduling cycles. The cycles stay pure: a plugin keeps what it fetched in its own memory and reads only
 * that there. The fetching is a task the plugin registers through its handle (`handle.runInBackground`) when it is
 * created; the ADAPTER runs it with its own I/O and timer, never the core:
 *
 * - `berth run` runs each task at once when its caches have synced, then again `intervalMs` after each run ends,
 *   until it stops (the run in flight is aborted through its signal). Each run's report sets the
 *   berth_plugin_source_* metrics and is logged when the source's state changes.
 * - `berth simulate` runs each task once, before the first pod, and prints a warning for a report that is not
 *   healthy.
 *
 * Both adapters bound a run's time (RUN_TIMEOUT_MS, or the task's own `timeoutMs`) and turn a throw, a rejection or
 * a report of the wrong shape into a report of a source that is down: a task cannot stop the scheduler.
 */

/** An HTTP answer, as much of the WHATWG Response as tasks need. */
export interface HttpResponse {
  readonly status: number;
  text(): Promise<string>;
}

/** An HTTP request's options, a subset of the WHATWG fetch's RequestInit. */
export interface HttpRequestInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The I/O an adapter lends a task (tests hand in fakes). */
export interface BackgroundIO {
  /** An HTTP(S) request to a server outside the cluster's API (Prometheus, ...). */
  fetch(url: string, init?: HttpRequestInit): Promise<HttpResponse>;
  /**
   * A GET on the Kubernetes API server with berth's own credentials, e.g. `/apis/metrics.k8s.io/v1beta1/nodes`;
   * resolves to the parsed JSON body and rejects for a status other than 2xx. berth's ServiceAccount needs RBAC for
   * the path (its ClusterRole grants only what the core calls: see the README). `berth simulate` has no API server
   * and always rejects.
   */
  apiGet(path: string, signal?: AbortSignal): Promise<unknown>;
  /** A local file's text (UTF-8). */
  readTextFile(path: string, signal?: AbortSignal): Promise<string>;
}

/** How one run went: the adapter turns it into metrics, log lines and simulate's warnings. */
export interface BackgroundReport {
  /** The source answered and its answer was read. */
  readonly sourceUp: boolean;
  /** Nodes the plugin has no usable data for after this run (missing from the answer, or too old). */
  readonly staleNodes: number;
  /** What went wrong, for people (logs, warnings), when the source is down or nodes lack data. */
  readonly message?: string;
}

/** Work a plugin registers to be run beside the scheduling cycles. */
export interface BackgroundTask {
  /** The plugin's name (metrics and logs name the task by it and by the profile). */
  readonly plugin: string;
  /** Milliseconds from the end of one run to the start of the next (the live adapter's timer). */
  readonly intervalMs: number;
  /** The longest one run may take before the adapter aborts it (default RUN_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** One run: fetch, keep what the cycles will read, report. `signal` aborts on timeout and on shutdown. */
  run(io: BackgroundIO, signal: AbortSignal): Promise<BackgroundReport>;
}

/** A run's time limit when the task sets none. */
export const RUN_TIMEOUT_MS = 60_000;
