/**
 * NodeUtilization's pluginConfig args (kind NodeUtilizationArgs): types, defaults, strict decoding with field paths
 * and hints, validation, and rendering for `berth config check`. docs/design.md ("NodeUtilization") explains each.
 */
import type { ArgsDecoder, FieldPath, PluginArgsSpec } from '../../../plugin.js';
import { formatGoDuration } from '../../../plugin.js';

export const NAME = 'NodeUtilization';

export const MODES = ['TargetLoadPacking', 'LoadVariationRiskBalancing'] as const;
export type Mode = (typeof MODES)[number];

/** PromQL that answers one value per node, labelled by the node label (fractions 0..1 for cpu and memory). */
export interface PrometheusQueries {
  /** CPU in use, as a fraction of the node's CPUs. */
  readonly cpu: string;
  /** Memory in use, as a fraction of the node's memory. */
  readonly memory: string;
  /** Unix time (seconds) of the node's latest sample: how old the measurement is. */
  readonly sampleTime: string;
}

export interface PrometheusSourceArgs {
  /** The Prometheus server's base URL, e.g. http://prometheus.monitoring.svc:9090. */
  readonly url: string;
  /** The series label that names the node, e.g. instance or node. */
  readonly nodeLabel: string;
  /** A regular expression on the label's value whose first group is the node's name or one of its addresses. */
  readonly nodePattern: string;
  readonly queries: PrometheusQueries;
  /** Seconds between the points of LoadVariationRiskBalancing's subqueries; undefined: Prometheus' default. */
  readonly variationResolution: number | undefined;
  /** Seconds one query may take. */
  readonly timeout: number;
}

export type SourceArgs =
  | { readonly kind: 'prometheus'; readonly prometheus: PrometheusSourceArgs }
  | { readonly kind: 'metricsServer'; readonly timeout: number }
  | { readonly kind: 'file'; readonly path: string };

/** Percent of a node's capacity that measured use plus the pod's requests may reach; absent: not checked. */
export interface FilterArgs {
  readonly cpuPercent?: number;
  readonly memoryPercent?: number;
}

export interface NodeUtilizationArgs {
  readonly mode: Mode;
  /** TargetLoadPacking: the CPU use (percent) nodes are packed up to. */
  readonly targetUtilization: number;
  /** LoadVariationRiskBalancing: multiplier of the deviation term. */
  readonly safeVarianceMargin: number;
  /** LoadVariationRiskBalancing: root taken of the deviation. */
  readonly safeVarianceSensitivity: number;
  /** LoadVariationRiskBalancing: seconds over which the mean and deviation are taken. */
  readonly variationWindow: number;
  readonly filter: FilterArgs;
  /** Where measurements come from; undefined: nowhere (every node scores neutral). */
  readonly source: SourceArgs | undefined;
  /** Seconds between refreshes. */
  readonly refreshInterval: number;
  /** Seconds after which a node's measurement is too old to use. */
  readonly maxSampleAge: number;
  /** Seconds a placed pod's requests are added to its node's measured use after a sample was taken. */
  readonly placedPodWindow: number;
}

export const FIELDS = [
  'mode',
  'targetUtilization',
  'safeVarianceMargin',
  'safeVarianceSensitivity',
  'variationWindow',
  'filter',
  'source',
  'refreshInterval',
  'maxSampleAge',
  'placedPodWindow',
] as const;

export function defaultArgs(): NodeUtilizationArgs {
  return {
    mode: 'TargetLoadPacking',
    targetUtilization: 40,
    safeVarianceMargin: 1,
    safeVarianceSensitivity: 1,
    variationWindow: 15 * 60,
    filter: {},
    source: undefined,
    refreshInterval: 15,
    maxSampleAge: 120,
    placedPodWindow: 60,
  };
}

/** Default PromQL over node-exporter's metrics, aggregated by the node label. */
export function defaultQueries(nodeLabel: string): PrometheusQueries {
  return {
    cpu: `1 - avg by (${nodeLabel}) (rate(node_cpu_seconds_total{mode="idle"}[2m]))`,
    memory: `1 - sum by (${nodeLabel}) (node_memory_MemAvailable_bytes) / sum by (${nodeLabel}) (node_memory_MemTotal_bytes)`,
    sampleTime: `max by (${nodeLabel}) (timestamp(node_memory_MemAvailable_bytes))`,
  };
}

