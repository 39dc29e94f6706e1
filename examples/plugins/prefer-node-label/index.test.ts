/**
 * PreferNodeLabel's own tests: its args (decoded, defaulted and checked by berth's config loader with the plugin's
 * messages), its hand-worked scores, its filter and hints, and the simulate demo end to end through --plugins.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Node, PodInfo } from 'berth/plugin';
import { ConfigError, parseSchedulerConfig } from '../../../src/config/index.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { runSimulate } from '../../../src/cli/main.js';
import { descriptor, PreferNodeLabel } from './index.js';

const catalog = new PluginCatalog([...IN_TREE_CATALOG.descriptors(), descriptor]);
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function config(args: string): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: berth
    plugins:
      multiPoint:
        enabled: [{name: PreferNodeLabel, weight: 5}]
    pluginConfig:
      - name: PreferNodeLabel
        args: ${args}
`;
}

function problems(args: string): string {
  try {
    parseSchedulerConfig(config(args), 'config.yaml', catalog);
  } catch (err) {
    if (err instanceof ConfigError) return err.format();
    throw err;
  }
  return '';
}

const node = (labels: Record<string, string>) => ({ labels }) as unknown as Parameters<PreferNodeLabel['score']>[2];
const pod = {} as PodInfo;

describe('PreferNodeLabel', () => {
  it('decodes its args with defaults and renders them for config check', () => {
    const cfg = parseSchedulerConfig(config('{values: [interactive, batch]}'), 'config.yaml', catalog);
    expect(cfg.profiles[0]!.pluginArgs.get('PreferNodeLabel')).toEqual({ label: 'berth.example/pool', values: ['interactive', 'batch'], requireLabel: false });
  });

  it('reports bad args at their field with its own messages', () => {
    const text = problems('{label: "not a key!", values: [a, a], requireLabel: "yes", colour: red}');
    expect(text).toContain('colour');
    expect(text).toContain('"not a key!" is not a valid label key');
    expect(text).toContain('values[1]: "a" is listed twice');
    expect(text).toContain('requireLabel');
    expect(problems('{}')).toContain('at least one value is required');
  });

  it('scores the preferred values 100, then evenly down; other nodes 0 (hand-worked: 3 values → 100, 66, 33)', () => {
    const plugin = new PreferNodeLabel({ label: 'pool', values: ['a', 'b', 'c'], requireLabel: false });
    const labels: Array<Record<string, string>> = [{ pool: 'a' }, { pool: 'b' }, { pool: 'c' }, { pool: 'z' }, {}];
    expect(labels.map((l) => plugin.score(undefined, pod, node(l)))).toEqual([100, 66, 33, 0, 0]);
    expect(plugin.filter(undefined, pod, node({}))).toBeNull();
  });

  it('with requireLabel, filters out nodes without a preferred value (unresolvable: preemption cannot help)', () => {
    const plugin = new PreferNodeLabel({ label: 'pool', values: ['a'], requireLabel: true });
    expect(plugin.filter(undefined, pod, node({ pool: 'a' }))).toBeNull();
    const status = plugin.filter(undefined, pod, node({ pool: 'b' }));
    expect(status?.message).toBe("node(s) didn't have label pool in [a]");
    expect(status?.code).toBe(3);
  });

  it('retries rejected pods only on node adds with labels and on label changes', () => {
    const hints = descriptor.events.map((e) => (typeof e === 'string' ? undefined : e.hint));
    const [add, update] = hints.map((hint) => ({ hint: hint! }));
    const n = (labels?: Record<string, string>): Node => ({ metadata: { name: 'n', ...(labels ? { labels } : {}) } });
    expect(add!.hint(pod, { kind: 'NodeAdd', newObject: n() })).toBe('Skip');
    expect(add!.hint(pod, { kind: 'NodeAdd', newObject: n({ pool: 'a' }) })).toBe('Queue');
    expect(update!.hint(pod, { kind: 'NodeUpdate', oldObject: n({ pool: 'a' }), newObject: n({ pool: 'a' }) })).toBe('Skip');
    expect(update!.hint(pod, { kind: 'NodeUpdate', oldObject: n({ pool: 'a' }), newObject: n({ pool: 'b' }) })).toBe('Queue');
  });

  it('the simulate demo: loaded with --plugins, it pulls the notebooks to the interactive pool while it has room', async () => {
    const out: string[] = [];
    const code = await runSimulate(
      [here('./cluster.yaml')],
      { config: here('./config.yaml'), output: 'json', seed: 1, plugins: [here('./index.ts')] },
      (s) => void out.push(s),
    );
    expect(code).toBe(0);
    const result = JSON.parse(out.join('')) as { decisions: Array<{ pod: string; node: string; contributions: Array<{ plugin: string; score: number }> }> };
    expect(result.decisions.map((d) => d.node)).toEqual(['node-a', 'node-a', 'node-a', 'node-b']);
    expect(result.decisions[3]!.contributions.find((c) => c.plugin === 'PreferNodeLabel')?.score).toBe(50);
  });
});
