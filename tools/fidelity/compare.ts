/**
 * Compares upstream's and berth's outcomes for one scenario, pod by pod: bound or not, the FailedScheduling
 * reason and message, the chosen node, and the final placement after the scenario settled.
 *
 * A different node is accepted only as a tie shown by upstream's own scores (its log; upstreamScores.ts): the
 * attempt that bound the pod has a top total shared by upstream's node and berth's. Such pods are counted as
 * tie-accepted, never as agreeing. berth's own scores are never asked.
 */
import type { PodOutcome, RunResult } from './harness.js';
import type { Scenario } from './scenario.js';
import { bindingAttempt, decisivePlugins, judgeTie, type TieVerdict, type UpstreamScores } from './upstreamScores.js';

export type Verdict = 'agree' | 'tie' | 'differ';

export interface PodComparison {
  pod: string;
  verdict: Verdict;
  /** 'same node', 'tie in upstream's totals among a, b', 'same failure', ... or what differs. */
  note: string;
  upstream: string;
  berth: string;
}

export interface ScenarioComparison {
  scenario: string;
  file: string;
  pods: PodComparison[];
  agreed: number;
  tieAccepted: number;
  differ: number;
  total: number;
  /** Score plugin (NodeResourcesFit with its strategy) → pods it alone decided, by upstream's scores. */
  decidedBy: Record<string, string[]>;
  error?: string;
}

/** What comparing needs of a scenario (tests make these up). */
export type ComparedScenario = Pick<Scenario, 'name' | 'file' | 'pods' | 'expectPending'> & { config?: Record<string, unknown> };

export function describeOutcome(o: PodOutcome): string {
  if (o.timedOut) return 'no outcome (timed out)';
  if (o.node) {
    if (o.realignedTo !== undefined) return `bound to ${o.node} (then moved by the harness to ${o.realignedTo}, upstream's node, after the accepted tie)`;
    return `bound to ${o.node}`;
  }
  return `${o.reason}: ${o.message}${o.nominatedNode ? ` (nominated to ${o.nominatedNode})` : ''}`;
}

interface FirstVerdict {
  verdict: Verdict;
  note: string;
}

const differ = (note: string): FirstVerdict => ({ verdict: 'differ', note });

/** The first outcomes: both pending, bound or not, the failure, the node (a tie only from upstream's scores). */
function compareFirst(u: PodOutcome, b: PodOutcome, expectPending: boolean, tie: () => TieVerdict, diverged: string | undefined): FirstVerdict {
  if (u.timedOut || b.timedOut) {
    if (!(u.timedOut && b.timedOut)) return differ('only one scheduler reached an outcome within the timeout');
    if (expectPending) return { verdict: 'agree', note: 'no outcome from either, as the scenario expects (expectPending)' };
    return differ('no outcome from either scheduler within the timeout (a difference unless the pod is marked expectPending)');
  }
  if (expectPending) return differ('the scenario expects no outcome (expectPending), but both schedulers reached one');
  if ((u.node === null) !== (b.node === null)) return differ(u.node ? 'upstream bound it, berth did not' : 'berth bound it, upstream did not');
  if (u.node === null) {
    if (u.reason !== b.reason) return differ('condition reason differs');
    if (u.message !== b.message) return differ('FailedScheduling message differs');
    if (u.nominatedNode !== b.nominatedNode) return differ('nominated node differs');
    return { verdict: 'agree', note: 'same failure' };
  }
  if (u.node === b.node) return { verdict: 'agree', note: 'same node' };
  // Upstream's scores describe upstream's state only: once the runs hold different placements they prove nothing.
  if (diverged !== undefined) return differ(`node differs, and no tie can be judged: the states diverged after ${diverged}`);
  const t = tie();
  return t.tie ? { verdict: 'tie', note: t.note } : differ(`node differs: ${t.note}`);
}

/** A difference in the final placements, or undefined. */
function compareFinal(u: PodOutcome, b: PodOutcome, verdict: Verdict): string | undefined {
  if (u.finalNode === b.finalNode) return undefined;
  // A tie left unaligned: each pod must still be where its scheduler put it (nothing moved it later).
  if (verdict === 'tie' && b.realignedTo === undefined && u.finalNode === u.node && b.finalNode === b.node) return undefined;
  return `final placement differs: upstream ${u.finalNode ?? 'pending'}, berth ${b.finalNode ?? 'pending'}`;
}

