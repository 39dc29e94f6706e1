/** The structured allocator on one node: counts, all, selectors, constraints, firstAvailable, taints, counters, capacity. */
import { describe, expect, it } from 'vitest';
import type { DeviceClass, ResourceClaim, ResourceSlice, Device } from '../../../../src/kube/resource.js';
import { Allocator, type AllocatedState } from '../../../../src/scheduler/plugins/dynamicResources/allocator.js';
import { SelectorCompiler } from '../../../../src/scheduler/plugins/dynamicResources/cel.js';

const DRIVER = 'gpu.example.com';
const gpuClass: DeviceClass = { metadata: { name: 'gpu' }, spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] } };

function gpus(n: number, extra: (i: number) => Partial<Device> = () => ({})): Device[] {
  return Array.from({ length: n }, (_, i) => ({ name: `gpu-${i}`, attributes: { index: { int: i } }, capacity: { memory: { value: '40Gi' } }, ...extra(i) }));
}

function slice(node: string, devices: Device[], extra: Partial<NonNullable<ResourceSlice['spec']>> = {}): ResourceSlice {
  return { metadata: { name: `${node}-gpus` }, spec: { driver: DRIVER, pool: { name: node, generation: 1, resourceSliceCount: 1 }, nodeName: node, devices, ...extra } };
}

function claim(requests: NonNullable<NonNullable<ResourceClaim['spec']>['devices']>): ResourceClaim {
  return { metadata: { name: 'c', namespace: 'default', uid: 'c-uid' }, spec: { devices: requests } };
}

const NONE: AllocatedState = { devices: new Set(), shared: new Set(), capacity: new Map() };

function allocator(slices: ResourceSlice[], allocated: AllocatedState = NONE): Allocator {
  let n = 0;
  return new Allocator({ classes: (name) => (name === 'gpu' ? gpuClass : undefined), slices, allocated, compiler: new SelectorCompiler(), newShareId: () => `share-${++n}` });
}

const node = { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } };

function devicesOf(outcome: ReturnType<Allocator['allocate']>): string[] {
  if (!('results' in outcome)) return [];
  return outcome.results.flatMap((r) => (r.devices?.results ?? []).map((d) => `${d.request}:${d.device}`));
}

