import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  defaultSchedulerConfig,
  loadSchedulerConfig,
  parseSchedulerConfig,
  type SchedulerConfig,
} from '../../src/config/index.js';
import { EXTENSION_POINTS } from '../../src/scheduler/plugins/catalog.js';
import { FIXTURE_PATH, HEADER } from './helpers.js';
import * as NodeResourcesFit from '../../src/scheduler/plugins/NodeResourcesFit.js';
import { pluginArgsOf } from '../helpers/builders.js';

const FIXTURE = FIXTURE_PATH;

const list = (c: SchedulerConfig, point: (typeof EXTENSION_POINTS)[number], profile = 0) =>
  c.profiles[profile]!.plugins[point].map((p) => p.name);
const weights = (c: SchedulerConfig, profile = 0) =>
  c.profiles[profile]!.plugins.score.map((p) => [p.name, p.weight] as const);

describe('JupyterHub user-scheduler fixture', () => {
  const config = loadSchedulerConfig(FIXTURE);
  const profile = config.profiles[0]!;

  it('loads unchanged, one profile named jupyterhub-user-scheduler', () => {
    expect(config.source).toBe(FIXTURE);
    expect(config.profiles).toHaveLength(1);
    expect(profile.schedulerName).toBe('jupyterhub-user-scheduler');
  });

  it('resolves score plugins and weights in upstream framework order', () => {
    // Upstream expandMultiPointPlugins: a plugin disabled at score and re-enabled there is not a multiPoint
    // "override" (the disabled check comes first), so the re-enabled plugins follow the multiPoint-only ones.
    // DynamicResources (a default since DRA GA, weight 2) is multiPoint-only at score, so it stays with those.
    expect(weights(config)).toEqual([
      ['TaintToleration', 3],
      ['VolumeBinding', 1],
      ['PodTopologySpread', 2],
      ['DynamicResources', 2],
      ['NodeAffinity', 14631],
      ['InterPodAffinity', 1331],
      ['NodeResourcesFit', 121],
      ['ImageLocality', 11],
    ]);
    expect(list(config, 'score')).not.toContain('NodeResourcesBalancedAllocation');
  });

  it('the re-weighted plugins keep their relative order and weights', () => {
    const reweighted = weights(config).filter(([, w]) => w > 3);
    expect(reweighted).toEqual([
      ['NodeAffinity', 14631],
      ['InterPodAffinity', 1331],
      ['NodeResourcesFit', 121],
      ['ImageLocality', 11],
    ]);
  });

  it('disabling at score leaves the other points alone', () => {
    expect(list(config, 'filter')).toContain('NodeAffinity');
    expect(list(config, 'preScore')).toContain('NodeResourcesBalancedAllocation');
  });

  it('NodeResourcesFit args are MostAllocated cpu/memory 1', () => {
    expect(profile.pluginArgs.get('NodeResourcesFit')).toEqual({
      ignoredResources: [],
      ignoredResourceGroups: [],
      scoringStrategy: {
        type: 'MostAllocated',
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
        ],
      },
    });
  });

  it('leader election lease name/namespace come from the file, the rest defaulted', () => {
    expect(config.leaderElection).toEqual({
      leaderElect: true,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      resourceLock: 'leases',
      resourceName: 'jupyterhub-user-scheduler-lock',
      resourceNamespace: 'jupyterhub',
    });
  });
});

