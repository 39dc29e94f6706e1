/**
 * The field-by-field type fuzz of the snapshot reader, run over the live decoder: every field of every watched kind
 * berth reads, replaced in turn by a value of another JSON type (and null), as a list or watch would deliver it.
 * The decoder must refuse it with an ObjectDecodeError naming the field, or — where the API server accepts the value
 * too — slim it into an object the scheduler schedules with, without an internal "scheduler error".
 */
import { describe, expect, it } from 'vitest';
import { checkedTransform, ObjectDecodeError } from '../../../src/adapters/live/decode.js';
import { KIND_SPECS, type WatchKind } from '../../../src/adapters/live/informers.js';
import { buildSnapshot, SnapshotError, type SnapshotObject } from '../../../src/adapters/simulator/snapshot.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { formatPath } from '../../../src/kube/validate.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { acceptsNumber, FIXTURE, jsonType, paths, type Path } from '../../helpers/fuzzFixture.js';

function isWatchKind(kind: unknown): kind is WatchKind {
  return typeof kind === 'string' && Object.hasOwn(KIND_SPECS, kind);
}

/** What the reflector would store: the raw object validated and slimmed, its kind kept for the snapshot builder. */
function decode(raw: Record<string, unknown>): Record<string, unknown> {
  const kind = raw['kind'];
  if (!isWatchKind(kind)) throw new Error(`the fixture's ${String(kind)} is not a watched kind`);
  const slim = checkedTransform(kind, KIND_SPECS[kind].transform)(raw) as Record<string, unknown>;
  return { ...slim, kind };
}

function withValue(obj: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let holder: Record<string | number, unknown> = copy;
  for (const seg of path.slice(0, -1)) holder = holder[seg] as Record<string | number, unknown>;
  holder[path[path.length - 1] as string | number] = value;
  return copy;
}

/** Schedules the decoded objects; returns the internal errors, if any. */
async function schedulerErrors(objects: Array<Record<string, unknown>>): Promise<string[]> {
  const snapshot = buildSnapshot(objects.map((obj, i): SnapshotObject => ({ file: 'watch', where: `object ${i}`, obj })));
  const result = await simulate(snapshot, defaultSchedulerConfig(), IN_TREE_CATALOG);
  return result.decisions.flatMap((d) => (d.message?.startsWith('scheduler error') ? [d.message] : []));
}

/**
 * The snapshot builder's own completeness rules, stricter than the live path: a snapshot's node needs its allocatable
 * and a pod a container, where live a just-registered node may have no status yet (it is then full). Objects that
 * only break these are decoded correctly and not the decoder's concern.
 */
const BUILDER_RULES = ['status.allocatable is missing', 'spec.containers must list at least one container'];
function builderRuleOnly(err: unknown): boolean {
  return err instanceof SnapshotError && err.issues.every((i) => BUILDER_RULES.includes(i.detail));
}

describe('watched objects with a value of the wrong type', () => {
  it('the fixture decodes and schedules cleanly', async () => {
    expect(await schedulerErrors(FIXTURE.map(decode))).toEqual([]);
  });

  it('are refused naming the field, or decoded into objects the scheduler reads', { timeout: 300_000 }, async () => {
    const decoded = FIXTURE.map(decode);
    const unexpected: string[] = [];
    let refused = 0;
    for (let index = 0; index < FIXTURE.length; index++) {
      const obj = FIXTURE[index] as Record<string, unknown>;
      for (const path of paths(obj)) {
        const original = path.reduce<unknown>((o, seg) => (o as Record<string | number, unknown>)[seg], obj);
        for (const value of ['x', 5, true, [], { a: 1 }, null]) {
          if (jsonType(value) === jsonType(original)) continue;
          const label = `${String(obj['kind'])} ${formatPath(path)} = ${JSON.stringify(value)}`;
          let object: Record<string, unknown>;
          try {
            object = decode(withValue(obj, path, value));
          } catch (err) {
            const named = err instanceof ObjectDecodeError && [formatPath(path), formatPath(path.slice(0, -1))].some((p) => err.message.includes(p));
            if (named) refused++;
            else unexpected.push(`${label}: ${String(err)}`);
            continue;
          }
          if (value !== null && !(typeof value === 'number' && acceptsNumber(obj, path))) unexpected.push(`${label}: accepted`);
          try {
            const errors = await schedulerErrors(decoded.map((d, i) => (i === index ? object : d)));
            if (errors.length > 0) unexpected.push(`${label}: ${errors[0] ?? ''}`);
          } catch (err) {
            if (!builderRuleOnly(err)) unexpected.push(`${label}: the decoded object does not build: ${String(err)}`);
          }
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(refused).toBeGreaterThan(500);
  });
});