/** The NodeResourcesFit scoring strategy a configuration sets (default LeastAllocated). */
export function fitStrategy(config: Record<string, unknown> | undefined): string {
  const profiles = config?.['profiles'];
  const profile = Array.isArray(profiles) ? (profiles[0] as Record<string, unknown> | undefined) : undefined;
  const pluginConfig = profile?.['pluginConfig'];
  for (const pc of Array.isArray(pluginConfig) ? pluginConfig : []) {
    const entry = pc as { name?: string; args?: { scoringStrategy?: { type?: string } } };
    if (entry.name === 'NodeResourcesFit') return entry.args?.scoringStrategy?.type ?? 'LeastAllocated';
  }
  return 'LeastAllocated';
}

function addDecisive(decidedBy: Record<string, string[]>, scores: UpstreamScores | undefined, u: PodOutcome, strategy: string): void {
  if (!scores || u.node === null) return;
  const attempt = bindingAttempt(scores, u.pod, u.node);
  for (const plugin of attempt ? decisivePlugins(attempt) : []) {
    const label = plugin === 'NodeResourcesFit' ? `NodeResourcesFit/${strategy}` : plugin;
    (decidedBy[label] ??= []).push(u.pod);
  }
}

export function comparePods(s: ComparedScenario, upstream: RunResult, berth: RunResult): ScenarioComparison {
  const pods: PodComparison[] = [];
  const decidedBy: Record<string, string[]> = {};
  const strategy = fitStrategy(s.config);
  let diverged: string | undefined;
  for (const i of s.pods.keys()) {
    const u = upstream.outcomes[i]!;
    const b = berth.outcomes[i]!;
    const tie = (): TieVerdict => judgeTie(upstream.scores ? bindingAttempt(upstream.scores, u.pod, u.node!) : undefined, u.node!, b.node!);
    const first = compareFirst(u, b, s.expectPending.has(u.pod), tie, diverged);
    const finalDiff = first.verdict === 'differ' ? undefined : compareFinal(u, b, first.verdict);
    const cmp = finalDiff ? differ(finalDiff) : first;
    // From here on the clusters hold different placements (an unaligned tie, or a difference): no later tie is judged.
    if (u.node !== b.node && b.realignedTo === undefined) {
      diverged ??=
        first.verdict === 'tie'
          ? `the tie on ${u.pod} (berth's pod stays on ${b.node}: ${b.notRealigned ?? 'not moved'})`
          : `the difference on ${u.pod}`;
    }
    addDecisive(decidedBy, upstream.scores, u, strategy);
    pods.push({ pod: u.pod, verdict: cmp.verdict, note: cmp.note, upstream: describeOutcome(u), berth: describeOutcome(b) });
  }
  const count = (v: Verdict): number => pods.filter((p) => p.verdict === v).length;
  return {
    scenario: s.name,
    file: s.file,
    pods,
    agreed: count('agree'),
    tieAccepted: count('tie'),
    differ: count('differ'),
    total: pods.length,
    decidedBy,
  };
}

export function renderComparison(c: ScenarioComparison, verbose: boolean): string {
  const lines: string[] = [];
  const mark = c.error ? 'ERROR' : c.differ > 0 ? 'DIFF' : 'ok';
  lines.push(`${mark.padEnd(5)} ${c.scenario}: ${c.agreed} agree, ${c.tieAccepted} tie-accepted, ${c.differ} differ (of ${c.total})`);
  if (c.error) lines.push(`      ${c.error}`);
  for (const p of c.pods) {
    if (p.verdict === 'differ') {
      lines.push(`      ✗ ${p.pod}: ${p.note}`);
      lines.push(`          upstream: ${p.upstream}`);
      lines.push(`          berth:    ${p.berth}`);
    } else if (p.verdict === 'tie') {
      lines.push(`      ≈ ${p.pod}: ${p.note} (upstream ${p.upstream}; berth ${p.berth})`);
    } else if (verbose) {
      lines.push(`      ✓ ${p.pod}: ${p.note} (${p.upstream})`);
    }
  }
  return lines.join('\n');
}
