/**
 * `--plugins MODULE`: out-of-tree plugins, loaded at start. A module is a path (to a built JavaScript file) or an
 * installed package; it exports one descriptor as `descriptor`, several as `descriptors`, or either as its default
 * export (see docs/plugins.md). Every descriptor is checked here, with a message naming the module, the descriptor
 * and the field, so a mistake is an exit-2 start-up error rather than a failure at the first pod. The descriptors
 * are then guarded (src/scheduler/framework/pluginGuard.ts) and join the in-tree ones in one catalog, under which
 * the configuration names them like any plugin.
 */
import { existsSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suggestionHint } from '../config/errors.js';
import { CLUSTER_EVENT_KINDS, EXTENSION_POINTS } from '../scheduler/plugins/catalog.js';
import type { PluginDescriptor } from '../scheduler/framework/plugin.js';
import { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import {
  DEFAULT_BIND_BUDGET_MS,
  DEFAULT_CALL_BUDGET_MS,
  describeValue,
  guardDescriptor,
  type PluginGuardOptions,
} from '../scheduler/framework/pluginGuard.js';

/** A module or descriptor berth cannot load: the message names the module and the field, and says what to do. */
export class PluginModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginModuleError';
  }
}

/** The queue carries these out itself (PrioritySort, SchedulingGates); a loaded plugin cannot take them over. */
const QUEUE_POINTS = new Set(['queueSort', 'preEnqueue']);
const LOADABLE_POINTS = EXTENSION_POINTS.filter((p) => !QUEUE_POINTS.has(p));
const VERBS = new Set(['create', 'update', 'patch', 'delete', 'get']);
/** Upstream plugin names are Go identifiers in practice; berth allows what a YAML name field holds plainly. */
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

function isPathLike(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(c|m)?[jt]s$/.test(spec);
}

/** The URL to import for `spec`: a file relative to `cwd`, or a package resolved from `cwd`, then from berth. */
function moduleUrl(spec: string, cwd: string): string {
  if (isPathLike(spec)) {
    const file = resolve(cwd, spec);
    if (!existsSync(file)) throw new PluginModuleError(`--plugins ${spec}: no such file (${file})`);
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(resolve(cwd, 'package.json')).resolve(spec)).href;
  } catch {
    // An ESM-only package (no "require" condition) or one installed beside berth rather than in `cwd`: let
    // import() resolve it from berth's own location.
    return spec;
  }
}

let berthPluginHooked = false;

/**
 * Makes `import 'berth/plugin'` in every module loaded from now on resolve to this berth's own public entry: a
 * plugin mounted from a ConfigMap (outside any node_modules holding berth) then finds it, and a plugin installed
 * with its own copy of berth shares this one's classes (Status, CycleState) and module state. Only when berth runs
 * from its build (dist/), where the entry is a JavaScript file; tests running the sources resolve it themselves.
 */
function resolveBerthPluginToThisBerth(): void {
  if (berthPluginHooked) return;
  berthPluginHooked = true;
  const entry = new URL('../plugin.js', import.meta.url);
  if (entry.protocol !== 'file:' || !existsSync(fileURLToPath(entry))) return;
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === 'berth/plugin') return { url: ${JSON.stringify(entry.href)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

async function importModule(spec: string, cwd: string): Promise<Record<string, unknown>> {
  resolveBerthPluginToThisBerth();
  const url = moduleUrl(spec, cwd);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.(c|m)?ts$/.test(spec)) {
      // Node 20 runs no TypeScript; newer Node (type stripping) or a loader such as tsx would have imported it.
      throw new PluginModuleError(`--plugins ${spec}: a TypeScript source; build it to JavaScript (npx tsc) and pass the .js file`);
    }
    if (e.code === 'ERR_MODULE_NOT_FOUND' && url === spec) {
      throw new PluginModuleError(`--plugins ${spec}: no such package; install it (npm install ${spec}) or pass a path to its built .js file`);
    }
    throw new PluginModuleError(`--plugins ${spec}: the module failed to load: ${e.message ?? describeValue(err)}`);
  }
}

/** The descriptors a module exports: `descriptors`, `descriptor`, or the default export (one or a list). */
function exportedDescriptors(spec: string, exports: Record<string, unknown>): Array<{ where: string; value: unknown }> {
  for (const key of ['descriptors', 'descriptor', 'default'] as const) {
    const value = exports[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) return value.map((v, i) => ({ where: `${key}[${i}]`, value: v }));
    return [{ where: key, value }];
  }
  throw new PluginModuleError(
    `--plugins ${spec}: the module exports no plugin descriptor; export one as "descriptor" (or a list as "descriptors", or either as the default export)`,
  );
}

/** Checks one exported value against PluginDescriptor; returns it typed, or throws naming the field. */
export function checkDescriptor(spec: string, where: string, value: unknown): PluginDescriptor<unknown> {
  const fail = (field: string, message: string): never => {
    throw new PluginModuleError(`--plugins ${spec}: ${where}${field ? `.${field}` : ''}: ${message}`);
  };
  if (!value || typeof value !== 'object') return fail('', `expected a plugin descriptor object, got ${describeValue(value)}`);
  const d = value as Record<string, unknown>;
  if (typeof d['name'] !== 'string' || !NAME_PATTERN.test(d['name'])) {
    fail('name', `expected a plugin name (a letter, then letters, digits, "_", "." or "-"; at most 63), got ${shown(d['name'])}`);
  }
  checkPoints(d['points'], fail);
  checkEvents(d['events'], fail);
  checkApiWrites(d['apiWrites'], fail);
  checkArgs(d['args'], fail);
  if (typeof d['create'] !== 'function') fail('create', `expected a function (handle, args) => plugin, got ${describeValue(d['create'])}`);
  return value as PluginDescriptor<unknown>;
}

