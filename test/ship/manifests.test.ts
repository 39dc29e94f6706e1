// Static proofs about the shipped artefacts (no cluster): deploy/ matches what berth's code does and reads, its
// RBAC is exactly what the code uses, and the Dockerfile runs berth the way the manifests expect.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig } from '../../src/config/index.js';
import {
  argValue,
  berthSourceFiles,
  clusterPermissionsFromCode,
  DEPLOY_DIR,
  type DeploymentLike,
  execForm,
  findObject,
  type K8sObject,
  leasePermissions,
  literalRequestsInSource,
  parseDockerfile,
  permissionFor,
  permissions,
  type PolicyRule,
  probePort,
  readKustomization,
  renderKustomize,
  REPO,
} from './helpers.js';

const kustomization = readKustomization();
const objs = renderKustomize();
const namespace = kustomization.namespace!;
const deployment = findObject<DeploymentLike>(objs, 'Deployment');
const container = deployment.spec.template.spec.containers[0]!;
const args = container.args ?? [];
const configMap = objs.find((o) => o.kind === 'ConfigMap')! as K8sObject & { data: Record<string, string> };

describe('helpers', () => {
  it('maps API paths to RBAC permissions', () => {
    expect(permissionFor('POST', '/api/v1/namespaces/${ns}/pods/${name}/binding')).toBe('/pods/binding:create');
    expect(permissionFor('PATCH', '/api/v1/namespaces/${ns}/pods/${name}/status')).toBe('/pods/status:patch');
    expect(permissionFor('GET', '/api/v1/nodes')).toBe('/nodes:list');
    expect(permissionFor('GET', '/apis/apps/v1/replicasets')).toBe('apps/replicasets:list');
    expect(permissionFor('DELETE', '/api/v1/namespaces/a/pods/b')).toBe('/pods:delete');
    expect(permissionFor('POST', '/apis/events.k8s.io/v1/namespaces/x/events')).toBe('events.k8s.io/events:create');
  });

  it('finds berth\'s literal API calls in src/', () => {
    const found = literalRequestsInSource().map((r) => `${r.method} ${r.path}`);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^POST .*\/binding$/), expect.stringMatching(/^DELETE .*\/pods\//)]));
    // The import graph of the CLI reaches the live scheduler, its recorder and leader election.
    const files = berthSourceFiles().map((f) => f.slice(REPO.length + 1));
    expect(files).toEqual(expect.arrayContaining(['src/adapters/live/liveScheduler.ts', 'src/adapters/live/recorder.ts', 'src/adapters/live/leaderElection.ts', 'src/adapters/live/informers.ts']));
  });
});