export const DEFAULT_NODE_LABEL = 'instance';
/** The whole value, less a trailing ":port": "10.0.0.5:9100" → "10.0.0.5", "node-a" → "node-a". */
export const DEFAULT_NODE_PATTERN = '^(.+?)(?::[0-9]+)?$';
const DEFAULT_TIMEOUT = 5;
const PROMETHEUS_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Dec = ArgsDecoder;

/** A finite number in [min, max] (or (min, max] when minExclusive), else reported. */
function numberIn(dec: Dec, value: unknown, path: FieldPath, min: number, max: number, minExclusive: boolean, hint: string): number | undefined {
  const n = dec.number(value, path);
  if (n === undefined) return undefined;
  if ((minExclusive ? n <= min : n < min) || n > max) {
    const range = `${minExclusive ? '(' : '['}${min}, ${max === Infinity ? '∞' : max}]`;
    dec.error(path, `${n} is out of range ${range}`, hint);
    return undefined;
  }
  return n;
}

/** A duration of at least `minSeconds`, else reported. */
function durationAtLeast(dec: Dec, value: unknown, path: FieldPath, minSeconds: number, hint: string): number | undefined {
  const s = dec.duration(value, path);
  if (s === undefined) return undefined;
  if (s < minSeconds) {
    dec.error(path, `${formatGoDuration(s)} is too short: at least ${formatGoDuration(minSeconds)}`, hint);
    return undefined;
  }
  return s;
}

function decodeMode(dec: Dec, value: unknown, path: FieldPath): Mode | undefined {
  const text = dec.string(value, path);
  if (text === undefined) return undefined;
  if ((MODES as readonly string[]).includes(text)) return text as Mode;
  dec.error(path, `unknown mode "${text}"`, `write one of ${MODES.join(', ')}`);
  return undefined;
}

function decodeFilter(dec: Dec, value: unknown, path: FieldPath): FilterArgs | undefined {
  const raw = dec.object(value, path, ['cpuPercent', 'memoryPercent'], 'filter');
  if (raw === undefined) return undefined;
  const hint = 'a percent of the node\'s capacity, e.g. 90; leave the field out to not check that resource';
  const cpu = numberIn(dec, raw['cpuPercent'], [...path, 'cpuPercent'], 0, 100, true, hint);
  const memory = numberIn(dec, raw['memoryPercent'], [...path, 'memoryPercent'], 0, 100, true, hint);
  return { ...(cpu !== undefined ? { cpuPercent: cpu } : {}), ...(memory !== undefined ? { memoryPercent: memory } : {}) };
}

function decodeUrl(dec: Dec, value: unknown, path: FieldPath): string | undefined {
  const text = dec.string(value, path);
  if (text === undefined) {
    if (value === undefined || value === null) dec.error(path, 'the Prometheus URL is required', 'write its base URL, e.g. http://prometheus.monitoring.svc:9090');
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    dec.error(path, `"${text}" is not an http(s) URL`, 'write the base URL, e.g. http://prometheus.monitoring.svc:9090');
    return undefined;
  }
  return text.replace(/\/+$/, '');
}

function decodeNodePattern(dec: Dec, value: unknown, path: FieldPath): string | undefined {
  const text = dec.string(value, path);
  if (text === undefined) return undefined;
  let groups = 0;
  try {
    // A regular expression's group count: an alternative that matches the empty string shows them all.
    groups = (new RegExp(`${text}|`).exec('')?.length ?? 1) - 1;
  } catch (err) {
    dec.error(path, `not a regular expression: ${(err as Error).message}`, 'write a JavaScript regular expression whose first group captures the node name or address');
    return undefined;
  }
  if (groups < 1) {
    dec.error(path, `"${text}" has no capturing group`, 'put the part that is the node name or address in parentheses, e.g. ^(.+?)(?::[0-9]+)?$');
    return undefined;
  }
  return text;
}

