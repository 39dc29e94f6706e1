import { describe, expect, it } from 'vitest';
import { fitErrorMessage, truncateEventMessage } from '../../../src/scheduler/framework/fitError.js';
import { type Diagnosis, Status } from '../../../src/scheduler/framework/types.js';

function diagnosis(entries: Array<[string, Status]>, extra: Partial<Diagnosis> = {}): Diagnosis {
  return {
    nodeToStatus: new Map(entries.map(([node, status]) => [node, { plugin: 'P', status }])),
    absentNodesStatus: null,
    unschedulablePlugins: new Set(),
    preFilterMsg: '',
    postFilterMsg: '',
    ...extra,
  };
}

const TAINT = 'node(s) had untolerated taint {dedicated: gpu}';

describe('fitErrorMessage', () => {
  it('histogram: counts per reason, sorted as strings, joined by ", ", ended by "."', () => {
    const d = diagnosis([
      ['n1', Status.unschedulable('Insufficient cpu')],
      ['n2', Status.unschedulable(TAINT)],
      ['n3', Status.unschedulable('Insufficient cpu')],
    ]);
    expect(fitErrorMessage(d, 3)).toBe(`0/3 nodes are available: 1 ${TAINT}, 2 Insufficient cpu.`);
  });

  it('sorts byte-wise like Go sort.Strings: "10 ..." before "2 ..."', () => {
    const entries: Array<[string, Status]> = [];
    for (let i = 0; i < 10; i++) entries.push([`a${i}`, Status.unschedulable('Insufficient memory')]);
    for (let i = 0; i < 2; i++) entries.push([`b${i}`, Status.unschedulable('Insufficient cpu')]);
    entries.push(['c', Status.unschedulable('Too many pods')]);
    expect(fitErrorMessage(diagnosis(entries), 13)).toBe(
      '0/13 nodes are available: 1 Too many pods, 10 Insufficient memory, 2 Insufficient cpu.',
    );
  });

  it('sorts uppercase before lowercase (byte order, not locale order)', () => {
    const d = diagnosis([
      ['n1', Status.unschedulable('node(s) were unschedulable')],
      ['n2', Status.unschedulable('Insufficient cpu')],
    ]);
    expect(fitErrorMessage(d, 2)).toBe('0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.');
  });

  it('counts every reason of a multi-reason status once per node', () => {
    const d = diagnosis([
      ['n1', Status.unschedulable('Insufficient cpu', 'Insufficient memory')],
      ['n2', Status.unschedulable('Insufficient memory')],
    ]);
    expect(fitErrorMessage(d, 2)).toBe('0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.');
  });

  it('PreFilter rejection: its message alone, no histogram', () => {
    const d = diagnosis([['n1', Status.unschedulable('ignored')]], {
      preFilterMsg: "node(s) didn't match pod topology spread constraints",
      absentNodesStatus: Status.unresolvable('x'),
    });
    expect(fitErrorMessage(d, 4)).toBe("0/4 nodes are available: node(s) didn't match pod topology spread constraints.");
  });

  it('nodes absent from the map count under the absent-nodes status', () => {
    const d = diagnosis([['n1', Status.unschedulable('Insufficient cpu')]], {
      absentNodesStatus: Status.unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]"),
    });
    expect(fitErrorMessage(d, 5)).toBe(
      "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });

  it('absent-nodes status adds to an existing count of the same reason', () => {
    const d = diagnosis([['n1', Status.unschedulable('R')]], { absentNodesStatus: Status.unresolvable('R') });
    expect(fitErrorMessage(d, 3)).toBe('0/3 nodes are available: 3 R.');
  });

  it('no absent-nodes status: absent nodes are not counted', () => {
    const d = diagnosis([['n1', Status.unschedulable('Insufficient cpu')]]);
    expect(fitErrorMessage(d, 3)).toBe('0/3 nodes are available: 1 Insufficient cpu.');
  });

  it('appends the PostFilter message after a single space, adding no period (v1.37.2 types.go: " %v")', () => {
    const d = diagnosis(
      [
        ['n1', Status.unschedulable(TAINT)],
        ['n2', Status.unschedulable('Insufficient cpu')],
        ['n3', Status.unschedulable('Insufficient cpu')],
      ],
      { postFilterMsg: 'preemption: not eligible due to preemptionPolicy=Never.' },
    );
    expect(fitErrorMessage(d, 3)).toBe(
      `0/3 nodes are available: 1 ${TAINT}, 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.`,
    );
  });

  it('a nested preemption FitError ends with its own single period', () => {
    const inner = fitErrorMessage(
      diagnosis([['n1', Status.unresolvable('No preemption victims found for incoming pod')]], {
        absentNodesStatus: Status.unresolvable('Preemption is not helpful for scheduling'),
      }),
      3,
    );
    expect(inner).toBe(
      '0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    const outer = fitErrorMessage(diagnosis([['n1', Status.unschedulable('Insufficient cpu')]], { postFilterMsg: `preemption: ${inner}` }), 1);
    expect(outer).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
  });

  it('no reasons at all: just the prefix', () => {
    expect(fitErrorMessage(diagnosis([]), 0)).toBe('0/0 nodes are available:');
  });
});

describe('truncateEventMessage', () => {
  it('leaves messages up to 1024 bytes alone', () => {
    const m = 'x'.repeat(1024);
    expect(truncateEventMessage(m)).toBe(m);
  });

  it('cuts longer messages to 1024 bytes ending in " ..."', () => {
    const out = truncateEventMessage('y'.repeat(2000));
    expect(Buffer.byteLength(out)).toBe(1024);
    expect(out.endsWith('y ...')).toBe(true);
    expect(out).toBe(`${'y'.repeat(1020)} ...`);
  });

  it('counts bytes, not characters, and never splits a multi-byte character', () => {
    const m = 'é'.repeat(600); // 1200 bytes
    const out = truncateEventMessage(m);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(1024);
    expect(out.endsWith(' ...')).toBe(true);
    expect(out).not.toContain('\uFFFD');
    expect(out).toBe(`${'é'.repeat(510)} ...`);
  });

  it('honours a custom limit', () => {
    expect(truncateEventMessage('abcdefghij', 8)).toBe('abcd ...');
  });
});
