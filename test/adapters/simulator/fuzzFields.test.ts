/**
 * Every field of a snapshot that uses each kind and field berth reads, replaced in turn by a value of another JSON
 * type (and by null): the snapshot must be refused with an error naming that field, or — where the API server accepts
 * the value too (a number as a quantity, a null field as an absent one) — simulated without any internal error.
 * (Fields berth does not read, such as an ephemeral volume's claim template, are not in the fixture.)
 */
import { describe, expect, it } from 'vitest';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { formatPath } from '../../../src/kube/validate.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, SnapshotError, type SnapshotObject } from '../../../src/adapters/simulator/snapshot.js';
import { acceptsNumber, FIXTURE, jsonType, paths, type Path } from '../../helpers/fuzzFixture.js';

function replaced(objects: Array<Record<string, unknown>>, index: number, path: Path, value: unknown): SnapshotObject[] {
  const copy = structuredClone(objects);
  let holder: Record<string | number, unknown> = copy[index] as Record<string, unknown>;
  for (const seg of path.slice(0, -1)) holder = holder[seg] as Record<string | number, unknown>;
  holder[path[path.length - 1] as string | number] = value;
  return copy.map((obj, i) => ({ file: 'fuzz.yaml', where: `items[${i}]`, obj }));
}

describe('every field berth reads, with a value of the wrong type', () => {
  it('the fixture itself is valid and simulates cleanly', async () => {
    const result = await simulate(buildSnapshot(replaced(FIXTURE, 0, ['metadata', 'name'], 'n1')), defaultSchedulerConfig(), IN_TREE_CATALOG);
    expect(result.decisions.map((d) => d.message ?? '').join('')).not.toContain('scheduler error');
  });

  it('is refused with the field named, or accepted where the API server accepts it too', { timeout: 300_000 }, async () => {
    const unexpected: string[] = [];
    let refused = 0;
    for (let index = 0; index < FIXTURE.length; index++) {
      const obj = FIXTURE[index] as Record<string, unknown>;
      for (const path of paths(obj)) {
        let original: unknown = obj;
        for (const seg of path) original = (original as Record<string | number, unknown>)[seg];
        for (const value of ['x', 5, true, [], { a: 1 }, null]) {
          if (jsonType(value) === jsonType(original)) continue;
          const label = `${String(obj['kind'])} ${formatPath(path)} = ${JSON.stringify(value)}`;
          let snapshot;
          try {
            snapshot = buildSnapshot(replaced(FIXTURE, index, path, value));
          } catch (err) {
            if (!(err instanceof SnapshotError)) unexpected.push(`${label}: ${String(err)}`);
            else if (!err.message.includes(formatPath(path)) && !err.message.includes(formatPath(path.slice(0, -1)))) unexpected.push(`${label}: ${err.message}`);
            else refused++;
            continue;
          }
          // Accepted: only a null field (absent) or a number as a quantity may be.
          if (value !== null && !(typeof value === 'number' && acceptsNumber(obj, path))) unexpected.push(`${label}: accepted`);
          const result = await simulate(snapshot, defaultSchedulerConfig(), IN_TREE_CATALOG);
          const errors = result.decisions.filter((d) => d.message?.startsWith('scheduler error'));
          if (errors.length > 0) unexpected.push(`${label}: ${errors[0]?.message ?? ''}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(refused).toBeGreaterThan(500);
  });
});
