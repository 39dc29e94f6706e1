import { describe, expect, it } from 'vitest';
import { ConfigError, loadSchedulerConfig, parseSchedulerConfig } from '../../src/config/index.js';
import { HEADER, configError, expectIssue } from './helpers.js';
import * as NodeResourcesFit from '../../src/scheduler/plugins/NodeResourcesFit.js';
import { pluginArgsOf } from '../helpers/builders.js';

const profile = (body: string) => HEADER + 'profiles:\n  - schedulerName: s\n' + body;

describe('ConfigError', () => {
  it('carries file, field path, message and hint and formats one line per issue', () => {
    const err = configError(
      profile(`    plugins:
      score:
        enabled:
          - name: NodeAffinity
          - name: ImageLocalty
`),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.file).toBe('config.yaml');
    expect(err.fieldPath).toBe('profiles[0].plugins.score.enabled[1].name');
    expect(err.detail).toBe('unknown plugin "ImageLocalty"');
    expect(err.hint).toMatch(/^did you mean "ImageLocality"\? Known plugins: SchedulingGates, PrioritySort, /);
    expect(err.format()).toMatch(
      /^config\.yaml:9:13: profiles\[0\]\.plugins\.score\.enabled\[1\]\.name: unknown plugin "ImageLocalty"; did you mean "ImageLocality"\? Known plugins: /,
    );
    expect(err.message).toBe(err.format());
  });

  it('collects all errors rather than stopping at the first', () => {
    const err = configError(
      HEADER +
        `parallelism: 0
podInitialBackoffSeconds: 5
podMaxBackoffSeconds: 2
bogus: 1
profiles:
  - schedulerName: s
    plugins:
      score:
        enabled:
          - name: ImageLocalty
          - name: TaintToleration
            weight: -2
`,
    );
    expect(err.issues.map((i) => i.fieldPath)).toEqual([
      'bogus',
      'parallelism',
      'podMaxBackoffSeconds',
      'profiles[0].plugins.score.enabled[0].name',
      'profiles[0].plugins.score.enabled[1].weight',
    ]);
    const text = err.format();
    expect(text.split('\n')[0]).toBe('config.yaml: 5 errors in the scheduler configuration:');
    expect(text.split('\n')).toHaveLength(6);
  });
});

describe('unknown plugin', () => {
  it('in pluginConfig, with a suggestion', () => {
    const err = configError(profile('    pluginConfig:\n      - name: NodeResourceFit\n        args: {}\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].name', 'unknown plugin "NodeResourceFit"', /did you mean "NodeResourcesFit"\?/);
  });

  it('in multiPoint and disabled lists; no suggestion when nothing is close', () => {
    const err = configError(
      profile(`    plugins:
      multiPoint:
        enabled:
          - name: CoschedulingXYZ123
      filter:
        disabled:
          - name: NodePort
`),
    );
    const i = expectIssue(err, 'profiles[0].plugins.multiPoint.enabled[0].name', 'unknown plugin "CoschedulingXYZ123"', /^Known plugins: /);
    expect(i.hint).not.toMatch(/did you mean/);
    expectIssue(err, 'profiles[0].plugins.filter.disabled[0].name', 'unknown plugin "NodePort"', /did you mean "NodePorts"/);
  });

  it('plugins removed from v1', () => {
    const err = configError(profile('    plugins:\n      filter:\n        enabled:\n          - name: EBSLimits\n'));
    expectIssue(err, 'profiles[0].plugins.filter.enabled[0].name', /was removed from kubescheduler\.config\.k8s\.io\/v1/, /NodeVolumeLimits/);
  });
});

describe('duplicate enable', () => {
  it('twice at one point', () => {
    const err = configError(
      profile(`    plugins:
      score:
        enabled:
          - name: ImageLocality
            weight: 2
          - name: ImageLocality
            weight: 3
`),
    );
    expectIssue(err, 'profiles[0].plugins.score.enabled[1]', 'plugin "ImageLocality" already registered at score', /enable each plugin once/);
  });

  it('twice in multiPoint', () => {
    const err = configError(
      profile(`    plugins:
      multiPoint:
        enabled:
          - name: ImageLocality
          - name: ImageLocality
`),
    );
    expectIssue(err, 'profiles[0].plugins.multiPoint.enabled[0]', 'plugin "ImageLocality" already registered at score', /once under multiPoint/);
  });

  it('duplicate schedulerName', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: a\n  - schedulerName: a\n');
    expectIssue(err, 'profiles[1].schedulerName', /duplicate schedulerName "a" \(also profiles\[0\]\.schedulerName\)/, /distinct/);
  });

  it('duplicate pluginConfig', () => {
    const err = configError(
      profile(`    pluginConfig:
      - name: InterPodAffinity
        args: {hardPodAffinityWeight: 2}
      - name: InterPodAffinity
        args: {hardPodAffinityWeight: 3}
`),
    );
    expectIssue(err, 'profiles[0].pluginConfig[1].name', /duplicate pluginConfig for plugin "InterPodAffinity" \(also pluginConfig\[0\]\)/, /merge/);
  });
});

