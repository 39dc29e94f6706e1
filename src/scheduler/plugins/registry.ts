/**
 * The in-tree plugin registry: upstream plugin name → factory. A profile's resolved plugin lists name plugins;
 * the Framework instantiates each once per profile from here.
 *
 * Plugins berth accepts in a configuration but runs elsewhere or not at all:
 * - PrioritySort: the scheduling queue orders by priority, then enqueue time (src/scheduler/queue/queue.ts).
 * - SchedulingGates: the queue keeps gated pods aside (src/scheduler/queue/queue.ts).
 * - NodeVolumeLimits: berth does not watch CSINode objects; upstream, with no CSINode limits published, passes
 *   every node, which is what berth does.
 * - DynamicResources: registered for its visible behaviour on pods without claims (see DynamicResources.ts); pods
 *   with resource claims are refused.
 * - NodeDeclaredFeatures: pods that need no declared node features (all but a few alpha features) are skipped
 *   upstream; berth does not read node-declared features.
 */
import type { PluginFactory } from '../framework/types.js';
import * as DefaultBinder from './DefaultBinder.js';
import * as DefaultPreemption from './DefaultPreemption.js';
import * as DynamicResources from './DynamicResources.js';
import * as ImageLocality from './ImageLocality.js';
import * as InterPodAffinity from './InterPodAffinity.js';
import * as NodeAffinity from './NodeAffinity.js';
import * as NodeName from './NodeName.js';
import * as NodePorts from './NodePorts.js';
import * as NodeResourcesBalancedAllocation from './NodeResourcesBalancedAllocation.js';
import * as NodeResourcesFit from './NodeResourcesFit.js';
import * as NodeUnschedulable from './NodeUnschedulable.js';
import * as PodTopologySpread from './PodTopologySpread.js';
import * as TaintToleration from './TaintToleration.js';
import * as VolumeBinding from './VolumeBinding.js';
import * as VolumeRestrictions from './VolumeRestrictions.js';
import * as VolumeZone from './VolumeZone.js';

const MODULES: ReadonlyArray<{ NAME: string; create: PluginFactory }> = [
  NodeUnschedulable,
  NodeName,
  TaintToleration,
  NodeAffinity,
  NodePorts,
  NodeResourcesFit,
  VolumeRestrictions,
  VolumeBinding,
  VolumeZone,
  PodTopologySpread,
  InterPodAffinity,
  DynamicResources,
  DefaultPreemption,
  NodeResourcesBalancedAllocation,
  ImageLocality,
  DefaultBinder,
];

export const IN_TREE_REGISTRY: ReadonlyMap<string, PluginFactory> = new Map(MODULES.map((m) => [m.NAME, m.create]));
