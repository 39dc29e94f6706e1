/**
 * The opt-in decision annotation (`berth run --annotate-decisions`): a bound pod carries why berth chose its node,
 * so `kubectl describe pod` shows it beside the Scheduled event:
 * `berth.dev/decision: node worker-2: NodeResourcesFit 35×1, ImageLocality 10×1, TaintToleration 100×3`.
 *
 * It is written with the Binding itself: the API server merges a Binding's metadata.annotations onto the pod as it
 * sets spec.nodeName (pkg/registry/core/pod/storage BindingREST.setPodNodeAndMetadata), in the same write. So there
 * is no second request that could fail or race a deletion, and no permission beyond pods/binding create, which
 * berth holds anyway: the ClusterRole is the same with the annotation on or off.
 */
import type { PluginContribution } from '../../scheduler/framework/schedulePod.js';
import { contributionsText } from '../../observe/explainText.js';

export const DECISION_ANNOTATION = 'berth.dev/decision';

/** The annotation's value: the node and its top weighted contributions. */
export function decisionAnnotationValue(node: string, feasibleNodes: number, contributions: readonly PluginContribution[]): string {
  return `node ${node}: ${contributionsText(feasibleNodes, contributions)}`;
}
