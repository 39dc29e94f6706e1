import { describe, expect, it } from 'vitest';
import { Code, CycleState } from '../../../src/scheduler/framework/types.js';
import { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import { descriptor, NAME, NodeUnschedulable } from '../../../src/scheduler/plugins/NodeUnschedulable.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, podInfo, makeHandle } from '../../helpers/builders.js';

const plugin = new NodeUnschedulable();
const state = new CycleState();

describe('NodeUnschedulable', () => {
  it('factory and name', () => {
    expect(NAME).toBe('NodeUnschedulable');
    expect(createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile())).name).toBe('NodeUnschedulable');
  });

  it('passes a schedulable node', () => {
    expect(plugin.filter(state, podInfo('p'), new NodeInfo(makeNode('n')))).toBeNull();
  });

  it('rejects a cordoned node, UnschedulableAndUnresolvable', () => {
    const s = plugin.filter(state, podInfo('p'), new NodeInfo(makeNode('n', { unschedulable: true })));
    expect(s?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(s?.reasons).toEqual(['node(s) were unschedulable']);
  });

  it('admits a pod tolerating node.kubernetes.io/unschedulable:NoSchedule', () => {
    const node = new NodeInfo(makeNode('n', { unschedulable: true }));
    const tolerant = podInfo('p', {
      spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] },
    });
    expect(plugin.filter(state, tolerant, node)).toBeNull();
    const all = podInfo('q', { spec: { tolerations: [{ operator: 'Exists' }] } });
    expect(plugin.filter(state, all, node)).toBeNull();
  });

  it('a toleration for another effect does not help', () => {
    const node = new NodeInfo(makeNode('n', { unschedulable: true }));
    const p = podInfo('p', {
      spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] },
    });
    expect(plugin.filter(state, p, node)?.code).toBe(Code.UnschedulableAndUnresolvable);
  });
});
