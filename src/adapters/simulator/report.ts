/**
 * Renders a simulation for people (tables) and for tools (JSON). Rendering is separate from simulating, so the
 * whole result exists before the first line is printed.
 */
import { formatBytes, formatMilliCpu } from '../../kube/quantity.js';
import type { NodeUsage, PodDecision, SimulationResult } from './simulate.js';
import { describeClaimOutcome } from './claimOutcomes.js';
import type { Comparison, ShareChange } from './compare.js';
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

function scoreChange(from: number | null, to: number | null): string {
  if (from === null || to === null) return `${from ?? '-'} → ${to ?? '-'}`;
  const delta = to - from;
  return `${from} → ${to} (${delta >= 0 ? '+' : ''}${delta})`;
}

function shareCell(share: { from: number; to: number }): string {
  if (share.from === share.to) return `${share.from}%`;
  const delta = Math.round((share.to - share.from) * 10) / 10;
  return `${share.from}% → ${share.to}% (${delta >= 0 ? '+' : ''}${delta})`;
}

function shareChanged(n: ShareChange): boolean {
  return n.cpu.from !== n.cpu.to || n.memory.from !== n.memory.to || n.pods.from !== n.pods.to;
}

/** The comparison for people: moved pods first (what changes), then every node's shares (where it changes). */
export function renderComparison(c: Comparison): string {
  const lines: string[] = [`Current: ${c.currentConfig}`, `Proposed: ${c.proposedConfig}`, ''];
  if (c.moved.length === 0) {
    lines.push(`No pending pod would land elsewhere (${c.pods} compared).`);
  } else {
    lines.push(`${c.moved.length}/${c.pods} pending pods would land elsewhere:`);
    const rows = c.moved.map((m) => [m.pod, `${m.from ?? '<pending>'} → ${m.to ?? '<pending>'}`, scoreChange(m.fromScore, m.toScore)]);
    lines.push(table([['POD', 'NODE (CURRENT → PROPOSED)', 'SCORE'], ...rows]));
  }
  for (const [label, pods] of [['current', c.onlyCurrent], ['proposed', c.onlyProposed]] as const) {
    if (pods.length > 0) lines.push(`Scheduled only by the ${label} configuration (its profiles alone name their scheduler): ${pods.join(', ')}`);
  }
  lines.push('', 'Requested share of each node after placement (current → proposed):');
  const rows = c.nodes.map((n) => [shareChanged(n) ? '*' : ' ', n.node, shareCell(n.cpu), shareCell(n.memory), shareCell(n.pods)]);
  lines.push(table([[' ', 'NODE', 'CPU', 'MEMORY', 'PODS'], ...rows]));
  return lines.join('\n');
}