describe('embedded default configuration', () => {
  const config = defaultSchedulerConfig();

  it('has one profile "default-scheduler" and upstream top-level defaults', () => {
    expect(config.source).toBe('embedded default');
    expect(config.profiles.map((p) => p.schedulerName)).toEqual(['default-scheduler']);
    expect(config.parallelism).toBe(16);
    expect(config.percentageOfNodesToScore).toBe(0);
    expect(config.podInitialBackoffSeconds).toBe(1);
    expect(config.podMaxBackoffSeconds).toBe(10);
    expect(config.clientConnection).toEqual({
      kubeconfig: '',
      acceptContentTypes: '',
      contentType: 'application/vnd.kubernetes.protobuf',
      qps: 50,
      burst: 100,
    });
    expect(config.leaderElection).toEqual({
      leaderElect: true,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      resourceLock: 'leases',
      resourceName: 'kube-scheduler',
      resourceNamespace: 'kube-system',
    });
    expect(config.profiles[0]!.percentageOfNodesToScore).toBeUndefined();
  });

  // v1.37.2 getDefaultPlugins + applyFeatureGates (DynamicResources, weight 2, inserted before DefaultPreemption;
  // NodeDeclaredFeatures appended), expanded per point in multiPoint order; a plugin without a weight scores with 1.
  it('score list equals upstream default', () => {
    expect(weights(config)).toEqual([
      ['TaintToleration', 3],
      ['NodeAffinity', 2],
      ['NodeResourcesFit', 1],
      ['VolumeBinding', 1],
      ['PodTopologySpread', 2],
      ['InterPodAffinity', 2],
      ['DynamicResources', 2],
      ['NodeResourcesBalancedAllocation', 1],
      ['ImageLocality', 1],
    ]);
  });

  it('filter and other point lists follow upstream order', () => {
    expect(list(config, 'filter')).toEqual([
      'NodeName',
      'NodeUnschedulable',
      'TaintToleration',
      'NodeAffinity',
      'NodePorts',
      'NodeResourcesFit',
      'VolumeRestrictions',
      'NodeVolumeLimits',
      'VolumeBinding',
      'VolumeZone',
      'PodTopologySpread',
      'InterPodAffinity',
      'DynamicResources',
      'NodeDeclaredFeatures',
    ]);
    expect(list(config, 'preEnqueue')).toEqual(['SchedulingGates', 'DynamicResources', 'DefaultPreemption']);
    expect(list(config, 'queueSort')).toEqual(['PrioritySort']);
    expect(list(config, 'preFilter')).toEqual([
      'NodeName',
      'NodeUnschedulable',
      'TaintToleration',
      'NodeAffinity',
      'NodePorts',
      'NodeResourcesFit',
      'VolumeRestrictions',
      'NodeVolumeLimits',
      'VolumeBinding',
      'VolumeZone',
      'PodTopologySpread',
      'InterPodAffinity',
      'DynamicResources',
      'NodeDeclaredFeatures',
    ]);
    // DynamicResources before DefaultPreemption: deallocating an idle claim beats evicting a pod.
    expect(list(config, 'postFilter')).toEqual(['DynamicResources', 'DefaultPreemption']);
    expect(list(config, 'preScore')).toEqual([
      'TaintToleration',
      'NodeAffinity',
      'NodeResourcesFit',
      'VolumeBinding',
      'PodTopologySpread',
      'InterPodAffinity',
      'NodeResourcesBalancedAllocation',
    ]);
    expect(list(config, 'reserve')).toEqual(['VolumeBinding', 'DynamicResources']);
    expect(list(config, 'permit')).toEqual([]);
    expect(list(config, 'preBind')).toEqual(['VolumeBinding', 'DynamicResources']);
    expect(list(config, 'bind')).toEqual(['DefaultBinder']);
    expect(list(config, 'postBind')).toEqual([]);
  });

  it('plugin args carry upstream defaults', () => {
    const expected = {
      NodeResourcesFit: {
        ignoredResources: [],
        ignoredResourceGroups: [],
        scoringStrategy: {
          type: 'LeastAllocated',
          resources: [
            { name: 'cpu', weight: 1 },
            { name: 'memory', weight: 1 },
          ],
        },
      },
      NodeResourcesBalancedAllocation: {
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
        ],
      },
      InterPodAffinity: { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false },
      PodTopologySpread: { defaultConstraints: [], defaultingType: 'System' },
      NodeAffinity: {},
      DefaultPreemption: { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 },
      // StorageCapacityScoring is on in v1.37, so the shape is defaulted (utilization 0 scores 10, 100 scores 0).
      VolumeBinding: { bindTimeoutSeconds: 600, shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] },
      // DynamicResources: bindingTimeout (upstream's default 10m) bounds PreBind's wait for device binding conditions.
      DynamicResources: { bindingTimeoutMs: 600_000 },
      // berth's own NodeUtilization (enabled by no default profile) carries its defaults like every plugin with args.
      NodeUtilization: {
        mode: 'TargetLoadPacking',
        targetUtilization: 40,
        safeVarianceMargin: 1,
        safeVarianceSensitivity: 1,
        variationWindow: 900,
        filter: {},
        source: undefined,
        refreshInterval: 15,
        maxSampleAge: 120,
        placedPodWindow: 60,
      },
    };
    expect(config.profiles[0]!.pluginArgs).toEqual(new Map(Object.entries(expected)));
  });

  it('equals loading a file with only apiVersion and kind', () => {
    const fromText = parseSchedulerConfig(HEADER, 'embedded default');
    expect(fromText).toEqual(config);
  });
});

