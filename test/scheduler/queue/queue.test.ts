import { describe, expect, it } from 'vitest';
import { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { type QueueName, SchedulingQueue } from '../../../src/scheduler/queue/queue.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import type { EventInterest } from '../../../src/scheduler/framework/plugin.js';
import type { Node } from '../../../src/kube/api.js';
import { makePod, podInfo } from '../../helpers/builders.js';

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

function makeQueue(clock = new Clock(), events: Array<[QueueName, string]> = []) {
  const queue = new SchedulingQueue(clock.now, {
    eventsOf: (plugin) => IN_TREE_CATALOG.eventsOf(plugin),
    initialBackoffMs: 1000,
    maxBackoffMs: 10_000,
    onIncoming: (q, e) => events.push([q, e]),
  });
  return { queue, clock, events };
}

const FIT = new Set(['NodeResourcesFit']);

describe('SchedulingQueue: ordering', () => {
  it('pops higher priority first, then earlier enqueue time', () => {
    const { queue, clock } = makeQueue();
    queue.add(podInfo('low-early', { priority: 0 }));
    clock.advance(1);
    queue.add(podInfo('high-late', { priority: 100 }));
    clock.advance(1);
    queue.add(podInfo('low-late', { priority: 0 }));
    clock.advance(1);
    queue.add(podInfo('mid', { priority: 10 }));
    const order: string[] = [];
    for (let q = queue.pop(); q; q = queue.pop()) order.push(q.pod.name);
    expect(order).toEqual(['high-late', 'mid', 'low-early', 'low-late']);
  });

  it('ties by timestamp use the enqueue time, not the creation time', () => {
    const { queue, clock } = makeQueue();
    queue.add(podInfo('created-late', { created: '2026-01-02T00:00:00Z' }));
    clock.advance(5);
    queue.add(podInfo('created-early', { created: '2020-01-01T00:00:00Z' }));
    expect(queue.pop()?.pod.name).toBe('created-late');
  });

  it('counts attempts and in-flight pods', () => {
    const { queue } = makeQueue();
    const p = podInfo('a');
    queue.add(p);
    const q = queue.pop();
    expect(q?.attempts).toBe(1);
    expect(queue.contains(p.uid)).toBe(true); // in flight
    expect(queue.pop()).toBeUndefined();
    queue.done(p.uid);
    expect(queue.contains(p.uid)).toBe(false);
  });

  it('adding a pod already queued updates it instead of duplicating it', () => {
    const { queue } = makeQueue();
    const a = makePod('a', { uid: 'ua', priority: 1 });
    queue.add(new PodInfo(a));
    queue.add(new PodInfo({ ...a, spec: { ...a.spec, priority: 5 } }));
    expect(queue.counts().active).toBe(1);
    expect(queue.pop()?.pod.priority).toBe(5);
    expect(queue.pop()).toBeUndefined();
  });
});

describe('SchedulingQueue: backoff', () => {
  it('backoff doubles from 1s and caps at 10s', () => {
    const { queue } = makeQueue();
    expect([1, 2, 3, 4, 5, 6, 10].map((a) => queue.backoffDuration(a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('a failed pod without rejecting plugins backs off 1s, 2s, 4s, 8s, 10s, 10s', () => {
    const { queue, clock } = makeQueue();
    queue.add(podInfo('a'));
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const q = queue.pop();
      expect(q?.attempts).toBe(attempt);
      queue.requeueAfterFailure(q!, new Set());
      expect(queue.counts().backoff).toBe(1);
      const expiry = queue.nextBackoffExpiry()!;
      waits.push(expiry - clock.t);
      clock.advance(expiry - clock.t - 1);
      expect(queue.pop()).toBeUndefined(); // 1 ms early: still backing off
      clock.advance(1);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('flush moves completed backoffs to active', () => {
    const { queue, clock } = makeQueue();
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, new Set());
    clock.advance(1000);
    queue.flush();
    expect(queue.counts()).toEqual({ active: 1, backoff: 0, unschedulable: 0, gated: 0 });
  });
});

describe('SchedulingQueue: unschedulable pool', () => {
  it('a rejected pod waits; an event its rejector does not care about leaves it there', () => {
    const { queue } = makeQueue();
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, FIT);
    expect(queue.counts().unschedulable).toBe(1);
    queue.onClusterEvent('AssignedPodAdd');
    queue.onClusterEvent('PvcChange');
    expect(queue.counts().unschedulable).toBe(1);
    expect(queue.unschedulablePods().map((q) => q.pod.name)).toEqual(['a']);
  });

  it('a relevant event moves it: to backoff while backing off, to active after', () => {
    const { queue, clock, events } = makeQueue();
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, FIT);
    queue.onClusterEvent('NodeAdd');
    expect(queue.counts()).toMatchObject({ unschedulable: 0, backoff: 1 });
    expect(events.at(-1)).toEqual(['backoff', 'NodeAdd']);

    clock.advance(1000);
    const again = queue.pop()!;
    expect(again.attempts).toBe(2);
    queue.requeueAfterFailure(again, FIT);
    clock.advance(2000); // backoff for attempt 2 has passed
    queue.onClusterEvent('AssignedPodDelete');
    expect(queue.counts()).toMatchObject({ unschedulable: 0, active: 1 });
    expect(events.at(-1)).toEqual(['active', 'AssignedPodDelete']);
  });

  it('only pods whose rejectors care move', () => {
    const { queue } = makeQueue();
    queue.add(podInfo('fit'));
    queue.add(podInfo('affinity'));
    const first = queue.pop()!;
    const second = queue.pop()!;
    queue.requeueAfterFailure(first, FIT);
    queue.requeueAfterFailure(second, new Set(['InterPodAffinity']));
    queue.onClusterEvent('AssignedPodAdd'); // InterPodAffinity cares, NodeResourcesFit does not
    expect(queue.unschedulablePods().map((q) => q.pod.name)).toEqual(['fit']);
  });

  it('a move request during the pod\'s cycle sends it to backoff instead of the pool', () => {
    const { queue } = makeQueue();
    queue.add(podInfo('a'));
    queue.add(podInfo('b'));
    const a = queue.pop()!;
    queue.onClusterEvent('NodeUpdate'); // raced with a's attempt
    queue.requeueAfterFailure(a, FIT);
    expect(queue.counts()).toMatchObject({ backoff: 1, unschedulable: 0 });
    // b is popped in a later cycle, after the move request: it goes to the pool.
    const b = queue.pop()!;
    queue.requeueAfterFailure(b, FIT);
    expect(queue.counts()).toMatchObject({ backoff: 1, unschedulable: 1 });
  });

  it('leftovers older than 5 minutes are flushed; at exactly 5 minutes they stay', () => {
    const { queue, clock, events } = makeQueue();
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, FIT);
    clock.advance(5 * 60 * 1000);
    queue.flush();
    expect(queue.counts().unschedulable).toBe(1);
    clock.advance(1);
    queue.flush();
    expect(queue.counts()).toMatchObject({ unschedulable: 0, active: 1 });
    expect(events.at(-1)).toEqual(['active', 'UnschedulableTimeout']);
  });

  it('updating a waiting pod gives it another chance', () => {
    const { queue, clock } = makeQueue();
    const pod = makePod('a', { uid: 'ua' });
    queue.add(new PodInfo(pod));
    queue.requeueAfterFailure(queue.pop()!, FIT);
    clock.advance(1000);
    queue.update(new PodInfo({ ...pod, metadata: { ...pod.metadata, labels: { x: 'y' } } }));
    expect(queue.counts()).toMatchObject({ unschedulable: 0, active: 1 });
    expect(queue.pop()?.pod.labels).toEqual({ x: 'y' });
  });
});

describe('SchedulingQueue: queueing hints', () => {
  // A plugin that waits for node adds, but only of nodes labelled for the pod's team (its hint reads the new object).
  const TEAM_HINTED: EventInterest[] = [
    {
      event: 'NodeAdd',
      hint: (pod, change) => ((change.newObject as Node | undefined)?.metadata?.labels?.['team'] === pod.labels['team'] ? 'Queue' : 'Skip'),
    },
  ];
  function hintedQueue(interests: readonly EventInterest[]) {
    const clock = new Clock();
    const queue = new SchedulingQueue(clock.now, {
      eventsOf: (plugin) => (plugin === 'Team' ? interests : IN_TREE_CATALOG.eventsOf(plugin)),
      initialBackoffMs: 1000,
      maxBackoffMs: 10_000,
    });
    return { queue, clock };
  }
  const node = (team: string): Node => ({ metadata: { name: `n-${team}`, labels: { team } } });

  it("a hint answering Skip leaves the pod waiting; 'Queue' moves it", () => {
    const { queue } = hintedQueue(TEAM_HINTED);
    queue.add(new PodInfo(makePod('a', { labels: { team: 'blue' } })));
    queue.requeueAfterFailure(queue.pop()!, new Set(['Team']));
    queue.onClusterEvent({ kind: 'NodeAdd', newObject: node('red') });
    expect(queue.counts().unschedulable).toBe(1);
    queue.onClusterEvent({ kind: 'NodeAdd', newObject: node('blue') });
    expect(queue.counts().unschedulable).toBe(0);
  });

  it('an event of a kind the plugin does not list never asks its hint', () => {
    let asked = 0;
    const { queue } = hintedQueue([{ event: 'NodeAdd', hint: () => (asked++, 'Queue') }]);
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, new Set(['Team']));
    queue.onClusterEvent({ kind: 'NodeDelete', oldObject: node('x') });
    expect(asked).toBe(0);
    expect(queue.counts().unschedulable).toBe(1);
  });

  it('a hint that throws queues the pod (a faulty hint delays nothing)', () => {
    const { queue } = hintedQueue([{ event: 'NodeAdd', hint: () => { throw new TypeError('boom'); } }]);
    queue.add(podInfo('a'));
    queue.requeueAfterFailure(queue.pop()!, new Set(['Team']));
    queue.onClusterEvent({ kind: 'NodeAdd', newObject: node('x') });
    expect(queue.counts().unschedulable).toBe(0);
  });

  it('another rejecting plugin without a hint still moves the pod on its event', () => {
    const { queue } = hintedQueue(TEAM_HINTED);
    queue.add(new PodInfo(makePod('a', { labels: { team: 'blue' } })));
    queue.requeueAfterFailure(queue.pop()!, new Set(['Team', 'NodeResourcesFit']));
    queue.onClusterEvent({ kind: 'NodeAdd', newObject: node('red') });
    expect(queue.counts().unschedulable).toBe(0);
  });

  it('an event that raced with the attempt sends the pod to backoff without asking the hint (its object is gone)', () => {
    const { queue } = hintedQueue(TEAM_HINTED);
    queue.add(new PodInfo(makePod('a', { labels: { team: 'blue' } })));
    const a = queue.pop()!;
    queue.onClusterEvent({ kind: 'NodeAdd', newObject: node('red') });
    queue.requeueAfterFailure(a, new Set(['Team']));
    expect(queue.counts()).toMatchObject({ backoff: 1, unschedulable: 0 });
  });
});

describe('SchedulingQueue: gated pods and deletion', () => {
  it('pods with scheduling gates wait until the gates are removed', () => {
    const { queue, events } = makeQueue();
    const gated = makePod('g', { uid: 'ug', spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    queue.add(new PodInfo(gated));
    expect(queue.counts()).toMatchObject({ gated: 1, active: 0 });
    expect(events).toEqual([['gated', 'PodAdd']]);
    expect(queue.pop()).toBeUndefined();
    expect(queue.contains('ug')).toBe(true);
    queue.onClusterEvent('NodeAdd'); // events do not release gated pods
    expect(queue.counts().gated).toBe(1);
    // Still gated after an update that keeps the gate.
    queue.update(new PodInfo(gated));
    expect(queue.counts().gated).toBe(1);
    queue.update(new PodInfo({ ...gated, spec: { ...gated.spec, schedulingGates: [] } }));
    expect(queue.counts()).toMatchObject({ gated: 0, active: 1 });
    expect(queue.pop()?.pod.name).toBe('g');
  });

  it('delete removes a pod from whichever queue holds it', () => {
    const { queue } = makeQueue();
    const pods = ['active', 'backoff', 'pool', 'gated', 'inflight'].map((n) =>
      new PodInfo(makePod(n, { uid: n, ...(n === 'gated' ? { spec: { schedulingGates: [{ name: 'g' }] } } : {}) })),
    );
    for (const p of pods) queue.add(p);
    // Pop everything, then place each pod where it belongs.
    const popped = new Map<string, ReturnType<typeof queue.pop>>();
    for (let q = queue.pop(); q; q = queue.pop()) popped.set(q.pod.uid, q);
    queue.requeueAfterFailure(popped.get('backoff')!, new Set());
    queue.requeueAfterFailure(popped.get('pool')!, FIT);
    const active = popped.get('active')!;
    queue.done(active.pod.uid);
    queue.add(active.pod);
    for (const p of pods) expect(queue.contains(p.uid)).toBe(true);
    for (const p of pods) queue.delete(p.uid);
    for (const p of pods) expect(queue.contains(p.uid)).toBe(false);
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, gated: 0 });
  });
});