describe('weights', () => {
  it('negative weight', () => {
    const err = configError(profile('    plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            weight: -1\n'));
    expectIssue(err, 'profiles[0].plugins.score.enabled[0].weight', 'negative weight -1 for plugin "ImageLocality"', /positive weight/);
  });

  it('weight beyond int32', () => {
    const err = configError(profile('    plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            weight: 3000000000\n'));
    expectIssue(err, 'profiles[0].plugins.score.enabled[0].weight', /does not fit in an int32/, /between/);
  });

  it('non-integer weight', () => {
    const err = configError(profile('    plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            weight: "5"\n'));
    expectIssue(err, 'profiles[0].plugins.score.enabled[0].weight', /expected an integer, got "5"/, /without quotes/);
  });
});

describe('apiVersion and kind', () => {
  it('v1beta3 is no longer served', () => {
    const err = configError('apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n');
    expectIssue(err, 'apiVersion', /no longer served.*v1beta3 in 1\.29/, /use apiVersion: kubescheduler\.config\.k8s\.io\/v1/);
    expect(err.issues).toHaveLength(1);
  });

  it('missing apiVersion, wrong kind', () => {
    const err = configError('kind: Pod\n');
    expectIssue(err, 'apiVersion', /apiVersion is missing/, /add apiVersion: kubescheduler\.config\.k8s\.io\/v1/);
    expectIssue(err, 'kind', 'unsupported kind "Pod"', 'use kind: KubeSchedulerConfiguration');
  });

  it('empty document', () => {
    const err = configError('# nothing\n');
    expectIssue(err, '', /empty/, /apiVersion: kubescheduler\.config\.k8s\.io\/v1/);
  });
});

describe('malformed YAML', () => {
  it('reports line and column from the yaml parser', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: [a\n    plugins: {}\n');
    const issue = err.issues[0]!;
    expect(issue.fieldPath).toBe('');
    expect(issue.message).toMatch(/^malformed YAML: /);
    expect(issue.line).toBeGreaterThanOrEqual(4);
    expect(issue.column).toBeGreaterThan(0);
    expect(issue.hint).toMatch(/indentation/);
    expect(err.format()).toMatch(/^config\.yaml:\d+:\d+: malformed YAML: /);
  });

  it('duplicate keys are rejected (strict decoding)', () => {
    const err = configError(HEADER + 'parallelism: 4\nparallelism: 8\n');
    const issue = err.issues[0]!;
    expect(issue).toMatchObject({ line: 4, column: 1, fieldPath: '' });
    expect(issue.message).toMatch(/Map keys must be unique/);
    expect(issue.hint).toMatch(/only once/);
  });
});

