/**
 * Isolation for plugins berth did not ship (loaded with --plugins): their descriptor and every plugin they build are
 * wrapped so that a plugin that throws, returns something that is not what its contract says, or runs past its
 * time budget becomes an Error status for that pod, naming the plugin and the extension point. The scheduler logs
 * it, counts it and requeues the pod with backoff, as for any plugin error; it never crashes and never loses a pod.
 *
 * In-tree plugins are not wrapped: they are tested with berth and sit on the hot path, where the wrapper's clock
 * reads and checks would cost every node of every cycle.
 *
 * A synchronous call cannot be interrupted (it holds the event loop), so its budget is judged when it returns: its
 * answer is discarded and the pod fails. An asynchronous call (PreBind, Bind) is raced against its budget, and the
 * signal handed to the plugin aborts when it runs out.
 */
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { Clock } from '../clock.js';
import { formatGoDuration } from '../../kube/duration.js';
import type { ArgsDecoder, EventInterest, FieldPath, PluginArgsSpec, PluginDescriptor } from './plugin.js';
import {
  Code,
  CODE_NAMES,
  type CycleState,
  type Diagnosis,
  type FrameworkHandle,
  type PermitResult,
  type Plugin,
  PluginError,
  type PostFilterResult,
  type PreFilterOutcome,
  Status,
} from './types.js';

export type PluginFaultKind = 'threw' | 'invalid' | 'timeout';

/** One failure of a guarded plugin. */
export interface PluginFault {
  readonly plugin: string;
  /** The extension point or descriptor member: Filter, Score, PreBind, QueueingHint, args.decode, create, ... */
  readonly point: string;
  readonly kind: PluginFaultKind;
  /** What berth reports for it (also the Error status's message). */
  readonly message: string;
}

export interface PluginGuardOptions {
  /** A monotonic millisecond clock for the budget of synchronous calls (performance.now in the adapters). */
  now(): number;
  /** How long one synchronous call (a Filter on one node, a Score of one node, a Permit, ...) may take. */
  callBudgetMs: number;
  /** How long one PreBind or Bind may take before it is abandoned (its signal aborted) as an Error. */
  bindBudgetMs: number;
  /** Told of every fault (metrics, logs). Must not throw. */
  onFault(fault: PluginFault): void;
}

export const DEFAULT_CALL_BUDGET_MS = 1_000;
export const DEFAULT_BIND_BUDGET_MS = 600_000;

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : describeValue(err);
}

/** A short description of a value a plugin returned, never echoing a large value. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`;
  if (typeof value === 'object') return `an object (${Object.keys(value).slice(0, 4).join(', ') || 'no fields'})`;
  return `a ${typeof value}`;
}

const CODES = new Set<number>(Object.keys(CODE_NAMES).map(Number));

/**
 * A plugin's status answer as berth's Status: null (or undefined) for success, a Status, or a Status-shaped object
 * (a plugin built against another copy of berth's package has its own Status class). Undefined when it is neither.
 */
