/**
 * `berth run`, `simulate --from-cluster` and `explain` must not load @kubernetes/client-node at start (importing it
 * costs 60–80 MB of RSS and ~0.7 CPU-seconds): here every import of it fails and is counted. The CLI modules load,
 * and a token user's kubeconfig gives its credentials, without one; an exec user's credentials are the one thing that
 * imports it (which also shows the guard is live).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';

const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock('@kubernetes/client-node', () => {
  imports.count++;
  throw new Error('@kubernetes/client-node imported');
});

const dir = mkdtempSync(join(tmpdir(), 'berth-no-client-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(user: Record<string, unknown>): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    stringify({
      'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

it('the CLI loads and a token user gets its credentials without client-node; an exec user imports it then', async () => {
  await import('../../../src/cli/main.js');
  await import('../../../src/cli/run.js');
  await import('../../../src/cli/explain.js');
  const { loadKubeconfig } = await import('../../../src/adapters/live/kubeconfig.js');
  const opts: https.RequestOptions = {};
  await loadKubeconfig(kubeconfig({ token: 'tok' })).applyToHTTPSOptions(opts);
  expect(opts.headers).toEqual({ Authorization: 'Bearer tok' });
  expect(imports.count).toBe(0);

  const exec = loadKubeconfig(kubeconfig({ exec: { command: 'get-token', apiVersion: 'client.authentication.k8s.io/v1' } }));
  await expect(exec.applyToHTTPSOptions({})).rejects.toThrow();
  expect(imports.count).toBe(1);
});
