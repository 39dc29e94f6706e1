import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig, loadSchedulerConfig, parseSchedulerConfig } from '../../../src/config/index.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { renderExplain, renderJson, renderTable } from '../../../src/adapters/simulator/report.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, loadSnapshot, parseSnapshotText, SnapshotError } from '../../../src/adapters/simulator/snapshot.js';

const EXAMPLES = new URL('../../../examples/', import.meta.url).pathname;

function snapshotOf(yaml: string) {
  return buildSnapshot(parseSnapshotText(yaml, 'snap.yaml'));
}

const TWO_NODES = `
apiVersion: v1
kind: List
items:
- kind: Node
  metadata: {name: small}
  status: {allocatable: {cpu: "2", memory: 4Gi, pods: "10"}}
- kind: Node
  metadata: {name: big}
  status: {allocatable: {cpu: "8", memory: 16Gi, pods: "10"}}
`;

function pendingPod(name: string, cpu: string, extra = ''): string {
  return `
---
kind: Pod
metadata: {name: ${name}, namespace: default, creationTimestamp: "2026-01-01T00:00:0${name.length % 10}Z"}
spec:
  ${extra}
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "${cpu}", memory: 1Gi}}}]
`;
}

describe('simulate', () => {
  it('places pods against the evolving state and reports the FailedScheduling message for the rest', async () => {
    const snap = snapshotOf(`${TWO_NODES}${pendingPod('a', '6')}${pendingPod('bb', '2')}${pendingPod('ccc', '3')}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    expect(byPod.get('default/a')?.node).toBe('big');
    // After a (6 cpu on big), bb fits only on small (2 cpu) or big (2 left): LeastAllocated prefers... both at 0 free after;
    // what matters here is that ccc (3 cpu) no longer fits anywhere once a and bb are placed.
    expect(byPod.get('default/bb')?.node).not.toBeNull();
    const ccc = byPod.get('default/ccc');
    expect(ccc?.node).toBeNull();
    // On "small" the 3-cpu request exceeds the node's whole allocatable (v1.34+: unresolvable), so preemption
    // cannot help there; on "big" there is nothing of lower priority to evict.
    expect(ccc?.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
  });

  it('orders the queue by priority, then creation time', async () => {
    const snap = snapshotOf(
      `${TWO_NODES.replace('cpu: "8"', 'cpu: "1"')}${pendingPod('early', '2')}${pendingPod('late', '2', 'priority: 100')}`,
    );
    // Only one 2-cpu pod fits (on small): the higher-priority one, although it was created later, goes first.
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    expect(byPod.get('default/late')?.node).toBe('small');
    expect(byPod.get('default/early')?.node).toBeNull();
  });

  it('retries a pod when a later placement makes it schedulable (required pod affinity)', async () => {
    const follower = pendingPod(
      'a-follower',
      '1',
      `affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: leader}}, topologyKey: kubernetes.io/hostname}]}}`,
    );
    const leader = `
---
kind: Pod
metadata: {name: z-leader, namespace: default, labels: {app: leader}, creationTimestamp: "2026-01-01T00:00:09Z"}
spec:
  containers: [{name: c, image: app:1, resources: {requests: {cpu: "1", memory: 1Gi}}}]