describe('unknown fields (strict decoding)', () => {
  it.each([
    ['top level', HEADER + 'parallelizm: 4\n', 'parallelizm', /did you mean "parallelism"/],
    ['leaderElection', HEADER + 'leaderElection:\n  leaseDurationSeconds: 15\n', 'leaderElection.leaseDurationSeconds', /did you mean "leaseDuration"/],
    ['clientConnection', HEADER + 'clientConnection:\n  QPS: 5\n', 'clientConnection.QPS', /did you mean "qps"/],
    ['profile', profile('    pluginConfigs: []\n'), 'profiles[0].pluginConfigs', /did you mean "pluginConfig"/],
    ['plugins', profile('    plugins:\n      scores: {}\n'), 'profiles[0].plugins.scores', /did you mean "score"/],
    ['plugin set', profile('    plugins:\n      score:\n        enable: []\n'), 'profiles[0].plugins.score.enable', /did you mean "enabled"/],
    ['plugin entry', profile('    plugins:\n      score:\n        enabled:\n          - name: ImageLocality\n            wieght: 2\n'), 'profiles[0].plugins.score.enabled[0].wieght', /did you mean "weight"/],
    ['args', profile('    pluginConfig:\n      - name: NodeResourcesFit\n        args:\n          scoringStrategy:\n            type: MostAllocated\n            resource: []\n'), 'profiles[0].pluginConfig[0].args.scoringStrategy.resource', /did you mean "resources"/],
    ['args top', profile('    pluginConfig:\n      - name: VolumeBinding\n        args:\n          bindTimeout: 5\n'), 'profiles[0].pluginConfig[0].args.bindTimeout', /did you mean "bindTimeoutSeconds"/],
  ])('%s', (_label, text, path, hint) => {
    const err = configError(text);
    expectIssue(err, path, /^unknown field "/, hint);
  });

  it('points at the line of the unknown key', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: s\n    bogusField: 1\n');
    expect(err.issues[0]).toMatchObject({ fieldPath: 'profiles[0].bogusField', line: 5, column: 5 });
  });
});

