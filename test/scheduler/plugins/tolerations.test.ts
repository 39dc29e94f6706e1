import { describe, expect, it } from 'vitest';
import type { Taint, Toleration } from '../../../src/kube/api.js';
import {
  findUntoleratedTaint,
  isDoNotScheduleTaint,
  toleratesTaint,
  tolerationsTolerateTaint,
} from '../../../src/scheduler/plugins/tolerations.js';

const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('toleratesTaint (v1.Toleration.ToleratesTaint)', () => {
  it.each<[string, Toleration, boolean]>([
    ['Equal with same key/value/effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    ['empty operator means Equal', { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }, false],
    ['Equal with missing value vs "gpu"', { key: 'dedicated', operator: 'Equal', effect: 'NoSchedule' }, false],
    ['Exists ignores the value', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, true],
    ['empty effect matches every effect', { key: 'dedicated', operator: 'Exists' }, true],
    ['other effect does not match', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    ['other key does not match', { key: 'other', operator: 'Exists' }, false],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, true],
    ['empty key with Equal needs an equal value', { operator: 'Equal', value: 'gpu' }, true],
    ['unknown operator tolerates nothing', { key: 'dedicated', operator: 'In', value: 'gpu' }, false],
  ])('%s', (_name, toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  it('taint without value matches Equal with empty value', () => {
    expect(toleratesTaint({ key: 'k', operator: 'Equal', value: '' }, { key: 'k', effect: 'NoSchedule' })).toBe(true);
    expect(toleratesTaint({ key: 'k' }, { key: 'k', effect: 'NoSchedule' })).toBe(true);
  });

  it('Lt/Gt tolerate nothing unless the comparison-operators gate is on', () => {
    const t: Taint = { key: 'sla', value: '950', effect: 'NoSchedule' };
    expect(toleratesTaint({ key: 'sla', operator: 'Gt', value: '900' }, t)).toBe(false);
    expect(toleratesTaint({ key: 'sla', operator: 'Gt', value: '900' }, t, true)).toBe(true);
    expect(toleratesTaint({ key: 'sla', operator: 'Gt', value: '950' }, t, true)).toBe(false);
    expect(toleratesTaint({ key: 'sla', operator: 'Lt', value: '1000' }, t, true)).toBe(true);
    expect(toleratesTaint({ key: 'sla', operator: 'Lt', value: '950' }, t, true)).toBe(false);
    expect(toleratesTaint({ key: 'sla', operator: 'Lt', value: 'x' }, t, true)).toBe(false);
    expect(toleratesTaint({ key: 'sla', operator: 'Lt', value: '9223372036854775808' }, t, true)).toBe(false);
  });
});

describe('tolerationsTolerateTaint / findUntoleratedTaint', () => {
  it('any toleration suffices', () => {
    expect(tolerationsTolerateTaint([{ key: 'x', operator: 'Exists' }, { key: 'dedicated', operator: 'Exists' }], taint)).toBe(true);
    expect(tolerationsTolerateTaint([], taint)).toBe(false);
  });

  it('returns the first untolerated in-scope taint in node order', () => {
    const taints: Taint[] = [
      { key: 'soft', effect: 'PreferNoSchedule' },
      { key: 'a', value: '1', effect: 'NoSchedule' },
      { key: 'b', value: '2', effect: 'NoExecute' },
    ];
    expect(findUntoleratedTaint(taints, [], isDoNotScheduleTaint)).toEqual(taints[1]);
    expect(findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }], isDoNotScheduleTaint)).toEqual(taints[2]);
    expect(
      findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }, { key: 'b', value: '2' }], isDoNotScheduleTaint),
    ).toBeUndefined();
  });
});