function decodeQueries(dec: Dec, value: unknown, path: FieldPath, nodeLabel: string): PrometheusQueries {
  const defaults = defaultQueries(nodeLabel);
  const raw = dec.object(value, path, ['cpu', 'memory', 'sampleTime'], 'queries');
  if (raw === undefined) return defaults;
  const read = (key: keyof PrometheusQueries): string => {
    const text = dec.string(raw[key], [...path, key]);
    if (text !== undefined && text.trim() === '') dec.error([...path, key], 'the query is empty', 'write PromQL, or leave the field out for the default');
    return text ?? defaults[key];
  };
  return { cpu: read('cpu'), memory: read('memory'), sampleTime: read('sampleTime') };
}

const PROMETHEUS_FIELDS = ['url', 'nodeLabel', 'nodePattern', 'queries', 'variationResolution', 'timeout'];

function decodePrometheus(dec: Dec, value: unknown, path: FieldPath): PrometheusSourceArgs | undefined {
  const raw = dec.object(value, path, PROMETHEUS_FIELDS, 'source.prometheus') ?? {};
  const url = decodeUrl(dec, raw['url'], [...path, 'url']);
  let nodeLabel = dec.string(raw['nodeLabel'], [...path, 'nodeLabel']) ?? DEFAULT_NODE_LABEL;
  if (!PROMETHEUS_LABEL.test(nodeLabel)) {
    dec.error([...path, 'nodeLabel'], `"${nodeLabel}" is not a Prometheus label name`, 'write a label such as instance or node (letters, digits and "_")');
    nodeLabel = DEFAULT_NODE_LABEL;
  }
  const nodePattern = decodeNodePattern(dec, raw['nodePattern'], [...path, 'nodePattern']) ?? DEFAULT_NODE_PATTERN;
  const queries = decodeQueries(dec, raw['queries'], [...path, 'queries'], nodeLabel);
  const variationResolution = durationAtLeast(dec, raw['variationResolution'], [...path, 'variationResolution'], 1, 'write e.g. "1m", or leave it out for Prometheus\' default');
  const timeout = durationAtLeast(dec, raw['timeout'], [...path, 'timeout'], 0.001, 'write e.g. "5s"') ?? DEFAULT_TIMEOUT;
  if (url === undefined) return undefined;
  return { url, nodeLabel, nodePattern, queries, variationResolution, timeout };
}

const SOURCE_KINDS = ['prometheus', 'metricsServer', 'file'] as const;

function decodeSource(dec: Dec, value: unknown, path: FieldPath): SourceArgs | undefined {
  const raw = dec.object(value, path, SOURCE_KINDS, 'source');
  if (raw === undefined) return undefined;
  const given = SOURCE_KINDS.filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (given.length !== 1) {
    dec.error(path, given.length === 0 ? 'no source given' : `${given.join(' and ')} given; only one source is read`, 'set exactly one of prometheus, metricsServer, file');
    return undefined;
  }
  const kind = given[0];
  if (kind === 'prometheus') {
    const prometheus = decodePrometheus(dec, raw['prometheus'], [...path, 'prometheus']);
    return prometheus && { kind, prometheus };
  }
  if (kind === 'metricsServer') {
    const ms = dec.object(raw['metricsServer'], [...path, 'metricsServer'], ['timeout'], 'source.metricsServer') ?? {};
    const timeout = durationAtLeast(dec, ms['timeout'], [...path, 'metricsServer', 'timeout'], 0.001, 'write e.g. "5s"') ?? DEFAULT_TIMEOUT;
    return { kind, timeout };
  }
  const file = dec.object(raw['file'], [...path, 'file'], ['path'], 'source.file') ?? {};
  const filePath = dec.string(file['path'], [...path, 'file', 'path']);
  if (filePath === undefined || filePath === '') {
    dec.error([...path, 'file', 'path'], 'the file\'s path is required', 'write the path of a node usage file (format in docs/design.md, "NodeUtilization")');
    return undefined;
  }
  return { kind, path: filePath };
}

