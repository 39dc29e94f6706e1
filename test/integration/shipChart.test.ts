// charts/berth and deploy/ against the real control plane: helm lint and template pass (defaults and overrides),
// values.schema.json rejects bad values with a clear message, and every rendered object passes the API server's
// own validation (server-side dry-run, strict field validation).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseSchedulerConfig } from '../../src/config/index.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { createAll } from '../ship/apply.js';
import {
  CHART_DIR,
  clusterPermissionsFromCode,
  type DeploymentLike,
  findObject,
  helm,
  helmTemplate,
  type K8sObject,
  leasePermissions,
  permissions,
  type PolicyRule,
  renderKustomize,
} from '../ship/helpers.js';
import { alertRules, DASHBOARD_FILE, type PrometheusRuleObject, prometheusRuleProblems } from '../ship/monitoring.js';

const suffix = randomBytes(3).toString('hex');
const namespace = `ship-chart-${suffix}`;
let binDir: string;
let client: KubeClient;
let tmp: string;

const OVERRIDES = `
replicas: 3
schedulerName: jhub-packer
image:
  repository: registry.example.com/berth
  tag: "1.2.3"
  pullPolicy: Always
leaderElection:
  leaseName: jhub-packer-lock
scoring:
  strategy: MostAllocated
  weights:
    NodeAffinity: 14631
    InterPodAffinity: 1331
    NodeResourcesFit: 121
    ImageLocality: 11
  disabled: [NodeResourcesBalancedAllocation]
logLevel: debug
port: 10300
priorityClassName: system-cluster-critical
nodeSelector:
  kubernetes.io/os: linux
tolerations:
  - key: hub.jupyter.org/dedicated
    operator: Equal
    value: core
    effect: NoSchedule
podAnnotations:
  example.com/team: data
metrics:
  serviceMonitor:
    enabled: true
    labels:
      release: prometheus
dashboards:
  enabled: true
  annotations:
    grafana_folder: Scheduling
alerts:
  enabled: true
  labels:
    release: prometheus
  pendingFor: 30m
`;

beforeAll(async () => {
  binDir = inject('controlPlaneBinDir');
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  client = createKubeClient(kc, { qps: 0, burst: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'berth-ship-chart-'));
  writeFileSync(join(tmp, 'overrides.yaml'), OVERRIDES);
  const r = await client.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } });
  expect(r.status).toBe(201);
});

afterAll(async () => {
  await client.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  client.close();
  rmSync(tmp, { recursive: true, force: true });
});

