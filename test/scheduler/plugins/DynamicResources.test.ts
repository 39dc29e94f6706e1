import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { CycleState, Code } from '../../../src/scheduler/framework/types.js';
import { descriptor, ERR_REASON_UNSUPPORTED, NAME } from '../../../src/scheduler/plugins/DynamicResources.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, parseSnapshotText } from '../../../src/adapters/simulator/snapshot.js';
import { createPlugin, emptyProfile, makeCluster, podInfo, makeHandle } from '../../helpers/builders.js';

const NODES = `
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
kind: Node
metadata: {name: n2}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
`;

async function messageFor(podYaml: string): Promise<string | null> {
  const snap = buildSnapshot(parseSnapshotText(`${NODES}---\n${podYaml}`, 'snap.yaml'));
  const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
  return result.decisions[0]?.message ?? null;
}

describe('DynamicResources (v1.37 default plugin, pods without claims)', () => {
  const plugin = createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile()));

  it('skips pods without claims at PreFilter and scores 0', async () => {
    const state = new CycleState();
    const p = podInfo('p');
    expect(plugin.name).toBe(NAME);
    const pre = (plugin as unknown as { preFilter(s: CycleState, p: unknown): { code: Code } }).preFilter(state, p);
    expect(pre.code).toBe(Code.Skip);
  });

  it('lets preemption run when its PreFilter ran (message ends with the preemption part)', async () => {
    const msg = await messageFor('kind: Pod\nmetadata: {name: big, namespace: default}\nspec:\n  containers: [{name: c, image: x, resources: {requests: {cpu: "2"}}}]\n');
    expect(msg).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('an earlier PreFilter rejection leaves its state unwritten: PostFilter errors "not found" and preemption does not run', async () => {
    const msg = await messageFor(
      'kind: Pod\nmetadata: {name: claim, namespace: default}\nspec:\n  containers: [{name: c, image: x}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: missing}}]\n',
    );
    expect(msg).toBe('0/2 nodes are available: persistentvolumeclaim "missing" not found. not found');
  });

  it('refuses pods that reference ResourceClaims', async () => {
    const msg = await messageFor(
      'kind: Pod\nmetadata: {name: gpu, namespace: default}\nspec:\n  containers: [{name: c, image: x}]\n  resourceClaims: [{name: gpu, resourceClaimTemplateName: gpu}]\n',
    );
    expect(msg).toContain(ERR_REASON_UNSUPPORTED);
  });
});