describe('Allocator', () => {
  it('allocates the first free devices in order and pins node-local results to the node', () => {
    const out = allocator([slice('n1', gpus(4))], { ...NONE, devices: new Set([`${DRIVER}/n1/gpu-0`]) }).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', count: 2 } }] })]);
    expect(devicesOf(out)).toEqual(['r:gpu-1', 'r:gpu-2']);
    expect('results' in out && out.results[0]?.nodeSelector).toEqual({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
  });

  it('answers none when there are not enough devices, and ignores slices of other nodes', () => {
    const out = allocator([slice('n1', gpus(1)), slice('n2', gpus(4))]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', count: 2 } }] })]);
    expect(out).toEqual({ none: true });
  });

  it('allocationMode All takes every matching device', () => {
    const out = allocator([slice('n1', gpus(3))]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', allocationMode: 'All' } }] })]);
    expect(devicesOf(out)).toEqual(['r:gpu-0', 'r:gpu-1', 'r:gpu-2']);
  });

  it('request selectors on attributes and capacity', () => {
    const devices = gpus(3, (i) => ({ capacity: { memory: { value: i === 2 ? '80Gi' : '40Gi' } } }));
    const out = allocator([slice('n1', devices)]).allocate(node, [
      claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', selectors: [{ cel: { expression: `device.capacity["${DRIVER}"].memory.compareTo(quantity("64Gi")) >= 0` } }] } }] }),
    ]);
    expect(devicesOf(out)).toEqual(['r:gpu-2']);
  });

  it('matchAttribute keeps all devices on one value, backtracking past a first choice that cannot be completed', () => {
    const devices = gpus(4, (i) => ({ attributes: { numa: { int: i === 0 ? 0 : 1 } } }));
    const out = allocator([slice('n1', devices)]).allocate(node, [
      claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', count: 2 } }], constraints: [{ matchAttribute: `${DRIVER}/numa` }] }),
    ]);
    expect(devicesOf(out)).toEqual(['r:gpu-1', 'r:gpu-2']);
  });

  it('firstAvailable falls back to the next subrequest', () => {
    const out = allocator([slice('n1', gpus(1))]).allocate(node, [
      claim({
        requests: [
          {
            name: 'r',
            firstAvailable: [
              { name: 'two', deviceClassName: 'gpu', count: 2 },
              { name: 'one', deviceClassName: 'gpu', count: 1 },
            ],
          },
        ],
      }),
    ]);
    expect(devicesOf(out)).toEqual(['r/one:gpu-0']);
  });

  it('untolerated NoSchedule taints exclude a device; a toleration lets it in', () => {
    const devices = gpus(1, () => ({ taints: [{ key: 'broken', effect: 'NoSchedule' }] }));
    expect(allocator([slice('n1', devices)]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu' } }] })])).toEqual({ none: true });
    const tolerated = allocator([slice('n1', devices)]).allocate(node, [
      claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', tolerations: [{ key: 'broken', operator: 'Exists' }] } }] }),
    ]);
    expect(devicesOf(tolerated)).toEqual(['r:gpu-0']);
  });

  it('partitionable devices share counters', () => {
    const partitions: Device[] = [0, 1, 2].map((i) => ({ name: `part-${i}`, consumesCounters: [{ counterSet: 'mem', counters: { memory: { value: '20Gi' } } }] }));
    const counters: ResourceSlice = { metadata: { name: 'n1-counters' }, spec: { driver: DRIVER, pool: { name: 'n1', generation: 1, resourceSliceCount: 2 }, nodeName: 'n1', sharedCounters: [{ name: 'mem', counters: { memory: { value: '40Gi' } } }] } };
    const devices = { ...slice('n1', partitions), spec: { ...slice('n1', partitions).spec, pool: { name: 'n1', generation: 1, resourceSliceCount: 2 } } };
    const three = allocator([counters, devices]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', count: 3 } }] })]);
    expect(three).toEqual({ none: true });
    const two = allocator([counters, devices]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', count: 2 } }] })]);
    expect(devicesOf(two)).toEqual(['r:part-0', 'r:part-1']);
  });

  it('consumable capacity: a shared device serves several claims until its capacity is used', () => {
    const devices = gpus(1, () => ({ allowMultipleAllocations: true, capacity: { memory: { value: '40Gi' } } }));
    const req = (amount: string): ResourceClaim => claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', capacity: { requests: { memory: amount } } } }] });
    const out = allocator([slice('n1', devices)]).allocate(node, [req('30Gi'), req('10Gi')]);
    expect(devicesOf(out)).toEqual(['r:gpu-0', 'r:gpu-0']);
    expect('results' in out && out.results[0]?.devices?.results?.[0]?.consumedCapacity).toEqual({ memory: '32212254720' });
    expect(allocator([slice('n1', devices)]).allocate(node, [req('30Gi'), req('20Gi')])).toEqual({ none: true });
  });

  it('an incomplete pool is not used; "all" requests report it', () => {
    const incomplete = { ...slice('n1', gpus(2)), spec: { ...slice('n1', gpus(2)).spec, pool: { name: 'n1', generation: 1, resourceSliceCount: 2 } } };
    expect(allocator([incomplete]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu' } }] })])).toEqual({ none: true });
    expect(allocator([incomplete]).allocate(node, [claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', allocationMode: 'All' } }] })])).toEqual({
      error: `claim default/c, request r: asks for all devices, but resource pool ${DRIVER}/n1 is currently being updated`,
    });
  });

  it('a CEL runtime error is an error naming the claim, selector and device', () => {
    const out = allocator([slice('n1', gpus(1))]).allocate(node, [
      claim({ requests: [{ name: 'r', exactly: { deviceClassName: 'gpu', selectors: [{ cel: { expression: `device.attributes["${DRIVER}"].model == "x"` } }] } }] }),
    ]);
    expect(out).toEqual({
      error: `claim default/c: selector #0 on device ${DRIVER}/n1/gpu-0: CEL runtime error: no such key: model. consider using CEL optional chaining (.? followed by orValue()) or guarding the check with has() for optional fields`,
    });
  });
});
