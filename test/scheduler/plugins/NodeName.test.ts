import { describe, expect, it } from 'vitest';
import { Code, CycleState } from '../../../src/scheduler/framework/types.js';
import { NodeInfo } from '../../../src/scheduler/cache/nodeInfo.js';
import { descriptor, NAME, NodeName } from '../../../src/scheduler/plugins/NodeName.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, podInfo, makeHandle } from '../../helpers/builders.js';

const plugin = new NodeName();
const state = new CycleState();

describe('NodeName', () => {
  it('factory and name', () => {
    expect(NAME).toBe('NodeName');
    expect(createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile())).name).toBe('NodeName');
  });

  it('a pod without spec.nodeName fits every node', () => {
    expect(plugin.filter(state, podInfo('p'), new NodeInfo(makeNode('a')))).toBeNull();
  });

  it('a pod naming the node fits it', () => {
    expect(plugin.filter(state, podInfo('p', { nodeName: 'a' }), new NodeInfo(makeNode('a')))).toBeNull();
  });

  it('a pod naming another node is rejected, UnschedulableAndUnresolvable', () => {
    const s = plugin.filter(state, podInfo('p', { nodeName: 'b' }), new NodeInfo(makeNode('a')));
    expect(s?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(s?.message).toBe("node(s) didn't match the requested node name");
  });
});
