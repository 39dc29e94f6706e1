import { describe, expect, it } from 'vitest';
import type { ContainerPort } from '../../../src/kube/api.js';
import { NodeInfo, NodeInfoError } from '../../../src/scheduler/cache/nodeInfo.js';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { makeNode, makePod, podInfo } from '../../helpers/builders.js';

const Mi = 1024 * 1024;

function portPod(name: string, ports: ContainerPort[]): PodInfo {
  return new PodInfo(
    makePod(name, { containers: [{ name: 'c', image: 'pause', ports, resources: { requests: { cpu: '10m' } } }] }),
  );
}

describe('NodeInfo', () => {
  it('parses allocatable, labels, taints and images', () => {
    const n = new NodeInfo(
      makeNode('n1', {
        cpu: '3500m',
        memory: '8Gi',
        pods: '20',
        extra: { 'nvidia.com/gpu': '2' },
        labels: { zone: 'a' },
        taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
        unschedulable: true,
        images: [{ names: ['nginx', 'docker.io/library/nginx:1.27'], sizeBytes: 100 }],
      }),
    );
    expect(n.allocatable.milliCpu).toBe(3500);
    expect(n.allocatable.memory).toBe(8 * 1024 * Mi);
    expect(n.allocatable.allowedPodNumber).toBe(20);
    expect(n.allocatable.get('nvidia.com/gpu')).toBe(2);
    expect(n.labels.zone).toBe('a');
    expect(n.taints).toHaveLength(1);
    expect(n.unschedulable).toBe(true);
    expect([...n.images.keys()].sort()).toEqual(['docker.io/library/nginx:1.27', 'nginx:latest']);
  });

  it('rejects malformed nodes naming the field', () => {
    expect(() => new NodeInfo({ metadata: {} })).toThrow(NodeInfoError);
    expect(() => new NodeInfo(makeNode('n', { cpu: 'four' }))).toThrow(/status\.allocatable\.cpu/);
  });

  it('accounts pods incrementally: add and remove restore the totals', () => {
    const n = new NodeInfo(makeNode('n1'));
    const a = podInfo('a', { cpu: '100m', memory: '100Mi', requests: { 'example.com/x': '1' } });
    const b = podInfo('b'); // no requests: non-zero defaults
    n.addPod(a);
    n.addPod(b);
    expect(n.requested.milliCpu).toBe(100);
    expect(n.requested.memory).toBe(100 * Mi);
    expect(n.requested.get('example.com/x')).toBe(1);
    expect(n.nonZeroRequested.milliCpu).toBe(200);
    expect(n.nonZeroRequested.memory).toBe(300 * Mi);
    expect(n.pods.map((p) => p.name)).toEqual(['a', 'b']);

    expect(n.removePod(a)).toBe(true);
    expect(n.requested.milliCpu).toBe(0);
    expect(n.requested.get('example.com/x')).toBe(0);
    expect(n.nonZeroRequested.milliCpu).toBe(100);
    expect(n.pods.map((p) => p.name)).toEqual(['b']);
    expect(n.removePod(a)).toBe(false);
    expect(n.removePod(b)).toBe(true);
    expect(n.nonZeroRequested.milliCpu).toBe(0);
    expect(n.nonZeroRequested.memory).toBe(0);
    expect(n.pods).toHaveLength(0);
  });

  it('removes by uid, using the accounted copy', () => {
    const n = new NodeInfo(makeNode('n1'));
    const original = new PodInfo(makePod('a', { uid: 'u1', cpu: '500m' }));
    n.addPod(original);
    // An updated object for the same uid with different requests: removal subtracts what was added.
    n.removePod(new PodInfo(makePod('a', { uid: 'u1', cpu: '2' })));
    expect(n.requested.milliCpu).toBe(0);
  });

  it('tracks pods with (anti-)affinity', () => {
    const n = new NodeInfo(makeNode('n1'));
    const term = { labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' };
    const anti = new PodInfo(makePod('anti', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } }));
    const aff = new PodInfo(
      makePod('aff', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: term }] } } } }),
    );
    const plain = podInfo('plain');
    n.addPod(anti);
    n.addPod(aff);
    n.addPod(plain);
    expect(n.podsWithAffinity.map((p) => p.name).sort()).toEqual(['aff', 'anti']);
    expect(n.podsWithRequiredAntiAffinity.map((p) => p.name)).toEqual(['anti']);
    n.removePod(anti);
    expect(n.podsWithAffinity.map((p) => p.name)).toEqual(['aff']);
    expect(n.podsWithRequiredAntiAffinity).toHaveLength(0);
  });

  it('setNode keeps the pods accounted', () => {
    const n = new NodeInfo(makeNode('n1', { cpu: '4' }));
    n.addPod(podInfo('a', { cpu: '1' }));
    n.setNode(makeNode('n1', { cpu: '8', labels: { x: 'y' } }));
    expect(n.allocatable.milliCpu).toBe(8000);
    expect(n.requested.milliCpu).toBe(1000);
    expect(n.labels.x).toBe('y');
  });
});

