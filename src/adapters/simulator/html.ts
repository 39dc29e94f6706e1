/**
 * `simulate --output html`: one self-contained page (inline CSS, no scripts, no fonts, no images) with each node's
 * requested-share bars and the per-pod decision table with the explain scores. Its Content-Security-Policy forbids
 * every fetch, so the page can be mailed or attached to a ticket and opened anywhere without reaching a network.
 */
import { formatBytes, formatMilliCpu } from '../../kube/quantity.js';
import type { NodeExplanation } from '../../scheduler/framework/schedulePod.js';
import type { NodeUsage, PodDecision, SimulationResult } from './simulate.js';

export interface HtmlContext {
  /** Where the snapshot came from (files, or the API server). */
  source: string;
  config: string;
}

/** Only inline styles may apply; no script, image, font or connection may load. */
export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'";

const STYLE = `
body{font:14px/1.4 sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#5a6375;margin:0}
.nodes{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.node{border:1px solid #d5dae3;border-radius:6px;padding:8px 10px}
.node h3{font-size:14px;margin:0 0 6px}
.share{display:grid;grid-template-columns:56px 1fr;align-items:center;gap:6px;margin:3px 0;font-size:12px}
.bar{position:relative;height:16px;background:#eef1f6;border-radius:3px;overflow:hidden}
.fill{height:100%;background:#3b7dd8}.fill.high{background:#d8843b}.fill.full{background:#c0392b}
.bar span{position:absolute;left:6px;top:0;font-size:11px;line-height:16px;color:#1d2330}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e3e7ee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6fa;font-weight:600}
.decisions>tbody>tr>td:nth-child(-n+3),.scores td:first-child{white-space:nowrap}
.pending{color:#c0392b;font-weight:600}
.scores td,.scores th{font-size:12px;padding:2px 6px}
.chosen td{background:#e8f2e1}
.reject{color:#7a4b00;font-size:12px}
`;

function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function bar(label: string, percent: number, detail: string): string {
  const width = Math.min(100, Math.max(0, percent));
  const level = percent >= 100 ? ' full' : percent >= 80 ? ' high' : '';
  return (
    `<div class="share"><span>${esc(label)}</span><div class="bar" title="${esc(detail)}">` +
    `<div class="fill${level}" style="width:${width}%"></div><span>${esc(`${percent}% · ${detail}`)}</span></div></div>`
  );
}

function nodeCard(n: NodeUsage): string {
  return (
    `<div class="node" data-node="${esc(n.node)}"><h3>${esc(n.node)}</h3>` +
    bar('cpu', n.cpu.percent, `${formatMilliCpu(n.cpu.requestedMilli)}/${formatMilliCpu(n.cpu.allocatableMilli)}`) +
    bar('memory', n.memory.percent, `${formatBytes(n.memory.requestedBytes)}/${formatBytes(n.memory.allocatableBytes)}`) +
    bar('pods', n.pods.percent, `${n.pods.count}/${n.pods.allocatable}`) +
    '</div>'
  );
}

/** The explain scores: one row per scored node (chosen first), one column per plugin, raw→normalized×weight. */
function scoreTable(d: PodDecision, scored: NodeExplanation[]): string {
  const plugins = (scored[0]?.scores ?? []).map((s) => s.plugin);
  const head = `<tr><th>node</th>${plugins.map((p) => `<th>${esc(p)}</th>`).join('')}<th>total</th></tr>`;
  const rows = [...scored]
    .sort((a, b) => Number(b.node === d.node) - Number(a.node === d.node) || (b.total ?? 0) - (a.total ?? 0) || a.node.localeCompare(b.node))
    .map((e) => {
      const cells = (e.scores ?? []).map((s) => `<td title="raw ${s.raw}, normalized ${s.normalized}, weight ${s.weight}">${esc(`${s.raw}→${s.normalized}×${s.weight}=${s.weighted}`)}</td>`);
      return `<tr${e.node === d.node ? ' class="chosen"' : ''}><td>${esc(e.node)}</td>${cells.join('')}<td>${esc(e.total ?? 0)}</td></tr>`;
    });
  return `<table class="scores">${head}${rows.join('')}</table>`;
}

function explainCell(d: PodDecision): string {
  const explanation = d.explanation ?? [];
  const parts: string[] = [];
  const rejected = explanation.filter((e) => e.verdict !== 'feasible');
  for (const e of rejected) {
    parts.push(`<div class="reject">${esc(`${e.node}: ${e.plugin ?? ''} ${e.verdict}${e.reasons?.length ? ` (${e.reasons.join('; ')})` : ''}`)}</div>`);
  }
  const scored = explanation.filter((e) => e.scores);
  if (scored.length > 0) parts.push(scoreTable(d, scored));
  else if (d.node && d.feasibleNodes === 1) parts.push('<div>only one node passed the filters: chosen without scoring</div>');
  return parts.join('');
}

function decisionRow(d: PodDecision): string {
  const node = d.node ? esc(d.node) : '<span class="pending">pending</span>';
  const why = d.node
    ? d.contributions
        .filter((c) => c.weighted > 0)
        .slice(0, 3)
        .map((c) => `${c.plugin} ${c.score}×${c.weight}`)
        .join(', ')
    : (d.message ?? 'not attempted');
  return (
    `<tr data-pod="${esc(d.pod)}"><td>${esc(d.pod)}</td><td>${node}</td><td>${esc(d.totalScore ?? '-')}</td>` +
    `<td>${esc(why)}</td><td>${explainCell(d)}</td></tr>`
  );
}

export function renderHtml(result: SimulationResult, context: HtmlContext): string {
  const placed = result.decisions.filter((d) => d.node).length;
  const skipped = result.skipped.length > 0 ? ` ${result.skipped.length} pending pod(s) name another scheduler and were left alone.` : '';
  const evicted = result.evicted.length > 0 ? `<p class="meta">Preempted (evicted): ${esc(result.evicted.join(', '))}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">
<title>berth simulate: ${placed}/${result.decisions.length} pods scheduled</title>
<style>${STYLE}</style></head><body>
<h1>berth simulate</h1>
<p class="meta">Snapshot: ${esc(context.source)} · configuration: ${esc(context.config)}</p>
<p class="meta">${placed}/${result.decisions.length} pods scheduled.${esc(skipped)}</p>${evicted}
<h2>Requested share of each node after placement</h2>
<div class="nodes">${result.nodes.map(nodeCard).join('\n')}</div>
<h2>Decisions</h2>
<table class="decisions"><tr><th>pod</th><th>node</th><th>score</th><th>why</th><th>filter verdicts and scores (raw→normalized×weight=weighted)</th></tr>
${result.decisions.map(decisionRow).join('\n')}
</table>
</body></html>
`;
}