function asStatus(value: unknown): Status | null | undefined {
  if (value === null || value === undefined) return null;
  if (value instanceof Status) return value;
  if (typeof value !== 'object') return undefined;
  const { code, reasons } = value as { code?: unknown; reasons?: unknown };
  if (typeof code !== 'number' || !CODES.has(code)) return undefined;
  if (!Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string')) return undefined;
  return new Status(code as Code, ...(reasons as string[]));
}

/** The guard of one plugin instance: runs its calls, judges their answers, reports faults. */
class Guard {
  constructor(
    readonly plugin: string,
    private readonly options: PluginGuardOptions,
  ) {}

  fault(point: string, kind: PluginFaultKind, message: string): Status {
    const text = `plugin "${this.plugin}" ${message}`;
    this.options.onFault({ plugin: this.plugin, point, kind, message: text });
    return Status.error(text).withPlugin(this.plugin);
  }

  /** Runs a synchronous call; its value, or the Error status of its fault. */
  call<T>(point: string, run: () => T): { value: T } | { fault: Status } {
    const started = this.options.now();
    let value: T;
    try {
      value = run();
    } catch (err) {
      return { fault: this.fault(point, 'threw', `threw at ${point}: ${errorText(err)}`) };
    }
    const took = this.options.now() - started;
    if (took > this.options.callBudgetMs) {
      const budget = formatGoDuration(this.options.callBudgetMs / 1000);
      return { fault: this.fault(point, 'timeout', `took ${formatGoDuration(took / 1000)} at ${point}, over its budget of ${budget}`) };
    }
    return { value };
  }

  /** A synchronous call whose answer is a status. */
  status(point: string, run: () => unknown): Status | null {
    const result = this.call(point, run);
    if ('fault' in result) return result.fault;
    const status = asStatus(result.value);
    if (status !== undefined) return status;
    return this.fault(point, 'invalid', `returned ${describeValue(result.value)} at ${point}, not a Status (null means success)`);
  }

  /** An asynchronous call whose answer is a status, raced against the bind budget; `signal` aborts the plugin's. */
  async statusAsync(point: string, clock: Clock, signal: AbortSignal, run: (signal: AbortSignal) => Promise<unknown>): Promise<Status | null> {
    const budget = new AbortController();
    const both = AbortSignal.any([signal, budget.signal]);
    let answer: Promise<{ value: unknown } | { threw: unknown }>;
    try {
      answer = run(both).then(
        (value) => ({ value }),
        (threw: unknown) => ({ threw }),
      );
    } catch (threw) {
      answer = Promise.resolve({ threw });
    }
    const stopTimer = new AbortController();
    const timeout = clock.sleep(this.options.bindBudgetMs, AbortSignal.any([stopTimer.signal, signal])).then(() => 'timeout' as const);
    const outcome = await Promise.race([answer, timeout]);
    stopTimer.abort();
    if (outcome === 'timeout') {
      if (signal.aborted) return Status.error(`${point} aborted: ${errorText(signal.reason)}`).withPlugin(this.plugin);
      budget.abort(new Error(`over its budget of ${formatGoDuration(this.options.bindBudgetMs / 1000)}`));
      return this.fault(point, 'timeout', `did not finish ${point} within ${formatGoDuration(this.options.bindBudgetMs / 1000)}`);
    }
    if ('threw' in outcome) return this.fault(point, 'threw', `threw at ${point}: ${errorText(outcome.threw)}`);
    const status = asStatus(outcome.value);
    if (status !== undefined) return status;
    return this.fault(point, 'invalid', `returned ${describeValue(outcome.value)} at ${point}, not a Status (null means success)`);
  }
}

/** PreFilter's answer: a status, or a node-name restriction (a Set, or a list of names). */
function preFilterOutcome(guard: Guard, run: () => unknown): PreFilterOutcome {
  const result = guard.call('PreFilter', run);
  if ('fault' in result) return result.fault;
  const value = result.value;
  const status = asStatus(value);
  if (status !== undefined) return status;
  const names = (value as { nodeNames?: unknown }).nodeNames;
  if (names instanceof Set && [...names].every((n) => typeof n === 'string')) return { nodeNames: names as ReadonlySet<string> };
  if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return { nodeNames: new Set(names as string[]) };
  return guard.fault('PreFilter', 'invalid', `returned ${describeValue(value)} at PreFilter, not a Status or { nodeNames }`);
}

/** A raw score: a finite number, truncated to an integer as upstream's int64 scores are. */
function score(guard: Guard, run: () => unknown): number {
  const result = guard.call('Score', run);
  if ('fault' in result) throw new PluginError(result.fault.message, guard.plugin);
  const value = result.value;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  const fault = guard.fault('Score', 'invalid', `returned ${describeValue(value)} at Score, not a finite number`);
  throw new PluginError(fault.message, guard.plugin);
}

function postFilter(guard: Guard, run: () => unknown): PostFilterResult {
  const result = guard.call('PostFilter', run);
  if ('fault' in result) return { status: result.fault };
  const value = result.value as Partial<PostFilterResult> | null | undefined;
  const status = value && typeof value === 'object' ? asStatus(value.status) : undefined;
  const nominated = value?.nominatedNodeName;
  const victims = value?.victims;
  if (status === undefined || (nominated !== undefined && typeof nominated !== 'string') || (victims !== undefined && !Array.isArray(victims))) {
    return { status: guard.fault('PostFilter', 'invalid', `returned ${describeValue(value)} at PostFilter, not { status, nominatedNodeName?, victims? }`) };
  }
  return { status: status ?? new Status(Code.Success), ...(nominated ? { nominatedNodeName: nominated } : {}), ...(victims ? { victims } : {}) };
}

function permit(guard: Guard, run: () => unknown): PermitResult {
  const result = guard.call('Permit', run);
  if ('fault' in result) return { status: result.fault };
  const value = result.value as Partial<PermitResult> | null | undefined;
  const status = value && typeof value === 'object' ? asStatus(value.status) : undefined;
  const timeout = value?.timeoutMs;
  if (status === undefined || (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0)))) {
    return { status: guard.fault('Permit', 'invalid', `returned ${describeValue(value)} at Permit, not { status, timeoutMs? }`) };
  }
  return { status, ...(timeout !== undefined ? { timeoutMs: timeout } : {}) };
}