type Fail = (field: string, message: string) => never;

/** A name as written (quoted, cut short if long), or a description of a value that is not a string. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return describeValue(value);
  return value.length <= 60 ? `"${value}"` : `"${value.slice(0, 60)}…"`;
}

function checkPoints(points: unknown, fail: Fail): void {
  if (!Array.isArray(points) || points.length === 0) fail('points', `expected a non-empty list of extension points (${LOADABLE_POINTS.join(', ')})`);
  (points as unknown[]).forEach((p, i) => {
    if (typeof p !== 'string' || !(EXTENSION_POINTS as readonly string[]).includes(p)) {
      fail(`points[${i}]`, `unknown extension point ${shown(p)}; ${suggestionHint(String(p), LOADABLE_POINTS, 'extension points')}`);
    }
    if (QUEUE_POINTS.has(p as string)) fail(`points[${i}]`, `berth's queue does ${p} itself (PrioritySort, SchedulingGates); a loaded plugin cannot`);
    if ((points as unknown[]).indexOf(p) !== i) fail(`points[${i}]`, `"${p}" is listed twice`);
  });
}

function checkEvents(events: unknown, fail: Fail): void {
  if (!Array.isArray(events)) fail('events', 'expected a list of cluster events (an empty list when the plugin rejects no pod)');
  (events as unknown[]).forEach((e, i) => {
    const kind = typeof e === 'object' && e !== null ? (e as { event?: unknown }).event : e;
    if (typeof kind !== 'string' || !(CLUSTER_EVENT_KINDS as readonly string[]).includes(kind)) {
      fail(`events[${i}]`, `unknown cluster event ${shown(kind)}; ${suggestionHint(String(kind), CLUSTER_EVENT_KINDS, 'events')}`);
    }
    const hint = typeof e === 'object' && e !== null ? (e as { hint?: unknown }).hint : undefined;
    if (hint !== undefined && typeof hint !== 'function') fail(`events[${i}].hint`, `expected a function (pod, event) => 'Queue' | 'Skip'`);
  });
}

function checkApiWrites(writes: unknown, fail: Fail): void {
  if (writes === undefined) return;
  if (!Array.isArray(writes)) fail('apiWrites', 'expected a list of { group, resource, verbs }');
  (writes as unknown[]).forEach((w, i) => {
    const grant = (w ?? {}) as { group?: unknown; resource?: unknown; verbs?: unknown };
    if (typeof grant.group !== 'string' || typeof grant.resource !== 'string' || !Array.isArray(grant.verbs) || !grant.verbs.every((v) => VERBS.has(v as string))) {
      fail(`apiWrites[${i}]`, 'expected { group: string, resource: string, verbs: ("create" | "update" | "patch" | "delete" | "get")[] }');
    }
  });
}

function checkArgs(args: unknown, fail: Fail): void {
  if (args === undefined) return;
  if (!args || typeof args !== 'object') return fail('args', `expected an args spec { fields, defaults, decode, render? }, got ${describeValue(args)}`);
  const spec = args as Record<string, unknown>;
  if (!Array.isArray(spec['fields']) || !spec['fields'].every((f) => typeof f === 'string')) fail('args.fields', 'expected a list of field names');
  for (const member of ['defaults', 'decode'] as const) {
    if (typeof spec[member] !== 'function') fail(`args.${member}`, `expected a function, got ${describeValue(spec[member])}`);
  }
  if (spec['render'] !== undefined && typeof spec['render'] !== 'function') fail('args.render', `expected a function, got ${describeValue(spec['render'])}`);
  try {
    (spec['defaults'] as () => unknown)();
  } catch (err) {
    fail('args.defaults', `threw: ${err instanceof Error ? err.message : describeValue(err)}`);
  }
}

/** Imports every module and checks its descriptors; names must be new (not in `base`, not given twice). */
export async function loadPluginModules(specs: readonly string[], base: PluginCatalog, cwd = process.cwd()): Promise<PluginDescriptor<unknown>[]> {
  const loaded: PluginDescriptor<unknown>[] = [];
  const from = new Map<string, string>();
  for (const spec of specs) {
    const exports = await importModule(spec, cwd);
    for (const { where, value } of exportedDescriptors(spec, exports)) {
      const descriptor = checkDescriptor(spec, where, value);
      if (base.has(descriptor.name)) {
        throw new PluginModuleError(`--plugins ${spec}: ${where}.name: "${descriptor.name}" is a plugin berth already has; give yours another name`);
      }
      const earlier = from.get(descriptor.name);
      if (earlier) throw new PluginModuleError(`--plugins ${spec}: ${where}.name: "${descriptor.name}" is also defined by --plugins ${earlier}`);
      from.set(descriptor.name, spec);
      loaded.push(descriptor);
    }
  }
  return loaded;
}

/** `base` with the loaded descriptors added, each guarded. */
export function catalogWith(base: PluginCatalog, loaded: readonly PluginDescriptor<unknown>[], guard: PluginGuardOptions): PluginCatalog {
  if (loaded.length === 0) return base;
  return new PluginCatalog([...base.descriptors(), ...loaded.map((d) => guardDescriptor(d, guard))]);
}

/** Guard options for the CLI: the process's monotonic clock, the budgets given (or the defaults), a fault sink. */
export function cliGuardOptions(budgets: { callBudgetMs?: number; bindBudgetMs?: number }, onFault: PluginGuardOptions['onFault']): PluginGuardOptions {
  return {
    now: () => performance.now(),
    callBudgetMs: budgets.callBudgetMs ?? DEFAULT_CALL_BUDGET_MS,
    bindBudgetMs: budgets.bindBudgetMs ?? DEFAULT_BIND_BUDGET_MS,
    onFault,
  };
}
