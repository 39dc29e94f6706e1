// The chart's monitoring objects as tests read them: the Grafana dashboard's queries (with Grafana's variables
// replaced by fixed values, as Grafana does before sending them to Prometheus) and the PrometheusRule's structure.
// The PrometheusRule CRD is absent from the test control plane, so its shape is checked here instead of by the API
// server; Prometheus itself (test/integration/dashboards.test.ts) and promtool check its expressions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, type K8sObject } from './helpers.js';

export const DASHBOARD_FILE = join(CHART_DIR, 'dashboards', 'berth.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  instant?: boolean;
  legendFormat?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  /** A collapsed row keeps its panels inside it. */
  panels?: DashboardPanel[];
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: DashboardPanel[];
  templating: { list: Array<{ name: string; type: string }> };
}

/** One panel query, named for failure messages. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included, in order. */
export function allPanels(panels: readonly DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every query of every panel (rows have none of their own). */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/**
 * Replaces Grafana's variables ($name, ${name}, ${name:format}, [[name]]) with the given values. A variable left
 * without a value throws: Prometheus would reject the query, and Grafana would have sent a value.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

/** Metric names a PromQL expression selects with braces (every selector in the chart's queries has some). */
export function selectedMetrics(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) names.add(m[1]!);
  return [...names];
}

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PrometheusRuleObject extends K8sObject {
  spec: { groups: Array<{ name: string; interval?: string; rules: AlertRule[] }> };
}

const PROM_DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMapProblems(where: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!isRecord(v)) return [`${where}: not a map`];
  return Object.entries(v).flatMap(([k, x]) => [
    ...(LABEL_NAME.test(k) ? [] : [`${where}.${k}: not a label name`]),
    ...(typeof x === 'string' ? [] : [`${where}.${k}: not a string`]),
  ]);
}

function ruleProblems(where: string, rule: unknown): string[] {
  if (!isRecord(rule)) return [`${where}: not a map`];
  const problems: string[] = [];
  const named = ['alert', 'record'].filter((k) => typeof rule[k] === 'string' && rule[k] !== '');
  if (named.length !== 1) problems.push(`${where}: needs exactly one of alert or record`);
  if (typeof rule['expr'] !== 'string' || rule['expr'].trim() === '') problems.push(`${where}.expr: missing`);
  if (rule['for'] !== undefined && !(typeof rule['for'] === 'string' && PROM_DURATION.test(rule['for']))) problems.push(`${where}.for: not a duration`);
  if (rule['record'] !== undefined && rule['for'] !== undefined) problems.push(`${where}: a recording rule has no for`);
  const known = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
  for (const k of Object.keys(rule)) if (!known.has(k)) problems.push(`${where}.${k}: unknown field`);
  return [...problems, ...stringMapProblems(`${where}.labels`, rule['labels']), ...stringMapProblems(`${where}.annotations`, rule['annotations'])];
}

/**
 * What the Prometheus Operator's CRD schema (monitoring.coreos.com/v1 PrometheusRule) and Prometheus' rule loader
 * would reject in the object's shape: empty strings are problems too, since they are always mistakes here.
 */
export function prometheusRuleProblems(obj: unknown): string[] {
  if (!isRecord(obj)) return ['not an object'];
  const problems: string[] = [];
  if (obj['apiVersion'] !== 'monitoring.coreos.com/v1') problems.push('apiVersion: not monitoring.coreos.com/v1');
  if (obj['kind'] !== 'PrometheusRule') problems.push('kind: not PrometheusRule');
  const metadata = obj['metadata'];
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') problems.push('metadata.name: missing');
  const spec = obj['spec'];
  const groups = isRecord(spec) ? spec['groups'] : undefined;
  if (!Array.isArray(groups) || groups.length === 0) return [...problems, 'spec.groups: missing or empty'];
  const names = new Set<string>();
  groups.forEach((g: unknown, i) => {
    const where = `spec.groups[${i}]`;
    if (!isRecord(g)) return void problems.push(`${where}: not a map`);
    const name = g['name'];
    if (typeof name !== 'string' || name === '') problems.push(`${where}.name: missing`);
    else if (names.has(name)) problems.push(`${where}.name: ${name} repeated`);
    else names.add(name);
    const rules = g['rules'];
    if (!Array.isArray(rules) || rules.length === 0) return void problems.push(`${where}.rules: missing or empty`);
    rules.forEach((r: unknown, j) => problems.push(...ruleProblems(`${where}.rules[${j}]`, r)));
  });
  return problems;
}

/** The alerting rules of a PrometheusRule, by alert name. */
export function alertRules(rule: PrometheusRuleObject): AlertRule[] {
  return rule.spec.groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
}
