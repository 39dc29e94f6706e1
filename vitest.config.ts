import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// berth/plugin (the package's public plugin entry) is the source here, as tsconfig.json's paths say.
const resolve = { alias: { 'berth/plugin': fileURLToPath(new URL('./src/plugin.ts', import.meta.url)) } };

// Two projects: fast unit tests (no cluster) and integration tests against a real control plane.
// `npm test` runs both; `vitest run --project unit` runs only the first.
export default defineConfig({
  test: {
    // Three test files at once on the 2-core machine: most integration time is waiting on processes and the API
    // server. The integration files share one control plane, so none may assert on what another file creates
    // (tests whose pods must fail on foreign nodes tolerate every taint, so those nodes fail on the node selector).
    maxWorkers: 3,
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**'],
          // Some unit files spawn the CLI or fuzz hundreds of inputs: 5 s (vitest's default) is too tight while
          // integration files run beside them on a loaded 2-core machine. A hang still fails, after a minute.
          testTimeout: 60_000,
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
