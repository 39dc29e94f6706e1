import { describe, expect, it } from 'vitest';
import { describeValue, formatPath, validateObject } from '../../src/kube/validate.js';

const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'x' }], ...spec },
  ...extra,
});

function issues(kind: string, obj: unknown): string[] {
  return validateObject(kind, obj).map((i) => `${formatPath(i.path)}: ${i.message}`);
}

describe('validateObject: the API server\'s schema for the fields berth reads', () => {
  it('accepts a valid pod, unknown fields included (kubectl prints many)', () => {
    expect(issues('Pod', pod({ tolerations: [{ key: 'k', operator: 'Exists' }], someFutureField: { x: 1 } }, { status: { phase: 'Pending' } }))).toEqual([]);
  });

  it('reports wrong types with the field path and what was found', () => {
    expect(issues('Pod', pod({ tolerations: 'x', priority: 'high', nodeName: 5, schedulerName: true }))).toEqual([
      'spec.nodeName: expected a string, got 5 (a number)',
      'spec.priority: expected an integer, got "high" (a string)',
      'spec.schedulerName: expected a string, got true (a boolean)',
      'spec.tolerations: expected an array, got "x" (a string)',
    ]);
  });

  it('treats null fields as absent (Go\'s decoding) but refuses null list items and map values', () => {
    const p = pod({ nodeSelector: null, tolerations: [null], containers: [{ name: 'c', resources: { requests: { cpu: null } } }] }, { metadata: { name: 'p', creationTimestamp: null } });
    expect(issues('Pod', p)).toEqual([
      'spec.containers[0].resources.requests.cpu: expected a quantity, got null',
      'spec.tolerations[0]: expected a mapping, got null',
    ]);
    expect((p['spec'] as Record<string, unknown>)['nodeSelector']).toBeUndefined();
  });

  it('refuses negative requests, limits, overhead and capacities, and fractions of integer resources', () => {
    const p = pod({ overhead: { cpu: '-1' }, containers: [{ name: 'c', resources: { requests: { cpu: '-8', 'nvidia.com/gpu': '0.5' }, limits: { memory: '-1Gi' } } }] });
    expect(issues('Pod', p)).toEqual([
      'spec.containers[0].resources.limits.memory: "-1Gi" must be greater than or equal to 0',
      'spec.containers[0].resources.requests.cpu: "-8" must be greater than or equal to 0',
      'spec.containers[0].resources.requests["nvidia.com/gpu"]: "0.5" must be an integer',
      'spec.overhead.cpu: "-1" must be greater than or equal to 0',
    ]);
    expect(issues('Node', { metadata: { name: 'n' }, status: { allocatable: { cpu: '-4', pods: '1.5' } } })).toEqual([
      'status.allocatable.cpu: "-4" must be greater than or equal to 0',
      'status.allocatable.pods: "1.5" must be an integer',
    ]);
    expect(issues('PersistentVolume', { metadata: { name: 'v' }, spec: { capacity: { storage: '0' } } })).toEqual([
      'spec.capacity.storage: "0" must be greater than zero',
    ]);
  });

  it('refuses values the API server\'s validation refuses (operators, effects, policies)', () => {
    const p = pod({ tolerations: [{ operator: 'Exist' }], preemptionPolicy: 'Sometimes' });
    expect(issues('Pod', p)).toEqual([
      'spec.preemptionPolicy: unsupported value "Sometimes" (a string)',
      'spec.tolerations[0].operator: unsupported value "Exist" (a string)',
    ]);
    expect(issues('Node', { metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'NoScheduel' }] }, status: { capacity: {} } })).toEqual([
      'spec.taints[0].effect: unsupported value "NoScheduel" (a string)',
    ]);
  });

  it('requires what the API server requires among the fields berth reads', () => {
    expect(issues('Pod', { kind: 'Pod', spec: { containers: [{ name: 'c' }] } })).toEqual(['metadata: is required']);
    expect(issues('Pod', { kind: 'Pod', metadata: {} })).toEqual(['metadata.name: is required']);
    expect(issues('Node', { metadata: { name: 'n' }, spec: { taints: [{ effect: 'NoSchedule' }] } })).toEqual(['spec.taints[0].key: is required']);
  });

  it('checks integer widths, times and quantities', () => {
    const p = pod({ priority: 2 ** 31, containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 1.5 }] }] }, { status: { startTime: 'yesterday' } });
    expect(issues('Pod', p)).toEqual([
      'spec.containers[0].ports[0].hostPort: expected an integer, got 1.5 (a number)',
      'spec.priority: 2147483648 is out of range',
      'status.startTime: expected an RFC 3339 time, got "yesterday" (a string)',
    ]);
  });

  it('leaves kinds berth does not read alone', () => {
    expect(issues('Deployment', { spec: 'anything' })).toEqual([]);
  });
});

describe('messages', () => {
  it('quote at most 80 characters of a value', () => {
    const long = 'x'.repeat(10_000);
    const text = describeValue(long);
    expect(text.length).toBeLessThan(100);
    expect(text).toContain('…');
    expect(issues('Pod', pod({ nodeName: 5, containers: [{ name: 'c', resources: { requests: { cpu: long } } }] })).join('\n').length).toBeLessThan(300);
  });

  it('paths quote map keys that are not plain names', () => {
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath(['spec', 'containers', 0, 'image'])).toBe('spec.containers[0].image');
  });
});
