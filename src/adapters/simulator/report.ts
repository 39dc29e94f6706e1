/**
 * Renders a simulation for people (tables) and for tools (JSON). Rendering is separate from simulating, so the
 * whole result exists before the first line is printed.
 */
import { formatBytes, formatMilliCpu } from '../../kube/quantity.js';
import type { NodeUsage, PodDecision, SimulationResult } from './simulate.js';
import { describeClaimOutcome } from './claimOutcomes.js';
import type { Comparison, ShareChange } from './compare.js';

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function contributionsText(d: PodDecision, limit = 3): string {
  if (d.feasibleNodes === 1) return 'only feasible node';
  const top = d.contributions.filter((c) => c.weighted > 0).slice(0, limit);
  if (top.length === 0) return 'all scores 0 (tie broken at random)';
  return top.map((c) => `${c.plugin} ${c.score}×${c.weight}`).join(', ');
}

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
      rows.push([d.pod, d.node, String(d.totalScore ?? 0), contributionsText(d)]);
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

export function renderExplain(result: SimulationResult): string {
  const out: string[] = [];
  for (const d of result.decisions) {
    out.push(`=== ${d.pod} → ${d.node ?? '<pending>'}${d.attempts > 1 ? ` (attempt ${d.attempts})` : ''}`);
    if (!d.node && d.message) out.push(`    ${d.message}`);
    const explanation = d.explanation ?? [];
    const rejected = explanation.filter((e) => e.verdict !== 'feasible');
    if (rejected.length > 0) {
      out.push('  Filter:');
      const rows = rejected.map((e) => ['   ', e.node, e.plugin ?? '', e.verdict, (e.reasons ?? []).join('; ')]);
      out.push(table(rows));
    }
    const scored = explanation.filter((e) => e.scores);
    if (scored.length > 0) {
      const plugins = (scored[0]?.scores ?? []).map((s) => s.plugin);
      out.push('  Score (raw → normalized × weight = weighted):');
      const header = ['   ', 'NODE', ...plugins, 'TOTAL'];
      const rows = scored
        .sort((a, b) => (b.total ?? 0) - (a.total ?? 0) || a.node.localeCompare(b.node))
        .map((e) => [
          e.node === d.node ? '  *' : '   ',
          e.node,
          ...(e.scores ?? []).map((s) => `${s.raw}→${s.normalized}×${s.weight}=${s.weighted}`),
          String(e.total ?? 0),
        ]);
      out.push(table([header, ...rows]));
    } else if (d.node && d.feasibleNodes === 1) {
      out.push('  Only one node passed the filters: chosen without scoring.');
    }
    if (d.volumes) {
      out.push('  Volumes:');
      for (const v of d.volumes) out.push(`    ${describeClaimOutcome(v, d.node)}`);
    }
    out.push('');
  }
  return out.join('\n');
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
