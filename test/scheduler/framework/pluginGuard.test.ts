import { describe, expect, it } from 'vitest';
import { ConfigError, parseSchedulerConfig } from '../../../src/config/index.js';
import { simulate, type SimulationResult } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../src/adapters/simulator/snapshot.js';
import type { PluginDescriptor } from '../../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import { guardDescriptor, type PluginFault, type PluginGuardOptions } from '../../../src/scheduler/framework/pluginGuard.js';
import { Code, PluginError, Status } from '../../../src/scheduler/framework/types.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import type { Node, Pod } from '../../../src/kube/api.js';
import { makeNode, makePod, podInfo } from '../../helpers/builders.js';

/** Guard options with a fake monotonic clock that each read advances by `step` ms, and the faults collected. */
function guardOptions(step = 0, budgets: Partial<Pick<PluginGuardOptions, 'callBudgetMs' | 'bindBudgetMs'>> = {}) {
  const faults: PluginFault[] = [];
  let t = 0;
  const options: PluginGuardOptions = {
    now: () => (t += step),
    callBudgetMs: budgets.callBudgetMs ?? 1000,
    bindBudgetMs: budgets.bindBudgetMs ?? 60_000,
    onFault: (f) => faults.push(f),
  };
  return { options, faults };
}

const CONFIG = (plugin: string, point = 'multiPoint', args = '') => `
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
    plugins:
      ${point}:
        enabled: [{name: ${plugin}}]
${args}`;

function snapshot(nodes: Node[], pods: Pod[]) {
  return buildSnapshot(parseSnapshotText(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...nodes, ...pods] }), 'snap.json'));
}

const TWO_NODES = () => [makeNode('n1', { cpu: '4', memory: '8Gi' }), makeNode('n2', { cpu: '4', memory: '8Gi' })];

/** Simulates one pending pod with the descriptor loaded (guarded) and enabled. */
async function simulateWith(descriptor: PluginDescriptor<unknown>, options: PluginGuardOptions, point = 'multiPoint', args = ''): Promise<SimulationResult> {
  const catalog = new PluginCatalog([...IN_TREE_CATALOG.descriptors(), guardDescriptor(descriptor, options)]);
  const config = parseSchedulerConfig(CONFIG(descriptor.name, point, args), 'config.yaml', catalog);
  return simulate(snapshot(TWO_NODES(), [makePod('p', { cpu: '1' })]), config, catalog, { maxAttempts: 5 });
}

function loaded(name: string, points: PluginDescriptor['points'], plugin: object): PluginDescriptor<unknown> {
  return { name, points, events: ['NodeAdd'], create: () => ({ name, ...plugin }) };
}

