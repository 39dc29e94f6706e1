import { describe, expect, it } from 'vitest';
import type { ResourceClaim } from '../../../../src/kube/resource.js';
import {
  BINDING_POLL_MS,
  bindingStillPossible,
  claimReadiness,
  claimTimedOut,
  hasBindingConditions,
  waitForBindingConditions,
} from '../../../../src/scheduler/plugins/dynamicResources/bindingConditions.js';

const ALLOCATED_AT = '2026-01-01T00:00:00Z';
const T0 = Date.parse(ALLOCATED_AT);

type Conditions = Array<{ type: string; status: string; reason?: string; message?: string }>;

/** A claim whose device has the binding condition Attached (none with `null`), and optionally a device status. */
function claim(conditions?: Conditions, bindingConditions: string[] | null = ['Attached']): ResourceClaim {
  return {
    metadata: { name: 'c', namespace: 'default' },
    status: {
      allocation: {
        allocationTimestamp: ALLOCATED_AT,
        devices: {
          results: [
            { request: 'r', driver: 'd', pool: 'p', device: 'x', ...(bindingConditions ? { bindingConditions, bindingFailureConditions: ['AttachFailed'] } : {}) },
          ],
        },
      },
      ...(conditions ? { devices: [{ driver: 'd', pool: 'p', device: 'x', conditions }] } : {}),
    },
  };
}

describe('binding conditions (upstream isClaimReadyForBinding, isClaimTimeout)', () => {
  it('ready only when every binding condition is True in the device\'s status', () => {
    expect(claimReadiness(claim())).toEqual({ ready: false });
    expect(claimReadiness(claim([{ type: 'Attached', status: 'False' }]))).toEqual({ ready: false });
    expect(claimReadiness(claim([{ type: 'Attached', status: 'True' }]))).toEqual({ ready: true });
    expect(claimReadiness(claim(undefined, null))).toEqual({ ready: true });
    expect(hasBindingConditions([claim(undefined, null)])).toBe(false);
    expect(hasBindingConditions([claim()])).toBe(true);
  });

  it('a True failure condition fails with upstream\'s text', () => {
    const failed = claim([{ type: 'AttachFailed', status: 'True', reason: 'NoPath', message: 'fabric down' }]);
    expect(claimReadiness(failed)).toEqual({ failed: 'device binding failed: claim=c, reason=NoPath, message="fabric down"' });
    expect(bindingStillPossible(failed, 600_000, T0)).toBe(false);
  });

  it('times out once allocated longer ago than the timeout, and only with binding conditions', () => {
    expect(claimTimedOut(claim(), 600_000, T0 + 600_000)).toBe(false);
    expect(claimTimedOut(claim(), 600_000, T0 + 600_001)).toBe(true);
    expect(claimTimedOut(claim(undefined, null), 600_000, T0 + 10_000_000)).toBe(false);
    expect(bindingStillPossible(claim(), 600_000, T0 + 600_001)).toBe(false);
    expect(bindingStillPossible(claim([{ type: 'Attached', status: 'True' }]), 600_000, T0 + 600_001)).toBe(true);
  });
});

/** A fake clock that advances when slept on; `changes` alters the claim at given times. */
function fakeWorld(start: number, changes: Array<{ at: number; claim: ResourceClaim }>) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
    current: (): ResourceClaim => [...changes].reverse().find((c) => c.at <= now)?.claim ?? claim(),
  };
}

describe('PreBind\'s wait (upstream PollUntilContextTimeout every 5 s)', () => {
  const signal = new AbortController().signal;

  it('returns once the condition turns True, polling every 5 s', async () => {
    const world = fakeWorld(T0, [{ at: T0 + 12_000, claim: claim([{ type: 'Attached', status: 'True' }]) }]);
    const claims = [claim()];
    const result = await waitForBindingConditions(claims, { clock: world.clock, signal, timeoutMs: 600_000, current: world.current });
    expect(result).toBeNull();
    expect(world.sleeps).toEqual([BINDING_POLL_MS, BINDING_POLL_MS, BINDING_POLL_MS]);
    expect(claims[0]?.status?.devices?.[0]?.conditions?.[0]?.status).toBe('True');
  });

  it('a failure condition ends the wait with an error', async () => {
    const world = fakeWorld(T0, [{ at: T0 + 5_000, claim: claim([{ type: 'AttachFailed', status: 'True', reason: 'NoPath', message: 'm' }]) }]);
    const result = await waitForBindingConditions([claim()], { clock: world.clock, signal, timeoutMs: 600_000, current: world.current });
    expect(result).toBe('device binding failed: claim=c, reason=NoPath, message="m"');
  });

  it('gives up after the binding timeout', async () => {
    const world = fakeWorld(T0, []);
    const result = await waitForBindingConditions([claim()], { clock: world.clock, signal, timeoutMs: 12_000, current: world.current });
    expect(result).toMatch(/^device binding timeout: /);
    expect(world.sleeps.reduce((a, b) => a + b, 0)).toBe(12_000);
  });
});
