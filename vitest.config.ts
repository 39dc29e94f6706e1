import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// berth/plugin (the package's public plugin entry) is the source here, as tsconfig.json's paths say.
const resolve = { alias: { 'berth/plugin': fileURLToPath(new URL('./src/plugin.ts', import.meta.url)) } };

// Two projects: fast unit tests (no cluster) and integration tests against a real control plane.
// `npm test` runs both; `vitest run --project unit` runs only the first.
export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Builds the control-plane binaries once (cached; test/cluster/build.sh) and starts one shared
          // etcd + kube-apiserver + kwok; the admin kubeconfig path is provided as inject('kubeconfigPath').
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 120_000,
          // A cold build of the binaries (kube-apiserver is the long pole) runs inside setup.
          hookTimeout: 40 * 60_000,
        },
      },
    ],
  },
});
