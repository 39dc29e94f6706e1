/**
 * Renders a simulation for people (tables) and for tools (JSON). Rendering is separate from simulating, so the
 * whole result exists before the first line is printed.
 */
import { formatBytes, formatMilliCpu } from '../../kube/quantity.js';
import type { NodeUsage, PodDecision, SimulationResult } from './simulate.js';
import { describeClaimOutcome } from './claimOutcomes.js';
import { contributionsText, type ExplainView, renderDecision, table } from '../../observe/explainText.js';

function usageCell(requested: string, allocatable: string, pct: number): string {
  return `${requested}/${allocatable} (${pct}%)`;
}

export function renderNodeUsage(nodes: NodeUsage[]): string {
  const rows: string[][] = [['NODE', 'CPU REQUESTED', 'MEMORY REQUESTED', 'PODS']];
  for (const n of nodes) {
    rows.push([
      n.node,
      usageCell(formatMilliCpu(n.cpu.requestedMilli), formatMilliCpu(n.cpu.allocatableMilli), n.cpu.percent),
      usageCell(formatBytes(n.memory.requestedBytes), formatBytes(n.memory.allocatableBytes), n.memory.percent),
      usageCell(String(n.pods.count), String(n.pods.allocatable), n.pods.percent),
    ]);
  }
  return table(rows);
}

export function renderTable(result: SimulationResult): string {
  const lines: string[] = [];
  const rows: string[][] = [['POD', 'NODE', 'SCORE', 'WHY']];
  for (const d of result.decisions) {
    if (d.node) {
      rows.push([d.pod, d.node, String(d.totalScore ?? 0), contributionsText(d.feasibleNodes, d.contributions)]);
    } else {
      rows.push([d.pod, '<pending>', '-', d.message ?? 'not attempted']);
    }
  }
  lines.push(table(rows));
  const placed = result.decisions.filter((d) => d.node).length;
  lines.push('');
  lines.push(`${placed}/${result.decisions.length} pods scheduled.`);
  if (result.skipped.length > 0) {
    const names = [...new Set(result.skipped.map((s) => s.schedulerName))].join(', ');
    lines.push(`${result.skipped.length} pending pod(s) name another scheduler (${names}) and were left alone.`);
  }
  if (result.evicted.length > 0) lines.push(`Preempted (evicted): ${result.evicted.join(', ')}`);
  lines.push('');
  lines.push('Requested share of each node after placement:');
  lines.push(renderNodeUsage(result.nodes));
  return lines.join('\n');
}

/** A simulated pod's decision in the shared explain form: every rejected node on its own row. */
export function explainView(d: PodDecision): ExplainView {
  const explanation = d.explanation ?? [];
  return {
    pod: d.pod,
    node: d.node,
    attempt: d.attempts,
    notes: [],
    message: d.node ? null : d.message,
    filter: explanation
      .filter((e) => e.verdict !== 'feasible')
      .map((e) => ({ nodes: e.node, plugin: e.plugin ?? '', verdict: e.verdict, reasons: e.reasons ?? [] })),
    scores: explanation.filter((e) => e.scores).map((e) => ({ node: e.node, total: e.total ?? 0, scores: e.scores ?? [] })),
    feasibleNodes: d.feasibleNodes,
    ...(d.volumes ? { sections: [{ title: 'Volumes', lines: d.volumes.map((v) => describeClaimOutcome(v, d.node)) }] } : {}),
  };
}

export function renderExplain(result: SimulationResult): string {
  return result.decisions.map((d) => renderDecision(explainView(d))).join('\n');
}

export function renderJson(result: SimulationResult): string {
  return JSON.stringify(result, null, 2);
}
