/**
 * Objects from lists and watches that break the API schema: refused with a log line naming the object and the field,
 * never delivered to the scheduler as a TypeError waiting to happen; a delete still applies, and a bad update or
 * relist keeps the last good version (a bound pod's resources must not look free).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../../src/adapters/live/kubeClient.js';
import { startClusterWatches, type ClusterWatches } from '../../../src/adapters/live/informers.js';
import { checkedTransform, ObjectDecodeError, rawObjectKey } from '../../../src/adapters/live/decode.js';
import { slimPod } from '../../../src/adapters/live/slim.js';
import type { Pod } from '../../../src/kube/api.js';
import { FakeApiServer, makeLogger, waitFor } from './fakeApiServer.js';

const PODS = '/api/v1/pods';
let server: FakeApiServer;
let client: KubeClient;
let watches: ClusterWatches | undefined;
let logger: ReturnType<typeof makeLogger>;
let events: string[];

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = createKubeClient(server.kubeConfig(), { qps: 0, burst: 0 });
  logger = makeLogger();
  events = [];
});

afterEach(async () => {
  await watches?.stop();
  watches = undefined;
  client.close();
  await server.close();
});

const pod = (name: string, spec: Record<string, unknown> = {}): { metadata: { name: string; namespace: string }; spec: Record<string, unknown> } => ({
  metadata: { name, namespace: 'ns' },
  spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }], ...spec },
});

function watchPods(): ClusterWatches {
  const name = (p: Pod): string => `${p.metadata?.name} ${String(p.spec?.tolerations?.length ?? 0)}`;
  return startClusterWatches(
    client,
    [{ kind: 'Pod', onAdd: (p) => events.push(`add ${name(p)}`), onUpdate: (_o, n) => events.push(`update ${name(n)}`), onDelete: (p) => events.push(`delete ${name(p)}`) }],
    logger,
    { random: () => 0, backoff: { initialMs: 20, maxMs: 200 } },
  );
}

const errors = (): string[] => logger.entries.filter((e) => e.level === 'error').map((e) => `${e.msg ?? ''}: ${String((e.obj as { err?: unknown }).err)}`);

describe('objects from the API server are validated before they are slimmed', () => {
  it('a listed object with a wrong-typed field is skipped with a located error; the others are delivered', async () => {
    server.upsert(PODS, pod('good'));
    server.upsert(PODS, pod('bad', { tolerations: 'x' }));
    watches = watchPods();
    await watches.waitForSync();
    expect(events).toEqual(['add good 0']);
    expect(errors()).toEqual(['cannot decode listed object; skipped: Pod ns/bad: spec.tolerations: expected an array, got "x" (a string)']);
  });

  it('a watched update that breaks the schema keeps the last good version; its delete still applies', async () => {
    server.upsert(PODS, pod('p', { tolerations: [{ operator: 'Exists' }] }));
    watches = watchPods();
    await watches.waitForSync();
    server.upsert(PODS, pod('p', { containers: [{ name: 'c', resources: { requests: { cpu: '-8' } } }] }));
    await waitFor('the refused update', () => errors().length === 1);
    expect(errors()[0]).toBe(
      'cannot decode watched object; keeping its last good version: Pod ns/p: spec.containers[0].resources.requests.cpu: "-8" must be greater than or equal to 0',
    );
    expect(watches.reflector('Pod')?.items().get('ns/p')?.spec?.tolerations).toHaveLength(1);
    server.delete(PODS, 'p', 'ns');
    await waitFor('the delete', () => events.length === 2);
    expect(events).toEqual(['add p 1', 'delete p 1']);
    expect(watches.reflector('Pod')?.items().size).toBe(0);
  });

  it('a relist that meets a now-malformed object keeps its last good version instead of deleting it', async () => {
    server.upsert(PODS, pod('p'));
    watches = watchPods();
    await watches.waitForSync();
    server.dropWatches(PODS);
    server.upsertSilently(PODS, pod('p', { priority: 'high' }));
    server.compact();
    await waitFor('the relist', () => errors().length === 1);
    expect(errors()[0]).toBe('cannot decode listed object; keeping its last good version: Pod ns/p: spec.priority: expected an integer, got "high" (a string)');
    expect(events).toEqual(['add p 0']);
    expect(watches.reflector('Pod')?.items().has('ns/p')).toBe(true);
  });
});

describe('checkedTransform and rawObjectKey', () => {
  it('names at most three issues and counts the rest; long or odd names are quoted and cut', () => {
    const transform = checkedTransform('Pod', slimPod);
    const raw = { metadata: { name: 'n'.repeat(200), namespace: 'ns' }, spec: { priority: 'a', nodeName: 1, schedulerName: 2, tolerations: 3, containers: [] } };
    let thrown: unknown;
    try {
      transform(raw);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ObjectDecodeError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^Pod ns\/"n{79}…": spec\.\w+: .*; and 1 more$/);
    expect(message.split('; ')).toHaveLength(4);
  });

  it('keys raw objects as the store does, or not at all when the name is not a string', () => {
    expect(rawObjectKey({ metadata: { name: 'a', namespace: 'ns' } })).toBe('ns/a');
    expect(rawObjectKey({ metadata: { name: 'n1' } })).toBe('n1');
    expect(rawObjectKey({ metadata: { name: 5 } })).toBeUndefined();
    expect(rawObjectKey('x')).toBeUndefined();
  });
});
