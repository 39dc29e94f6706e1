import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (no cluster) and integration tests against a real control plane.
// `npm test` runs both; `vitest run --project unit` runs only the first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**'],
        },
      },
    ],
  },
});