type Methods = Record<string, (...args: never[]) => unknown>;

/**
 * The guarded copy of a plugin instance: the same extension points (only those it has), each call judged. The
 * framework recognises the points by the methods present, so none is added.
 */
export function guardPlugin(plugin: Plugin, name: string, clock: Clock, options: PluginGuardOptions): Plugin {
  const guard = new Guard(name, options);
  const p = plugin as unknown as Methods;
  const has = (method: string): boolean => typeof p[method] === 'function';
  const call = (method: string, ...args: unknown[]): unknown => (p[method] as (...a: unknown[]) => unknown).apply(plugin, args);
  // The descriptor's name, whatever the instance calls itself: statuses, metrics and the profile all use it.
  const out: Record<string, unknown> = { name };
  if (has('preFilter')) out.preFilter = (s: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => preFilterOutcome(guard, () => call('preFilter', s, pod, nodes));
  for (const method of ['addPod', 'removePod'] as const) {
    if (has(method)) out[method] = (s: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) => guard.status(`PreFilter${method === 'addPod' ? 'AddPod' : 'RemovePod'}`, () => call(method, s, pod, other, node));
  }
  if (has('filter')) out.filter = (s: CycleState, pod: PodInfo, node: NodeInfo) => guard.status('Filter', () => call('filter', s, pod, node));
  if (has('postFilter')) out.postFilter = (s: CycleState, pod: PodInfo, d: Diagnosis, n: number) => postFilter(guard, () => call('postFilter', s, pod, d, n));
  if (has('preScore')) out.preScore = (s: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) => guard.status('PreScore', () => call('preScore', s, pod, nodes));
  if (has('score')) out.score = (s: CycleState, pod: PodInfo, node: NodeInfo) => score(guard, () => call('score', s, pod, node));
  if (has('normalizeScore')) {
    out.normalizeScore = (s: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array) => guard.status('NormalizeScore', () => call('normalizeScore', s, pod, nodes, scores));
  }
  if (has('reserve')) out.reserve = (s: CycleState, pod: PodInfo, node: string) => guard.status('Reserve', () => call('reserve', s, pod, node));
  if (has('unreserve')) {
    out.unreserve = (s: CycleState, pod: PodInfo, node: string) => {
      const result = guard.call('Unreserve', () => call('unreserve', s, pod, node));
      if ('fault' in result) throw new PluginError(result.fault.message, name);
    };
  }
  if (has('permit')) out.permit = (s: CycleState, pod: PodInfo, node: string) => permit(guard, () => call('permit', s, pod, node));
  if (has('preBindPreFlight')) out.preBindPreFlight = (s: CycleState, pod: PodInfo, node: string) => guard.status('PreBindPreFlight', () => call('preBindPreFlight', s, pod, node));
  for (const method of ['preBind', 'bind'] as const) {
    if (!has(method)) continue;
    const point = method === 'preBind' ? 'PreBind' : 'Bind';
    out[method] = (s: CycleState, pod: PodInfo, node: string, signal: AbortSignal) =>
      guard.statusAsync(point, clock, signal, (both) => call(method, s, pod, node, both) as Promise<unknown>);
  }
  if (has('postBind')) {
    out.postBind = (s: CycleState, pod: PodInfo, node: string) => {
      const result = guard.call('PostBind', () => call('postBind', s, pod, node));
      if ('fault' in result) throw new PluginError(result.fault.message, name);
    };
  }
  return out as unknown as Plugin;
}

/** An args spec whose members cannot throw through: a throwing decoder reports at the args' path. */
function guardArgs<A>(name: string, spec: PluginArgsSpec<A>, options: PluginGuardOptions): PluginArgsSpec<A> {
  const report = (member: string, err: unknown): string => {
    const message = `plugin "${name}" threw in args.${member}: ${errorText(err)}`;
    options.onFault({ plugin: name, point: `args.${member}`, kind: 'threw', message });
    return message;
  };
  return {
    fields: spec.fields,
    defaults: () => spec.defaults(),
    decode: (dec: ArgsDecoder, raw: Record<string, unknown>, path: FieldPath): A => {
      try {
        return spec.decode(dec, raw, path);
      } catch (err) {
        dec.error(path, report('decode', err), `this is a bug in the plugin "${name}"; report it to its authors`);
        return spec.defaults();
      }
    },
    ...(spec.render
      ? {
          render: (args: A): Record<string, unknown> => {
            try {
              return spec.render?.(args) ?? {};
            } catch (err) {
              return { error: report('render', err) };
            }
          },
        }
      : {}),
  };
}

function guardInterest(name: string, interest: EventInterest, options: PluginGuardOptions): EventInterest {
  const hint = interest.hint;
  if (!hint) return interest;
  return {
    event: interest.event,
    hint: (pod, change) => {
      try {
        const answer = hint(pod, change);
        return answer === 'Skip' ? 'Skip' : 'Queue';
      } catch (err) {
        options.onFault({ plugin: name, point: 'QueueingHint', kind: 'threw', message: `plugin "${name}" threw in its queueing hint for ${change.kind}: ${errorText(err)}` });
        return 'Queue';
      }
    },
  };
}

/**
 * The guarded copy of a loaded plugin's descriptor: its args members, hints and factory cannot throw through, and
 * every plugin it creates is guarded. A throwing factory is a start-up error naming the plugin.
 */
export function guardDescriptor(descriptor: PluginDescriptor<unknown>, options: PluginGuardOptions): PluginDescriptor<unknown> {
  const name = descriptor.name;
  const create = descriptor.create;
  return {
    name,
    points: descriptor.points,
    events: descriptor.events.map((e) => (typeof e === 'string' ? e : guardInterest(name, e, options))),
    ...(descriptor.apiWrites ? { apiWrites: descriptor.apiWrites } : {}),
    ...(descriptor.args ? { args: guardArgs(name, descriptor.args, options) } : {}),
    ...(create
      ? {
          create: (handle: FrameworkHandle, args: unknown): Plugin => {
            let plugin: Plugin;
            try {
              plugin = create.call(descriptor, handle, args);
            } catch (err) {
              throw new PluginError(`plugin "${name}" failed to start: its create() threw: ${errorText(err)}`, name);
            }
            if (!plugin || typeof plugin !== 'object') {
              throw new PluginError(`plugin "${name}" failed to start: its create() returned ${describeValue(plugin)}, not a plugin object`, name);
            }
            return guardPlugin(plugin, name, handle.clock, options);
          },
        }
      : {}),
  };
}
