/**
 * berth's in-tree plugins: one descriptor per upstream plugin name, in upstream's registry order (the order
 * "Known plugins" lists them in messages). The configuration loader, the framework and the queue read every fact
 * about a plugin from IN_TREE_CATALOG unless given another catalog.
 *
 * Names berth accepts in a configuration but runs elsewhere or not at all have descriptors without `create`
 * (see each module): PrioritySort and SchedulingGates (the queue does them), NodeDeclaredFeatures (no effect in
 * berth's environment). DynamicResources is built for its visible behaviour on pods without claims (see
 * DynamicResources.ts); pods with resource claims are refused.
 */
import type { PluginDescriptor } from '../framework/plugin.js';
import { PluginCatalog } from '../framework/pluginCatalog.js';
import * as DefaultBinder from './DefaultBinder.js';
import * as DefaultPreemption from './DefaultPreemption.js';
import * as DynamicResources from './DynamicResources.js';
import * as ImageLocality from './ImageLocality.js';
import * as InterPodAffinity from './InterPodAffinity.js';
import * as NodeAffinity from './NodeAffinity.js';
import * as NodeDeclaredFeatures from './NodeDeclaredFeatures.js';
import * as NodeName from './NodeName.js';
import * as NodePorts from './NodePorts.js';
import * as NodeResourcesBalancedAllocation from './NodeResourcesBalancedAllocation.js';
import * as NodeResourcesFit from './NodeResourcesFit.js';
import * as NodeUnschedulable from './NodeUnschedulable.js';
import * as NodeVolumeLimits from './NodeVolumeLimits.js';
import * as PodTopologySpread from './PodTopologySpread.js';
import * as PrioritySort from './PrioritySort.js';
import * as SchedulingGates from './SchedulingGates.js';
import * as TaintToleration from './TaintToleration.js';
import * as VolumeBinding from './VolumeBinding.js';
import * as VolumeRestrictions from './VolumeRestrictions.js';
import * as VolumeZone from './VolumeZone.js';

export const IN_TREE_PLUGINS: readonly PluginDescriptor<unknown>[] = [
  SchedulingGates.descriptor,
  PrioritySort.descriptor,
  NodeUnschedulable.descriptor,
  NodeName.descriptor,
  TaintToleration.descriptor,
  NodeAffinity.descriptor,
  NodePorts.descriptor,
  NodeResourcesFit.descriptor,
  VolumeRestrictions.descriptor,
  NodeVolumeLimits.descriptor,
  VolumeBinding.descriptor,
  VolumeZone.descriptor,
  PodTopologySpread.descriptor,
  InterPodAffinity.descriptor,
  DynamicResources.descriptor,
  DefaultPreemption.descriptor,
  NodeResourcesBalancedAllocation.descriptor,
  ImageLocality.descriptor,
  DefaultBinder.descriptor,
  NodeDeclaredFeatures.descriptor,
];

export const IN_TREE_CATALOG = new PluginCatalog(IN_TREE_PLUGINS);