`;
    const nodes = TWO_NODES.replace(/metadata: \{name: (\w+)\}/g, 'metadata: {name: $1, labels: {kubernetes.io/hostname: $1}}');
    const snap = snapshotOf(`${nodes}${follower.replace('00:00:00', '00:00:01')}${leader}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    const leaderNode = byPod.get('default/z-leader')?.node;
    expect(leaderNode).not.toBeNull();
    expect(byPod.get('default/a-follower')?.node).toBe(leaderNode);
    expect(byPod.get('default/a-follower')?.attempts).toBe(2);
  });

  it('leaves pods that name another scheduler alone', async () => {
    const snap = snapshotOf(`${TWO_NODES}${pendingPod('mine', '1')}${pendingPod('other', '1', 'schedulerName: someone-else')}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    expect(result.decisions.map((d) => d.pod)).toEqual(['default/mine']);
    expect(result.skipped).toEqual([{ pod: 'default/other', schedulerName: 'someone-else' }]);
  });

  it('preempts lower-priority pods (JupyterHub user placeholders) for a user pod', async () => {
    const snap = snapshotOf(`
kind: Node
metadata: {name: only, labels: {kubernetes.io/hostname: only}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
kind: Pod
metadata: {name: placeholder-0, namespace: jhub}
spec:
  nodeName: only
  priority: -10
  containers: [{name: pause, image: pause, resources: {requests: {cpu: "3", memory: 1Gi}}}]
${pendingPod('user', '2')}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const user = result.decisions.find((d) => d.pod === 'default/user');
    expect(user?.node).toBe('only');
    expect(user?.preempted).toEqual(['jhub/placeholder-0']);
    expect(result.evicted).toEqual(['jhub/placeholder-0']);
  });

  it('explains filter verdicts and per-plugin scores', async () => {
    const snap = snapshotOf(`${TWO_NODES}${pendingPod('x', '4')}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG, { explain: true });
    const x = result.decisions[0];
    expect(x?.node).toBe('big');
    const text = renderExplain(result);
    expect(text).toContain('small');
    expect(text).toContain('Insufficient cpu');
    // One feasible node: chosen without scoring.
    expect(text).toContain('Only one node passed the filters');
    const json = JSON.parse(renderJson(result)) as { decisions: Array<{ explanation: unknown[] }> };
    expect(json.decisions[0]?.explanation).toHaveLength(2);
  });
});

describe('bundled examples', () => {
  it('JupyterHub user-scheduler packs user pods onto the busiest node and leaves hub-3 empty', async () => {
    const snap = loadSnapshot([`${EXAMPLES}jupyterhub/cluster.yaml`]);
    const config = loadSchedulerConfig(`${EXAMPLES}jupyterhub/user-scheduler.yaml`);
    const result = await simulate(snap, config, IN_TREE_CATALOG);
    expect(result.decisions).toHaveLength(8);
    expect(result.decisions.every((d) => d.node !== null)).toBe(true);
    const counts = new Map<string, number>();
    for (const d of result.decisions) counts.set(d.node as string, (counts.get(d.node as string) ?? 0) + 1);
    expect(counts.get('hub-3') ?? 0).toBe(0);
    expect(result.skipped).toEqual([{ pod: 'batch/nightly-report-28471', schedulerName: 'default-scheduler' }]);
    const table = renderTable(result);
    expect(table).toContain('8/8 pods scheduled.');
    expect(table).toMatch(/hub-3\s+0\/20 \(0%\)/);
  });

  it('ImageLocality weighted high piles replicas onto the image holder; weighted low they spread', async () => {
    const snap = () => loadSnapshot([`${EXAMPLES}image-locality/cluster.yaml`]);
    const high = await simulate(snap(), loadSchedulerConfig(`${EXAMPLES}image-locality/weight-high.yaml`), IN_TREE_CATALOG);
    expect(new Set(high.decisions.map((d) => d.node))).toEqual(new Set(['node-1']));
    const low = await simulate(snap(), loadSchedulerConfig(`${EXAMPLES}image-locality/weight-low.yaml`), IN_TREE_CATALOG);
    expect(new Set(low.decisions.map((d) => d.node))).toEqual(new Set(['node-1', 'node-2', 'node-3']));
  });

  it('a profile named in the config schedules only its own pods', async () => {
    const config = parseSchedulerConfig(
      'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: [{schedulerName: berth}]\n',
      'inline',
    );
    const snap = snapshotOf(`${TWO_NODES}${pendingPod('mine', '1', 'schedulerName: berth')}${pendingPod('theirs', '1')}`);
    const result = await simulate(snap, config, IN_TREE_CATALOG);
    expect(result.decisions.map((d) => d.pod)).toEqual(['default/mine']);
  });
});

describe('snapshot errors name the file, the object and the field', () => {
  it('bad quantity', async () => {
    expect(() => snapshotOf(`${TWO_NODES}${pendingPod('bad', 'two')}`)).toThrowError(
      /snap\.yaml: document 2 \(Pod default\/bad\): spec\.containers\[0\]\.resources\.requests\.cpu: invalid quantity "two"/,
    );
  });

  it('node without allocatable', async () => {
    expect(() => snapshotOf('kind: Node\nmetadata: {name: n}\nstatus: {}\n')).toThrowError(/Node n\): status\.allocatable is missing/);
  });

  it('malformed YAML reports the line', async () => {
    try {
      snapshotOf('kind: Node\nmetadata: {name: n\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SnapshotError);
      expect((err as SnapshotError).message).toMatch(/snap\.yaml: line \d+, column \d+: malformed YAML/);
    }
  });

  it('pod without containers, duplicate node, missing kind', async () => {
    expect(() => snapshotOf('kind: Pod\nmetadata: {name: p}\nspec: {}\n')).toThrowError(/spec\.containers must list at least one container/);
    expect(() => snapshotOf(`${TWO_NODES}\n---\nkind: Node\nmetadata: {name: big}\nstatus: {allocatable: {cpu: "1"}}\n`)).toThrowError(
      /node "big" appears twice/,
    );
    expect(() => snapshotOf('metadata: {name: p}\n')).toThrowError(/kind is missing/);
  });

  it('typed lists from kubectl (NodeList) give their items a kind', async () => {
    const snap = snapshotOf('kind: NodeList\nitems:\n- metadata: {name: n1}\n  status: {allocatable: {cpu: "1", memory: 1Gi, pods: "5"}}\n');
    expect(snap.nodeCount).toBe(1);
  });
});

describe('nominated pods (preemption)', () => {
  it('a preemptor keeps the room it freed: an equal-priority pod that may not preempt does not take it', async () => {
    // Mirrors fidelity/scenarios/preemption.yaml, where upstream leaves never-preempts pending.
    const snap = snapshotOf(`
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
kind: Node
metadata: {name: n2, labels: {kubernetes.io/hostname: n2}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
kind: Pod
metadata: {name: low-n1-a, namespace: default}
spec: {nodeName: n1, priority: 100, containers: [{name: c, image: x, resources: {requests: {cpu: "2"}}}]}
---
kind: Pod
metadata: {name: low-n1-b, namespace: default}
spec: {nodeName: n1, priority: 100, containers: [{name: c, image: x, resources: {requests: {cpu: "1500m"}}}]}
---
kind: Pod
metadata: {name: high-n2, namespace: default}
spec: {nodeName: n2, priority: 1000, containers: [{name: c, image: x, resources: {requests: {cpu: "3"}}}]}
---
kind: Pod
metadata: {name: never-preempts, namespace: default, creationTimestamp: "2026-01-01T00:00:01Z"}
spec: {priority: 1000, preemptionPolicy: Never, containers: [{name: c, image: x, resources: {requests: {cpu: "2"}}}]}
---
kind: Pod
metadata: {name: preemptor, namespace: default, creationTimestamp: "2026-01-01T00:00:02Z"}
spec: {priority: 1000, containers: [{name: c, image: x, resources: {requests: {cpu: "3"}}}]}
`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    expect(byPod.get('default/preemptor')?.node).toBe('n1');
    expect(byPod.get('default/preemptor')?.preempted.sort()).toEqual(['default/low-n1-a', 'default/low-n1-b']);
    expect(byPod.get('default/never-preempts')?.node).toBeNull();
    expect(byPod.get('default/never-preempts')?.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    );
  });
});

describe('volume limits', () => {
  it('CSINode counts limit the volumes per node; provisioned CSI volumes count once bound', async () => {
    const claim = (name: string) => `
---
kind: PersistentVolumeClaim
metadata: {name: ${name}, namespace: default}
spec: {storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}`;
    const pod = (name: string, second: number) => `
---
kind: Pod
metadata: {name: ${name}, namespace: default, creationTimestamp: "2026-01-01T00:00:0${second}Z"}
spec:
  containers: [{name: c, image: x, resources: {requests: {cpu: "1"}}}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: ${name}}}]`;
    const node = (name: string) => `
---
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
kind: CSINode
metadata: {name: ${name}}
spec: {drivers: [{name: csi.example.com, nodeID: ${name}, allocatable: {count: 1}}]}`;
    const snap = snapshotOf(`
kind: StorageClass
metadata: {name: fast}
provisioner: csi.example.com
volumeBindingMode: WaitForFirstConsumer${node('n1')}${node('n2')}${claim('a')}${claim('b')}${claim('c')}${pod('a', 1)}${pod('b', 2)}${pod('c', 3)}`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const byPod = new Map(result.decisions.map((d) => [d.pod, d]));
    expect(new Set([byPod.get('default/a')?.node, byPod.get('default/b')?.node])).toEqual(new Set(['n1', 'n2']));
    expect(byPod.get('default/c')?.node).toBeNull();
    expect(byPod.get('default/c')?.message).toBe(
      '0/2 nodes are available: 2 node(s) exceed max volume count. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
  });
});

describe('ReadWriteOncePod through preemption', () => {
  it('a higher-priority pod preempts the pod holding its ReadWriteOncePod claim', async () => {
    const snap = snapshotOf(`
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default, annotations: {pv.kubernetes.io/bind-completed: "yes"}}
spec: {volumeName: pv-data, accessModes: [ReadWriteOncePod], resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
kind: PersistentVolume
metadata: {name: pv-data}
spec:
  accessModes: [ReadWriteOncePod]
  capacity: {storage: 1Gi}
  claimRef: {namespace: default, name: data}
  csi: {driver: csi.example.com, volumeHandle: data}
status: {phase: Bound}
---
kind: Pod
metadata: {name: holder, namespace: default}
spec:
  nodeName: n1
  priority: 10
  containers: [{name: c, image: x, resources: {requests: {cpu: "1"}}}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
---
kind: Pod
metadata: {name: taker, namespace: default}
spec:
  priority: 1000
  containers: [{name: c, image: x, resources: {requests: {cpu: "1"}}}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    const taker = result.decisions.find((d) => d.pod === 'default/taker');
    expect(taker?.preempted).toEqual(['default/holder']);
    expect(taker?.node).toBe('n1');
  });
});
