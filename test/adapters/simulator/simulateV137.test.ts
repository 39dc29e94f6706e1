/**
 * The simulator over snapshots carrying v1.37's default-on inputs: pod-level resources, in-place resize status on
 * running pods, and PodDisruptionBudgets guarding preemption victims.
 */
import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate, type SimulationResult } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../src/adapters/simulator/snapshot.js';

function node(name: string, cpu = '4'): string {
  return `
---
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}}}
status: {allocatable: {cpu: "${cpu}", memory: 8Gi, pods: "110"}}
`;
}

async function run(yaml: string): Promise<SimulationResult> {
  return simulate(buildSnapshot(parseSnapshotText(yaml, 'snap.yaml')), defaultSchedulerConfig(), IN_TREE_CATALOG);
}

function placement(result: SimulationResult, pod: string): string | null | undefined {
  return result.decisions.find((d) => d.pod === pod)?.node;
}

describe('simulate: pod-level resources', () => {
  const snapshot = `${node('a')}${node('b')}
---
kind: Pod
metadata: {name: holder, namespace: default}
spec:
  nodeName: a
  resources: {requests: {cpu: "3", memory: 1Gi}}
  containers: [{name: c, image: app:1}, {name: d, image: app:1}]
status: {phase: Running}
---
kind: Pod
metadata: {name: big, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  resources: {requests: {cpu: "2", memory: 1Gi}}
  containers:
  - {name: c, image: app:1, resources: {requests: {cpu: 100m}}}
  - {name: d, image: app:1, resources: {requests: {cpu: 100m}}}
`;

  it('places by the pod-level requests of the pending and the running pods', async () => {
    // a holds 3 of 4 cpu (pod level; its containers request nothing): the 2-cpu pod only fits on b.
    const result = await run(snapshot);
    expect(placement(result, 'default/big')).toBe('b');
    // The share table counts pod-level requests.
    expect(result.nodes.map((n) => [n.node, n.cpu.requestedMilli, n.memory.requestedBytes / 2 ** 30])).toEqual([
      ['a', 3000, 1],
      ['b', 2000, 1],
    ]);
  });

  it('reports Insufficient cpu when no node has room for the pod-level request', async () => {
    const result = await run(snapshot.replace('cpu: "2", memory: 1Gi}}\n  containers:\n  - {name: c', 'cpu: "5", memory: 1Gi}}\n  containers:\n  - {name: c'));
    const big = result.decisions.find((d) => d.pod === 'default/big');
    expect(big?.node).toBeNull();
    expect(big?.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });
});

describe('simulate: in-place resize of running pods', () => {
  // n1 runs a pod resized from 1 to 3 cpu (allocated 1 so far); n2 runs a plain 2-cpu pod. A 2-cpu pod comes.
  const resized = (reason: string, spec: string): string => `${node('n1')}${node('n2')}
---
kind: Pod
metadata: {name: resized, namespace: default}
spec:
  nodeName: n1
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "${spec}", memory: 1Gi}}}]
status:
  phase: Running
  conditions: [{type: PodResizePending, status: "True", reason: ${reason}}]
  containerStatuses:
  - {name: c, allocatedResources: {cpu: "1", memory: 1Gi}, resources: {requests: {cpu: "1", memory: 1Gi}}}
---
kind: Pod
metadata: {name: plain, namespace: default}
spec:
  nodeName: n2
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "2", memory: 1Gi}}}]
status: {phase: Running}
---
kind: Pod
metadata: {name: incoming, namespace: default}
spec:
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "2", memory: 1Gi}}}]
`;

  it('a Deferred resize counts its new spec: n1 has 1 cpu free, the pod goes to n2', async () => {
    const result = await run(resized('Deferred', '3'));
    expect(result.nodes.find((n) => n.node === 'n1')?.cpu.requestedMilli).toBe(3000);
    expect(placement(result, 'default/incoming')).toBe('n2');
  });

  it('an Infeasible resize counts what was allocated: n1 has 3 cpu free and scores higher', async () => {
    // LeastAllocated: n1 (1 + 2 of 4 cpu) beats n2 (2 + 2 of 4).
    const result = await run(resized('Infeasible', '8'));
    expect(placement(result, 'default/incoming')).toBe('n1');
    expect(result.nodes.find((n) => n.node === 'n1')?.cpu.requestedMilli).toBe(3000);
  });
});

describe('simulate: PodDisruptionBudgets', () => {
  it('preempts the pod no budget guards, even at a higher priority', async () => {
    const result = await run(`${node('n1', '1')}${node('n2', '1')}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: db}}}
status: {disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1}
---
kind: Pod
metadata: {name: db-0, namespace: default, labels: {app: db}}
spec:
  nodeName: n1
  priority: 1
  containers: [{name: c, image: db:1, resources: {requests: {cpu: "1"}}}]
status: {phase: Running}
---
kind: Pod
metadata: {name: batch, namespace: default}
spec:
  nodeName: n2
  priority: 5
  containers: [{name: c, image: batch:1, resources: {requests: {cpu: "1"}}}]
status: {phase: Running}
---
kind: Pod
metadata: {name: urgent, namespace: default}
spec:
  priority: 10
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "1"}}}]
`);
    // Without the budget db-0 (priority 1) would go; with it, n1 has one violation and n2 none.
    expect(result.evicted).toEqual(['default/batch']);
    expect(placement(result, 'default/urgent')).toBe('n2');
  });
});
