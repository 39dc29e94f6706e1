/**
 * Structured logging: pino JSON lines, and the one-line-per-decision record berth writes for every scheduling
 * attempt (pod, profile, node or the unschedulable message, total score, top 3 plugin contributions, attempt number,
 * latency, feasible/evaluated nodes).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { ScheduleResult } from '../scheduler/framework/schedulePod.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class LogLevelError extends Error {
  constructor(readonly level: string) {
    super(`invalid log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
    this.name = 'LogLevelError';
  }
}

export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

/**
 * A pino logger writing JSON lines (to stdout unless `destination` is given), with ISO timestamps and the level as
 * its name ("level":"info"). Throws LogLevelError for an unknown level.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const normalized = level.trim().toLowerCase();
  if (!isLogLevel(normalized)) throw new LogLevelError(level);
  const options = {
    level: normalized,
    base: { name: 'berth' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // stdout is written synchronously, as klog writes stderr: a decision line is out of the process before the next
  // one, so a crash or SIGKILL loses at most the line being written (pino's default buffers while a write is pending,
  // and a loaded process could lose dozens). One write per decision is a few microseconds.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** What logDecision reads from a CycleOutcome (src/scheduler/scheduler.ts), structurally. */
export interface DecisionOutcome {
  queued: { attempts: number; pod: { namespace: string; name: string; uid?: string } };
  profile: string;
  result: ScheduleResult;
  startedAt: number;
  endedAt: number;
}

export interface DecisionRecord {
  decision: ScheduleResult['kind'];
  pod: string;
  profile: string;
  attempt: number;
  latencyMs: number;
  node?: string;
  score?: number;
  top?: Array<{ plugin: string; weight: number; score: number; weighted: number }>;
  feasibleNodes?: number;
  evaluatedNodes?: number;
  message?: string;
  numAllNodes?: number;
  unschedulablePlugins?: string[];
  nominatedNode?: string;
  victims?: number;
  plugin?: string;
}

/** The fields of the decision line (exported for tests and for other sinks). */
export function decisionRecord(outcome: DecisionOutcome): DecisionRecord {
  const { queued, profile, result } = outcome;
  const base = {
    decision: result.kind,
    pod: `${queued.pod.namespace}/${queued.pod.name}`,
    profile,
    attempt: queued.attempts,
    latencyMs: Math.round((outcome.endedAt - outcome.startedAt) * 1000) / 1000,
  };
  switch (result.kind) {
    case 'scheduled':
      return {
        ...base,
        node: result.nodeName,
        score: result.totalScore,
        top: result.contributions.slice(0, 3).map((c) => ({ plugin: c.plugin, weight: c.weight, score: c.score, weighted: c.weighted })),
        feasibleNodes: result.feasibleNodes,
        evaluatedNodes: result.evaluatedNodes,
      };
    case 'unschedulable': {
      const rec: DecisionRecord = {
        ...base,
        message: result.message,
        numAllNodes: result.numAllNodes,
        unschedulablePlugins: [...result.diagnosis.unschedulablePlugins].sort(),
      };
      if (result.postFilter?.nominatedNodeName) {
        rec.nominatedNode = result.postFilter.nominatedNodeName;
        rec.victims = result.postFilter.victims?.length ?? 0;
      }
      return rec;
    }
    case 'error':
      return { ...base, message: result.message, ...(result.plugin ? { plugin: result.plugin } : {}) };
  }
}

/**
 * Writes ONE log line for a scheduling decision: info for scheduled and unschedulable pods, error for internal
 * errors. The message is human-readable; the fields carry the detail.
 */
export function logDecision(logger: Logger, outcome: DecisionOutcome): void {
  const rec = decisionRecord(outcome);
  switch (rec.decision) {
    case 'scheduled':
      logger.info(rec, `scheduled ${rec.pod} on ${rec.node ?? ''} (score ${rec.score ?? 0})`);
      return;
    case 'unschedulable':
      logger.info(rec, `unschedulable ${rec.pod}: ${rec.message ?? ''}`);
      return;
    case 'error':
      logger.error(rec, `error scheduling ${rec.pod}: ${rec.message ?? ''}`);
      return;
  }
}
