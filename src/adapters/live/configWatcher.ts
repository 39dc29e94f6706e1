/**
 * Notices that the --config file changed. A ConfigMap volume is updated by the kubelet with an atomic symlink swap
 * (the new files are written to a fresh `..<timestamp>` directory, then `..data` is renamed over to point at it),
 * so the file itself is never written in place and a watch on the file would keep watching the old inode: berth
 * watches the file's directory instead. One swap is a burst of events; after the directory has been quiet for the
 * debounce time the file is read again, and only a content different from the last one read counts as a change.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { unreadableConfigError } from '../../config/index.js';
import type { Clock } from '../../scheduler/clock.js';

/** How long the directory must be quiet before the file is read (a kubelet swap is a burst of a few events). */
export const CONFIG_DEBOUNCE_MS = 1000;

export interface ConfigWatcherDeps {
  /** The --config path (often a symlink into the ConfigMap's `..data`). */
  path: string;
  clock: Clock;
  debounceMs: number;
  /** Calls onEvent for any change in the directory until closed: fs.watch live, a fake in tests. */
  watchDirectory(dir: string, onEvent: () => void, onError: (err: Error) => void): { close(): void };
  /** Reads the file, following symlinks. */
  readText(path: string): Promise<string>;
  /** The content berth runs with (undefined when unknown): reading it again is no change. */
  initialText: string | undefined;
  /** The file's content changed. */
  onChange(text: string): void;
  /** The file could not be read, or the watch failed: `message` says what and where. */
  onProblem(message: string): void;
}

/** fs.watch on the directory and fs.promises.readFile: what `berth run` uses. */
export const fsWatchDeps: Pick<ConfigWatcherDeps, 'watchDirectory' | 'readText'> = {
  watchDirectory: (dir, onEvent, onError) => {
    const watcher = watch(dir, { persistent: false }, () => onEvent());
    watcher.on('error', onError);
    return watcher;
  },
  readText: (path) => readFile(path, 'utf8'),
};

export class ConfigWatcher {
  private lastText: string | undefined;
  private pending: AbortController | undefined;
  /** Reads run one after another, so that an older read never overrides a newer one. */
  private reads: Promise<void> = Promise.resolve();
  private handle: { close(): void } | undefined;
  private closed = false;

  constructor(private readonly deps: ConfigWatcherDeps) {
    this.lastText = deps.initialText;
  }

  start(): void {
    const dir = dirname(this.deps.path);
    const failed = (err: unknown): void =>
      this.deps.onProblem(`${dir}: watching the configuration's directory failed: ${err instanceof Error ? err.message : String(err)}; restart berth to watch it again`);
    try {
      this.handle = this.deps.watchDirectory(dir, () => this.changed(), failed);
    } catch (err) {
      // berth keeps running on the configuration it read; only reloads are off.
      failed(err);
    }
  }

  /** Stops watching; resolves once a read in progress has ended. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending?.abort();
    this.handle?.close();
    await this.reads;
  }

  /** An event in the directory: (re)start the quiet period. */
  private changed(): void {
    if (this.closed) return;
    this.pending?.abort();
    const quiet = new AbortController();
    this.pending = quiet;
    void this.deps.clock.sleep(this.deps.debounceMs, quiet.signal).then(() => {
      if (quiet.signal.aborted || this.closed) return;
      this.pending = undefined;
      this.reads = this.reads.then(() => this.read());
    });
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await this.deps.readText(this.deps.path);
    } catch (err) {
      // Read again on the next event even if the content then equals the last one read.
      this.lastText = undefined;
      if (!this.closed) this.deps.onProblem(unreadableConfigError(this.deps.path, err).format());
      return;
    }
    if (this.closed || text === this.lastText) return;
    this.lastText = text;
    this.deps.onChange(text);
  }
}
