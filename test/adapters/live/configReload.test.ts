// The live side of a configuration hot reload, on virtual time (no real timers, no file system):
// - ConfigWatcher: a burst of directory events (a kubelet symlink swap) is one read after the quiet period; the same
//   content again is no change; an unreadable file is reported with config check's message, and read again later.
// - ConfigReloader: a valid change is applied and counted as a success; an invalid one, or one that needs a restart,
//   is refused with the located message, counted as a failure, an Event on berth's pod, and leaves the running
//   configuration as it was; a removed profile is named in the log.
import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig } from '../../../src/config/index.js';
import type { SchedulerConfig } from '../../../src/config/types.js';
import { ConfigReloader, type ReloadResult } from '../../../src/adapters/live/configReloader.js';
import { ConfigWatcher } from '../../../src/adapters/live/configWatcher.js';
import { VirtualClock } from '../../../src/adapters/simulator/virtualClock.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import type { ProfilesReplaced } from '../../../src/scheduler/scheduler.js';

const PATH = '/etc/berth/config.yaml';

function configText(weights: Record<string, number>, extra = ''): string {
  const profiles = Object.entries(weights)
    .map(([name, w]) => `  - schedulerName: ${name}\n    plugins: {score: {enabled: [{name: ImageLocality, weight: ${w}}]}}\n`)
    .join('');
  return `apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n${extra}profiles:\n${profiles}`;
}

interface WatchHarness {
  clock: VirtualClock;
  fire(): void;
  file: { text: string | Error };
  changes: string[];
  problems: string[];
  watcher: ConfigWatcher;
  watchedDir: string[];
}

function watchHarness(initialText: string | undefined): WatchHarness {
  const clock = new VirtualClock();
  const file: { text: string | Error } = { text: initialText ?? '' };
  const changes: string[] = [];
  const problems: string[] = [];
  const watchedDir: string[] = [];
  let onEvent: () => void = () => {};
  const watcher = new ConfigWatcher({
    path: PATH,
    clock,
    debounceMs: 1000,
    watchDirectory: (dir, cb) => {
      watchedDir.push(dir);
      onEvent = cb;
      return { close: () => (onEvent = () => {}) };
    },
    readText: async () => {
      if (file.text instanceof Error) throw file.text;
      return file.text;
    },
    initialText,
    onChange: (text) => changes.push(text),
    onProblem: (message) => problems.push(message),
  });
  watcher.start();
  return { clock, fire: () => onEvent(), file, changes, problems, watcher, watchedDir };
}

