import { describe, expect, it } from 'vitest';
import type { NodeSelectorTerm } from '../../src/kube/api.js';
import {
  compileLabelSelector,
  compileNodeSelectorTerm,
  compileNodeSelectorTerms,
  mapSelectorMatches,
} from '../../src/kube/selectors.js';

describe('compileLabelSelector', () => {
  it('nil selector matches nothing, empty selector matches everything', () => {
    expect(compileLabelSelector(undefined)({ a: '1' })).toBe(false);
    expect(compileLabelSelector(null)({})).toBe(false);
    expect(compileLabelSelector({})({})).toBe(true);
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [] })({ a: '1' })).toBe(true);
  });

  it('matchLabels requires every pair', () => {
    const m = compileLabelSelector({ matchLabels: { app: 'web', tier: 'fe' } });
    expect(m({ app: 'web', tier: 'fe', x: 'y' })).toBe(true);
    expect(m({ app: 'web' })).toBe(false);
    expect(m({ app: 'web', tier: 'be' })).toBe(false);
  });

  it('matchLabels with an empty value requires the key to be present', () => {
    const m = compileLabelSelector({ matchLabels: { app: '' } });
    expect(m({ app: '' })).toBe(true);
    expect(m({})).toBe(false);
  });

  it.each([
    ['In', ['a', 'b'], { k: 'a' }, true],
    ['In', ['a', 'b'], { k: 'c' }, false],
    ['In', ['a'], {}, false],
    ['NotIn', ['a'], { k: 'b' }, true],
    ['NotIn', ['a'], { k: 'a' }, false],
    ['NotIn', ['a'], {}, true],
    ['Exists', [], { k: '' }, true],
    ['Exists', [], {}, false],
    ['DoesNotExist', [], {}, true],
    ['DoesNotExist', [], { k: 'x' }, false],
  ] as const)('%s %j on %j → %s', (operator, values, labels, expected) => {
    const m = compileLabelSelector({ matchExpressions: [{ key: 'k', operator, values: [...values] }] });
    expect(m(labels)).toBe(expected);
  });

  it('expressions and labels are ANDed', () => {
    const m = compileLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(m({ app: 'web', env: 'prod' })).toBe(true);
    expect(m({ app: 'web', env: 'prod', canary: 'true' })).toBe(false);
    expect(m({ app: 'db', env: 'prod' })).toBe(false);
  });

  it('an invalid operator matches nothing', () => {
    expect(compileLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] })({ k: '2' })).toBe(false);
  });

  it('does not match inherited object properties', () => {
    const m = compileLabelSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] });
    expect(m({})).toBe(false);
  });
});

describe('mapSelectorMatches', () => {
  it('empty or missing map selectors select nothing', () => {
    expect(mapSelectorMatches(undefined, { a: '1' })).toBe(false);
    expect(mapSelectorMatches({}, { a: '1' })).toBe(false);
    expect(mapSelectorMatches({ a: '1' }, { a: '1', b: '2' })).toBe(true);
    expect(mapSelectorMatches({ a: '1', b: '3' }, { a: '1', b: '2' })).toBe(false);
  });
});

describe('node selector terms', () => {
  const labels = { zone: 'a', cores: '16', name: 'n1' };
  const term = (t: NodeSelectorTerm) => compileNodeSelectorTerm(t);

  it.each([
    ['Gt', '8', true],
    ['Gt', '16', false],
    ['Gt', '-1', true],
    ['Lt', '32', true],
    ['Lt', '16', false],
  ] as const)('cores %s %s → %s', (operator, value, expected) => {
    expect(term({ matchExpressions: [{ key: 'cores', operator, values: [value] }] })(labels, 'n1')).toBe(expected);
  });

  it('Gt/Lt: missing label, non-integer label or bad values do not match', () => {
    expect(term({ matchExpressions: [{ key: 'absent', operator: 'Gt', values: ['1'] }] })(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] })(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['1', '2'] }] })(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['x'] }] })(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: [] }] })(labels, 'n1')).toBe(false);
  });

  it('In / NotIn / Exists / DoesNotExist on node labels', () => {
    expect(term({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] })(labels, 'n1')).toBe(true);
    expect(term({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] })(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['a'] }] })(labels, 'n1')).toBe(true);
    expect(term({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] })(labels, 'n1')).toBe(true);
    expect(term({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] })(labels, 'n1')).toBe(true);
  });

  it('matchFields: metadata.name In / NotIn against the node name, not labels', () => {
    expect(term({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] })({}, 'n1')).toBe(true);
    expect(term({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] })({ name: 'n1' }, 'n2')).toBe(false);
    expect(term({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] })({}, 'n2')).toBe(true);
    expect(term({ matchFields: [{ key: 'metadata.name', operator: 'Exists' }] })({}, 'n1')).toBe(false);
    expect(term({ matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['n1'] }] })({}, 'n1')).toBe(false);
  });

  it('expressions and fields in one term are ANDed', () => {
    const t = term({
      matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }],
      matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
    });
    expect(t({ zone: 'a' }, 'n1')).toBe(true);
    expect(t({ zone: 'a' }, 'n2')).toBe(false);
    expect(t({ zone: 'b' }, 'n1')).toBe(false);
  });

  it('an empty term matches nothing; an invalid requirement voids its term', () => {
    expect(term({})(labels, 'n1')).toBe(false);
    expect(term({ matchExpressions: [], matchFields: [] })(labels, 'n1')).toBe(false);
    expect(
      term({
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['a'] },
          { key: 'zone', operator: 'Bogus', values: ['a'] },
        ],
      })(labels, 'n1'),
    ).toBe(false);
  });

  it('terms are ORed; no terms matches nothing; an empty term does not poison the others', () => {
    expect(compileNodeSelectorTerms(undefined)(labels, 'n1')).toBe(false);
    expect(compileNodeSelectorTerms([])(labels, 'n1')).toBe(false);
    const m = compileNodeSelectorTerms([{}, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }]);
    expect(m(labels, 'n1')).toBe(true);
    expect(m({ zone: 'b' }, 'n1')).toBe(false);
  });
});
