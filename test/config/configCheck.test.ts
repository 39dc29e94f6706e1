import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConfigCheck } from '../../src/cli/configCheck.js';
import { FIXTURE_PATH } from './helpers.js';

function run(path: string): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runConfigCheck(
    path,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

describe('berth config check', () => {
  it('prints the effective configuration as YAML and returns 0', () => {
    const r = run(FIXTURE_PATH);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const doc = parse(r.out) as Record<string, unknown>;
    expect(doc['apiVersion']).toBe('kubescheduler.config.k8s.io/v1');
    expect(doc['kind']).toBe('KubeSchedulerConfiguration');
    const profiles = doc['profiles'] as Array<Record<string, unknown>>;
    expect(profiles[0]!['schedulerName']).toBe('jupyterhub-user-scheduler');
    expect(r.out).toContain('weight: 14631');
  });

  it('prints the formatted errors on the error stream and returns 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n  - plugins:\n      score:\n        enabled:\n          - name: ImageLocalty\n',
    );
    const r = run(file);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `${file}:7:13: profiles[0].plugins.score.enabled[0].name: unknown plugin "ImageLocalty"; did you mean "ImageLocality"? Known plugins: ` +
        'SchedulingGates, PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, ' +
        'VolumeRestrictions, NodeVolumeLimits, VolumeBinding, VolumeZone, PodTopologySpread, InterPodAffinity, DynamicResources, ' +
        'DefaultPreemption, NodeResourcesBalancedAllocation, ImageLocality, DefaultBinder, NodeDeclaredFeatures, NodeUtilization\n',
    );
  });
});