/** Lets the promise chains (sleep → read → callbacks) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('ConfigWatcher', () => {
  it('watches the directory, not the file (the kubelet swaps a symlink in it)', () => {
    expect(watchHarness('a').watchedDir).toEqual(['/etc/berth']);
  });

  it('reads once after a burst of events has been quiet for the debounce time', async () => {
    const h = watchHarness('old');
    h.file.text = 'new';
    h.fire();
    h.clock.advanceTo(h.clock.now() + 600);
    h.fire();
    h.clock.advanceTo(h.clock.now() + 600);
    h.fire();
    await settle();
    expect(h.changes).toEqual([]);
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.changes).toEqual(['new']);
  });

  it('the same content again is no change (a swap with equal data, or a touch)', async () => {
    const h = watchHarness('same');
    h.fire();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.changes).toEqual([]);
    h.file.text = 'other';
    h.fire();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    h.fire();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.changes).toEqual(['other']);
  });

  it('an unreadable file is reported as config check reports it, and the next read counts again', async () => {
    const h = watchHarness('v1');
    h.file.text = Object.assign(new Error(`ENOENT: no such file or directory, open '${PATH}'`), { code: 'ENOENT' });
    h.fire();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.problems).toEqual([
      `${PATH}: cannot read the configuration file: ENOENT: no such file or directory, open '${PATH}'; check the path given to --config`,
    ]);
    h.file.text = 'v1';
    h.fire();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.changes).toEqual(['v1']);
  });

  it('nothing is read after close', async () => {
    const h = watchHarness('v1');
    h.file.text = 'v2';
    h.fire();
    await h.watcher.close();
    h.clock.advanceTo(h.clock.now() + 1000);
    await settle();
    expect(h.changes).toEqual([]);
  });
});

interface ReloadHarness {
  reloader: ConfigReloader;
  applied: SchedulerConfig[];
  counted: ReloadResult[];
  events: string[];
  logs: string[];
}

function reloadHarness(text: string, replaced: Partial<ProfilesReplaced> = {}): ReloadHarness {
  const applied: SchedulerConfig[] = [];
  const counted: ReloadResult[] = [];
  const events: string[] = [];
  const logs: string[] = [];
  const log = (level: string) => (fields: object, msg?: string) => logs.push(`${level} ${msg ?? ''} ${JSON.stringify(fields)}`);
  const reloader = new ConfigReloader({
    source: PATH,
    plugins: IN_TREE_CATALOG,
    running: parseSchedulerConfig(text, PATH),
    apply: (config) => {
      applied.push(config);
      return { added: [], removed: [], orphaned: 0, ...replaced };
    },
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    count: (result) => counted.push(result),
    ownEvent: (type, reason, message) => events.push(`${type} ${reason}: ${message}`),
  });
  return { reloader, applied, counted, events, logs };
}

const weightOf = (config: SchedulerConfig, profile: number): number | undefined =>
  config.profiles[profile]?.plugins.score.find((p) => p.name === 'ImageLocality')?.weight;

describe('ConfigReloader', () => {
  it('a valid change is applied, counted as a success and reported on berth\'s pod', () => {
    const h = reloadHarness(configText({ berth: 1 }));
    expect(h.reloader.reload(configText({ berth: 10 }))).toBe('success');
    expect(h.applied.map((c) => weightOf(c, 0))).toEqual([10]);
    expect(weightOf(h.reloader.running, 0)).toBe(10);
    expect(h.counted).toEqual(['success']);
    expect(h.events).toEqual([`Normal ConfigReloaded: ${PATH} reloaded: profiles berth; changed berth`]);
  });

  it('an invalid file is refused with the located message; the running configuration stays', () => {
    const h = reloadHarness(configText({ berth: 1 }));
    expect(h.reloader.reload(configText({ berth: 1 }).replace('ImageLocality', 'ImageLocalty'))).toBe('failure');
    expect(h.applied).toEqual([]);
    expect(weightOf(h.reloader.running, 0)).toBe(1);
    expect(h.counted).toEqual(['failure']);
    const message = `${PATH}:5:34: profiles[0].plugins.score.enabled[0].name: unknown plugin "ImageLocalty"`;
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatch(new RegExp(`^Warning ConfigReloadFailed: ${message.replace(/[[\].]/g, '\\$&')}; did you mean "ImageLocality"\\?`));
    expect(h.events[0]).toMatch(/\n\(the running configuration stays in effect\)$/);
    expect(h.logs.some((l) => l.startsWith('error configuration reload refused') && l.includes('unknown plugin \\"ImageLocalty\\"'))).toBe(true);
  });

  it('a change of the Lease is refused: it needs a restart', () => {
    const h = reloadHarness(configText({ berth: 1 }));
    const result = h.reloader.reload(configText({ berth: 5 }, 'leaderElection: {resourceName: berth-2}\n'));
    expect(result).toBe('failure');
    expect(h.applied).toEqual([]);
    expect(h.events[0]).toContain('leaderElection.resourceName cannot change while berth runs; restart berth to apply it');
  });

  it('a removed profile is named in a warning with the pods that stay pending', () => {
    const h = reloadHarness(configText({ berth: 1, 'berth-pack': 1 }), { removed: ['berth-pack'], orphaned: 3 });
    expect(h.reloader.reload(configText({ berth: 1 }))).toBe('success');
    expect(h.logs.some((l) => l.startsWith('warn profiles removed by the reload: pods naming "berth-pack" stay pending'))).toBe(true);
    expect(h.events).toEqual([`Normal ConfigReloaded: ${PATH} reloaded: profiles berth; removed berth-pack (3 queued pod(s) stay pending)`]);
  });

  it('profiles whose plugins cannot be built are refused and the old ones keep running', () => {
    const h = reloadHarness(configText({ berth: 1 }));
    const reloader = new ConfigReloader({
      source: PATH,
      plugins: IN_TREE_CATALOG,
      running: h.reloader.running,
      apply: () => {
        throw new Error('plugin Faulty: cannot connect');
      },
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      count: (result) => h.counted.push(result),
    });
    expect(reloader.reload(configText({ berth: 2 }))).toBe('failure');
    expect(weightOf(reloader.running, 0)).toBe(1);
    expect(h.counted).toEqual(['failure']);
  });
});
