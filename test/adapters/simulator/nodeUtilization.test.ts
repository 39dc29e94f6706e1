// berth simulate previews NodeUtilization: its source is read once before the first pod (here a node usage file),
// and a source it cannot read is a warning, not a failure.
import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig } from '../../../src/config/index.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../src/adapters/simulator/snapshot.js';
import type { BackgroundIO } from '../../../src/scheduler/framework/background.js';

// Two equal nodes; host-a already holds a 2-core pod, so requests alone favour host-b.
const SNAPSHOT = `
apiVersion: v1
kind: List
items:
- kind: Node
  metadata: {name: host-a}
  status: {capacity: {cpu: "8", memory: 32Gi, pods: "10"}, allocatable: {cpu: "8", memory: 32Gi, pods: "10"}}
- kind: Node
  metadata: {name: host-b}
  status: {capacity: {cpu: "8", memory: 32Gi, pods: "10"}, allocatable: {cpu: "8", memory: 32Gi, pods: "10"}}
- kind: Pod
  metadata: {name: running, namespace: default}
  spec: {nodeName: host-a, containers: [{name: c, image: app:1, resources: {requests: {cpu: "2", memory: 1Gi}}}]}
- kind: Pod
  metadata: {name: new, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec: {containers: [{name: c, image: app:1, resources: {requests: {cpu: "1", memory: 1Gi}}}]}
`;

const CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
    plugins:
      multiPoint:
        enabled: [{name: NodeUtilization, weight: 10}]
    pluginConfig:
      - name: NodeUtilization
        args: {source: {file: {path: usage.yaml}}}
`;

function io(readTextFile: BackgroundIO['readTextFile']): BackgroundIO {
  return { fetch: () => Promise.reject(new Error('no network')), apiGet: () => Promise.reject(new Error('no API server')), readTextFile };
}

async function run(readTextFile: BackgroundIO['readTextFile']) {
  const config = parseSchedulerConfig(CONFIG, 'config.yaml');
  return simulate(buildSnapshot(parseSnapshotText(SNAPSHOT, 'snap.yaml')), config, IN_TREE_CATALOG, { backgroundIO: io(readTextFile) });
}

describe('simulate with NodeUtilization', () => {
  it('reads the node usage file before the first pod: the pod goes to the node that is really idle', async () => {
    // host-b runs services outside Kubernetes at 70 % of its CPUs: 70 % + 12.5 % → 40 × 17.5 / 60 = 11.7 → 12.
    // host-a: 10 % + 12.5 % = 22.5 % → 60 × 22.5 / 40 + 40 = 73.75 → 74.
    const result = await run(async (path) => (path === 'usage.yaml' ? 'nodes:\n  host-a: {cpu: 10%}\n  host-b: {cpu: 70%}\n' : ''));
    expect(result.warnings).toEqual([]);
    const decision = result.decisions.find((d) => d.pod === 'default/new');
    expect(decision?.node).toBe('host-a');
    expect(decision?.contributions.find((c) => c.plugin === 'NodeUtilization')?.score).toBe(74);
  });

  it('a source it cannot read is a warning; requests decide', async () => {
    const result = await run(() => Promise.reject(new Error('ENOENT: no such file or directory, open \'usage.yaml\'')));
    expect(result.warnings).toEqual([
      'NodeUtilization (profile default-scheduler): node usage file usage.yaml: ENOENT: no such file or directory, open \'usage.yaml\'; every node scores neutral until it answers',
    ]);
    expect(result.decisions.find((d) => d.pod === 'default/new')?.node).toBe('host-b');
  });
});