describe('bad args', () => {
  const args = (plugin: string, body: string) => profile(`    pluginConfig:\n      - name: ${plugin}\n        args:\n${body}`);

  it('NodeResourcesFit: unsupported type, resource weight range', () => {
    const err = configError(
      args('NodeResourcesFit', '          scoringStrategy:\n            type: MostAlocated\n            resources:\n              - name: cpu\n                weight: 101\n'),
    );
    expectIssue(err, 'profiles[0].pluginConfig[0].args.scoringStrategy.type', 'unsupported scoring strategy type "MostAlocated"', /LeastAllocated, MostAllocated, RequestedToCapacityRatio/);
    expectIssue(err, 'profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight', /resource weight of cpu not in valid range \(0, 100\]/, /1 to 100/);
  });

  it('NodeResourcesFit: RequestedToCapacityRatio needs a valid shape', () => {
    let err = configError(args('NodeResourcesFit', '          scoringStrategy:\n            type: RequestedToCapacityRatio\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio', /must be specified/, /shape/);
    err = configError(
      args(
        'NodeResourcesFit',
        `          scoringStrategy:
            type: RequestedToCapacityRatio
            requestedToCapacityRatio:
              shape:
                - {utilization: 50, score: 5}
                - {utilization: 50, score: 11}
`,
      ),
    );
    const shape = 'profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape';
    expectIssue(err, `${shape}[1].utilization`, /not greater than the previous/, /strictly increasing/);
    expectIssue(err, `${shape}[1].score`, /score 11 not in valid range \[0, 10\]/, /0 to 10/);
  });

  it('NodeResourcesFit: shape forbidden for other types; type required when scoringStrategy is given', () => {
    let err = configError(args('NodeResourcesFit', '          scoringStrategy:\n            type: LeastAllocated\n            requestedToCapacityRatio: {shape: []}\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio', /must be nil/, /RequestedToCapacityRatio/);
    err = configError(args('NodeResourcesFit', '          scoringStrategy:\n            resources: [{name: cpu}]\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.scoringStrategy.type', /type is required/, /supported values/);
  });

  it('InterPodAffinity hardPodAffinityWeight range', () => {
    const err = configError(args('InterPodAffinity', '          hardPodAffinityWeight: 101\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.hardPodAffinityWeight', '101 not in valid range [0, 100]', /0 to 100/);
  });

  it('PodTopologySpread: System with constraints; invalid List constraints', () => {
    let err = configError(args('PodTopologySpread', '          defaultConstraints:\n            - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.defaultingType', /System is invalid when defaultConstraints are not empty/, /defaultingType: List/);
    err = configError(
      args(
        'PodTopologySpread',
        `          defaultingType: List
          defaultConstraints:
            - maxSkew: 0
              topologyKey: topology.kubernetes.io/zone
              whenUnsatisfiable: Sometimes
              labelSelector: {matchLabels: {a: b}}
            - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: Sometimes}
`,
      ),
    );
    const c = 'profiles[0].pluginConfig[0].args.defaultConstraints';
    expectIssue(err, `${c}[0].maxSkew`, /not in valid range/, /1 or more/);
    expectIssue(err, `${c}[0].whenUnsatisfiable`, /unsupported whenUnsatisfiable "Sometimes"/, 'supported values: DoNotSchedule, ScheduleAnyway');
    expectIssue(err, `${c}[0].labelSelector`, /must not define a selector/, /remove labelSelector/);
    expectIssue(err, `${c}[1]`, /duplicate constraint/, /defaultConstraints\[0\]/);
  });

  it('PodTopologySpread: valid List constraints are kept', () => {
    const c = parseSchedulerConfig(
      args('PodTopologySpread', '          defaultingType: List\n          defaultConstraints:\n            - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}\n'),
      'x.yaml',
    );
    expect(c.profiles[0]!.pluginArgs.get('PodTopologySpread')).toEqual({
      defaultingType: 'List',
      defaultConstraints: [{ maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }],
    });
  });

  it('DefaultPreemption ranges and both-zero', () => {
    let err = configError(args('DefaultPreemption', '          minCandidateNodesPercentage: 101\n          minCandidateNodesAbsolute: -1\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.minCandidateNodesPercentage', /not in valid range \[0, 100\]/, /percentage/);
    expectIssue(err, 'profiles[0].pluginConfig[0].args.minCandidateNodesAbsolute', /not in valid range \[0, inf\)/, /0 or more/);
    err = configError(args('DefaultPreemption', '          minCandidateNodesPercentage: 0\n          minCandidateNodesAbsolute: 0\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.minCandidateNodesPercentage', /cannot be zero at the same time/, /above zero/);
  });

  it('NodeResourcesBalancedAllocation weight must be 1', () => {
    const err = configError(args('NodeResourcesBalancedAllocation', '          resources: [{name: cpu, weight: 2}]\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.resources[0].weight', 'weight 2 must be 1', /only supports weight 1/);
  });

  it('NodeAffinity addedAffinity operators', () => {
    const err = configError(
      args(
        'NodeAffinity',
        `          addedAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions:
                    - {key: pool, operator: Within, values: [a]}
                    - {key: cores, operator: Gt, values: ["x"]}
`,
      ),
    );
    const t = 'profiles[0].pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions';
    expectIssue(err, `${t}[0].operator`, /"Within" is not a valid node selector operator/, /In, NotIn/);
    expectIssue(err, `${t}[1].values`, /single integer/, /exactly one integer/);
  });

  it('VolumeBinding negative timeout', () => {
    const err = configError(args('VolumeBinding', '          bindTimeoutSeconds: -5\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.bindTimeoutSeconds', /should not be a negative value/, /600/);
  });

  it('args for a plugin that takes none', () => {
    const err = configError(args('ImageLocality', '          weight: 3\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args', 'plugin "ImageLocality" takes no args', /remove this pluginConfig entry/);
  });

  it('args kind must match the plugin; apiVersion/kind are accepted', () => {
    const ok = parseSchedulerConfig(
      args('NodeResourcesFit', '          apiVersion: kubescheduler.config.k8s.io/v1\n          kind: NodeResourcesFitArgs\n          scoringStrategy: {type: MostAllocated}\n'),
      'x.yaml',
    );
    expect(pluginArgsOf(ok.profiles[0]!, NodeResourcesFit.descriptor).scoringStrategy.type).toBe('MostAllocated');
    const err = configError(args('NodeResourcesFit', '          kind: InterPodAffinityArgs\n'));
    expectIssue(err, 'profiles[0].pluginConfig[0].args.kind', /does not match plugin "NodeResourcesFit"/, /NodeResourcesFitArgs/);
  });
});

describe('other validation', () => {
  it('percentageOfNodesToScore range (global and per profile)', () => {
    const err = configError(HEADER + 'percentageOfNodesToScore: 101\nprofiles:\n  - schedulerName: a\n    percentageOfNodesToScore: -1\n');
    expectIssue(err, 'percentageOfNodesToScore', /not in valid range \[0-100\]/, /adaptive/);
    expectIssue(err, 'profiles[0].percentageOfNodesToScore', /not in valid range \[0-100\]/, /adaptive/);
  });

  it('backoff: initial > 0, max >= initial', () => {
    const err = configError(HEADER + 'podInitialBackoffSeconds: 0\npodMaxBackoffSeconds: -1\n');
    expectIssue(err, 'podInitialBackoffSeconds', /must be greater than 0/, /1 or more/);
    expectIssue(err, 'podMaxBackoffSeconds', /greater than or equal to podInitialBackoffSeconds/, /raise/);
  });

  it('leader election durations and lock', () => {
    const err = configError(HEADER + 'leaderElection:\n  leaseDuration: 10s\n  renewDeadline: 10s\n  retryPeriod: 1x\n  resourceLock: endpoints\n');
    expectIssue(err, 'leaderElection.leaseDuration', /must be greater than renewDeadline/, /defaults are/);
    expectIssue(err, 'leaderElection.retryPeriod', 'invalid duration "1x"', /Go duration/);
    expectIssue(err, 'leaderElection.resourceLock', /must be "leases"/, /resourceLock: leases/);
  });

  it('leader election: renewDeadline must exceed retryPeriod × 1.2; numbers are not durations', () => {
    let err = configError(HEADER + 'leaderElection:\n  renewDeadline: 2s\n');
    expectIssue(err, 'leaderElection.renewDeadline', /greater than retryPeriod × 1\.2/, /client-go/);
    err = configError(HEADER + 'leaderElection:\n  leaseDuration: 15\n');
    expectIssue(err, 'leaderElection.leaseDuration', /expected a duration string/, /"15s"/);
  });

  it('extenders are not supported', () => {
    const err = configError(HEADER + 'extenders:\n  - urlPrefix: http://x\n');
    expectIssue(err, 'extenders', 'extenders are not supported by berth', /remove the extenders/);
  });

  it('several profiles each need a schedulerName', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: a\n  - plugins: {}\n');
    expectIssue(err, 'profiles[1].schedulerName', 'schedulerName is required', /its own schedulerName/);
  });

  it('queueSort must be the same in all profiles', () => {
    const err = configError(HEADER + 'profiles:\n  - schedulerName: a\n  - schedulerName: b\n    plugins:\n      queueSort:\n        disabled: [{name: "*"}]\n        enabled: [{name: PrioritySort}]\n');
    expectIssue(err, 'profiles[1].plugins.queueSort', /must be the same for all profiles/, /identically/);
  });

  it('a missing file', () => {
    let err: unknown;
    try {
      loadSchedulerConfig('/nonexistent/berth.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toMatch(/^\/nonexistent\/berth\.yaml: cannot read the configuration file: .*; check the path/);
  });

  it('type mismatches', () => {
    const err = configError(HEADER + 'parallelism: "16"\nenableProfiling: yes please\nprofiles: {schedulerName: a}\n');
    expectIssue(err, 'parallelism', /expected an integer/, /without quotes/);
    expectIssue(err, 'enableProfiling', /expected true or false/, /true or false/);
    expectIssue(err, 'profiles', /expected a list/, /- /);
  });
});
