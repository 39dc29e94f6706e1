import { describe, expect, it } from 'vitest';
import type { ContainerPort } from '../../../src/kube/api.js';
import { Code, CycleState, SKIP } from '../../../src/scheduler/framework/types.js';
import { descriptor, NAME, NodePorts } from '../../../src/scheduler/plugins/NodePorts.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, makePod, podInfo, makeHandle } from '../../helpers/builders.js';

function withPorts(name: string, ports: ContainerPort[], nodeName?: string) {
  return makePod(name, { nodeName, containers: [{ name: 'c', image: 'x', ports }] });
}

const cluster = makeCluster(
  [makeNode('a'), makeNode('b'), makeNode('c')],
  [
    withPorts('held-a', [{ containerPort: 80, hostPort: 8080 }], 'a'),
    withPorts('held-b', [{ containerPort: 80, hostPort: 9090, hostIP: '10.0.0.1', protocol: 'TCP' }], 'b'),
    withPorts('held-c', [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }], 'c'),
  ],
);
const [a, b, c] = ['a', 'b', 'c'].map((n) => cluster.getNode(n)!);
const plugin = new NodePorts();

function check(ports: ContainerPort[]) {
  const state = new CycleState();
  const p = podInfo('p', { containers: [{ name: 'c', image: 'x', ports }] });
  const pre = plugin.preFilter(state, p);
  if (pre === SKIP) return 'skip';
  return [a, b, c].map((n) => plugin.filter(state, p, n!)?.message ?? 'ok');
}

const CONFLICT = "node(s) didn't have free ports for the requested pod ports";

describe('NodePorts', () => {
  it('factory and name', () => {
    expect(NAME).toBe('NodePorts');
    expect(createPlugin(descriptor, makeHandle(cluster, emptyProfile())).name).toBe('NodePorts');
  });

  it('skips pods without host ports', () => {
    expect(check([{ containerPort: 80 }])).toBe('skip');
  });

  it('same protocol and port on 0.0.0.0 conflicts', () => {
    expect(check([{ containerPort: 1, hostPort: 8080 }])).toEqual([CONFLICT, 'ok', 'ok']);
  });

  it('rejection is Unschedulable (preemption may help)', () => {
    const state = new CycleState();
    const p = podInfo('p', { containers: [{ name: 'c', image: 'x', ports: [{ hostPort: 8080 }] }] });
    plugin.preFilter(state, p);
    expect(plugin.filter(state, p, a!)?.code).toBe(Code.Unschedulable);
  });

  it('specific IPs conflict only with the same IP or a wildcard', () => {
    expect(check([{ hostPort: 9090, hostIP: '10.0.0.2' }])).toEqual(['ok', 'ok', 'ok']);
    expect(check([{ hostPort: 9090, hostIP: '10.0.0.1' }])).toEqual(['ok', CONFLICT, 'ok']);
    expect(check([{ hostPort: 9090 }])).toEqual(['ok', CONFLICT, 'ok']);
    expect(check([{ hostPort: 8080, hostIP: '10.0.0.9' }])).toEqual([CONFLICT, 'ok', 'ok']);
  });

  it('protocol matters; empty protocol and host IP mean TCP and 0.0.0.0', () => {
    expect(check([{ hostPort: 8080, protocol: 'UDP' }])).toEqual(['ok', 'ok', 'ok']);
    expect(check([{ hostPort: 53, protocol: 'UDP' }])).toEqual(['ok', 'ok', CONFLICT]);
    expect(check([{ hostPort: 53 }])).toEqual(['ok', 'ok', 'ok']);
    expect(check([{ hostPort: 8080, protocol: '', hostIP: '' }])).toEqual([CONFLICT, 'ok', 'ok']);
  });
});
