// A plugin is one module with one descriptor: a test-only plugin, defined below and nowhere else, is accepted by the
// configuration loader (names, multiPoint, strict args with its own validation, config check rendering), built by
// the framework with its decoded args, and retried by the queue on its own events.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseSchedulerConfig } from '../../../src/config/index.js';
import { MemoryPort } from '../../../src/adapters/simulator/memoryPort.js';
import { VirtualClock } from '../../../src/adapters/simulator/virtualClock.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import type { PluginDescriptor } from '../../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import { type FilterPlugin, Status } from '../../../src/scheduler/framework/types.js';
import { IN_TREE_PLUGINS } from '../../../src/scheduler/plugins/inTree.js';
import { SeededRandom } from '../../../src/scheduler/random.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { configError, expectIssue, HEADER } from '../../config/helpers.js';
import { makeCluster, makeNode, makePod } from '../../helpers/builders.js';

interface RequireLabelArgs {
  label: string;
}

/** Filters out nodes without a configured label; a node gaining labels (NodeUpdate) may let its pods in. */
const requireLabel: PluginDescriptor<RequireLabelArgs> = {
  name: 'RequireLabel',
  points: ['filter'],
  events: ['NodeUpdate'],
  args: {
    fields: ['label'],
    defaults: () => ({ label: 'example.com/ready' }),
    decode: (dec, raw, path) => {
      const label = dec.string(raw['label'], [...path, 'label']) ?? 'example.com/ready';
      if (label === '') dec.error([...path, 'label'], 'label must not be empty', 'name a node label key');
      return { label };
    },
    render: (args) => ({ label: args.label }),
  },
  create: (_handle, args): FilterPlugin => ({
    name: 'RequireLabel',
    filter: (_state, _pod, node) => (args.label in node.labels ? null : Status.unschedulable(`node(s) lack label ${args.label}`)),
  }),
};

const PLUGINS = new PluginCatalog([...IN_TREE_PLUGINS, requireLabel]);

const config = (args: string): string =>
  HEADER +
  'profiles:\n  - plugins:\n      multiPoint:\n        enabled:\n          - name: RequireLabel\n' +
  `    pluginConfig:\n      - name: RequireLabel\n        args:\n${args}`;

/** Like test/config/helpers.ts configError, with the catalog that knows RequireLabel. */
function errorWith(text: string): ConfigError {
  try {
    parseSchedulerConfig(text, 'config.yaml', PLUGINS);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('a plugin defined as one descriptor', () => {
  it('is enabled by multiPoint at its points, with its decoded args, rendered by config check', () => {
    const c = parseSchedulerConfig(config('          label: example.com/gpu\n'), 'config.yaml', PLUGINS);
    const profile = c.profiles[0]!;
    expect(profile.plugins.filter.map((p) => p.name)).toContain('RequireLabel');
    expect(profile.plugins.score.map((p) => p.name)).not.toContain('RequireLabel');
    expect(profile.pluginArgs.get('RequireLabel')).toEqual({ label: 'example.com/gpu' });
    const rendered = (c.effective['profiles'] as Array<{ pluginConfig: unknown[] }>)[0]!.pluginConfig;
    expect(rendered[0]).toEqual({
      name: 'RequireLabel',
      args: { apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'RequireLabelArgs', label: 'example.com/gpu' },
    });
  });

  it('decodes its args strictly, with located messages, and reports its own validation', () => {
    const unknown = expectIssue(
      errorWith(config('          label: example.com/gpu\n          lable: typo\n')),
      'profiles[0].pluginConfig[0].args.lable',
      'unknown field "lable"',
      /did you mean "label"\?.*apiVersion, kind, label/,
    );
    expect([unknown.line, unknown.column]).toEqual([12, 11]);
    expectIssue(errorWith(config('          label: ""\n')), 'profiles[0].pluginConfig[0].args.label', 'label must not be empty', 'name a node label key');
    expectIssue(errorWith(config('          kind: OtherArgs\n')), 'profiles[0].pluginConfig[0].args.kind', /does not match plugin "RequireLabel"/, /RequireLabelArgs/);
  });

  it('is a known plugin name only in a catalog that holds it', () => {
    const typo = HEADER + 'profiles:\n  - plugins:\n      filter:\n        enabled:\n          - name: RequireLabl\n';
    expectIssue(errorWith(typo), 'profiles[0].plugins.filter.enabled[0].name', 'unknown plugin "RequireLabl"', /did you mean "RequireLabel"\?.*NodeDeclaredFeatures, NodeUtilization, RequireLabel$/);
    expectIssue(configError(config('          label: x\n')), 'profiles[0].plugins.multiPoint.enabled[0].name', 'unknown plugin "RequireLabel"', /Known plugins/);
  });

  it('is built by the framework with its args, and its events decide when the queue retries what it rejected', () => {
    const c = parseSchedulerConfig(config('          label: example.com/gpu\n'), 'config.yaml', PLUGINS);
    const cluster = makeCluster([makeNode('n1')]);
    const scheduler = new Scheduler({
      cluster,
      config: c,
      plugins: PLUGINS,
      random: new SeededRandom(1),
      clock: new VirtualClock(),
      port: new MemoryPort(cluster),
    });
    scheduler.upsertPendingPod(new PodInfo(makePod('p', { uid: 'u-p' })));
    const out = scheduler.scheduleOne()!;
    expect(out.result.kind === 'unschedulable' && out.result.message).toContain('1 node(s) lack label example.com/gpu');
    expect(scheduler.queue.unschedulablePods().map((q) => [...q.unschedulablePlugins])).toEqual([['RequireLabel']]);
    scheduler.notify('NodeAdd'); // not one of RequireLabel's events
    expect(scheduler.queue.counts().unschedulable).toBe(1);
    cluster.upsertNode(makeNode('n1', { labels: { 'example.com/gpu': 'true' } }));
    scheduler.notify('NodeUpdate');
    expect(scheduler.queue.counts().unschedulable).toBe(0);
  });
});
