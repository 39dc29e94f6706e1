/**
 * NodeUnschedulable (upstream plugins/nodeunschedulable): a node with spec.unschedulable (cordoned) rejects pods
 * unless they tolerate the taint node.kubernetes.io/unschedulable:NoSchedule.
 */
import type { Taint } from '../../kube/api.js';
import { Status, type CycleState, type FilterPlugin, type PreFilterOutcome, type PreFilterPlugin } from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { TAINT_EFFECT_NO_SCHEDULE, tolerationsTolerateTaint } from './tolerations.js';

export const NAME = 'NodeUnschedulable';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: TAINT_EFFECT_NO_SCHEDULE };
const REJECT = Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
const MEMO_KEY = `${NAME}/toleratesUnschedulable`;

export class NodeUnschedulable implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  /** v1.37 has a PreFilter that only acts on deferred pod resizes (feature gate off by default): nothing to do. */
  preFilter(): PreFilterOutcome {
    return null;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (!node.unschedulable) return null;
    const tolerates = pod.memoize(MEMO_KEY, toleratesUnschedulable);
    return tolerates ? null : REJECT;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate'],
  create: () => new NodeUnschedulable(),
} satisfies PluginDescriptor;

function toleratesUnschedulable(pod: PodInfo): boolean {
  return tolerationsTolerateTaint(pod.tolerations, UNSCHEDULABLE_TAINT);
}
