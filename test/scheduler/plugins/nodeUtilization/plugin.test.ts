// NodeUtilization's Filter, Score and Reserve over a SampleStore and a clock the tests move: the scores are worked
// by hand from Trimaran's formulas (docs/design.md, "NodeUtilization"), not read back from the code.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../../../src/kube/api.js';
import { Code } from '../../../../src/scheduler/framework/types.js';
import type { Clock } from '../../../../src/scheduler/clock.js';
import { defaultArgs, type NodeUtilizationArgs } from '../../../../src/scheduler/plugins/nodeUtilization/args.js';
import { descriptor, NEUTRAL_SCORE, NodeUtilization } from '../../../../src/scheduler/plugins/nodeUtilization/index.js';
import { SampleStore, type NodeSample } from '../../../../src/scheduler/plugins/nodeUtilization/samples.js';
import { emptyProfile, makeCluster, makeFramework, makeNode, podInfo, type PodOptions } from '../../../helpers/builders.js';
import { PluginCatalog } from '../../../../src/scheduler/framework/pluginCatalog.js';

/** A clock only the test moves. */
class TestClock implements Clock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
  async sleep(): Promise<void> {}
}

interface Setup {
  readonly plugin: NodeUtilization;
  readonly store: SampleStore;
  readonly clock: TestClock;
  score(pod: PodOptions, node?: string): number;
  filter(pod: PodOptions, node?: string): ReturnType<NodeUtilization['filter']>;
  reserve(uid: string, pod: PodOptions, node?: string): void;
}

/** Node n1 (and n2, alike) with 10 cores and 40Gi unless `nodes` says otherwise; args over the defaults. */
function setup(overrides: Partial<NodeUtilizationArgs> = {}, nodes: Node[] = [makeNode('n1', { cpu: '10', memory: '40Gi' }), makeNode('n2', { cpu: '10', memory: '40Gi' })]): Setup {
  const args = { ...defaultArgs(), ...overrides };
  const cluster = makeCluster(nodes);
  const store = new SampleStore(args.maxSampleAge * 1000, args.placedPodWindow * 1000);
  const clock = new TestClock();
  const plugin = new NodeUtilization(args, store, clock);
  const node = (name: string) => cluster.getNode(name)!;
  return {
    plugin,
    store,
    clock,
    score: (pod, name = 'n1') => plugin.score(undefined, podInfo('p', pod), node(name)),
    filter: (pod, name = 'n1') => plugin.filter(undefined, podInfo('p', pod), node(name)),
    reserve: (uid, pod, name = 'n1') => void plugin.reserve(undefined, podInfo(uid, { ...pod, uid }), name),
  };
}

const sample = (takenAt: number, cpu?: [number, number], memory?: [number, number]): NodeSample => ({
  takenAt,
  ...(cpu ? { cpu: { used: cpu[0], stddev: cpu[1] } } : {}),
  ...(memory ? { memory: { used: memory[0], stddev: memory[1] } } : {}),
});

describe('TargetLoadPacking (target 40 %)', () => {
  it('scores measured use plus the pod\'s request against the target', () => {
    const s = setup();
    s.store.replace(new Map([
      ['n1', sample(0, [0.2, 0])],
      ['n2', sample(0, [0.5, 0])],
    ]));
    // n1: 20 % + 1 of 10 cores = 30 % ≤ 40 → 60 × 30 / 40 + 40 = 85.
    expect(s.score({ cpu: '1' }, 'n1')).toBe(85);
    // n2: 50 % + 10 % = 60 % > 40 → 40 × (100 − 60) / 60 = 26.7 → 27: the busier node loses.
    expect(s.score({ cpu: '1' }, 'n2')).toBe(27);
    // 95 % + 10 % passes the whole machine → 0.
    s.store.replace(new Map([['n1', sample(0, [0.95, 0])]]));
    expect(s.score({ cpu: '1' }, 'n1')).toBe(0);
  });

  it('a pod with no requests counts as upstream\'s non-zero default of 100m', () => {
    const s = setup();
    s.store.replace(new Map([['n1', sample(0, [0.2, 0])]]));
    // 20 % + 0.1 of 10 cores = 21 % → 60 × 21 / 40 + 40 = 71.5 → 72.
    expect(s.score({})).toBe(72);
  });

  it('reads the node\'s capacity, not its allocatable (node-level measurements are of the whole machine)', () => {
    const node = makeNode('n1', { cpu: '8', memory: '40Gi' });
    node.status!.capacity = { ...node.status!.capacity, cpu: '10' };
    const s = setup({}, [node]);
    s.store.replace(new Map([['n1', sample(0, [0.2, 0])]]));
    // 1 core of 10 (not of 8): 30 % → 85 (of 8 it would be 32.5 % → 89).
    expect(s.score({ cpu: '1' })).toBe(85);
  });

  it('a custom target moves the peak', () => {
    const s = setup({ targetUtilization: 60 });
    s.store.replace(new Map([['n1', sample(0, [0.2, 0])]]));
    // 30 % ≤ 60 → (100 − 60) × 30 / 60 + 60 = 80.
    expect(s.score({ cpu: '1' })).toBe(80);
  });
});

