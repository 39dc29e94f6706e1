/**
 * Compares upstream's and berth's outcomes for one scenario, pod by pod: bound or not, the FailedScheduling
 * reason and message, the chosen node (any node tied at the top, by berth's own scores, is accepted), and the final
 * placement after the scenario settled.
 */
import type { Pod } from '../../src/kube/api.js';
import type { PodOutcome, RunResult } from './harness.js';
import type { Scenario } from './scenario.js';

export interface PodComparison {
  pod: string;
  agree: boolean;
  /** 'same node', 'tie among a, b', 'same failure', ... or what differs. */
  note: string;
  upstream: string;
  berth: string;
}

export interface ScenarioComparison {
  scenario: string;
  file: string;
  pods: PodComparison[];
  agreed: number;
  total: number;
  error?: string;
}

export type TopNodes = (boundBefore: Pod[], pod: Pod) => Promise<string[]>;

export function describeOutcome(o: PodOutcome): string {
  if (o.timedOut) return 'no outcome (timed out)';
  if (o.node) return `bound to ${o.node}`;
  return `${o.reason}: ${o.message}`;
}

/** The placement of the scenario's pods (and existing pods) as one comparable string. */
function placements(bound: Pod[]): string {
  return bound
    .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}@${p.spec?.nodeName}`)
    .sort()
    .join(',');
}

export async function comparePods(s: Scenario, upstream: RunResult, berth: RunResult, topNodes: TopNodes): Promise<ScenarioComparison> {
  const pods: PodComparison[] = [];
  for (const [i, manifest] of s.pods.entries()) {
    const u = upstream.outcomes[i]!;
    const b = berth.outcomes[i]!;
    const base = { pod: u.pod, upstream: describeOutcome(u), berth: describeOutcome(b) };
    let agree = false;
    let note = '';
    if (u.timedOut || b.timedOut) {
      agree = u.timedOut && b.timedOut;
      note = agree ? 'no outcome from either' : 'only one scheduler reached an outcome';
    } else if ((u.node === null) !== (b.node === null)) {
      note = u.node ? 'upstream bound it, berth did not' : 'berth bound it, upstream did not';
    } else if (u.node === null) {
      agree = u.reason === b.reason && u.message === b.message;
      note = agree ? 'same failure' : u.reason !== b.reason ? 'condition reason differs' : 'FailedScheduling message differs';
    } else if (u.node === b.node) {
      agree = true;
      note = 'same node';
    } else {
      // Different nodes: accepted when each is among berth's top-scoring nodes for the state it was chosen in.
      let topU: string[] = [];
      let topB: string[] = [];
      try {
        topU = await topNodes(u.boundBefore, manifest);
        topB = await topNodes(b.boundBefore, manifest);
      } catch (err) {
        topU = [`(tie check failed: ${(err as Error).message})`];
      }
      // After an accepted tie the runs continue from different states: each choice is then checked against its own.
      const diverged = placements(u.boundBefore) !== placements(b.boundBefore);
      agree = (diverged || topU.length > 1) && topU.includes(u.node) && topB.includes(b.node!);
      note = agree
        ? diverged
          ? `states diverged after an earlier tie; each is top-scoring for its own state (${u.node} / ${b.node})`
          : `tie among ${topU.join(', ')}`
        : `node differs (berth's top-scoring nodes for upstream's state: ${topU.join(', ') || 'none'}; for berth's: ${topB.join(', ') || 'none'})`;
    }
    if (agree && u.finalNode !== b.finalNode && (u.node === null || u.node === b.node)) {
      agree = false;
      note = `final placement differs: upstream ${u.finalNode ?? 'pending'}, berth ${b.finalNode ?? 'pending'}`;
    }
    pods.push({ ...base, agree, note });
  }
  return { scenario: s.name, file: s.file, pods, agreed: pods.filter((p) => p.agree).length, total: pods.length };
}

export function renderComparison(c: ScenarioComparison, verbose: boolean): string {
  const lines: string[] = [];
  const mark = c.error ? 'ERROR' : c.agreed === c.total ? 'ok' : 'DIFF';
  lines.push(`${mark.padEnd(5)} ${c.scenario}: ${c.agreed}/${c.total} pods agree`);
  if (c.error) lines.push(`      ${c.error}`);
  for (const p of c.pods) {
    if (!p.agree) {
      lines.push(`      ✗ ${p.pod}: ${p.note}`);
      lines.push(`          upstream: ${p.upstream}`);
      lines.push(`          berth:    ${p.berth}`);
    } else if (verbose) {
      lines.push(`      ✓ ${p.pod}: ${p.note} (${p.upstream})`);
    }
  }
  return lines.join('\n');
}
