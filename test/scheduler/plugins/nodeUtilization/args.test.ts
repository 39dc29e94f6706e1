// NodeUtilization's pluginConfig args through berth's configuration loader: defaults filled in, a source decoded,
// and every mistake reported at its field with the plugin's own message and hint.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseSchedulerConfig } from '../../../../src/config/index.js';
import { DEFAULT_NODE_PATTERN, defaultQueries } from '../../../../src/scheduler/plugins/nodeUtilization/args.js';

function config(args: string): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: berth
    plugins:
      multiPoint:
        enabled: [{name: NodeUtilization, weight: 3}]
    pluginConfig:
      - name: NodeUtilization
        args: ${args}
`;
}

const argsOf = (args: string): unknown => parseSchedulerConfig(config(args), 'config.yaml').profiles[0]!.pluginArgs.get('NodeUtilization');

function problems(args: string): string {
  try {
    parseSchedulerConfig(config(args), 'config.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.format();
    throw err;
  }
  return '';
}

describe('NodeUtilization args', () => {
  it('a Prometheus source with its defaults: the instance label less its port, node-exporter\'s PromQL', () => {
    expect(argsOf('{mode: LoadVariationRiskBalancing, source: {prometheus: {url: "http://prom:9090/"}}, filter: {cpuPercent: 90}, refreshInterval: 30s}')).toMatchObject({
      mode: 'LoadVariationRiskBalancing',
      filter: { cpuPercent: 90 },
      refreshInterval: 30,
      maxSampleAge: 120,
      source: {
        kind: 'prometheus',
        prometheus: { url: 'http://prom:9090', nodeLabel: 'instance', nodePattern: DEFAULT_NODE_PATTERN, queries: defaultQueries('instance'), timeout: 5 },
      },
    });
    // The default queries aggregate by the configured label.
    expect(defaultQueries('node').cpu).toBe('1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[2m]))');
  });

  it('reports each mistake at its field', () => {
    const text = problems(
      '{mode: Packing, targetUtilization: 0, safeVarianceSensitivity: 0, filter: {cpuPercent: 120}, refreshInterval: 1m, maxSampleAge: 30s, source: {prometheus: {url: "ftp://x", nodePattern: "^.*$"}}}',
    );
    expect(text).toContain('unknown mode "Packing"');
    expect(text).toContain('write one of TargetLoadPacking, LoadVariationRiskBalancing');
    expect(text).toContain('targetUtilization: 0 is out of range [1, 100]');
    expect(text).toContain('safeVarianceSensitivity: 0 is out of range (0, ∞]');
    expect(text).toContain('cpuPercent: 120 is out of range (0, 100]');
    expect(text).toContain('"ftp://x" is not an http(s) URL');
    expect(text).toContain('"^.*$" has no capturing group');
    expect(text).toContain('30s is shorter than refreshInterval 1m0s');
  });

  it('exactly one source', () => {
    expect(problems('{source: {file: {path: u.yaml}, metricsServer: {}}}')).toContain('args.source: metricsServer and file given; only one source is read; set exactly one of prometheus, metricsServer, file');
    expect(problems('{source: {}}')).toContain('no source given');
    expect(problems('{source: {file: {}}}')).toContain('the file\'s path is required');
  });
});
