/**
 * The one text form of a scheduling decision, shared by `simulate --explain` (a whole simulation), `berth explain`
 * (the live record, or a recomputation) and the decision annotation: the filter verdicts, then the score table
 * `raw→normalized×weight=weighted` per plugin with the chosen node marked `*`.
 */
import type { PluginContribution } from '../scheduler/framework/schedulePod.js';

/** Left-aligned columns two spaces apart; the last column is not padded. */
export function table(rows: string[][]): string {
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

/** The chosen node's top contributions, e.g. "NodeResourcesFit 35×121, ImageLocality 10×11". */
export function contributionsText(feasibleNodes: number | null, contributions: readonly PluginContribution[], limit = 3): string {
  if (feasibleNodes === 1) return 'only feasible node';
  const top = contributions.filter((c) => c.weighted > 0).slice(0, limit);
  if (top.length === 0) return 'all scores 0 (tie broken at random)';
  return top.map((c) => `${c.plugin} ${c.score}×${c.weight}`).join(', ');
}

/** One row of rejected nodes: a node name (simulate) or a group of nodes with one verdict (the live record). */
export interface FilterRow {
  nodes: string;
  plugin: string;
  verdict: string;
  reasons: readonly string[];
}

export interface ScoreRow {
  node: string;
  total: number;
  scores: ReadonlyArray<{ plugin: string; weight: number; raw: number; normalized: number; weighted: number }>;
}

/** Everything the text shows of one decision. */
export interface ExplainView {
  pod: string;
  /** The chosen node; null when the pod stayed pending. */
  node: string | null;
  attempt: number;
  /** Lines printed under the title (where the decision comes from, when it was made). */
  notes: readonly string[];
  /** Why the pod is pending, or why its binding failed. */
  message: string | null;
  filter: readonly FilterRow[];
  scores: readonly ScoreRow[];
  /** Said under the score table, e.g. that only the top nodes are shown. */
  scoresNote?: string;
  feasibleNodes: number | null;
  /** Extra sections (title line, then indented lines), e.g. the volumes a claim got. */
  sections?: ReadonlyArray<{ title: string; lines: readonly string[] }>;
}

function scoreTable(view: ExplainView): string {
  const plugins = (view.scores[0]?.scores ?? []).map((s) => s.plugin);
  const header = ['   ', 'NODE', ...plugins, 'TOTAL'];
  const rows = [...view.scores]
    .sort((a, b) => b.total - a.total || a.node.localeCompare(b.node))
    .map((e) => [
      e.node === view.node ? '  *' : '   ',
      e.node,
      ...e.scores.map((s) => `${s.raw}→${s.normalized}×${s.weight}=${s.weighted}`),
      String(e.total),
    ]);
  return table([header, ...rows]);
}

/** One decision as text, ending with an empty line. */
export function renderDecision(view: ExplainView): string {
  const out: string[] = [];
  out.push(`=== ${view.pod} → ${view.node ?? '<pending>'}${view.attempt > 1 ? ` (attempt ${view.attempt})` : ''}`);
  for (const note of view.notes) out.push(`    ${note}`);
  if (view.message) out.push(`    ${view.message}`);
  if (view.filter.length > 0) {
    out.push('  Filter:');
    out.push(table(view.filter.map((f) => ['   ', f.nodes, f.plugin, f.verdict, f.reasons.join('; ')])));
  }
  if (view.scores.length > 0) {
    out.push('  Score (raw → normalized × weight = weighted):');
    out.push(scoreTable(view));
    if (view.scoresNote) out.push(`    ${view.scoresNote}`);
  } else if (view.node && view.feasibleNodes === 1) {
    out.push('  Only one node passed the filters: chosen without scoring.');
  }
  for (const section of view.sections ?? []) {
    out.push(`  ${section.title}:`);
    for (const line of section.lines) out.push(`    ${line}`);
  }
  out.push('');
  return out.join('\n');
}
