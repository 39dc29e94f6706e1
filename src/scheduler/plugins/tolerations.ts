/**
 * Toleration matching with upstream's semantics (k8s.io/api core/v1 Toleration.ToleratesTaint and the
 * component-helpers TolerationsTolerateTaint / FindMatchingUntoleratedTaint), shared by TaintToleration,
 * NodeUnschedulable and PodTopologySpread (nodeTaintsPolicy Honor).
 */
import type { Taint, Toleration } from '../../kube/api.js';

export const TAINT_EFFECT_NO_SCHEDULE = 'NoSchedule';
export const TAINT_EFFECT_PREFER_NO_SCHEDULE = 'PreferNoSchedule';
export const TAINT_EFFECT_NO_EXECUTE = 'NoExecute';

const INT_RE = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): undefined when it would fail (syntax or range). */
function parseInt64(s: string): bigint | undefined {
  if (!INT_RE.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/**
 * Toleration.ToleratesTaint:
 *  1. a non-empty toleration effect must equal the taint's effect (empty matches every effect);
 *  2. a non-empty toleration key must equal the taint's key (empty key, with Exists, matches every key);
 *  3. operator "" or Equal: values equal; Exists: any value;
 *  4. Lt / Gt (v1.35+, feature gate TaintTolerationComparisonOperators, alpha and off by default): the taint's value
 *     compared numerically (int64) with the toleration's; unparsable values do not tolerate. With the gate off
 *     these operators tolerate nothing (the API server also rejects them then).
 *  Any other operator tolerates nothing.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint, comparisonOperators = false): boolean {
  const effect = toleration.effect ?? '';
  if (effect !== '' && effect !== taint.effect) return false;
  const key = toleration.key ?? '';
  if (key !== '' && key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    case 'Lt':
    case 'Gt': {
      if (!comparisonOperators) return false;
      const tolerationValue = parseInt64(toleration.value ?? '');
      const taintValue = parseInt64(taint.value ?? '');
      if (tolerationValue === undefined || taintValue === undefined) return false;
      return toleration.operator === 'Lt' ? taintValue < tolerationValue : taintValue > tolerationValue;
    }
    default:
      return false;
  }
}

/** TolerationsTolerateTaint: true when any of the tolerations tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint, comparisonOperators = false): boolean {
  for (let i = 0; i < tolerations.length; i++) {
    if (toleratesTaint(tolerations[i] as Toleration, taint, comparisonOperators)) return true;
  }
  return false;
}

/** Upstream helper.DoNotScheduleTaintsFilterFunc: the taints the Filter cares about (NoSchedule, NoExecute). */
export function isDoNotScheduleTaint(taint: Taint): boolean {
  return taint.effect === TAINT_EFFECT_NO_SCHEDULE || taint.effect === TAINT_EFFECT_NO_EXECUTE;
}

/**
 * FindMatchingUntoleratedTaint: the first taint (in the node's order) that passes `inScope` and that no toleration
 * tolerates, or undefined when every such taint is tolerated.
 */
export function findUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  inScope: (taint: Taint) => boolean,
  comparisonOperators = false,
): Taint | undefined {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i] as Taint;
    if (!inScope(taint)) continue;
    if (!tolerationsTolerateTaint(tolerations, taint, comparisonOperators)) return taint;
  }
  return undefined;
}
