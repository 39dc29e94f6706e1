import { describe, expect, it } from 'vitest';
import { EventRecorder, type EventTarget } from '../../../src/adapters/live/recorder.js';
import { WireBody, type KubeClient, type RequestOptions, type Response } from '../../../src/adapters/live/kubeClient.js';

interface Sent {
  method: string;
  path: string;
  json: Record<string, unknown>;
}

/** A client that records each request and answers `status`. */
function recordingClient(status = 201): { client: Pick<KubeClient, 'request'>; sent: Sent[] } {
  const sent: Sent[] = [];
  const client: Pick<KubeClient, 'request'> = {
    request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
      const body = opts.body instanceof WireBody ? opts.body.json : opts.body;
      sent.push({ method, path, json: body as Record<string, unknown> });
      return Promise.resolve({ status, body: {} as T });
    },
  };
  return { client, sent };
}

const warnings: unknown[] = [];
const logger = { warn: (o: unknown) => warnings.push(o), info: () => undefined, error: () => undefined, debug: () => undefined };

const pod = (name: string): EventTarget => ({ namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '7' });

function nameOf(s: Sent): string {
  return (s.json['metadata'] as { name: string }).name;
}

describe('EventRecorder event names', () => {
  it('names an event <pod>.<hex Unix nanoseconds>, as client-go does', async () => {
    const { client, sent } = recordingClient();
    const now = Date.UTC(2026, 11, 2, 14, 30, 0, 123);
    const rec = new EventRecorder(client, logger, () => now);
    await rec.event('berth', pod('web-0'), 'Normal', 'Scheduled', 'Binding', 'Successfully assigned ns/web-0 to n1');
    expect(sent).toHaveLength(1);
    expect(nameOf(sent[0]!)).toBe(`web-0.${(BigInt(now) * 1_000_000n).toString(16)}`);
  });

  it('gives distinct names to events written in the same millisecond, and starts again in the next one', async () => {
    const { client, sent } = recordingClient();
    let now = 1_800_000_000_000;
    const rec = new EventRecorder(client, logger, () => now);
    for (let i = 0; i < 3; i++) await rec.event('berth', pod('p'), 'Normal', 'Scheduled', 'Binding', `to n${i}`);
    now += 1;
    await rec.event('berth', pod('p'), 'Normal', 'Scheduled', 'Binding', 'to n9');
    const names = sent.map(nameOf);
    expect(new Set(names).size).toBe(4);
    const ns = (ms: number, k: number): string => `p.${(BigInt(ms) * 1_000_000n + BigInt(k)).toString(16)}`;
    expect(names).toEqual([ns(now - 1, 0), ns(now - 1, 1), ns(now - 1, 2), ns(now, 0)]);
  });

  it('keeps names unique when the clock goes back', async () => {
    const { client, sent } = recordingClient();
    const times = [1_800_000_000_005, 1_800_000_000_005, 1_800_000_000_004, 1_800_000_000_005];
    let i = 0;
    const rec = new EventRecorder(client, logger, () => times[i++] ?? 0);
    for (let k = 0; k < times.length; k++) await rec.event('berth', pod('p'), 'Normal', 'Scheduled', 'Binding', `to n${k}`);
    expect(new Set(sent.map(nameOf)).size).toBe(times.length);
  });

  it('patches the series of a repeated event rather than creating a second object', async () => {
    const { client, sent } = recordingClient();
    let now = 1_800_000_000_000;
    const rec = new EventRecorder(client, logger, () => now);
    await rec.event('berth', pod('p'), 'Warning', 'FailedScheduling', 'Scheduling', '0/3 nodes are available');
    now += 5_000;
    await rec.event('berth', pod('p'), 'Warning', 'FailedScheduling', 'Scheduling', '0/3 nodes are available');
    expect(sent.map((s) => s.method)).toEqual(['POST', 'PATCH']);
    expect(sent[1]!.path).toBe(`/apis/events.k8s.io/v1/namespaces/ns/events/${nameOf(sent[0]!)}`);
    expect(sent[1]!.json).toEqual({ series: { count: 2, lastObservedTime: expect.any(String) as unknown } });
  });
});