describe('NodeInfo host ports', () => {
  const want = (hostPort: number, hostIP = '0.0.0.0', protocol = 'TCP') => ({ hostPort, hostIP, protocol });

  it('0.0.0.0 on the node conflicts with any IP, same protocol and port only', () => {
    const n = new NodeInfo(makeNode('n1'));
    n.addPod(portPod('a', [{ containerPort: 80, hostPort: 8080 }]));
    expect(n.hasPortConflict(want(8080))).toBe(true);
    expect(n.hasPortConflict(want(8080, '10.0.0.1'))).toBe(true);
    expect(n.hasPortConflict(want(8080, '0.0.0.0', 'UDP'))).toBe(false);
    expect(n.hasPortConflict(want(8081))).toBe(false);
  });

  it('a specific IP conflicts with the same IP or a wildcard request, not another IP', () => {
    const n = new NodeInfo(makeNode('n1'));
    n.addPod(portPod('a', [{ containerPort: 53, hostPort: 53, hostIP: '10.0.0.1', protocol: 'UDP' }]));
    expect(n.hasPortConflict(want(53, '10.0.0.1', 'UDP'))).toBe(true);
    expect(n.hasPortConflict(want(53, '0.0.0.0', 'UDP'))).toBe(true);
    expect(n.hasPortConflict(want(53, '10.0.0.2', 'UDP'))).toBe(false);
    expect(n.hasPortConflict(want(53, '10.0.0.1', 'TCP'))).toBe(false);
    expect(n.hasPortConflict(want(53, '10.0.0.1', 'SCTP'))).toBe(false);
  });

  it('ports without hostPort are not host ports; protocol defaults to TCP', () => {
    const p = portPod('a', [{ containerPort: 80 }, { containerPort: 81, hostPort: 0 }, { containerPort: 82, hostPort: 9000 }]);
    expect(p.hostPorts).toEqual([{ protocol: 'TCP', hostIP: '0.0.0.0', hostPort: 9000 }]);
  });

  it('an empty hostIP means all addresses (upstream sanitizes "" to 0.0.0.0)', () => {
    const p = portPod('a', [{ containerPort: 80, hostPort: 8080, hostIP: '' }]);
    expect(p.hostPorts).toEqual([{ protocol: 'TCP', hostIP: '0.0.0.0', hostPort: 8080 }]);
    const n = new NodeInfo(makeNode('n1'));
    n.addPod(p);
    expect(n.hasPortConflict(want(8080, '10.0.0.1'))).toBe(true);
  });

  it('ports are reference-counted: removing one of two holders keeps the port used', () => {
    const n = new NodeInfo(makeNode('n1'));
    const a = portPod('a', [{ containerPort: 80, hostPort: 80 }]);
    const b = portPod('b', [{ containerPort: 80, hostPort: 80 }]);
    n.addPod(a);
    n.addPod(b);
    n.removePod(a);
    expect(n.hasPortConflict(want(80))).toBe(true);
    n.removePod(b);
    expect(n.hasPortConflict(want(80))).toBe(false);
    expect(n.hasPortConflict(want(80, '1.2.3.4'))).toBe(false);
  });

  it('sidecar host ports count, ordinary init container ports do not', () => {
    const p = new PodInfo(
      makePod('a', {
        spec: {
          initContainers: [
            { name: 'init', image: 'x', ports: [{ containerPort: 1, hostPort: 7001 }] },
            { name: 'side', image: 'x', restartPolicy: 'Always', ports: [{ containerPort: 2, hostPort: 7002 }] },
          ],
        },
      }),
    );
    expect(p.hostPorts.map((h) => h.hostPort)).toEqual([7002]);
  });
});
