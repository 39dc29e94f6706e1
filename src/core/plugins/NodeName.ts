/**
 * NodeName (upstream plugins/nodename): a pod that names a node in spec.nodeName fits only that node.
 * Released upstream versions (through v1.35) have only a Filter here; no PreFilter narrows the node set.
 */
import { Status, type CycleState, type FilterPlugin, type PluginFactory } from '../framework/types.js';
import type { NodeInfo } from '../nodeInfo.js';
import type { PodInfo } from '../podInfo.js';

export const NAME = 'NodeName';

export const ERR_REASON = "node(s) didn't match the requested node name";

const REJECT = Status.unresolvable(ERR_REASON);

export class NodeName implements FilterPlugin {
  readonly name = NAME;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return pod.nodeName === '' || pod.nodeName === node.name ? null : REJECT;
  }
}

export const create: PluginFactory = () => new NodeName();
