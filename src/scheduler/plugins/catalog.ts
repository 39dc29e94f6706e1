/**
 * The vocabulary plugin descriptors are written in (extension points, cluster events) and upstream's default
 * profile. What each plugin implements and waits for is in its own descriptor (src/scheduler/framework/plugin.ts);
 * the in-tree ones are listed in inTree.ts.
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

/**
 * Cluster events the queue reacts to; a rejected pod is retried only on events its rejecting plugins listen to
 * (each plugin's descriptor lists them).
 */
export const CLUSTER_EVENT_KINDS = [
  'NodeAdd',
  'NodeUpdate',
  'NodeDelete',
  'AssignedPodAdd',
  'AssignedPodUpdate',
  'AssignedPodDelete',
  'PvcChange',
  'PvChange',
  'StorageClassChange',
  'NamespaceChange',
  'WorkloadChange',
  'CSINodeChange',
  'CSIDriverChange',
  'CSIStorageCapacityChange',
  'VolumeAttachmentChange',
  'DeviceClassChange',
  'ResourceSliceChange',
  'ResourceClaimChange',
] as const;
export type ClusterEventKind = (typeof CLUSTER_EVENT_KINDS)[number];

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
