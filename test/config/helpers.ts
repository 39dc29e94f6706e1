import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ConfigError, parseSchedulerConfig, type ConfigIssue } from '../../src/config/index.js';

export const HEADER = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';

/** Parses text that must fail; returns the ConfigError. */
export function configError(text: string, source = 'config.yaml'): ConfigError {
  try {
    parseSchedulerConfig(text, source);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** Asserts that the error holds an issue at `fieldPath` whose message and hint match. */
export function expectIssue(
  err: ConfigError,
  fieldPath: string,
  message: RegExp | string,
  hint: RegExp | string,
): ConfigIssue {
  const issue = err.issues.find((i) => i.fieldPath === fieldPath);
  expect(issue, `no issue at ${fieldPath}; got:\n${err.format()}`).toBeDefined();
  expect(issue!.message).toMatch(message);
  expect(issue!.hint).toMatch(hint);
  return issue!;
}

/**
 * JupyterHub's user-scheduler configuration as the project's shared fixtures hold it: `shared/` stands beside the
 * repository (in CI too). examples/jupyterhub/user-scheduler.yaml is a byte-for-byte copy, used when shared/ is absent.
 */
export const FIXTURE_PATH: string = (() => {
  const shared = fileURLToPath(new URL('../../../shared/fixtures/user-scheduler-config.yaml', import.meta.url));
  return existsSync(shared) ? shared : fileURLToPath(new URL('../../examples/jupyterhub/user-scheduler.yaml', import.meta.url));
})();
