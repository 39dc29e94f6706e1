// Global setup of the `integration` vitest project: builds the control-plane binaries if missing (once, cached by
// test/cluster/build.sh), starts ONE shared control plane (etcd + kube-apiserver) plus kwok, and hands the admin
// kubeconfig path to the test files via provide/inject (and env BERTH_TEST_KUBECONFIG).
// It also rebuilds dist/ (tsc -p tools/tsconfig.json) when a source (src/, tools/, bench/) is newer than dist/src/cli/main.js, since the
// live leader-election test spawns `node dist/src/cli/main.js run` as separate processes.
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VersionApi } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import {
  ensureBinaries,
  startControlPlane,
  startKwok,
  type ControlPlane,
  type KwokHandle,
} from '../../tools/devcluster/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin (system:masters) kubeconfig of the shared control plane. */
    kubeconfigPath: string;
    /** https://127.0.0.1:<port> */
    controlPlaneServer: string;
    /** Directory of kube-apiserver, kube-scheduler, etcd, kwok, helm. */
    controlPlaneBinDir: string;
    /** Kubernetes version the binaries were built at, e.g. v1.37.2. */
    kubernetesVersion: string;
  }
}

const log = (line: string): void => {
  process.stderr.write(`[integration setup] ${line}\n`);
};

/** Newest modification time (ms) of the .ts files under dir, recursively. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/. tsc still emits on type errors: those are reported, not fatal. */
async function buildDistIfStale(): Promise<void> {
  const root = process.cwd();
  let built = 0;
  try {
    built = statSync(join(root, 'dist/src/cli/main.js')).mtimeMs;
  } catch {
    built = 0;
  }
  const newest = Math.max(
    newestSource(join(root, 'src')),
    newestSource(join(root, 'tools')),
    newestSource(join(root, 'bench')),
    newestSource(join(root, 'examples')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
  );
  if (built >= newest) return;
  const t0 = Date.now();
  try {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tools/tsconfig.json'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    log(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (err) {
    const e = err as Error & { stdout?: string };
    log(`tsc -p tools/tsconfig.json reported errors (dist/ emitted anyway):\n${e.stdout ?? e.message}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const build = buildDistIfStale();
  const binaries = await ensureBinaries({ log });
  let cp: ControlPlane | undefined;
  let kwok: KwokHandle | undefined;
  try {
    cp = await startControlPlane({ binaries, log });
    kwok = await startKwok({ kubeconfigPath: cp.kubeconfigPath, binaries, dir: cp.dir, log });
  } catch (err) {
    await kwok?.stop();
    await cp?.stop();
    await build;
    throw err;
  }
  await build;
  const version = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
  log(`shared control plane ${version.gitVersion} at ${cp.server} with kwok, ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  project.provide('kubeconfigPath', cp.kubeconfigPath);
  project.provide('controlPlaneServer', cp.server);
  project.provide('controlPlaneBinDir', binaries.binDir);
  project.provide('kubernetesVersion', version.gitVersion);
  process.env['BERTH_TEST_KUBECONFIG'] = cp.kubeconfigPath;
  const started = { cp, kwok };
  return async () => {
    await started.kwok.stop();
    await started.cp.stop();
  };
}
