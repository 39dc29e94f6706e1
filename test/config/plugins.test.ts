import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig, type SchedulerConfig } from '../../src/config/index.js';
import { HEADER, configError, expectIssue } from './helpers.js';

const load = (plugins: string): SchedulerConfig =>
  parseSchedulerConfig(HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n' + plugins, 'p.yaml');
const score = (c: SchedulerConfig) => c.profiles[0]!.plugins.score.map((p) => `${p.name}:${p.weight}`);
const names = (c: SchedulerConfig, point: 'filter' | 'preFilter' | 'preEnqueue' | 'postFilter' | 'reserve' | 'preBind' | 'bind') =>
  c.profiles[0]!.plugins[point].map((p) => p.name);

describe('merging user plugin sets into the defaults (upstream mergePluginSet + expandMultiPointPlugins)', () => {
  it('disabled "*" at score keeps only the score plugins the user enables', () => {
    const c = load('      score:\n        disabled: [{name: "*"}]\n        enabled: [{name: ImageLocality, weight: 5}, {name: NodeResourcesFit}]\n');
    expect(score(c)).toEqual(['ImageLocality:5', 'NodeResourcesFit:1']);
    // Other points keep the defaults.
    expect(names(c, 'filter')).toContain('NodeResourcesFit');
  });

  it('enabling a default plugin at score overrides its multiPoint registration: overrides first, in the point order', () => {
    const c = load('      score:\n        enabled: [{name: ImageLocality, weight: 7}, {name: NodeAffinity, weight: 4}]\n');
    expect(score(c)).toEqual([
      'ImageLocality:7',
      'NodeAffinity:4',
      'TaintToleration:3',
      'NodeResourcesFit:1',
      'VolumeBinding:1',
      'PodTopologySpread:2',
      'InterPodAffinity:2',
      'DynamicResources:2',
      'NodeResourcesBalancedAllocation:1',
    ]);
  });

  it('disable-then-enable (the JupyterHub pattern) puts the re-enabled plugins after the multiPoint ones', () => {
    const c = load('      score:\n        disabled: [{name: ImageLocality}]\n        enabled: [{name: ImageLocality, weight: 7}]\n');
    expect(score(c)).toEqual([
      'TaintToleration:3',
      'NodeAffinity:2',
      'NodeResourcesFit:1',
      'VolumeBinding:1',
      'PodTopologySpread:2',
      'InterPodAffinity:2',
      'DynamicResources:2',
      'NodeResourcesBalancedAllocation:1',
      'ImageLocality:7',
    ]);
  });

  it('a default plugin enabled under multiPoint is replaced in place, keeping order, with the user weight', () => {
    const c = load('      multiPoint:\n        enabled: [{name: ImageLocality, weight: 9}, {name: TaintToleration}]\n');
    expect(score(c)).toEqual([
      'TaintToleration:1',
      'NodeAffinity:2',
      'NodeResourcesFit:1',
      'VolumeBinding:1',
      'PodTopologySpread:2',
      'InterPodAffinity:2',
      'DynamicResources:2',
      'NodeResourcesBalancedAllocation:1',
      'ImageLocality:9',
    ]);
  });

  it('an explicit weight at score wins over the multiPoint weight; weight 0 means 1', () => {
    const c = load(
      '      multiPoint:\n        enabled: [{name: ImageLocality, weight: 9}]\n      score:\n        enabled: [{name: ImageLocality, weight: 4}, {name: TaintToleration, weight: 0}]\n',
    );
    expect(score(c).slice(0, 2)).toEqual(['ImageLocality:4', 'TaintToleration:1']);
  });

  it('a plugin disabled at one point is removed there only', () => {
    const c = load('      filter:\n        disabled: [{name: NodePorts}]\n');
    expect(names(c, 'filter')).not.toContain('NodePorts');
    expect(names(c, 'preFilter')).toContain('NodePorts');
  });

  // Every plugin berth knows is a v1.37.2 default, so the plugin added under multiPoint is a default one disabled
  // there first: mergePluginSet drops it from the defaults and appends the user entry, so expandMultiPointPlugins
  // puts it after the defaults at every point it implements, with the user's weight (none: 1, not the default 2).
  it('a plugin disabled and re-enabled under multiPoint is expanded to every point it implements, after the defaults', () => {
    const c = load('      multiPoint:\n        disabled: [{name: DynamicResources}]\n        enabled: [{name: DynamicResources}]\n');
    expect(names(c, 'preEnqueue')).toEqual(['SchedulingGates', 'DefaultPreemption', 'DynamicResources']);
    expect(names(c, 'preFilter').slice(-2)).toEqual(['NodeDeclaredFeatures', 'DynamicResources']);
    expect(names(c, 'filter').slice(-2)).toEqual(['NodeDeclaredFeatures', 'DynamicResources']);
    expect(names(c, 'postFilter')).toEqual(['DefaultPreemption', 'DynamicResources']);
    expect(score(c).slice(-2)).toEqual(['ImageLocality:1', 'DynamicResources:1']);
    expect(names(c, 'reserve')).toEqual(['VolumeBinding', 'DynamicResources']);
    expect(names(c, 'preBind')).toEqual(['VolumeBinding', 'DynamicResources']);
  });

  it('multiPoint disabled "*" drops all defaults; a profile then needs queueSort and bind plugins', () => {
    const err = configError(
      HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n      multiPoint:\n        disabled: [{name: "*"}]\n        enabled: [{name: NodeResourcesFit}]\n',
    );
    expectIssue(err, 'profiles[0].plugins.queueSort', /only one queue sort plugin required .* but got 0/, /PrioritySort/);
    expectIssue(err, 'profiles[0].plugins.bind', /at least one bind plugin is needed/, /DefaultBinder/);
    const c = load(
      '      multiPoint:\n        disabled: [{name: "*"}]\n        enabled: [{name: PrioritySort}, {name: DefaultBinder}, {name: NodeResourcesFit, weight: 2}]\n',
    );
    expect(score(c)).toEqual(['NodeResourcesFit:2']);
    expect(names(c, 'filter')).toEqual(['NodeResourcesFit']);
  });

  it('enabling a plugin at a point it does not implement is an error', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n      filter:\n        enabled: [{name: ImageLocality}]\n');
    expectIssue(err, 'profiles[0].plugins.filter.enabled[0]', 'plugin "ImageLocality" does not implement the filter extension point', /it implements: score/);
  });

  it('"*" is only meaningful under disabled', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n      score:\n        enabled: [{name: "*"}]\n');
    expectIssue(err, 'profiles[0].plugins.score.enabled[0].name', /only be used under disabled/, /by name/);
  });

  it('each profile resolves its own plugins', () => {
    const c = parseSchedulerConfig(
      HEADER + 'profiles:\n  - schedulerName: a\n  - schedulerName: b\n    plugins:\n      score:\n        disabled: [{name: ImageLocality}]\n',
      'p.yaml',
    );
    expect(c.profiles[0]!.plugins.score.map((p) => p.name)).toContain('ImageLocality');
    expect(c.profiles[1]!.plugins.score.map((p) => p.name)).not.toContain('ImageLocality');
  });
});

describe('pod group (workload) scheduling fields of recent upstream v1', () => {
  it('are accepted when empty and rejected when they enable plugins', () => {
    const c = parseSchedulerConfig(
      HEADER + 'percentageOfPlacementsToScore: 10\nprofiles:\n  - schedulerName: s\n    percentageOfPlacementsToScore: 20\n    plugins:\n      placementScore: {}\n',
      'p.yaml',
    );
    expect(c.profiles[0]!.schedulerName).toBe('s');
    const err = configError(HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n      placementScore:\n        enabled: [{name: X}]\n');
    expectIssue(err, 'profiles[0].plugins.placementScore.enabled', /does not support the placementScore extension point/, /remove/);
  });
});

describe('duplicate multiPoint entries', () => {
  it('are reported once, at the first point they collide', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: s\n    plugins:\n      multiPoint:\n        enabled: [{name: NodeAffinity}, {name: NodeAffinity}]\n');
    expect(err.issues).toHaveLength(1);
    expectIssue(err, 'profiles[0].plugins.multiPoint.enabled[0]', 'plugin "NodeAffinity" already registered at preFilter', /once under multiPoint/);
  });
});
