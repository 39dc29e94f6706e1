import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../src/kube/api.js';
import {
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  isExtendedResourceName,
  isScalarResourceName,
  parseResourceMap,
  Resource,
  ResourceParseError,
} from '../../src/kube/resources.js';
import { computePodRequests } from '../../src/kube/podRequests.js';
import { makePod } from '../helpers/builders.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function c(name: string, requests?: Record<string, string>, limits?: Record<string, string>, extra: Partial<Container> = {}): Container {
  const resources: Container['resources'] = {};
  if (requests) resources.requests = requests;
  if (limits) resources.limits = limits;
  return { name, image: 'pause', resources, ...extra };
}

function sidecar(name: string, requests?: Record<string, string>): Container {
  return c(name, requests, undefined, { restartPolicy: 'Always' });
}

function pod(containers: Container[], initContainers: Container[] = [], overhead?: Record<string, string>): Pod {
  return makePod('p', { containers, spec: { initContainers, ...(overhead ? { overhead } : {}) } });
}

describe('computePodRequests', () => {
  it('sums regular containers', () => {
    const { requests, nonZero } = computePodRequests(
      pod([c('a', { cpu: '100m', memory: '100Mi' }), c('b', { cpu: '250m', memory: '1Gi', 'ephemeral-storage': '1Gi' })]),
    );
    expect(requests.milliCpu).toBe(350);
    expect(requests.memory).toBe(100 * Mi + Gi);
    expect(requests.ephemeralStorage).toBe(Gi);
    expect(nonZero.milliCpu).toBe(350);
    expect(nonZero.memory).toBe(100 * Mi + Gi);
  });

  it('init containers: max(sum of containers, largest init container), per resource', () => {
    const { requests } = computePodRequests(
      pod(
        [c('a', { cpu: '100m', memory: '1Gi' }), c('b', { cpu: '100m', memory: '1Gi' })],
        [c('i1', { cpu: '1', memory: '100Mi' }), c('i2', { cpu: '500m', memory: '3Gi' })],
      ),
    );
    expect(requests.milliCpu).toBe(1000); // init i1 wins on cpu
    expect(requests.memory).toBe(3 * Gi); // init i2 wins on memory
  });

  it('init containers do not add up', () => {
    const { requests } = computePodRequests(pod([c('a', { cpu: '100m' })], [c('i1', { cpu: '300m' }), c('i2', { cpu: '300m' })]));
    expect(requests.milliCpu).toBe(300);
  });

  it('sidecars run with the regular containers and beside later init containers', () => {
    // s1 (200m) before i1 (1): i1 runs beside s1 → 1200; s2 (300m) before i2 (600m): i2 runs beside s1+s2 → 1100.
    // Regular phase: 100 + 200 + 300 = 600. Max = 1200.
    const { requests } = computePodRequests(
      pod([c('c', { cpu: '100m' })], [sidecar('s1', { cpu: '200m' }), c('i1', { cpu: '1' }), sidecar('s2', { cpu: '300m' }), c('i2', { cpu: '600m' })]),
    );
    expect(requests.milliCpu).toBe(1200);
  });

  it('a sidecar declared after an init container does not run beside it', () => {
    // i1 (1) runs alone (1000); s1 declared after → regular phase 100 + 500 = 600.
    const after = computePodRequests(pod([c('c', { cpu: '100m' })], [c('i1', { cpu: '1' }), sidecar('s1', { cpu: '500m' })]));
    expect(after.requests.milliCpu).toBe(1000);
    // Same containers, sidecar first: i1 runs beside s1 → 1500.
    const before = computePodRequests(pod([c('c', { cpu: '100m' })], [sidecar('s1', { cpu: '500m' }), c('i1', { cpu: '1' })]));
    expect(before.requests.milliCpu).toBe(1500);
  });

  it('sidecars alone make the regular phase the maximum', () => {
    const { requests } = computePodRequests(
      pod([c('c', { cpu: '1', memory: '1Gi' })], [sidecar('s1', { cpu: '200m', memory: '64Mi' }), c('i', { cpu: '100m', memory: '10Mi' })]),
    );
    expect(requests.milliCpu).toBe(1200);
    expect(requests.memory).toBe(Gi + 64 * Mi);
  });

  it('adds spec.overhead on top of the max, to requests and non-zero requests', () => {
    const { requests, nonZero } = computePodRequests(
      pod([c('a', { cpu: '100m', memory: '100Mi' })], [c('i', { cpu: '1', memory: '10Mi' })], { cpu: '250m', memory: '120Mi', 'example.com/foo': '1' }),
    );
    expect(requests.milliCpu).toBe(1250);
    expect(requests.memory).toBe(220 * Mi);
    expect(requests.get('example.com/foo')).toBe(1);
    expect(nonZero.milliCpu).toBe(1250);
    expect(nonZero.memory).toBe(220 * Mi);
  });

  it('extended resources, hugepages and attachable volumes are scalar; unknown plain names are ignored', () => {
    const { requests, nonZero } = computePodRequests(
      pod([
        c('a', { 'nvidia.com/gpu': '2', 'hugepages-2Mi': '4Mi', 'attachable-volumes-aws-ebs': '1', bogus: '5' }),
        c('b', { 'nvidia.com/gpu': '1' }),
      ]),
    );
    expect(requests.get('nvidia.com/gpu')).toBe(3);
    expect(requests.get('hugepages-2Mi')).toBe(4 * Mi);
    expect(requests.get('attachable-volumes-aws-ebs')).toBe(1);
    expect(requests.get('bogus')).toBe(0);
    expect(requests.names()).toEqual(['nvidia.com/gpu', 'hugepages-2Mi', 'attachable-volumes-aws-ebs']);
    expect(nonZero.scalar).toBeNull();
  });

  it('init containers take the max for extended resources too', () => {
    const { requests } = computePodRequests(pod([c('a', { 'example.com/dev': '1' })], [c('i', { 'example.com/dev': '4' })]));
    expect(requests.get('example.com/dev')).toBe(4);
  });

  it('limits-only containers request their limits (API-server defaulting), per resource', () => {
    const { requests, nonZero } = computePodRequests(
      pod([c('a', undefined, { cpu: '2', memory: '1Gi' }), c('b', { cpu: '100m' }, { cpu: '500m', memory: '256Mi' })]),
    );
    expect(requests.milliCpu).toBe(2100); // b keeps its explicit 100m request
    expect(requests.memory).toBe(Gi + 256 * Mi); // b's memory defaults to its limit
    expect(nonZero.milliCpu).toBe(2100);
    expect(nonZero.memory).toBe(Gi + 256 * Mi);
  });

  it('non-zero defaults: 100m / 200Mi for a container naming no request', () => {
    const { requests, nonZero } = computePodRequests(pod([c('a'), c('b', { cpu: '300m' })]));
    expect(requests.milliCpu).toBe(300);
    expect(requests.memory).toBe(0);
    expect(nonZero.milliCpu).toBe(300 + DEFAULT_MILLI_CPU_REQUEST);
    expect(nonZero.memory).toBe(2 * DEFAULT_MEMORY_REQUEST);
    expect(DEFAULT_MILLI_CPU_REQUEST).toBe(100);
    expect(DEFAULT_MEMORY_REQUEST).toBe(200 * Mi);
  });

  it('non-zero defaults are not applied to an explicit zero request', () => {
    const { nonZero } = computePodRequests(pod([c('a', { cpu: '0', memory: '0' }), c('b', { cpu: '0' })]));
    expect(nonZero.milliCpu).toBe(0);
    expect(nonZero.memory).toBe(DEFAULT_MEMORY_REQUEST); // b names no memory
  });

  it('non-zero defaults apply to init containers and sidecars too', () => {
    const { nonZero, requests } = computePodRequests(pod([c('a', { cpu: '50m', memory: '10Mi' })], [c('i')]));
    expect(requests.milliCpu).toBe(50);
    expect(nonZero.milliCpu).toBe(100);
    expect(nonZero.memory).toBe(200 * Mi);
    const withSidecar = computePodRequests(pod([c('a', { cpu: '50m', memory: '10Mi' })], [sidecar('s')]));
    expect(withSidecar.requests.milliCpu).toBe(50);
    expect(withSidecar.nonZero.milliCpu).toBe(150);
    expect(withSidecar.nonZero.memory).toBe(210 * Mi);
  });

  it('a pod without containers requests nothing', () => {
    const { requests, nonZero } = computePodRequests({ metadata: { name: 'x' }, spec: {} } as Pod);
    expect(requests.names()).toEqual([]);
    expect(nonZero.milliCpu).toBe(0);
  });

  it('malformed quantities name the field', () => {
    expect(() => computePodRequests(pod([c('a'), c('b', { cpu: 'lots' })]))).toThrow(ResourceParseError);
    try {
      computePodRequests(pod([c('a'), c('b', { cpu: 'lots' })]));
    } catch (err) {
      expect((err as ResourceParseError).field).toBe('spec.containers[1].resources.requests.cpu');
    }
  });
});

