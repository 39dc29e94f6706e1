/**
 * What berth knows of each upstream plugin name: the extension points it implements (for multiPoint expansion and
 * validation) and the events that can make a pod it rejected schedulable (for the queue's retry decisions).
 * Names, order and extension points follow upstream's in-tree registry and default profile.
 */

export const EXTENSION_POINTS = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

/** Cluster events the queue reacts to; a rejected pod is retried only on events its rejecting plugins listen to. */
export type ClusterEventKind =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'NodeDelete'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'PvcChange'
  | 'PvChange'
  | 'StorageClassChange'
  | 'NamespaceChange'
  | 'WorkloadChange';

export interface PluginDescriptor {
  name: string;
  points: readonly ExtensionPoint[];
  events: readonly ClusterEventKind[];
}

const NODE_CHANGES: ClusterEventKind[] = ['NodeAdd', 'NodeUpdate'];

export const PLUGIN_CATALOG: readonly PluginDescriptor[] = [
  { name: 'SchedulingGates', points: ['preEnqueue'], events: [] },
  { name: 'PrioritySort', points: ['queueSort'], events: [] },
  { name: 'NodeUnschedulable', points: ['preFilter', 'filter'], events: NODE_CHANGES },
  { name: 'NodeName', points: ['preFilter', 'filter'], events: NODE_CHANGES },
  { name: 'TaintToleration', points: ['preFilter', 'filter', 'preScore', 'score'], events: NODE_CHANGES },
  { name: 'NodeAffinity', points: ['preFilter', 'filter', 'preScore', 'score'], events: NODE_CHANGES },
  { name: 'NodePorts', points: ['preFilter', 'filter'], events: [...NODE_CHANGES, 'AssignedPodDelete'] },
  {
    name: 'NodeResourcesFit',
    points: ['preFilter', 'filter', 'preScore', 'score'],
    events: [...NODE_CHANGES, 'AssignedPodDelete', 'AssignedPodUpdate'],
  },
  { name: 'VolumeRestrictions', points: ['preFilter', 'filter'], events: [...NODE_CHANGES, 'AssignedPodDelete', 'PvcChange'] },
  { name: 'NodeVolumeLimits', points: ['preFilter', 'filter'], events: [...NODE_CHANGES, 'AssignedPodDelete', 'PvcChange', 'PvChange'] },
  {
    name: 'VolumeBinding',
    points: ['preFilter', 'filter', 'reserve', 'preBind', 'preScore', 'score'],
    events: [...NODE_CHANGES, 'PvcChange', 'PvChange', 'StorageClassChange'],
  },
  { name: 'VolumeZone', points: ['preFilter', 'filter'], events: [...NODE_CHANGES, 'PvcChange', 'PvChange', 'StorageClassChange'] },
  {
    name: 'PodTopologySpread',
    points: ['preFilter', 'filter', 'preScore', 'score'],
    events: [...NODE_CHANGES, 'NodeDelete', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  },
  {
    name: 'InterPodAffinity',
    points: ['preFilter', 'filter', 'preScore', 'score'],
    events: [...NODE_CHANGES, 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NamespaceChange'],
  },
  {
    name: 'DynamicResources',
    points: ['preEnqueue', 'preFilter', 'filter', 'postFilter', 'score', 'reserve', 'preBind'],
    events: [],
  },
  // preEnqueue: upstream's PreEnqueue holds back pods whose async preemption is still in flight (SchedulerAsyncPreemption).
  { name: 'DefaultPreemption', points: ['preEnqueue', 'postFilter'], events: [] },
  {
    name: 'NodeResourcesBalancedAllocation',
    points: ['preScore', 'score'],
    events: [...NODE_CHANGES, 'AssignedPodDelete'],
  },
  { name: 'ImageLocality', points: ['score'], events: [] },
  { name: 'DefaultBinder', points: ['bind'], events: [] },
  { name: 'NodeDeclaredFeatures', points: ['preFilter', 'filter'], events: NODE_CHANGES },
];

export const PLUGINS_BY_NAME: ReadonlyMap<string, PluginDescriptor> = new Map(PLUGIN_CATALOG.map((p) => [p.name, p]));

/** Upstream v1 default profile: multiPoint plugins in order, with score weights where upstream sets one. */
export const DEFAULT_MULTI_POINT: ReadonlyArray<{ name: string; weight?: number }> = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  // v1.37 runs NodeName before NodeUnschedulable (the first rejecting filter names a node's reason).
  { name: 'NodeName' },
  { name: 'NodeUnschedulable' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeRestrictions' },
  { name: 'NodeVolumeLimits' },
  { name: 'VolumeBinding' },
  { name: 'VolumeZone' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  // Default since Kubernetes 1.34 (DRA GA), inserted before DefaultPreemption with weight 2.
  { name: 'DynamicResources', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
  // Appended by the NodeDeclaredFeatures feature gate (beta and on by default in 1.36, GA and locked on in 1.37).
  { name: 'NodeDeclaredFeatures' },
];
