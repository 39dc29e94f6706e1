// Scenario files: the harness's own keys (expectPending, volumeControllers), the kinds objects may have, status on
// existing pods only; and every public scenario loads.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../tools/fidelity/scenario.js';
import { kindPath } from '../../tools/fidelity/kube.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-scenario-test-'));
let n = 0;
function scenarioFile(body: string): string {
  const file = join(dir, `s${++n}.yaml`);
  writeFileSync(file, `nodes: [{name: n1, capacity: {cpu: "1", memory: 1Gi}}]\n${body}`);
  return file;
}

describe('loadScenario', () => {
  it('takes expectPending off the pod and volumeControllers off the document', () => {
    const s = loadScenario(
      scenarioFile(`volumeControllers: true
pods:
  - {metadata: {name: a}, spec: {containers: [{}]}}
  - {metadata: {name: b, namespace: x}, expectPending: true, spec: {containers: [{}]}}
`),
    );
    expect(s.volumeControllers).toBe(true);
    expect([...s.expectPending]).toEqual(['x/b']);
    expect(s.pods[1]).not.toHaveProperty('expectPending');
  });

  it('rejects a non-boolean expectPending, a status on a pod to schedule, and an unsupported kind', () => {
    expect(() => loadScenario(scenarioFile('pods: [{metadata: {name: a}, expectPending: yes please, spec: {containers: [{}]}}]\n'))).toThrow(
      /pods\[0\]\.expectPending: expected true or false/,
    );
    expect(() => loadScenario(scenarioFile('pods: [{metadata: {name: a}, spec: {containers: [{}]}, status: {phase: Running}}]\n'))).toThrow(
      /only existing pods may carry a status/,
    );
    const bad = scenarioFile('objects: [{kind: Deployment, metadata: {name: d}}]\npods: [{metadata: {name: a}, spec: {containers: [{}]}}]\n');
    expect(() => loadScenario(bad)).toThrow(ScenarioError);
    expect(() => loadScenario(bad)).toThrow(/Deployment is not supported here \(objects: .*PodDisruptionBudget.*ResourceClaimTemplate/);
  });

  it('accepts the new kinds and a status on an existing pod', () => {
    const s = loadScenario(
      scenarioFile(`objects:
  - {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: pdb, namespace: default}, spec: {maxUnavailable: 0}}
  - {kind: CSINode, metadata: {name: n1}, spec: {drivers: []}}
  - {apiVersion: resource.k8s.io/v1beta2, kind: DeviceClass, metadata: {name: gpu}}
existingPods:
  - metadata: {name: e}
    spec: {nodeName: n1, containers: [{}]}
    status: {resize: InProgress}
pods: [{metadata: {name: a}, spec: {containers: [{}]}}]
`),
    );
    expect(s.objects.map((o) => o['kind'])).toEqual(['PodDisruptionBudget', 'CSINode', 'DeviceClass']);
    expect(s.existingPods[0]!.status).toEqual({ resize: 'InProgress' });
  });

  it('loads every public scenario', () => {
    const root = join(import.meta.dirname, '..', '..', 'fidelity', 'scenarios');
    const files = readdirSync(root).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(24);
    for (const f of files) expect(() => loadScenario(join(root, f)), f).not.toThrow();
  }, 60_000); // ~30 files checked against the object schema: seconds on a loaded 2-core machine
});

describe('kindPath', () => {
  it('uses the manifest apiVersion when given, else the GA one', () => {
    expect(kindPath('ResourceClaim').collection('ns')).toBe('/apis/resource.k8s.io/v1/namespaces/ns/resourceclaims');
    expect(kindPath('DeviceClass', 'resource.k8s.io/v1beta2').collection(undefined)).toBe('/apis/resource.k8s.io/v1beta2/deviceclasses');
    expect(kindPath('PodDisruptionBudget').collection(undefined)).toBe('/apis/policy/v1/namespaces/default/poddisruptionbudgets');
    expect(kindPath('PersistentVolume').collection('x')).toBe('/api/v1/persistentvolumes');
  });
});