function configOf(objs: K8sObject[]): string {
  return (objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['config.yaml']!;
}

describe('helm lint and template', () => {
  it('lints with default values and with overrides', async () => {
    const a = await helm(binDir, ['lint', CHART_DIR, '--strict']);
    expect(a.stdout + a.stderr).toContain('0 chart(s) failed');
    expect(a.code).toBe(0);
    const b = await helm(binDir, ['lint', CHART_DIR, '--strict', '-f', join(tmp, 'overrides.yaml')]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
  });

  it('renders the defaults: berth\'s own Lease named after the release, in the release namespace', async () => {
    const objs = await helmTemplate(binDir, 'sched', namespace);
    expect(objs.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
    // The second ClusterRole is the one operators bind to their Prometheus: get on /metrics, nothing else.
    const reader = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'ClusterRole', 'sched-berth-metrics-reader');
    expect(reader.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    const cfg = parseSchedulerConfig(configOf(objs), 'rendered ConfigMap');
    expect(cfg.profiles.map((p) => p.schedulerName)).toEqual(['berth']);
    expect(cfg.leaderElection).toMatchObject({ leaderElect: true, resourceName: 'sched-berth', resourceNamespace: namespace });
    const role = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'Role');
    expect([...permissions(role.rules)].sort()).toEqual([...leasePermissions('sched-berth')].sort());
    const cr = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'ClusterRole');
    expect([...permissions(cr.rules)].sort()).toEqual([...clusterPermissionsFromCode()].sort());
    const d = findObject<DeploymentLike>(objs, 'Deployment');
    expect(d.spec.replicas).toBe(2);
    // hotReload (the default): berth reloads the profiles itself; only fields read at start roll the pods.
    expect(d.spec.template.metadata.annotations?.['checksum/restart-config']).toMatch(/^[0-9a-f]{64}$/);
    expect(d.spec.template.metadata.annotations?.['checksum/config']).toBeUndefined();
    expect(d.spec.template.spec.containers[0]?.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
    expect(d.spec.template.spec.priorityClassName).toBeUndefined();
    expect(d.spec.template.spec.containers[0]?.image).toBe('ghcr.io/berth-scheduler/berth:0.1.0');
  });

  it('renders the overrides: JupyterHub-style weights, strategy, lease name, ServiceMonitor; checksum follows the config', async () => {
    const objs = await helmTemplate(binDir, 'jhub', namespace, ['-f', join(tmp, 'overrides.yaml')]);
    const cfg = parseSchedulerConfig(configOf(objs), 'rendered ConfigMap');
    const profile = cfg.profiles[0]!;
    expect(profile.schedulerName).toBe('jhub-packer');
    const weights = Object.fromEntries(profile.plugins.score.map((p) => [p.name, p.weight]));
    expect(weights).toMatchObject({ NodeAffinity: 14631, InterPodAffinity: 1331, NodeResourcesFit: 121, ImageLocality: 11 });
    expect(weights['NodeResourcesBalancedAllocation']).toBeUndefined();
    expect(configOf(objs)).toContain('type: MostAllocated');
    expect(cfg.leaderElection).toMatchObject({ resourceName: 'jhub-packer-lock', resourceNamespace: namespace });
    const d = findObject<DeploymentLike>(objs, 'Deployment');
    const c = d.spec.template.spec.containers[0]!;
    expect(d.spec.replicas).toBe(3);
    expect(c.image).toBe('registry.example.com/berth:1.2.3');
    expect(c.args).toEqual(['run', '--config', '/etc/berth/config.yaml', '--port', '10300', '--log-level', 'debug', '--bind-concurrency', '128']);
    expect(c.ports?.[0]?.containerPort).toBe(10300);
    expect(d.spec.template.spec.priorityClassName).toBe('system-cluster-critical');
    expect(d.spec.template.metadata.annotations?.['example.com/team']).toBe('data');
    const sm = findObject<K8sObject & { spec: { endpoints: Array<{ port: string; path: string }> } }>(objs, 'ServiceMonitor');
    expect(sm.metadata.labels?.['release']).toBe('prometheus');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http-metrics', path: '/metrics' });
    const role = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'Role');
    expect([...permissions(role.rules)].sort()).toEqual([...leasePermissions('jhub-packer-lock')].sort());
    const dashboards = findObject<K8sObject & { data: Record<string, string> }>(objs, 'ConfigMap', 'jhub-berth-dashboards');
    expect(dashboards.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(dashboards.metadata.annotations?.['grafana_folder']).toBe('Scheduling');
    // The file as shipped, byte for byte: Helm must not have templated Grafana's {{legend}} formats.
    expect(dashboards.data['berth.json']).toBe(readFileSync(DASHBOARD_FILE, 'utf8').trimEnd());
    const rule = findObject<PrometheusRuleObject>(objs, 'PrometheusRule');
    expect(prometheusRuleProblems(rule)).toEqual([]);
    expect(rule.metadata.labels?.['release']).toBe('prometheus');
    const pending = alertRules(rule).find((r) => r.alert === 'BerthPodsPendingTooLong');
    expect(pending?.for).toBe('30m');
    // Every alert selects the job the ServiceMonitor gives berth's series (its Service's name).
    for (const r of alertRules(rule)) expect(r.expr, r.alert).toContain('job="jhub-berth-metrics"');
    // With hot reload, another weight is reloaded by berth: the pods do not roll. A Lease setting still rolls them.
    const annotation = async (args: string[], key: string): Promise<string | undefined> =>
      findObject<DeploymentLike>(await helmTemplate(binDir, 'jhub', namespace, ['-f', join(tmp, 'overrides.yaml'), ...args]), 'Deployment').spec.template
        .metadata.annotations?.[key];
    const restart = d.spec.template.metadata.annotations?.['checksum/restart-config'];
    expect(await annotation(['--set', 'scoring.weights.ImageLocality=1'], 'checksum/restart-config')).toBe(restart);
    expect(await annotation(['--set', 'leaderElection.leaseDuration=20s'], 'checksum/restart-config')).not.toBe(restart);
    // Without hot reload, berth reads the file once: any change of the config rolls the pods.
    const once = await annotation(['--set', 'hotReload=false'], 'checksum/config');
    expect(once).toMatch(/^[0-9a-f]{64}$/);
    expect(await annotation(['--set', 'hotReload=false', '--set', 'scoring.weights.ImageLocality=1'], 'checksum/config')).not.toBe(once);
    const noReload = findObject<DeploymentLike>(await helmTemplate(binDir, 'jhub', namespace, ['-f', join(tmp, 'overrides.yaml'), '--set', 'hotReload=false']), 'Deployment');
    expect(noReload.spec.template.spec.containers[0]?.args).toContain('--no-watch-config');
  });

  it('renders a full KubeSchedulerConfiguration override with the chart\'s Lease filled in', async () => {
    const file = join(tmp, 'config-override.yaml');
    writeFileSync(
      file,
      `config:
  apiVersion: kubescheduler.config.k8s.io/v1
  kind: KubeSchedulerConfiguration
  profiles:
    - schedulerName: custom-a
    - schedulerName: custom-b
      plugins:
        score:
          disabled: [{name: ImageLocality}]
`,
    );
    const objs = await helmTemplate(binDir, 'full', namespace, ['-f', file]);
    const cfg = parseSchedulerConfig(configOf(objs), 'rendered ConfigMap');
    expect(cfg.profiles.map((p) => p.schedulerName)).toEqual(['custom-a', 'custom-b']);
    expect(cfg.leaderElection).toMatchObject({ resourceName: 'full-berth', resourceNamespace: namespace, leaderElect: true });
  });

  it('loads out-of-tree plugins from ConfigMaps and from the image, named by a full configuration', async () => {
    const file = join(tmp, 'plugins.yaml');
    writeFileSync(
      file,
      `plugins:
  configMaps: [{name: prefer-node-label, file: prefer-node-label.js}]
  modules: [berth-plugin-example]
  callBudget: 500ms
config:
  apiVersion: kubescheduler.config.k8s.io/v1
  kind: KubeSchedulerConfiguration
  profiles:
    - schedulerName: berth
      plugins:
        multiPoint:
          enabled: [{name: PreferNodeLabel, weight: 5}]
`,
    );
    const objs = await helmTemplate(binDir, 'plug', namespace, ['-f', file]);
    const spec = findObject<DeploymentLike>(objs, 'Deployment').spec.template.spec;
    const c = spec.containers[0]!;
    expect(c.args?.slice(8)).toEqual([
      '128',
      '--plugins',
      '/etc/berth-plugins/prefer-node-label/prefer-node-label.js',
      '--plugins',
      'berth-plugin-example',
      '--plugin-call-budget',
      '500ms',
      '--plugin-bind-timeout',
      '10m',
    ]);
    expect(c.volumeMounts).toContainEqual({ name: 'plugin-prefer-node-label', mountPath: '/etc/berth-plugins/prefer-node-label', readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'plugin-prefer-node-label', configMap: { name: 'prefer-node-label' } });
    // The API server accepts the Deployment (volume names, mounts) as rendered.
    const dry = objs.map((o) => (o.kind.startsWith('Cluster') ? { ...o, metadata: { ...o.metadata, name: `${o.metadata.name}-${suffix}` } } : o));
    const results = await createAll(client, dry, { dryRun: true });
    expect(results.filter((r) => r.status !== 201)).toEqual([]);
  });

  it.each([
    ['a plugin ConfigMap without its file', ['--set-json', 'plugins.configMaps=[{"name":"x"}]'], /plugins\/configMaps\/0.*missing property 'file'/s],
    ['a weight of 0', ['--set', 'scoring.weights.ImageLocality=0'], /scoring\/weights\/ImageLocality.*minimum: got 0, want 1/s],
    ['a string weight', ['--set', 'scoring.weights.ImageLocality=high'], /scoring\/weights\/ImageLocality.*got string, want integer/s],
    ['an unknown strategy', ['--set', 'scoring.strategy=Packed'], /scoring\/strategy.*value must be one of 'LeastAllocated', 'MostAllocated'/s],
    ['an unknown score plugin', ['--set', 'scoring.weights.ImageLocalty=2'], /invalid propertyName 'ImageLocalty'/],
    ['kube-scheduler\'s lease', ['--set', 'leaderElection.leaseName=kube-scheduler'], /leaderElection\/leaseName/],
    ['default-scheduler as name', ['--set', 'schedulerName=default-scheduler'], /\/schedulerName/],
    ['an unknown top-level key', ['--set', 'replicaCount=2'], /additional properties 'replicaCount' not allowed/],
    ['a bad log level', ['--set', 'logLevel=verbose'], /logLevel.*value must be one of/s],
    ['RequestedToCapacityRatio without a shape', ['--set', 'scoring.strategy=RequestedToCapacityRatio'], /scoring\/shape.*minItems/s],
    ['replicas without leader election', ['--set', 'leaderElection.enabled=false'], /replicas > 1 needs leader election/],
    ['an alert selector with braces', ['--set', 'alerts.selector={job="x"}'], /alerts\/selector/],
    ['a pending period that is not a Prometheus duration', ['--set', 'alerts.pendingFor=15 minutes'], /alerts\/pendingFor/],
    ['an empty dashboard label', ['--set', 'dashboards.label='], /dashboards\/label/],
    ['a config override leasing elsewhere', ['--set-json', 'config={"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration","profiles":[{"schedulerName":"x"}],"leaderElection":{"resourceNamespace":"kube-system"}}'], /must be the release namespace/],
  ])('rejects %s with a clear message', async (_what, args, message) => {
    const r = await helm(binDir, ['template', 'bad', CHART_DIR, '--namespace', namespace, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe('rendered manifests pass the API server\'s validation', () => {
  const expectAllCreated = (results: Array<{ object: string; status: number; message?: string }>): void => {
    const failed = results.filter((r) => r.status !== 201);
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
  };

  it('helm template (defaults) — server-side dry-run', async () => {
    expectAllCreated(await createAll(client, await helmTemplate(binDir, `dry-${suffix}`, namespace), { dryRun: true }));
  });

  it('helm template (overrides with dashboards and alerts, without the Prometheus Operator objects) — server-side dry-run', async () => {
    const all = await helmTemplate(binDir, `dryo-${suffix}`, namespace, ['-f', join(tmp, 'overrides.yaml')]);
    // The test cluster has no monitoring.coreos.com CRDs; the PrometheusRule's structure is checked above instead.
    const objs = all.filter((o) => o.kind !== 'ServiceMonitor' && o.kind !== 'PrometheusRule');
    expect(objs.map((o) => o.metadata.name)).toContain(`dryo-${suffix}-berth-dashboards`);
    expectAllCreated(await createAll(client, objs, { dryRun: true }));
  });

  it('deploy/ (kustomize) — server-side dry-run, in this test\'s namespace', async () => {
    const objs = renderKustomize(undefined, { namespace }).filter((o) => o.kind !== 'Namespace');
    // Cluster-scoped names are shared by the whole control plane: keep dry-run names apart from other tests.
    for (const o of objs) if (o.kind.startsWith('Cluster')) o.metadata.name = `${o.metadata.name}-${suffix}`;
    expectAllCreated(await createAll(client, objs, { dryRun: true }));
    // The Namespace object itself too (dry-run, under its own name).
    const ns = renderKustomize().filter((o) => o.kind === 'Namespace');
    ns[0]!.metadata.name = `berth-system-${suffix}`;
    expectAllCreated(await createAll(client, ns, { dryRun: true }));
  });
});

describe('decision record and annotation values', () => {
  it('are off by default; decisions.record and decisions.annotate add berth run\'s flags and no permission', async () => {
    const off = findObject<DeploymentLike>(await helmTemplate(binDir, 'dec', namespace), 'Deployment').spec.template.spec.containers[0]!;
    expect(off.args?.some((a) => a.includes('decision'))).toBe(false);
    const objs = await helmTemplate(binDir, 'dec', namespace, ['--set', 'decisions.record=5', '--set', 'decisions.annotate=true']);
    const c = findObject<DeploymentLike>(objs, 'Deployment').spec.template.spec.containers[0]!;
    expect(c.args?.slice(8)).toEqual(['128', '--decision-record', '5', '--decision-record-pods', '1000', '--annotate-decisions']);
    // The annotation rides on the Binding (pods/binding create, granted anyway): the ClusterRole does not change.
    const cr = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'ClusterRole');
    expect([...permissions(cr.rules)].sort()).toEqual([...clusterPermissionsFromCode()].sort());
    expect([...permissions(cr.rules)]).not.toContain('/pods:patch');
    const bad = await helm(binDir, ['template', 'dec', CHART_DIR, '--set', 'decisions.record=-1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('decisions/record');
  });
});
