/**
 * TaintToleration (upstream plugins/tainttoleration).
 *
 * Filter: the first NoSchedule/NoExecute taint of the node (in the node's order) that the pod does not tolerate
 * rejects the node, UnschedulableAndUnresolvable.
 * PreScore: the pod's tolerations with effect "" or PreferNoSchedule, collected once per pod. Upstream never
 * returns Skip here.
 * Score: the number of the node's PreferNoSchedule taints those tolerations do not tolerate; NormalizeScore is the
 * default normalization reversed (fewer untolerated taints → higher score; all zero → all 100).
 */
import type { Taint, Toleration } from '../../kube/api.js';
import { defaultNormalizeScore } from '../framework/normalize.js';
import {
  Status,
  type CycleState,
  type FilterPlugin,
  type PreScorePlugin,
  type ScorePlugin, type PreFilterOutcome, type PreFilterPlugin } from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { findUntoleratedTaint, isDoNotScheduleTaint, TAINT_EFFECT_PREFER_NO_SCHEDULE, tolerationsTolerateTaint } from './tolerations.js';

export const NAME = 'TaintToleration';

/** v1.35+ (and v1.34 patch releases with kubernetes#135023): the taint's key and value are no longer printed. */
export const ERR_REASON_UNTOLERATED = 'node(s) had untolerated taint(s)';

/** v1.26–v1.34.x (before the cherry-pick of kubernetes#134740): "node(s) had untolerated taint {key: value}". */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

export interface TaintTolerationOptions {
  /**
   * Filter reason format. 'generic' (default) is the newest release's behaviour (v1.35+: "node(s) had untolerated
   * taint(s)"); 'detailed' reproduces older releases ("node(s) had untolerated taint {key: value}").
   */
  untoleratedMessage?: 'generic' | 'detailed';
  /** Feature gate TaintTolerationComparisonOperators (alpha in v1.35, off by default): Lt/Gt tolerations. */
  comparisonOperators?: boolean;
}

const PRE_SCORE_KEY = `PreScore${NAME}`;
const MEMO_KEY = `${NAME}/preferNoScheduleTolerations`;
const REJECT_GENERIC = Status.unresolvable(ERR_REASON_UNTOLERATED);

function preferNoScheduleTolerations(tolerations: readonly Toleration[]): Toleration[] {
  return tolerations.filter((t) => (t.effect ?? '') === '' || t.effect === TAINT_EFFECT_PREFER_NO_SCHEDULE);
}

export class TaintToleration implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;

  /** v1.37 has a PreFilter that only acts on deferred pod resizes (feature gate off by default): nothing to do. */
  preFilter(): PreFilterOutcome {
    return null;
  }
  private readonly detailed: boolean;
  private readonly comparisonOperators: boolean;

  constructor(options: TaintTolerationOptions = {}) {
    this.detailed = options.untoleratedMessage === 'detailed';
    this.comparisonOperators = options.comparisonOperators === true;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.taints.length === 0) return null;
    const taint = findUntoleratedTaint(node.taints, pod.tolerations, isDoNotScheduleTaint, this.comparisonOperators);
    if (taint === undefined) return null;
    return this.detailed ? Status.unresolvable(untoleratedTaintReason(taint)) : REJECT_GENERIC;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    state.write(PRE_SCORE_KEY, pod.memoize(MEMO_KEY, () => preferNoScheduleTolerations(pod.tolerations)));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const tolerations =
      state.read<Toleration[]>(PRE_SCORE_KEY) ?? pod.memoize(MEMO_KEY, () => preferNoScheduleTolerations(pod.tolerations));
    const taints = node.taints;
    let count = 0;
    for (let i = 0; i < taints.length; i++) {
      const taint = taints[i] as Taint;
      if (taint.effect !== TAINT_EFFECT_PREFER_NO_SCHEDULE) continue;
      if (!tolerationsTolerateTaint(tolerations, taint, this.comparisonOperators)) count++;
    }
    return count;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status | null {
    defaultNormalizeScore(scores, true);
    return null;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate'],
  create: () => new TaintToleration(),
} satisfies PluginDescriptor;
