/**
 * Pod-level resources and in-place resize in the pod request views (upstream component-helpers resource.PodRequests
 * with the options kube-scheduler v1.37 passes). Every expected number is worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { Container, ContainerStatus, Pod, PodSpec, PodStatus } from '../../src/kube/api.js';
import { computePodRequests, isSupportedPodLevelResource } from '../../src/kube/podRequests.js';
import { ResourceParseError } from '../../src/kube/resources.js';
import { makePod } from '../helpers/builders.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function c(name: string, requests?: Record<string, string>, limits?: Record<string, string>, extra: Partial<Container> = {}): Container {
  const resources: Container['resources'] = {};
  if (requests) resources.requests = requests;
  if (limits) resources.limits = limits;
  return { name, image: 'pause', resources, ...extra };
}

function pod(containers: Container[], spec: Partial<PodSpec> = {}, status?: PodStatus): Pod {
  const p = makePod('p', { containers, spec });
  if (status) p.status = status;
  return p;
}

function cs(name: string, allocated?: Record<string, string>, actual?: Record<string, string>): ContainerStatus {
  return { name, ...(allocated ? { allocatedResources: allocated } : {}), ...(actual ? { resources: { requests: actual } } : {}) };
}

const resizePending = (reason: 'Deferred' | 'Infeasible'): NonNullable<PodStatus['conditions']> => [
  { type: 'PodScheduled', status: 'True' },
  { type: 'PodResizePending', status: 'True', reason },
];

describe('pod-level resources (PodLevelResources)', () => {
  it('supports cpu, memory and hugepages-* only', () => {
    expect(['cpu', 'memory', 'hugepages-2Mi', 'ephemeral-storage', 'nvidia.com/gpu'].map(isSupportedPodLevelResource)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('pod-level cpu/memory replace the container totals; other resources stay container-level', () => {
    const r = computePodRequests(
      pod([c('a', { cpu: '100m', memory: '100Mi' }), c('b', { cpu: '200m', memory: '200Mi', 'ephemeral-storage': '1Gi', 'nvidia.com/gpu': '1' })], {
        resources: { requests: { cpu: '1', memory: '1Gi' } },
      }),
    );
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1000, Gi]);
    expect([r.requests.ephemeralStorage, r.requests.get('nvidia.com/gpu')]).toEqual([Gi, 1]);
    // cpu and memory are named, so no non-zero default applies.
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([1000, Gi]);
    expect(r.specRequests).toBe(r.requests); // no status: one object
    // NodeResourcesFit's scorer skips pod-level resources: 100m + 200m, 100Mi + 200Mi.
    expect([r.fitScoreRequests.milliCpu, r.fitScoreRequests.memory]).toEqual([300, 300 * Mi]);
    expect([r.fitScoreRequests.ephemeralStorage, r.fitScoreRequests.get('nvidia.com/gpu')]).toEqual([Gi, 1]);
  });

  it('overhead goes on top of pod-level requests', () => {
    const r = computePodRequests(pod([c('a', { cpu: '100m' })], { resources: { requests: { cpu: '1', memory: '1Gi' } }, overhead: { cpu: '250m', memory: '64Mi' } }));
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1250, Gi + 64 * Mi]);
    // Fit's scoring view: 100m + 250m; memory default 200Mi + 64Mi.
    expect([r.fitScoreRequests.milliCpu, r.fitScoreRequests.memory]).toEqual([350, 264 * Mi]);
  });

  it('pod-level hugepages replace the containers’ hugepages', () => {
    const r = computePodRequests(
      pod([c('a', { cpu: '100m', 'hugepages-2Mi': '2Mi' }, { 'hugepages-2Mi': '2Mi' })], { resources: { requests: { 'hugepages-2Mi': '8Mi' }, limits: { 'hugepages-2Mi': '8Mi' } } }),
    );
    expect(r.requests.get('hugepages-2Mi')).toBe(8 * Mi);
    // Defaulting filled cpu from the containers (100m); memory stays unnamed.
    expect(r.requests.milliCpu).toBe(100);
    expect(r.fitScoreRequests.get('hugepages-2Mi')).toBe(2 * Mi);
  });

  it('with pod-level requests, a non-zero default applies only to a resource the pod names nowhere', () => {
    // Pod-level cpu 1; two containers without requests. Memory is named nowhere: 200Mi per container = 400Mi.
    const r = computePodRequests(pod([c('a'), c('b')], { resources: { requests: { cpu: '1' } } }));
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1000, 0]);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([1000, 400 * Mi]);
    // Fit's scoring view ignores the pod level: 2 × 100m, 2 × 200Mi.
    expect([r.fitScoreRequests.milliCpu, r.fitScoreRequests.memory]).toEqual([200, 400 * Mi]);
  });

  it('overhead naming memory counts as naming it: no memory default', () => {
    // Pod-level cpu 1, overhead memory 64Mi: the requests name memory (64Mi), so nonZero memory is 64Mi, not 264Mi.
    const r = computePodRequests(pod([c('a')], { resources: { requests: { cpu: '1' } }, overhead: { memory: '64Mi' } }));
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([1000, 64 * Mi]);
    // Without pod-level requests the default always applies per container: 200Mi + 64Mi.
    const plain = computePodRequests(pod([c('a')], { overhead: { memory: '64Mi' } }));
    expect(plain.nonZero.memory).toBe(264 * Mi);
  });

  it('API-server defaulting: missing pod-level requests come from the containers (cpu, memory), then the pod limits', () => {
    // limits cpu 2 / memory 2Gi; containers request cpu 500m only → pod requests cpu 500m (containers), memory 2Gi (limit).
    const r = computePodRequests(pod([c('a', { cpu: '300m' }), c('b', { cpu: '200m' })], { resources: { limits: { cpu: '2', memory: '2Gi' } } }));
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([500, 2 * Gi]);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([500, 2 * Gi]);
  });

  it('pod-level requests naming no supported resource are not pod-level requests', () => {
    // ephemeral-storage is not supported at pod level: containers' totals stand, defaults apply per container.
    const r = computePodRequests(pod([c('a')], { resources: { requests: { 'ephemeral-storage': '1Gi' } } }));
    expect([r.requests.milliCpu, r.requests.ephemeralStorage]).toEqual([0, 0]);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([100, 200 * Mi]);
  });

  it('init containers and sidecars still shape the container totals under pod-level requests', () => {
    // Pod-level memory 1Gi only; cpu from containers: regular 100m + sidecar 200m = 300m; init 1 beside the sidecar = 1200m.
    const r = computePodRequests(
      pod([c('a', { cpu: '100m' })], {
        initContainers: [c('s', { cpu: '200m' }, undefined, { restartPolicy: 'Always' }), c('i', { cpu: '1' })],
        resources: { requests: { memory: '1Gi' } },
      }),
    );
    // Defaulting copied the containers' cpu total (1200m) to the pod level, which then replaces it: same value.
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1200, Gi]);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([1200, Gi]);
  });

  it('malformed pod-level quantities name the field', () => {
    expect(() => computePodRequests(pod([c('a')], { resources: { requests: { cpu: 'lots' } } }))).toThrow(ResourceParseError);
    try {
      computePodRequests(pod([c('a')], { resources: { requests: { cpu: 'lots' } } }));
    } catch (err) {
      expect((err as ResourceParseError).field).toBe('spec.resources.requests.cpu');
    }
  });
});

describe('in-place resize (InPlacePodVerticalScaling)', () => {
  it('a resize in progress counts the larger of spec, allocated and actual', () => {
    // Resized 500m → 1: allocated 1, actually applied still 500m → 1000m. Memory unchanged at 1Gi.
    const r = computePodRequests(
      pod([c('a', { cpu: '1', memory: '1Gi' })], {}, { containerStatuses: [cs('a', { cpu: '1', memory: '1Gi' }, { cpu: '500m', memory: '1Gi' })] }),
    );
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1000, Gi]);
  });

  it('a scale-down not yet applied keeps counting the old, larger amount', () => {
    // Spec 250m, allocated 250m, actual 1 (the kubelet has not shrunk it yet) → 1000m.
    const r = computePodRequests(pod([c('a', { cpu: '250m' })], {}, { containerStatuses: [cs('a', { cpu: '250m' }, { cpu: '1' })] }));
    expect(r.requests.milliCpu).toBe(1000);
    expect(r.specRequests.milliCpu).toBe(250); // the spec alone (Fit's PreFilter view)
  });

  it('a pending (Deferred) resize counts the new spec: upstream charges it before the kubelet allocates', () => {
    // Spec 2, allocated 1, actual 1 → 2000m. Memory spec 512Mi below allocated/actual 1Gi → 1Gi.
    const r = computePodRequests(
      pod(
        [c('a', { cpu: '2', memory: '512Mi' })],
        {},
        { conditions: resizePending('Deferred'), containerStatuses: [cs('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })] },
      ),
    );
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([2000, Gi]);
  });

  it('an Infeasible resize leaves the spec out', () => {
    // Spec asks 8 cpu, infeasible: allocated 1, actual 1 → 1000m; memory allocated 1Gi, actual 768Mi → 1Gi.
    const r = computePodRequests(
      pod(
        [c('a', { cpu: '8', memory: '1Gi' })],
        {},
        { conditions: resizePending('Infeasible'), containerStatuses: [cs('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '768Mi' })] },
      ),
    );
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1000, Gi]);
    expect(r.specRequests.milliCpu).toBe(8000);
    expect(r.nonZero.milliCpu).toBe(1000);
  });

  it('Infeasible: a container without a status counts nothing (upstream drops its spec too)', () => {
    // a: allocated 1; b: no status (its spec 500m is dropped) → 1000m. Feasible, b would add its 500m.
    const status = (reason: 'Deferred' | 'Infeasible'): PodStatus => ({ conditions: resizePending(reason), containerStatuses: [cs('a', { cpu: '1' })] });
    const containers = [c('a', { cpu: '1' }), c('b', { cpu: '500m' })];
    const infeasible = computePodRequests(pod(containers, {}, status('Infeasible')));
    expect(infeasible.requests.milliCpu).toBe(1000);
    // The non-zero view still gives b its 100m default (its list is empty, so the default fills it): 1100m.
    expect([infeasible.nonZero.milliCpu, infeasible.nonZero.memory]).toEqual([1100, 400 * Mi]);
    expect(computePodRequests(pod(containers, {}, status('Deferred'))).requests.milliCpu).toBe(1500);
  });

  it('only the first PodResizePending condition decides', () => {
    const conditions = [
      { type: 'PodResizePending', status: 'True', reason: 'Deferred' },
      { type: 'PodResizePending', status: 'True', reason: 'Infeasible' },
    ];
    const r = computePodRequests(pod([c('a', { cpu: '4' })], {}, { conditions, containerStatuses: [cs('a', { cpu: '1' })] }));
    expect(r.requests.milliCpu).toBe(4000);
  });

  it('non-zero defaults apply to each view before the max', () => {
    // Spec 300m, allocated/actual 500m, no memory anywhere → cpu 500m; memory default 200Mi in every view.
    const r = computePodRequests(pod([c('a', { cpu: '300m' })], {}, { containerStatuses: [cs('a', { cpu: '500m' }, { cpu: '500m' })] }));
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([500, 200 * Mi]);
  });

  it('statuses of init containers are found by name; sidecars take the max like any container', () => {
    // Sidecar s: spec 100m, allocated 300m → 300m; regular a 200m → 500m.
    const r = computePodRequests(
      pod([c('a', { cpu: '200m' })], { initContainers: [c('s', { cpu: '100m' }, undefined, { restartPolicy: 'Always' })] }, { initContainerStatuses: [cs('s', { cpu: '300m' })] }),
    );
    expect(r.requests.milliCpu).toBe(500);
  });

  it('pod-level status totals stand in for container statuses when both are reported', () => {
    // Container a: spec 1, its status says 500m; pod-level status: allocated 750m, actual 600m.
    const status = (conditions: PodStatus['conditions']): PodStatus => ({
      ...(conditions ? { conditions } : {}),
      containerStatuses: [cs('a', { cpu: '500m' }, { cpu: '500m' })],
      allocatedResources: { cpu: '750m' },
      resources: { requests: { cpu: '600m' } },
    });
    // max(spec 1000, 600, 750) = 1000; infeasible: max(600, 750) = 750 (not the containers' 500).
    expect(computePodRequests(pod([c('a', { cpu: '1' })], {}, status(undefined))).requests.milliCpu).toBe(1000);
    const infeasible = computePodRequests(pod([c('a', { cpu: '1' })], {}, status(resizePending('Infeasible'))));
    expect(infeasible.requests.milliCpu).toBe(750);
    // The pod-level status totals get no defaults and the defaulted spec is dropped: non-zero memory 0.
    expect([infeasible.nonZero.milliCpu, infeasible.nonZero.memory]).toEqual([750, 0]);
  });

  it('pod-level requests take the max with the pod-level status (effectivePodLevelResources)', () => {
    // Pod-level spec cpu 2 / memory 2Gi (resized up); status allocated cpu 1 / 2Gi, actual cpu 1 / 2Gi.
    const status = (conditions: PodStatus['conditions']): PodStatus => ({
      ...(conditions ? { conditions } : {}),
      allocatedResources: { cpu: '1', memory: '2Gi' },
      resources: { requests: { cpu: '1', memory: '2Gi' } },
    });
    const spec = { resources: { requests: { cpu: '2', memory: '2Gi' } } };
    const pending = computePodRequests(pod([c('a')], spec, status(resizePending('Deferred'))));
    expect([pending.requests.milliCpu, pending.requests.memory]).toEqual([2000, 2 * Gi]);
    const infeasible = computePodRequests(pod([c('a')], spec, status(resizePending('Infeasible'))));
    expect([infeasible.requests.milliCpu, infeasible.requests.memory]).toEqual([1000, 2 * Gi]);
    expect(infeasible.specRequests.milliCpu).toBe(2000);
  });

  it('the deprecated status.resize field is not read', () => {
    const p = pod([c('a', { cpu: '8' })], {}, { containerStatuses: [cs('a', { cpu: '1' })] });
    (p.status as Record<string, unknown>)['resize'] = 'Infeasible';
    expect(computePodRequests(p).requests.milliCpu).toBe(8000);
  });

  it('malformed status quantities name the field', () => {
    try {
      computePodRequests(pod([c('a')], {}, { containerStatuses: [cs('x'), cs('a', { cpu: 'lots' })] }));
      expect.unreachable();
    } catch (err) {
      expect((err as ResourceParseError).field).toBe('status.containerStatuses[1].allocatedResources.cpu');
    }
  });
});

describe('plain pods (no pod-level requests, no resize status)', () => {
  it('every view is worked out per container: defaults, init containers, overhead, extended resources', () => {
    // a: cpu 100m (memory defaults to 200Mi for scoring); b: memory 1Gi, one gpu (cpu defaults to 100m); init i: 500m
    // and 50Mi; overhead 10m.
    // Held: cpu max(100m, 500m) + 10m = 510m; memory max(1Gi, 50Mi) = 1Gi; gpu 1.
    // Defaulted: cpu max(100m + 100m, 500m) + 10m = 510m; memory max(200Mi + 1Gi, 50Mi) = 1Gi + 200Mi.
    const r = computePodRequests(
      pod([c('a', { cpu: '100m' }), c('b', { memory: '1Gi', 'nvidia.com/gpu': '1' })], {
        initContainers: [c('i', { cpu: '500m', memory: '50Mi' })],
        overhead: { cpu: '10m' },
      }),
    );
    expect([r.requests.milliCpu, r.requests.memory, r.requests.get('nvidia.com/gpu')]).toEqual([510, Gi, 1]);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([510, Gi + 200 * Mi]);
    expect(r.specRequests).toBe(r.requests);
    expect([r.fitScoreRequests.milliCpu, r.fitScoreRequests.memory, r.fitScoreRequests.get('nvidia.com/gpu')]).toEqual([510, Gi + 200 * Mi, 1]);
    // The scoring view is its own object: defaulting it leaves what the pod holds unchanged.
    expect(r.fitScoreRequests).not.toBe(r.requests);
  });

  it('containers only: summed per name, defaults only where a container states nothing, names the scheduler ignores left out', () => {
    // a: cpu 250m, memory 0 stated (stays 0 for scoring); b: nothing (defaults 100m and 200Mi); d: 1Gi, 2 gpus,
    // 1Gi ephemeral storage, and "example.com" (no domain path: not a resource the scheduler accounts).
    // Held: cpu 250m, memory 1Gi, gpu 2, ephemeral 1Gi. Defaulted: cpu 250m + 100m + 100m = 450m,
    // memory 0 + 200Mi + 1Gi.
    const r = computePodRequests(
      pod([
        c('a', { cpu: '250m', memory: '0' }),
        c('b'),
        c('d', { memory: '1Gi', 'nvidia.com/gpu': '2', 'ephemeral-storage': '1Gi', 'example.com': '3' }),
      ]),
    );
    expect([r.requests.milliCpu, r.requests.memory, r.requests.ephemeralStorage, r.requests.get('nvidia.com/gpu')]).toEqual([250, Gi, Gi, 2]);
    expect(r.requests.scalar ? [...r.requests.scalar.keys()] : []).toEqual(['nvidia.com/gpu']);
    expect([r.nonZero.milliCpu, r.nonZero.memory]).toEqual([450, 200 * Mi + Gi]);
    expect(r.specRequests).toBe(r.requests);
    expect([r.fitScoreRequests.milliCpu, r.fitScoreRequests.memory, r.fitScoreRequests.get('nvidia.com/gpu')]).toEqual([450, 200 * Mi + Gi, 2]);
    expect(r.fitScoreRequests).not.toBe(r.requests);
    const none = computePodRequests(pod([]));
    expect([none.requests.milliCpu, none.nonZero.milliCpu, none.nonZero.memory]).toEqual([0, 0, 0]);
  });

  it('the same quantity text means milli-cpu for cpu and whole units for anything else', () => {
    // Quantities are parsed once per text and kind; "2" is 2000m as cpu, 2 as a gpu count and 2 bytes as memory.
    const first = computePodRequests(pod([c('a', { cpu: '2', memory: '2', 'nvidia.com/gpu': '2' })]));
    const second = computePodRequests(pod([c('a', { 'nvidia.com/gpu': '2', memory: '2', cpu: '2' })]));
    for (const r of [first, second]) expect([r.requests.milliCpu, r.requests.memory, r.requests.get('nvidia.com/gpu')]).toEqual([2000, 2, 2]);
  });

  it('limits stand in for missing requests, and a malformed limit is reported on every parse', () => {
    const r = computePodRequests(pod([c('a', { cpu: '100m' }, { cpu: '1', memory: '1Gi' })]));
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([100, Gi]);
    const bad = (): unknown => computePodRequests(pod([c('a', undefined, { memory: 'lots' })]));
    expect(bad).toThrow(ResourceParseError);
    expect(bad).toThrow(/spec\.containers\[0\]\.resources\.limits\.memory/);
  });
});
