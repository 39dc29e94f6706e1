/**
 * NodeName (upstream plugins/nodename): a pod that names a node in spec.nodeName fits only that node.
 * Released upstream versions (through v1.35) have only a Filter here; no PreFilter narrows the node set.
 */
import { Status, type CycleState, type FilterPlugin, type PreFilterOutcome, type PreFilterPlugin } from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';

export const NAME = 'NodeName';

export const ERR_REASON = "node(s) didn't match the requested node name";

const REJECT = Status.unresolvable(ERR_REASON);

export class NodeName implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  /**
   * v1.37: a pod that already names its node (deferred resize, static assignment) is evaluated on that node only;
   * the others become UnschedulableAndUnresolvable ("didn't satisfy plugin(s) [NodeName]").
   */
  preFilter(_state: CycleState, pod: PodInfo): PreFilterOutcome {
    return pod.nodeName === '' ? null : { nodeNames: new Set([pod.nodeName]) };
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return pod.nodeName === '' || pod.nodeName === node.name ? null : REJECT;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate'],
  create: () => new NodeName(),
} satisfies PluginDescriptor;
