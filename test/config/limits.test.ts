/**
 * Configuration input at the edges, by the classes a fuzzing run found: durations beyond Go's range, merge keys,
 * many aliases, thousands of errors (linear time, capped output) and megabyte values in messages.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConfigCheck } from '../../src/cli/configCheck.js';
import { ConfigError, parseSchedulerConfig } from '../../src/config/index.js';
import { parseGoDurationNanos } from '../../src/kube/duration.js';

const HEAD = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';
const dir = mkdtempSync(join(tmpdir(), 'berth-config-limits-'));

function check(text: string): { code: number; out: string; err: string } {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  let out = '';
  let err = '';
  const code = runConfigCheck(path, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

function errorOf(text: string): ConfigError {
  try {
    parseSchedulerConfig(text, 'c.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('durations follow Go\'s time.ParseDuration, range included', () => {
  it('parses to the nanosecond at the edges of int64', () => {
    expect(parseGoDurationNanos('2562047h47m16.854775807s')).toBe(2n ** 63n - 1n);
    expect(parseGoDurationNanos('-2562047h47m16.854775808s')).toBe(-(2n ** 63n));
    expect(parseGoDurationNanos('2562047h47m16.854775808s')).toBe('range');
    expect(parseGoDurationNanos('10000000000000000000h')).toBe('range');
    expect(parseGoDurationNanos('9223372036854775808ns')).toBe('range');
    expect(parseGoDurationNanos('1.5h')).toBe(5_400_000_000_000n);
    expect(parseGoDurationNanos('.5s')).toBe(500_000_000n);
    expect(parseGoDurationNanos('1.s')).toBe(1_000_000_000n);
    expect(parseGoDurationNanos('.s')).toBe('syntax');
    expect(parseGoDurationNanos('Infinity')).toBe('syntax');
    expect(parseGoDurationNanos('1e3s')).toBe('syntax');
  });

  it('a duration beyond the range is an error naming the field (was printed as 10000000000000000000h0m0s)', () => {
    const e = errorOf(`${HEAD}leaderElection:\n  leaseDuration: 10000000000000000000h\n  renewDeadline: Infinityh\n`);
    expect(e.format()).toContain('c.yaml:4:3: leaderElection.leaseDuration: duration "10000000000000000000h" is out of range; Go durations reach ±2562047h47m16.854775807s');
    expect(e.format()).toContain('leaderElection.renewDeadline: invalid duration "Infinityh"');
  });
});

describe('YAML features and limits, equal for configurations and snapshots', () => {
  it('merge keys are accepted and merged', () => {
    const r = check(`${HEAD}profiles:\n- &base\n  schedulerName: a\n  plugins: {score: {disabled: [{name: ImageLocality}]}}\n- <<: *base\n  schedulerName: b\n`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('schedulerName: b');
  });

  it('10 000 alias expansions load; more are an error naming the file', () => {
    const args = (n: number): string => `${HEAD}profiles:\n- schedulerName: a\n  percentageOfNodesToScore: &p 50\n  pluginConfig: []\nextenders: [${Array.from({ length: n }, () => '*p').join(', ')}]\n`;
    expect(errorOf(args(9_999)).format()).toContain('extenders are not supported');
    expect(errorOf(args(10_000)).format()).toBe('c.yaml: more than 10,000 YAML alias expansions; berth expands at most that many aliases (a guard against alias bombs)');
  }, 60_000);
});

describe('many errors', () => {
  const unknownFields = (n: number): string => `${HEAD}${Array.from({ length: n }, (_, i) => `unknownField${i}: ${i}`).join('\n')}\n`;

  it('20 000 unknown fields: the first 100 listed, the rest counted, in time linear in their number', () => {
    const time = (n: number): number => {
      const text = unknownFields(n);
      const start = performance.now();
      const r = check(text);
      expect(r.code).toBe(2);
      return performance.now() - start;
    };
    const r = check(unknownFields(20_000));
    expect(r.err).toContain('20000 errors in the scheduler configuration:');
    expect(r.err).toContain('… and 19900 more');
    expect(r.err.trimEnd().split('\n')).toHaveLength(102);
    expect(r.err.length).toBeLessThan(60_000);
    // Linear: four times the errors take about four times as long (quadratic would be sixteen); best of two runs.
    const small = Math.min(time(5_000), time(5_000));
    const large = Math.min(time(20_000), time(20_000));
    console.log(`config check: 5 000 unknown fields ${Math.round(small)} ms, 20 000 ${Math.round(large)} ms`);
    expect(large / small).toBeLessThan(9);
  }, 300_000);

  it('messages quote at most 80 characters of a value, however long', () => {
    const huge = 'x'.repeat(2_000_000);
    const r = check(`${HEAD}? ${huge}\n: 1\nparallelism: "${huge}"\nleaderElection: {leaseDuration: "${huge}"}\nprofiles: [{schedulerName: a, plugins: {score: {enabled: [{name: "${huge}"}]}}}]\n`);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeLessThan(3_000);
    expect(r.err).toContain('…');
  }, 60_000);
});