describe('no usable measurement: the neutral score, the filter passes', () => {
  it('no sample, a stale one, one without CPU, a node without CPU capacity, a source that went down', () => {
    const s = setup({ filter: { cpuPercent: 50 } });
    const full = { cpu: '9' };
    expect(s.score(full)).toBe(NEUTRAL_SCORE);
    expect(s.filter(full)).toBeNull();

    s.store.replace(new Map([['n1', sample(0, [0.9, 0])]]));
    s.clock.t = 120_000; // exactly maxSampleAge (2m) old: still used
    expect(s.score({ cpu: '1' })).toBe(0); // 90 % + 10 % = 100 % > 40 → 40 × 0 / 60 = 0
    expect(s.filter(full)?.code).toBe(Code.UnschedulableAndUnresolvable);
    s.clock.t = 120_001; // one millisecond older: stale
    expect(s.score({ cpu: '1' })).toBe(NEUTRAL_SCORE);
    expect(s.filter(full)).toBeNull();

    s.store.replace(new Map([['n1', sample(120_001, undefined, [0.3, 0])]]));
    expect(s.score({ cpu: '1' })).toBe(NEUTRAL_SCORE); // TargetLoadPacking reads CPU only

    s.store.replace(new Map([['n1', sample(120_001, [0.9, 0])]]));
    expect(s.score({ cpu: '1' })).toBe(0);
    s.store.clear();
    expect(s.score({ cpu: '1' })).toBe(NEUTRAL_SCORE);
  });

  it('a node whose CPU capacity is 0 cannot be put in proportion: neutral', () => {
    const s = setup({}, [makeNode('n1', { cpu: '0' })]);
    s.store.replace(new Map([['n1', sample(0, [0.2, 0])]]));
    expect(s.score({ cpu: '1' })).toBe(NEUTRAL_SCORE);
  });
});

describe('LoadVariationRiskBalancing', () => {
  // 8 cores and 16Gi; the pod asks 2 cores (25 %) and 2Gi (12.5 %).
  const nodes = [makeNode('n1', { cpu: '8', memory: '16Gi' })];
  const pod = { cpu: '2', memory: '2Gi' };

  it('the worst resource\'s (1 − (μ + σ) / 2) × 100', () => {
    const s = setup({ mode: 'LoadVariationRiskBalancing' }, nodes);
    s.store.replace(new Map([['n1', sample(0, [0.25, 0.1], [0.5, 0.05])]]));
    // CPU: μ = 0.25 + 0.25 = 0.5, σ = 0.1 → risk 0.3 → 70. Memory: μ = 0.625, σ = 0.05 → risk 0.3375 → 66.25.
    expect(s.score(pod)).toBe(66);
    // Memory unmeasured: CPU alone.
    s.store.replace(new Map([['n1', sample(0, [0.25, 0.1])]]));
    expect(s.score(pod)).toBe(70);
  });

  it('sensitivity 2 takes the square root of the deviation; margin 2 doubles it', () => {
    const s = setup({ mode: 'LoadVariationRiskBalancing', safeVarianceSensitivity: 2 }, nodes);
    s.store.replace(new Map([['n1', sample(0, [0.25, 0.1])]]));
    // σ = √0.1 = 0.3162 → risk (0.5 + 0.3162) / 2 = 0.4081 → 59.19 → 59.
    expect(s.score(pod)).toBe(59);
    const m = setup({ mode: 'LoadVariationRiskBalancing', safeVarianceMargin: 2 }, nodes);
    m.store.replace(new Map([['n1', sample(0, [0.25, 0.1])]]));
    // σ = 0.2 → risk 0.35 → 65.
    expect(m.score(pod)).toBe(65);
  });

  it('nothing measured: neutral', () => {
    const s = setup({ mode: 'LoadVariationRiskBalancing' }, nodes);
    s.store.replace(new Map([['n1', { takenAt: 0 }]]));
    expect(s.score(pod)).toBe(NEUTRAL_SCORE);
  });
});