describe('guarded plugins: a fault is an Error for the pod, naming the plugin', () => {
  it('a Filter that throws fails the attempt with the plugin, point and message; the pod is retried', async () => {
    const { options, faults } = guardOptions();
    let calls = 0;
    const flaky = loaded('Flaky', ['filter'], {
      filter: () => {
        if (++calls <= 1) throw new TypeError("Cannot read properties of undefined (reading 'x')");
        return null;
      },
    });
    const result = await simulateWith(flaky, options);
    const decision = result.decisions[0]!;
    // The first attempt failed with the fault; the retry (backoff, then active again) bound it.
    expect(decision.node).not.toBeNull();
    expect(decision.attempts).toBe(2);
    expect(faults).toEqual([
      { plugin: 'Flaky', point: 'Filter', kind: 'threw', message: `plugin "Flaky" threw at Filter: Cannot read properties of undefined (reading 'x')` },
    ]);
  });

  it('a pod whose plugin always throws stays pending with that message, never lost', async () => {
    const { options } = guardOptions();
    const result = await simulateWith(loaded('Broken', ['filter'], { filter: () => { throw new Error('kaboom'); } }), options);
    const decision = result.decisions[0]!;
    expect(decision.node).toBeNull();
    expect(decision.message).toBe('scheduler error: plugin "Broken" threw at Filter: kaboom');
    expect(decision.attempts).toBeGreaterThan(1);
  });

  it('a Filter answer that is not a status is invalid; a Status-shaped object from another copy of berth is a status', async () => {
    const { options, faults } = guardOptions();
    const garbage = await simulateWith(loaded('Garbage', ['filter'], { filter: () => 42 }), options);
    expect(garbage.decisions[0]!.message).toBe('scheduler error: plugin "Garbage" returned the number 42 at Filter, not a Status (null means success)');
    expect(faults[0]).toMatchObject({ kind: 'invalid', point: 'Filter' });

    const foreign = await simulateWith(loaded('Foreign', ['filter'], { filter: () => ({ code: 2, reasons: ['node(s) are not blue'], plugin: '' }) }), guardOptions().options);
    expect(foreign.decisions[0]!.message).toBe('0/2 nodes are available: 2 node(s) are not blue. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  });

  it('a Score that is not a finite number is invalid; a fraction is truncated; out of range is upstream\'s error', async () => {
    const notNumber = await simulateWith(loaded('Words', ['score'], { score: () => 'high' }), guardOptions().options);
    expect(notNumber.decisions[0]!.message).toBe('scheduler error: plugin "Words" returned a string of 4 characters at Score, not a finite number');

    const nan = await simulateWith(loaded('NaNs', ['score'], { score: () => Number.NaN }), guardOptions().options);
    expect(nan.decisions[0]!.message).toBe('scheduler error: plugin "NaNs" returned NaN at Score, not a finite number');

    const tooHigh = await simulateWith(loaded('TooHigh', ['score'], { score: () => 150 }), guardOptions().options);
    expect(tooHigh.decisions[0]!.message).toBe('scheduler error: plugin "TooHigh" returns an invalid score 150, it should in the range of [0, 100] after normalizing');

    const fraction = await simulateWith(loaded('Fraction', ['score'], { score: (_s: unknown, _p: unknown, node: { name: string }) => (node.name === 'n2' ? 99.9 : 10) }), guardOptions().options);
    expect(fraction.decisions[0]!.node).toBe('n2');
    expect(fraction.decisions[0]!.contributions.find((c) => c.plugin === 'Fraction')?.score).toBe(99);
  });

  it('a synchronous call over its budget is discarded and fails the pod', async () => {
    const { options, faults } = guardOptions(1500, { callBudgetMs: 1000 });
    const result = await simulateWith(loaded('Slow', ['filter'], { filter: () => null }), options);
    expect(result.decisions[0]!.message).toBe('scheduler error: plugin "Slow" took 1.5s at Filter, over its budget of 1s');
    expect(faults[0]).toMatchObject({ kind: 'timeout', point: 'Filter' });
  });

  it('a PreBind that never finishes is abandoned at its budget, its signal aborted, the pod left pending', async () => {
    const { options, faults } = guardOptions(0, { bindBudgetMs: 30_000 });
    const signals: AbortSignal[] = [];
    const hanging = loaded('Hangs', ['preBind'], {
      preBind: (_s: unknown, _p: unknown, _n: string, signal: AbortSignal) => {
        signals.push(signal);
        return new Promise(() => {});
      },
    });
    const result = await simulateWith(hanging, options, 'preBind');
    // Every attempt hangs: each is abandoned at 30s (virtual time) and retried, until the simulation ends.
    expect(result.decisions[0]!.node).toBeNull();
    expect(result.decisions[0]!.attempts).toBeGreaterThan(1);
    expect(faults[0]).toEqual({ plugin: 'Hangs', point: 'PreBind', kind: 'timeout', message: 'plugin "Hangs" did not finish PreBind within 30s' });
    expect(signals[0]?.aborted).toBe(true);
  });

  it('a PreBind that rejects is an Error naming the plugin', async () => {
    const { options } = guardOptions();
    const result = await simulateWith(loaded('Rejects', ['preBind'], { preBind: () => Promise.reject(new Error('quota service down')) }), options, 'preBind');
    expect(result.decisions[0]!.message).toBe('running PreBind plugin "Rejects": plugin "Rejects" threw at PreBind: quota service down');
  });

  it('a Permit answer without a status object is invalid', async () => {
    const { options } = guardOptions();
    const result = await simulateWith(loaded('BadPermit', ['permit'], { permit: () => 'yes' }), options, 'permit');
    expect(result.decisions[0]!.message).toBe('scheduler error: plugin "BadPermit" returned a string of 3 characters at Permit, not { status, timeoutMs? }');
  });
});

describe('guarded descriptors', () => {
  it('an args decoder that throws is a configuration error at the args, naming the plugin', () => {
    const { options, faults } = guardOptions();
    const descriptor: PluginDescriptor<unknown> = {
      name: 'BadArgs',
      points: ['filter'],
      events: [],
      args: { fields: ['x'], defaults: () => ({}), decode: () => { throw new RangeError('x out of range'); } },
      create: () => ({ name: 'BadArgs', filter: () => null }),
    };
    const catalog = new PluginCatalog([...IN_TREE_CATALOG.descriptors(), guardDescriptor(descriptor, options)]);
    const args = '    pluginConfig:\n      - name: BadArgs\n        args: {x: 1}\n';
    let error: unknown;
    try {
      parseSchedulerConfig(CONFIG('BadArgs', 'multiPoint', args), 'config.yaml', catalog);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).format()).toContain('profiles[0].pluginConfig[0].args: plugin "BadArgs" threw in args.decode: x out of range');
    expect(faults).toHaveLength(1);
  });

  it('a create that throws or returns nothing is a start-up error naming the plugin', () => {
    const { options } = guardOptions();
    const throws = guardDescriptor({ name: 'NoStart', points: ['filter'], events: [], create: () => { throw new Error('missing env TOKEN'); } }, options);
    expect(() => throws.create?.({} as never, undefined)).toThrow(new PluginError('plugin "NoStart" failed to start: its create() threw: missing env TOKEN', 'NoStart'));
    const empty = guardDescriptor({ name: 'Empty', points: ['filter'], events: [], create: () => undefined as never }, options);
    expect(() => empty.create?.({} as never, undefined)).toThrow('plugin "Empty" failed to start: its create() returned undefined, not a plugin object');
  });

  it('a hint that throws queues the pod and is reported', () => {
    const { options, faults } = guardOptions();
    const guarded = guardDescriptor(
      { name: 'Hinted', points: ['filter'], events: [{ event: 'NodeAdd', hint: () => { throw new Error('no labels'); } }], create: () => ({ name: 'Hinted' }) },
      options,
    );
    const interest = guarded.events[0];
    expect(typeof interest === 'object' && interest.hint?.(podInfo('p'), { kind: 'NodeAdd' })).toBe('Queue');
    expect(faults).toEqual([{ plugin: 'Hinted', point: 'QueueingHint', kind: 'threw', message: 'plugin "Hinted" threw in its queueing hint for NodeAdd: no labels' }]);
  });

  it('the guarded plugin has exactly the extension points of the original and carries the descriptor\'s name', () => {
    const { options } = guardOptions();
    class Both {
      readonly name = 'whatever';
      filter(): Status | null {
        return new Status(Code.Unschedulable, 'no');
      }
      score(): number {
        return 7;
      }
    }
    const guarded = guardDescriptor({ name: 'Both', points: ['filter', 'score'], events: [], create: () => new Both() }, options);
    const plugin = guarded.create?.({ clock: { now: () => 0, sleep: async () => {} } } as never, undefined) as unknown as Record<string, unknown>;
    expect(plugin['name']).toBe('Both');
    expect(Object.keys(plugin).sort()).toEqual(['filter', 'name', 'score']);
  });
});
