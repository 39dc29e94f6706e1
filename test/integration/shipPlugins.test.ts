// examples/kustomize-plugin: the kustomize overlay that ships an out-of-tree plugin in a ConfigMap. Rendered by the
// real kustomize (kubectl kustomize) with the example plugin's build as plugin.js, it passes the API server's
// validation, and berth's CLI, given the rendered Deployment's args with every ConfigMap written where the
// Deployment mounts it (under a temp root, far from any node_modules), loads the plugin and accepts the
// configuration that enables it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { createAll } from '../ship/apply.js';
import { argValue, type DeploymentLike, findObject, type K8sObject, parseObjects, REPO } from '../ship/helpers.js';

const run = promisify(execFile);
const suffix = randomBytes(3).toString('hex');
const namespace = `ship-plugins-${suffix}`;
const EXAMPLE = resolve('dist/examples/plugins/prefer-node-label/index.js');
let tmp: string;
let client: KubeClient;
let objs: K8sObject[];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'berth-ship-plugins-'));
  // The overlay refers to ../../deploy: the same layout, with the plugin's build where the overlay expects it.
  cpSync(join(REPO, 'deploy'), join(tmp, 'repo', 'deploy'), { recursive: true });
  cpSync(join(REPO, 'examples', 'kustomize-plugin'), join(tmp, 'repo', 'examples', 'kustomize-plugin'), { recursive: true });
  cpSync(EXAMPLE, join(tmp, 'repo', 'examples', 'kustomize-plugin', 'plugin.js'));
  const kubectl = join(inject('controlPlaneBinDir'), 'kubectl');
  const out = await run(kubectl, ['kustomize', join(tmp, 'repo', 'examples', 'kustomize-plugin')], { maxBuffer: 16 * 1024 * 1024 });
  objs = parseObjects(out.stdout);
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  client = createKubeClient(kc, { qps: 0, burst: 0 });
}, 60_000);

afterAll(() => {
  client?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('examples/kustomize-plugin', () => {
  it('passes the API server\'s validation (server-side dry-run)', async () => {
    const dry = objs
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => {
        const name = o.kind.startsWith('Cluster') ? `${o.metadata.name}-${suffix}` : o.metadata.name;
        return { ...o, metadata: { ...o.metadata, name, ...(o.metadata.namespace ? { namespace } : {}) } };
      });
    expect((await client.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } })).status).toBe(201);
    try {
      const results = await createAll(client, dry, { dryRun: true });
      expect(results.filter((r) => r.status !== 201)).toEqual([]);
    } finally {
      await client.request('DELETE', `/api/v1/namespaces/${namespace}`);
    }
  });

  it('gives berth the mounted plugin and a configuration enabling it; berth loads both', async () => {
    const spec = findObject<DeploymentLike>(objs, 'Deployment').spec.template.spec;
    const container = spec.containers[0]!;
    const args = container.args!;
    // Every ConfigMap volume, written where the container mounts it (under the temp root).
    const root = join(tmp, 'pod-root');
    for (const mount of container.volumeMounts ?? []) {
      const cmName = spec.volumes?.find((v) => v.name === mount.name)?.configMap?.name;
      if (!cmName) continue;
      const cm = findObject<K8sObject & { data: Record<string, string> }>(objs, 'ConfigMap', cmName);
      mkdirSync(join(root, mount.mountPath), { recursive: true });
      for (const [key, text] of Object.entries(cm.data)) writeFileSync(join(root, mount.mountPath, key), text);
    }
    const plugin = argValue(args, '--plugins');
    expect(plugin).toBe('/etc/berth-plugins/plugin.js');
    const config = argValue(args, '--config')!;
    const r = await run(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'main.js'), 'config', 'check', join(root, config), '--plugins', join(root, plugin!)], { cwd: tmp });
    // The effective configuration: the plugin enabled with its weight and its args decoded.
    expect(r.stdout).toMatch(/- name: PreferNodeLabel\n\s+weight: 5/);
    expect(r.stdout).toMatch(/label: berth\.example\/pool/);
  });
});
