/**
 * `simulate --compare-config`: the same snapshot simulated under the current and a proposed configuration, reduced
 * to what an operator decides on: which pending pods would land elsewhere, and how each node's requested share moves.
 */
import type { NodeUsage, PodDecision, SimulationResult } from './simulate.js';

export interface PodMove {
  pod: string;
  /** null: pending under that configuration. */
  from: string | null;
  to: string | null;
  fromScore: number | null;
  toScore: number | null;
}

export interface ShareChange {
  node: string;
  cpu: { from: number; to: number };
  memory: { from: number; to: number };
  pods: { from: number; to: number };
}

export interface Comparison {
  currentConfig: string;
  proposedConfig: string;
  /** Pods both configurations were responsible for. */
  pods: number;
  /** Pods placed on a different node (or placed under one and pending under the other). */
  moved: PodMove[];
  /** Every node, with its requested shares (percent) under each configuration. */
  nodes: ShareChange[];
  /** Pods only one configuration schedules (its profiles name a scheduler the other's do not). */
  onlyCurrent: string[];
  onlyProposed: string[];
}

function byPod(result: SimulationResult): Map<string, PodDecision> {
  return new Map(result.decisions.map((d) => [d.pod, d]));
}

function shareChange(node: string, from: NodeUsage | undefined, to: NodeUsage | undefined): ShareChange {
  return {
    node,
    cpu: { from: from?.cpu.percent ?? 0, to: to?.cpu.percent ?? 0 },
    memory: { from: from?.memory.percent ?? 0, to: to?.memory.percent ?? 0 },
    pods: { from: from?.pods.percent ?? 0, to: to?.pods.percent ?? 0 },
  };
}

export function compareResults(current: SimulationResult, proposed: SimulationResult, currentConfig: string, proposedConfig: string): Comparison {
  const before = byPod(current);
  const after = byPod(proposed);
  const moved: PodMove[] = [];
  let pods = 0;
  for (const [pod, old] of before) {
    const now = after.get(pod);
    if (!now) continue;
    pods++;
    if (old.node === now.node) continue;
    moved.push({ pod, from: old.node, to: now.node, fromScore: old.totalScore, toScore: now.totalScore });
  }
  const oldNodes = new Map(current.nodes.map((n) => [n.node, n]));
  const newNodes = new Map(proposed.nodes.map((n) => [n.node, n]));
  const names = [...new Set([...oldNodes.keys(), ...newNodes.keys()])].sort();
  return {
    currentConfig,
    proposedConfig,
    pods,
    moved,
    nodes: names.map((n) => shareChange(n, oldNodes.get(n), newNodes.get(n))),
    onlyCurrent: [...before.keys()].filter((p) => !after.has(p)),
    onlyProposed: [...after.keys()].filter((p) => !before.has(p)),
  };
}