describe('Resource', () => {
  it('accumulates, subtracts, maxes and clones including scalars', () => {
    const a = parseResourceMap({ cpu: '1', memory: '1Gi', pods: '3', 'example.com/x': '2' }, 'a');
    const b = parseResourceMap({ cpu: '500m', 'example.com/x': '5', 'example.com/y': '1' }, 'b');
    const sum = a.clone();
    sum.accumulate(b, 1);
    expect([sum.milliCpu, sum.memory, sum.allowedPodNumber, sum.get('example.com/x'), sum.get('example.com/y')]).toEqual([1500, Gi, 3, 7, 1]);
    sum.accumulate(b, -1);
    expect([sum.milliCpu, sum.get('example.com/x'), sum.get('example.com/y')]).toEqual([1000, 2, 0]);
    expect(a.milliCpu).toBe(1000); // clone is independent
    const m = a.clone();
    m.maxWith(b);
    expect([m.milliCpu, m.get('example.com/x'), m.get('example.com/y')]).toEqual([1000, 5, 1]);
    expect(new Resource().get('nothing')).toBe(0);
  });

  it('classifies resource names as upstream', () => {
    expect(isExtendedResourceName('nvidia.com/gpu')).toBe(true);
    expect(isExtendedResourceName('kubernetes.io/foo')).toBe(false);
    expect(isExtendedResourceName('node.kubernetes.io/foo')).toBe(false);
    expect(isExtendedResourceName('requests.example.com/x')).toBe(false);
    expect(isExtendedResourceName('cpu')).toBe(false);
    expect(isScalarResourceName('hugepages-1Gi')).toBe(true);
    expect(isScalarResourceName('attachable-volumes-csi-x')).toBe(true);
    expect(isScalarResourceName('memory')).toBe(false);
  });
});
