/**
 * PodDisruptionBudgets as preemption counts them (upstream pkg/scheduler/framework/preemption
 * FilterVictimsWithPDBViolation): which potential victims would violate a budget if evicted.
 *
 * - A budget applies to pods of its own namespace whose labels its selector matches. A missing selector, an empty
 *   one and an invalid one match nothing (upstream skips budgets whose LabelSelectorAsSelector is empty or fails).
 * - Each budget starts at status.disruptionsAllowed. Victims are visited in the order given (most important first);
 *   a pod listed in the budget's status.disruptedPods is already being disrupted and costs nothing; any other matching
 *   pod takes one from the budget, and is violating once some budget goes below zero. As upstream, the budgets after
 *   the first one that goes negative are not charged for that pod.
 * - A pod without labels never violates.
 */
import type { LabelSelector, PodDisruptionBudget } from '../../kube/api.js';
import { compileLabelSelector, type LabelMatcher, MATCH_NOTHING } from '../../kube/selectors.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { PodInfo } from '../cache/podInfo.js';

/** One budget compiled once per object (objects are replaced, never changed, when the watch updates them). */
export interface CompiledBudget {
  matches: LabelMatcher;
  disruptionsAllowed: number;
  disruptedPods: Readonly<Record<string, string>>;
}

const compiled = new WeakMap<PodDisruptionBudget, CompiledBudget>();

/**
 * metav1.LabelSelectorAsSelector as preemption uses it: a selector that is missing, empty or invalid (In/NotIn
 * without values, Exists/DoesNotExist with values, an unknown operator) matches nothing.
 */
function budgetSelector(selector: LabelSelector | null | undefined): LabelMatcher {
  if (!selector) return MATCH_NOTHING;
  const expressions = selector.matchExpressions ?? [];
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && expressions.length === 0) return MATCH_NOTHING;
  for (const req of expressions) {
    const count = req.values?.length ?? 0;
    const withValues = req.operator === 'In' || req.operator === 'NotIn';
    const withoutValues = req.operator === 'Exists' || req.operator === 'DoesNotExist';
    if ((withValues && count === 0) || (withoutValues && count > 0) || (!withValues && !withoutValues)) return MATCH_NOTHING;
  }
  return compileLabelSelector(selector);
}

function compile(pdb: PodDisruptionBudget): CompiledBudget {
  let c = compiled.get(pdb);
  if (!c) {
    c = {
      matches: budgetSelector(pdb.spec?.selector),
      disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0,
      disruptedPods: pdb.status?.disruptedPods ?? {},
    };
    compiled.set(pdb, c);
  }
  return c;
}

/** The cluster's budgets grouped by namespace, compiled; built once per preemption attempt. */
export type BudgetsByNamespace = ReadonlyMap<string, readonly CompiledBudget[]>;

export function budgetsByNamespace(cluster: Pick<ClusterView, 'podDisruptionBudgets'>): BudgetsByNamespace {
  const out = new Map<string, CompiledBudget[]>();
  for (const pdb of cluster.podDisruptionBudgets.values()) {
    const namespace = pdb.metadata?.namespace ?? 'default';
    let list = out.get(namespace);
    if (!list) out.set(namespace, (list = []));
    list.push(compile(pdb));
  }
  return out;
}

/** Upstream FilterVictimsWithPDBViolation for single-pod victims, keeping each group in the order given. */
export function filterPodsWithPDBViolation(
  victims: readonly PodInfo[],
  budgets: BudgetsByNamespace,
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  // What is left of each budget in this evaluation, by budget.
  const allowed = new Map<CompiledBudget, number>();
  for (const victim of victims) {
    if (violates(victim, budgets.get(victim.namespace), allowed)) violating.push(victim);
    else nonViolating.push(victim);
  }
  return { violating, nonViolating };
}

function violates(pod: PodInfo, budgets: readonly CompiledBudget[] | undefined, allowed: Map<CompiledBudget, number>): boolean {
  if (!budgets || Object.keys(pod.labels).length === 0) return false;
  for (const budget of budgets) {
    if (!budget.matches(pod.labels)) continue;
    // Already being disrupted: the API server counted it; charging it again would over-count.
    if (Object.prototype.hasOwnProperty.call(budget.disruptedPods, pod.name)) continue;
    const left = (allowed.get(budget) ?? budget.disruptionsAllowed) - 1;
    allowed.set(budget, left);
    if (left < 0) return true;
  }
  return false;
}