describe('effective configuration', () => {
  it('is a v1 KubeSchedulerConfiguration with defaults filled in', () => {
    const e = defaultSchedulerConfig().effective as Record<string, unknown>;
    expect(e['apiVersion']).toBe('kubescheduler.config.k8s.io/v1');
    expect(e['kind']).toBe('KubeSchedulerConfiguration');
    expect(e['leaderElection']).toMatchObject({ leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' });
    const profiles = e['profiles'] as Array<Record<string, unknown>>;
    const pluginConfig = profiles[0]!['pluginConfig'] as Array<{ name: string; args: Record<string, unknown> }>;
    expect(pluginConfig.map((p) => p.name)).toEqual([
      'DefaultPreemption',
      'InterPodAffinity',
      'NodeAffinity',
      'NodeResourcesBalancedAllocation',
      'NodeResourcesFit',
      'PodTopologySpread',
      'VolumeBinding',
    ]);
    expect(pluginConfig.find((p) => p.name === 'NodeResourcesFit')!.args).toMatchObject({
      kind: 'NodeResourcesFitArgs',
      scoringStrategy: { type: 'LeastAllocated' },
    });
    const score = (profiles[0]!['plugins'] as Record<string, { enabled: unknown[] }>)['score']!.enabled;
    expect(score).toContainEqual({ name: 'ImageLocality', weight: 1 });
  });

  it('loads back to the same configuration (round trip through YAML)', () => {
    for (const config of [defaultSchedulerConfig(), loadSchedulerConfig(FIXTURE)]) {
      const again = parseSchedulerConfig(stringify(config.effective), config.source);
      expect(again.profiles).toEqual(config.profiles);
      expect(again.leaderElection).toEqual(config.leaderElection);
      expect(again.effective).toEqual(config.effective);
    }
  });
});

describe('top-level fields', () => {
  it('accepts every upstream v1 top-level field', () => {
    const c = parseSchedulerConfig(
      HEADER +
        `parallelism: 8
leaderElection:
  leaderElect: false
  leaseDuration: 1m30s
  renewDeadline: 1m
  retryPeriod: 500ms
  resourceLock: leases
  resourceName: x
  resourceNamespace: y
clientConnection:
  kubeconfig: /etc/kube.conf
  acceptContentTypes: application/json
  contentType: application/json
  qps: 12.5
  burst: 30
healthzBindAddress: 0.0.0.0:10251
metricsBindAddress: 0.0.0.0:10251
enableProfiling: false
enableContentionProfiling: false
percentageOfNodesToScore: 50
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
extenders: []
delayCacheUntilActive: true
profiles:
  - schedulerName: a
    percentageOfNodesToScore: 30
  - schedulerName: b
`,
      'all.yaml',
    );
    expect(c.parallelism).toBe(8);
    expect(c.percentageOfNodesToScore).toBe(50);
    expect(c.podInitialBackoffSeconds).toBe(2);
    expect(c.podMaxBackoffSeconds).toBe(20);
    expect(c.leaderElection).toMatchObject({ leaderElect: false, leaseDurationSeconds: 90, renewDeadlineSeconds: 60, retryPeriodSeconds: 0.5 });
    expect(c.clientConnection).toEqual({
      kubeconfig: '/etc/kube.conf',
      acceptContentTypes: 'application/json',
      contentType: 'application/json',
      qps: 12.5,
      burst: 30,
    });
    expect(c.profiles.map((p) => [p.schedulerName, p.percentageOfNodesToScore])).toEqual([
      ['a', 30],
      ['b', undefined],
    ]);
    expect(c.effective).toMatchObject({ enableProfiling: false, delayCacheUntilActive: true, metricsBindAddress: '0.0.0.0:10251' });
    expect((c.effective['leaderElection'] as Record<string, unknown>)['leaseDuration']).toBe('1m30s');
  });

  it('reads JSON as well as YAML', () => {
    const c = parseSchedulerConfig(
      JSON.stringify({
        apiVersion: 'kubescheduler.config.k8s.io/v1',
        kind: 'KubeSchedulerConfiguration',
        profiles: [{ schedulerName: 'json-scheduler', plugins: { score: { disabled: [{ name: 'ImageLocality' }] } } }],
      }),
      'config.json',
    );
    expect(c.profiles[0]!.schedulerName).toBe('json-scheduler');
    expect(list(c, 'score')).not.toContain('ImageLocality');
  });

  it('a profile without schedulerName gets default-scheduler', () => {
    const c = parseSchedulerConfig(HEADER + 'profiles:\n  - plugins: {}\n', 'p.yaml');
    expect(c.profiles[0]!.schedulerName).toBe('default-scheduler');
  });

  it('example configs load', () => {
    for (const f of ['examples/config/image-locality-weight.yaml', 'examples/config/spread.yaml']) {
      expect(readFileSync(f, 'utf8')).toContain('KubeSchedulerConfiguration');
      const c = loadSchedulerConfig(f);
      expect(c.profiles).toHaveLength(1);
    }
    const spread = loadSchedulerConfig('examples/config/spread.yaml');
    expect(pluginArgsOf(spread.profiles[0]!, NodeResourcesFit.descriptor).scoringStrategy.type).toBe('LeastAllocated');
    const w = Object.fromEntries(weights(spread));
    expect(w['ImageLocality']).toBe(1);
    expect(w['NodeResourcesFit']).toBeGreaterThan(w['ImageLocality']!);
    const tuned = Object.fromEntries(weights(loadSchedulerConfig('examples/config/image-locality-weight.yaml')));
    expect(tuned['ImageLocality']).toBe(1);
    expect(tuned['PodTopologySpread']).toBe(5);
  });
});

describe('bundled copy of the fixture', () => {
  it('examples/jupyterhub/user-scheduler.yaml is byte-for-byte the shared fixture', () => {
    const copy = readFileSync(new URL('../../examples/jupyterhub/user-scheduler.yaml', import.meta.url), 'utf8');
    expect(readFileSync(FIXTURE, 'utf8')).toBe(copy);
  });
});
