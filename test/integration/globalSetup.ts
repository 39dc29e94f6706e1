// Global setup of the `integration` vitest project: builds the control-plane binaries if missing (once, cached by
// test/cluster/build.sh), starts ONE shared control plane (etcd + kube-apiserver) plus kwok, and hands the admin
// kubeconfig path to the test files via provide/inject (and env BERTH_TEST_KUBECONFIG).
import { VersionApi } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import {
  ensureBinaries,
  startControlPlane,
  startKwok,
  type ControlPlane,
  type KwokHandle,
} from '../../src/devcluster/index.js';

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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const binaries = await ensureBinaries({ log });
  let cp: ControlPlane | undefined;
  let kwok: KwokHandle | undefined;
  try {
    cp = await startControlPlane({ binaries, log });
    kwok = await startKwok({ kubeconfigPath: cp.kubeconfigPath, binaries, dir: cp.dir, log });
  } catch (err) {
    await kwok?.stop();
    await cp?.stop();
    throw err;
  }
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
