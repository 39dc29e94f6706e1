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