describe('Reserve: pods just placed count until a sample can show them', () => {
  it('adds the placed pod\'s requests to its node only, until a sample taken placedPodWindow after it', () => {
    const s = setup();
    s.store.replace(new Map([
      ['n1', sample(0, [0.2, 0])],
      ['n2', sample(0, [0.2, 0])],
    ]));
    s.clock.t = 1_000;
    s.reserve('a', { cpu: '2' }, 'n1');
    // n1: 20 % + 2 cores placed + 1 core = 50 % → 40 × 50 / 60 = 33.3 → 33; n2 unchanged: 30 % → 85.
    expect(s.score({ cpu: '1' }, 'n1')).toBe(33);
    expect(s.score({ cpu: '1' }, 'n2')).toBe(85);

    // A sample taken 59.999 s after the placement may not show it yet (Trimaran: window end − placed < 60 s).
    s.store.replace(new Map([['n1', sample(60_999, [0.4, 0])]]));
    s.clock.t = 61_000;
    // 40 % + 20 % + 10 % = 70 % → 40 × 30 / 60 = 20.
    expect(s.score({ cpu: '1' })).toBe(20);
    // A sample taken a full window after it shows it: only the measurement counts. 40 % + 10 % = 50 % → 33.
    s.store.replace(new Map([['n1', sample(61_000, [0.4, 0])]]));
    expect(s.score({ cpu: '1' })).toBe(33);
  });

  it('Unreserve takes the placement back; reserving again moves it', () => {
    const s = setup();
    s.store.replace(new Map([
      ['n1', sample(0, [0.2, 0])],
      ['n2', sample(0, [0.2, 0])],
    ]));
    s.reserve('a', { cpu: '2' }, 'n1');
    s.plugin.unreserve(undefined, podInfo('a', { uid: 'a' }));
    expect(s.score({ cpu: '1' }, 'n1')).toBe(85);
    s.reserve('b', { cpu: '2' }, 'n1');
    s.reserve('b', { cpu: '2' }, 'n2');
    expect(s.score({ cpu: '1' }, 'n1')).toBe(85);
    expect(s.score({ cpu: '1' }, 'n2')).toBe(33);
    expect(s.store.placedCount).toBe(1);
  });

  it('forgets placements no fresh sample could count (older than maxSampleAge + placedPodWindow)', () => {
    const s = setup();
    s.reserve('old', { cpu: '1' }); // at 0
    // At 179.999 s a sample 2m old (fresh) was taken at 59.999 s: a pod placed after 59.999 s − 1m still counts.
    s.clock.t = 179_999;
    s.reserve('mid', { cpu: '1' });
    expect(s.store.placedCount).toBe(2);
    // At 180 s the oldest fresh sample was taken at 60 s: a pod placed at 0 no longer counts for any.
    s.clock.t = 180_000;
    s.reserve('new', { cpu: '1' });
    expect(s.store.placedCount).toBe(2);
  });

  it('placements count for the filter too', () => {
    const s = setup({ filter: { cpuPercent: 80 } });
    s.store.replace(new Map([['n1', sample(0, [0.6, 0])]]));
    expect(s.filter({ cpu: '1' })).toBeNull(); // 70 %
    s.reserve('a', { cpu: '1' });
    expect(s.filter({ cpu: '1' })).toBeNull(); // 80 %: at the threshold, not past it
    s.reserve('b', { cpu: '1' });
    expect(s.filter({ cpu: '1' })?.code).toBe(Code.UnschedulableAndUnresolvable); // 90 %
  });
});

describe('Filter', () => {
  it('rejects a node whose measured use plus the request would pass a threshold, per resource', () => {
    const s = setup({ filter: { cpuPercent: 80, memoryPercent: 90 } });
    s.store.replace(new Map([['n1', sample(0, [0.7, 0], [0.85, 0])]]));
    expect(s.filter({ cpu: '1', memory: '2Gi' })).toBeNull(); // 80 % cpu, 90 % memory
    const cpu = s.filter({ cpu: '1500m', memory: '2Gi' }); // 85 % cpu
    expect(cpu?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(cpu?.reasons).toEqual(['node(s) would be over 80% cpu in use (measured use plus the pod\'s request)']);
    expect(s.filter({ cpu: '1', memory: '4Gi' })?.reasons).toEqual(['node(s) would be over 90% memory in use (measured use plus the pod\'s request)']);
  });

  it('without thresholds it passes even a full node', () => {
    const s = setup();
    s.store.replace(new Map([['n1', sample(0, [1, 0], [1, 0])]]));
    expect(s.filter({ cpu: '4' })).toBeNull();
  });
});

describe('descriptor', () => {
  it('registers its refresh as a background task at the configured interval', () => {
    const fw = makeFramework(makeCluster([]), emptyProfile(), new PluginCatalog([]));
    expect(descriptor.create?.(fw.handle, { ...defaultArgs(), refreshInterval: 30 })).toBeInstanceOf(NodeUtilization);
    expect(fw.backgroundTasks.map((t) => [t.plugin, t.intervalMs])).toEqual([['NodeUtilization', 30_000]]);
  });
});
