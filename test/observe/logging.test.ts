import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Status, type Diagnosis } from '../../src/scheduler/framework/types.js';
import type { CycleOutcome } from '../../src/scheduler/scheduler.js';
import { createLogger, type DecisionOutcome, decisionRecord, logDecision, LogLevelError } from '../../src/observe/logging.js';

/** Compile-time check: the scheduler's CycleOutcome is what logDecision reads. */
export const acceptsCycleOutcome = (o: CycleOutcome): DecisionOutcome => o;

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const pod = { namespace: 'default', name: 'web-1' };
const diagnosis: Diagnosis = {
  nodeToStatus: new Map(),
  absentNodesStatus: null,
  unschedulablePlugins: new Set(['TaintToleration', 'NodeResourcesFit']),
  preFilterMsg: '',
  postFilterMsg: '',
};

const scheduled: DecisionOutcome = {
  queued: { attempts: 2, pod },
  profile: 'berth',
  startedAt: 100,
  endedAt: 103.5,
  result: {
    kind: 'scheduled',
    nodeName: 'node-7',
    totalScore: 412,
    evaluatedNodes: 100,
    feasibleNodes: 64,
    contributions: [
      { plugin: 'TaintToleration', weight: 3, score: 100, weighted: 300 },
      { plugin: 'NodeResourcesFit', weight: 1, score: 62, weighted: 62 },
      { plugin: 'NodeResourcesBalancedAllocation', weight: 1, score: 50, weighted: 50 },
      { plugin: 'ImageLocality', weight: 1, score: 0, weighted: 0 },
    ],
  },
};

describe('createLogger', () => {
  it('writes JSON lines at the chosen level', () => {
    const s = sink();
    const log = createLogger('warn', s.stream);
    log.info('hidden');
    log.warn({ a: 1 }, 'shown');
    const lines = s.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'shown', a: 1, name: 'berth' });
    expect(typeof lines[0]?.['time']).toBe('string');
  });

  it('accepts levels case-insensitively and rejects unknown ones clearly', () => {
    expect(createLogger('DEBUG', sink().stream).level).toBe('debug');
    expect(() => createLogger('verbose')).toThrow(LogLevelError);
    expect(() => createLogger('verbose')).toThrow('invalid log level "verbose": expected one of fatal, error, warn, info, debug, trace, silent');
  });
});

describe('logDecision', () => {
  it('writes one line for a placement with the top 3 contributions', () => {
    const s = sink();
    logDecision(createLogger('info', s.stream), scheduled);
    const lines = s.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'scheduled default/web-1 on node-7 (score 412)',
      decision: 'scheduled',
      pod: 'default/web-1',
      profile: 'berth',
      node: 'node-7',
      score: 412,
      attempt: 2,
      latencyMs: 3.5,
      feasibleNodes: 64,
      evaluatedNodes: 100,
    });
    expect((lines[0]?.['top'] as unknown[]).map((t) => (t as { plugin: string }).plugin)).toEqual([
      'TaintToleration',
      'NodeResourcesFit',
      'NodeResourcesBalancedAllocation',
    ]);
  });

  it('writes the unschedulable message, rejecting plugins and nomination', () => {
    const s = sink();
    logDecision(createLogger('info', s.stream), {
      ...scheduled,
      result: {
        kind: 'unschedulable',
        message: '0/3 nodes are available: 3 Insufficient cpu.',
        diagnosis,
        numAllNodes: 3,
        postFilter: { status: Status.unschedulable('x'), nominatedNodeName: 'node-2', victims: [] },
      },
    });
    const [line] = s.lines();
    expect(line).toMatchObject({
      decision: 'unschedulable',
      msg: 'unschedulable default/web-1: 0/3 nodes are available: 3 Insufficient cpu.',
      message: '0/3 nodes are available: 3 Insufficient cpu.',
      numAllNodes: 3,
      unschedulablePlugins: ['NodeResourcesFit', 'TaintToleration'],
      nominatedNode: 'node-2',
      victims: 0,
    });
    expect(line?.['node']).toBeUndefined();
  });

  it('logs internal errors at error level', () => {
    const s = sink();
    logDecision(createLogger('info', s.stream), { ...scheduled, result: { kind: 'error', message: 'boom', plugin: 'X' } });
    expect(s.lines()[0]).toMatchObject({ level: 'error', decision: 'error', message: 'boom', plugin: 'X' });
    expect(decisionRecord({ ...scheduled, result: { kind: 'error', message: 'm' } })).not.toHaveProperty('plugin');
  });
});