/** The scalar args, each defaulted when absent or invalid (the invalid ones are reported). */
function decodeScalars(dec: Dec, raw: Record<string, unknown>, path: FieldPath, out: NodeUtilizationArgs): NodeUtilizationArgs {
  const at = (field: string): FieldPath => [...path, field];
  const target = dec.integer(raw['targetUtilization'], at('targetUtilization'));
  if (target !== undefined && (target < 1 || target > 100)) dec.error(at('targetUtilization'), `${target} is out of range [1, 100]`, 'write the target CPU use in percent, e.g. 40');
  const durationHint = 'write a Go duration such as "15s" or "2m"';
  return {
    ...out,
    mode: decodeMode(dec, raw['mode'], at('mode')) ?? out.mode,
    targetUtilization: target !== undefined && target >= 1 && target <= 100 ? target : out.targetUtilization,
    safeVarianceMargin: numberIn(dec, raw['safeVarianceMargin'], at('safeVarianceMargin'), 0, Infinity, false, 'write a non-negative number, e.g. 1') ?? out.safeVarianceMargin,
    safeVarianceSensitivity: numberIn(dec, raw['safeVarianceSensitivity'], at('safeVarianceSensitivity'), 0, Infinity, true, 'write a positive number, e.g. 1 or 2') ?? out.safeVarianceSensitivity,
    variationWindow: durationAtLeast(dec, raw['variationWindow'], at('variationWindow'), 1, durationHint) ?? out.variationWindow,
    refreshInterval: durationAtLeast(dec, raw['refreshInterval'], at('refreshInterval'), 1, durationHint) ?? out.refreshInterval,
    maxSampleAge: durationAtLeast(dec, raw['maxSampleAge'], at('maxSampleAge'), 1, durationHint) ?? out.maxSampleAge,
    placedPodWindow: durationAtLeast(dec, raw['placedPodWindow'], at('placedPodWindow'), 0, durationHint) ?? out.placedPodWindow,
  };
}

function decode(dec: Dec, raw: Record<string, unknown>, path: FieldPath): NodeUtilizationArgs {
  const args = {
    ...decodeScalars(dec, raw, path, defaultArgs()),
    filter: decodeFilter(dec, raw['filter'], [...path, 'filter']) ?? {},
    source: decodeSource(dec, raw['source'], [...path, 'source']),
  };
  if (args.maxSampleAge < args.refreshInterval) {
    dec.error(
      [...path, 'maxSampleAge'],
      `${formatGoDuration(args.maxSampleAge)} is shorter than refreshInterval ${formatGoDuration(args.refreshInterval)}: every measurement would go stale before the next refresh`,
      'make maxSampleAge at least refreshInterval (a few times it rides out a slow refresh)',
    );
  }
  return args;
}

function renderSource(source: SourceArgs): Record<string, unknown> {
  if (source.kind === 'metricsServer') return { metricsServer: { timeout: formatGoDuration(source.timeout) } };
  if (source.kind === 'file') return { file: { path: source.path } };
  const p = source.prometheus;
  return {
    prometheus: {
      url: p.url,
      nodeLabel: p.nodeLabel,
      nodePattern: p.nodePattern,
      queries: { ...p.queries },
      ...(p.variationResolution !== undefined ? { variationResolution: formatGoDuration(p.variationResolution) } : {}),
      timeout: formatGoDuration(p.timeout),
    },
  };
}

function render(a: NodeUtilizationArgs): Record<string, unknown> {
  return {
    mode: a.mode,
    targetUtilization: a.targetUtilization,
    safeVarianceMargin: a.safeVarianceMargin,
    safeVarianceSensitivity: a.safeVarianceSensitivity,
    variationWindow: formatGoDuration(a.variationWindow),
    filter: { ...a.filter },
    ...(a.source ? { source: renderSource(a.source) } : {}),
    refreshInterval: formatGoDuration(a.refreshInterval),
    maxSampleAge: formatGoDuration(a.maxSampleAge),
    placedPodWindow: formatGoDuration(a.placedPodWindow),
  };
}

export const argsSpec: PluginArgsSpec<NodeUtilizationArgs> = { fields: FIELDS, defaults: defaultArgs, decode, render };