describe('deploy/ (kustomize)', () => {
  it('lists every manifest in the folder and only files that exist', () => {
    for (const f of kustomization.resources) expect(existsSync(join(DEPLOY_DIR, f)), f).toBe(true);
    for (const g of kustomization.configMapGenerator ?? []) for (const f of g.files) expect(existsSync(join(DEPLOY_DIR, f)), f).toBe(true);
    const kinds = objs.map((o) => o.kind).sort();
    expect(kinds).toEqual(
      ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
  });

  it('ships a metrics-reader ClusterRole that allows get on /metrics and nothing else (as the chart does)', () => {
    const reader = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'ClusterRole', 'berth-metrics-reader');
    expect(reader.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });

  it('names berth\'s own pod through the downward API, so configuration reloads become Events on it', () => {
    expect(deployment.spec.template.spec.containers[0]?.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
  });

  it('ClusterRole grants exactly the permissions berth\'s code uses', () => {
    const role = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'ClusterRole', 'berth');
    const granted = [...permissions(role.rules)].sort();
    const needed = [...clusterPermissionsFromCode()].sort();
    expect(granted).toEqual(needed);
    // A sanity floor, spelled out: what kube-scheduler's role is known for.
    expect(needed).toEqual(
      expect.arrayContaining(['/pods/binding:create', '/pods/status:patch', '/pods:delete', 'events.k8s.io/events:create', 'events.k8s.io/events:patch', '/nodes:watch']),
    );
    // Nothing berth never calls: no wildcards, no secrets, no node writes.
    expect(granted.some((p) => p.includes('*') || p.startsWith('/secrets') || /^\/nodes:(create|update|patch|delete)/.test(p))).toBe(false);
    const crb = findObject<K8sObject & { roleRef: { name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> }>(objs, 'ClusterRoleBinding');
    expect(crb.roleRef.name).toBe(role.metadata.name);
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace }]);
  });

  it('Role grants create and get/update on berth\'s own Lease only, in berth\'s namespace', () => {
    const cfg = parseSchedulerConfig(configMap.data['config.yaml']!, 'deploy/config.yaml');
    const role = findObject<K8sObject & { rules: PolicyRule[] }>(objs, 'Role');
    expect(role.metadata.namespace).toBe(namespace);
    expect([...permissions(role.rules)].sort()).toEqual([...leasePermissions(cfg.leaderElection.resourceName)].sort());
    const rb = findObject<K8sObject & { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> }>(objs, 'RoleBinding');
    expect(rb.roleRef.name).toBe(role.metadata.name);
    expect(rb.subjects[0]).toMatchObject({ name: deployment.spec.template.spec.serviceAccountName, namespace });
  });

  it('config: schedulerName berth, berth\'s own Lease in the deploy namespace, loads in berth', () => {
    const cfg = parseSchedulerConfig(configMap.data['config.yaml']!, 'deploy/config.yaml');
    expect(cfg.profiles.map((p) => p.schedulerName)).toEqual(['berth']);
    expect(cfg.leaderElection).toMatchObject({ leaderElect: true, resourceLock: 'leases', resourceName: 'berth', resourceNamespace: namespace });
    expect(cfg.leaderElection.resourceName).not.toBe('kube-scheduler');
  });

  it('Deployment: 2 replicas, args, probes, port and mount match berth run', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(args[0]).toBe('run');
    const port = Number(argValue(args, '--port') ?? 10259);
    expect(container.ports?.find((p) => p.name === 'http')?.containerPort).toBe(port);
    expect(container.livenessProbe?.httpGet?.path).toMatch(/^\/(livez|healthz)$/);
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(probePort(container, container.livenessProbe)).toBe(port);
    expect(probePort(container, container.readinessProbe)).toBe(port);
    // --config points into the ConfigMap's mount, at the generated key.
    const configPath = argValue(args, '--config')!;
    const mount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
    expect(mount, `a volumeMount holding ${configPath}`).toBeDefined();
    const volume = deployment.spec.template.spec.volumes?.find((v) => v.name === mount!.name);
    expect(volume?.configMap?.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toContain(configPath.slice(mount!.mountPath.length + 1));
    // The ConfigMap name carries a content hash: a config change renames it and rolls the Deployment.
    expect(configMap.metadata.name).toMatch(/^berth-config-[a-z]{10}$/);
    const changed = renderKustomize(DEPLOY_DIR, { files: { 'config.yaml': `${configMap.data['config.yaml']}\n# changed\n` } });
    expect(findObject<DeploymentLike>(changed, 'Deployment').spec.template.spec.volumes?.[0]?.configMap?.name).not.toBe(configMap.metadata.name);
  });

  it('Deployment: restricted securityContext, resources, no privileged priority class', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits?.memory).toBeDefined();
    expect(pod.priorityClassName).toBeUndefined();
    // No writable volume is needed (the image writes nothing at runtime).
    expect(pod.volumes?.every((v) => v.configMap)).toBe(true);
  });

  it('Service exposes the metrics port; PDB allows one disruption; selectors match the pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    const svc = findObject<K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> } }>(objs, 'Service');
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k]).toBe(v);
    expect(svc.spec.ports[0]?.targetPort).toBe('http');
    const pdb = findObject<K8sObject & { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>(objs, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
  });

  it('every namespaced object lands in the kustomization namespace', () => {
    for (const o of objs) if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
    expect(findObject(objs, 'Namespace').metadata.name).toBe(namespace);
  });
});

describe('Dockerfile', () => {
  const docker = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
  const runtime = docker.stages[docker.stages.length - 1]!;
  const all = docker.stages.flatMap((s) => s.instructions);
  const op = (stage: typeof runtime, name: string): string[] => stage.instructions.filter((i) => i.op === name).map((i) => i.args);

  it('is multi-stage: npm ci, tsc build, prune dev dependencies; runtime on Node 22 LTS', () => {
    expect(docker.stages.length).toBeGreaterThanOrEqual(2);
    const runs = docker.stages[0]!.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build'))).toBe(true);
    expect(runs.some((r) => /npm prune --omit=dev|npm ci --omit=dev/.test(r))).toBe(true);
    expect(runtime.from).toMatch(/^node:22[.-][\w.-]+$/);
    expect(op(runtime, 'RUN')).toEqual([]);
  });

  it('runs as a numeric non-root user with an exec-form entrypoint and berth run on the mounted config', () => {
    const user = op(runtime, 'USER').at(-1) ?? '';
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    const entrypoint = execForm(op(runtime, 'ENTRYPOINT').at(-1) ?? '');
    expect(entrypoint).toEqual(['node', '/app/dist/src/cli/main.js']);
    const cmd = execForm(op(runtime, 'CMD').at(-1) ?? '');
    expect(cmd).toEqual(['run', '--config', argValue(args, '--config')]);
    // The UID the Deployment runs as is the image's.
    expect(deployment.spec.template.spec.securityContext?.['runAsUser']).toBe(Number(user.split(':')[0]));
    expect(op(runtime, 'EXPOSE')).toContain(argValue(args, '--port'));
  });

  it('carries OCI labels', () => {
    const labels = op(runtime, 'LABEL').join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses', 'source']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('.dockerignore keeps node_modules, dist and .git out of the context', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', 'dist', '.git']) expect(ignore).toContain(p);
    // What the Dockerfile copies from the context is not ignored.
    for (const i of all.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      for (const src of i.args.split(/\s+/).slice(0, -1)) expect(ignore).not.toContain(src.replace(/\/$/, ''));
    }
  });
});
