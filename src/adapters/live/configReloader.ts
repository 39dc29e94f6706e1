/**
 * What `berth run` does with a changed configuration file: decide (src/config/reload.ts), put a valid change in
 * effect, and make every outcome visible: a log line, berth_config_reloads_total{result} and, when berth knows its
 * own pod, an Event on it (what `kubectl describe pod` of berth shows). A refused change leaves the running
 * configuration as it was.
 */
import { decideReload } from '../../config/index.js';
import type { SchedulerConfig } from '../../config/types.js';
import type { PluginCatalog } from '../../scheduler/framework/pluginCatalog.js';
import type { ProfilesReplaced } from '../../scheduler/scheduler.js';
import type { LiveLogger } from './reflector.js';

export type ReloadResult = 'success' | 'failure';

export interface ConfigReloaderDeps {
  /** The --config path, as messages name it. */
  source: string;
  /** The in-tree plugins and those loaded with --plugins at start (they stay loaded). */
  plugins: PluginCatalog;
  /** The configuration berth started with. */
  running: SchedulerConfig;
  /** Puts new profiles in effect between cycles; throws, changing nothing, when a plugin cannot be built. */
  apply(config: SchedulerConfig): ProfilesReplaced;
  logger: LiveLogger;
  /** Counts each outcome (berth_config_reloads_total). */
  count?(result: ReloadResult): void;
  /** Records an Event on berth's own pod; absent when berth does not know its pod. */
  ownEvent?(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class ConfigReloader {
  private runningConfig: SchedulerConfig;

  constructor(private readonly deps: ConfigReloaderDeps) {
    this.runningConfig = deps.running;
  }

  /** The configuration in effect. */
  get running(): SchedulerConfig {
    return this.runningConfig;
  }

  /** The file now holds `text`: apply it or refuse it; returns the result counted. */
  reload(text: string): ReloadResult {
    const decision = decideReload(this.runningConfig, text, this.deps.source, this.deps.plugins);
    switch (decision.kind) {
      case 'invalid':
        return this.fail(decision.message);
      case 'restart-needed':
        return this.fail(decision.message);
      case 'unchanged':
        this.runningConfig = decision.config;
        this.deps.logger.info({ config: this.deps.source }, 'configuration file changed, but nothing that scheduling reads: nothing to reload');
        return this.succeed();
      case 'apply':
        return this.applyChange(decision.config, decision.changed);
    }
  }

  /** The file could not be read or watched: a failure like an invalid file. */
  problem(message: string): ReloadResult {
    return this.fail(message);
  }

  private applyChange(config: SchedulerConfig, changed: string[]): ReloadResult {
    let replaced: ProfilesReplaced;
    try {
      replaced = this.deps.apply(config);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return this.fail(`${this.deps.source}: the new profiles could not be built: ${reason}`);
    }
    this.runningConfig = config;
    const { added, removed, orphaned } = replaced;
    const profiles = config.profiles.map((p) => p.schedulerName);
    this.deps.logger.info({ config: this.deps.source, profiles, added, removed, changed, orphanedPods: orphaned }, 'configuration reloaded');
    if (removed.length > 0) {
      this.deps.logger.warn(
        { removed, orphanedPods: orphaned },
        `profiles removed by the reload: pods naming ${removed.map((n) => `"${n}"`).join(', ')} stay pending until a scheduler takes that name`,
      );
    }
    const summary = [
      added.length > 0 ? `added ${added.join(', ')}` : '',
      removed.length > 0 ? `removed ${removed.join(', ')} (${orphaned} queued pod(s) stay pending)` : '',
      changed.length > 0 ? `changed ${changed.join(', ')}` : '',
    ].filter((s) => s !== '');
    this.deps.ownEvent?.('Normal', 'ConfigReloaded', `${this.deps.source} reloaded: profiles ${profiles.join(', ')}${summary.length > 0 ? `; ${summary.join('; ')}` : ''}`);
    return this.succeed();
  }

  private succeed(): ReloadResult {
    this.deps.count?.('success');
    return 'success';
  }

  private fail(message: string): ReloadResult {
    this.deps.logger.error({ config: this.deps.source, err: message }, 'configuration reload refused: the running configuration stays in effect');
    this.deps.ownEvent?.('Warning', 'ConfigReloadFailed', `${message}\n(the running configuration stays in effect)`);
    this.deps.count?.('failure');
    return 'failure';
  }
}
