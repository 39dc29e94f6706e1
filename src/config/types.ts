/**
 * The effective (defaulted, validated) scheduler configuration that the rest of berth consumes.
 * Produced by src/config/load.ts from a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1).
 */
import type { NodeAffinity, TopologySpreadConstraint } from '../kube/api.js';
import type { ExtensionPoint } from '../scheduler/plugins/catalog.js';

export interface ResourceSpec {
  name: string;
  weight: number;
}

export interface UtilizationShapePoint {
  utilization: number; // 0..100
  score: number; // 0..10
}

export interface NodeResourcesFitArgs {
  ignoredResources: string[];
  ignoredResourceGroups: string[];
  scoringStrategy: {
    type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources: ResourceSpec[];
    requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
  };
}

export interface NodeResourcesBalancedAllocationArgs {
  resources: ResourceSpec[];
}

export interface InterPodAffinityArgs {
  hardPodAffinityWeight: number;
  ignorePreferredTermsOfExistingPods: boolean;
}

export interface PodTopologySpreadArgs {
  defaultConstraints: TopologySpreadConstraint[];
  defaultingType: 'System' | 'List';
}

export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinity;
}

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage: number;
  minCandidateNodesAbsolute: number;
}

export interface VolumeBindingArgs {
  bindTimeoutSeconds: number;
  shape?: UtilizationShapePoint[];
}

/** Typed, defaulted args for every plugin that takes args; plugins without args are absent. */
export interface PluginArgsByName {
  NodeResourcesFit: NodeResourcesFitArgs;
  NodeResourcesBalancedAllocation: NodeResourcesBalancedAllocationArgs;
  InterPodAffinity: InterPodAffinityArgs;
  PodTopologySpread: PodTopologySpreadArgs;
  NodeAffinity: NodeAffinityArgs;
  DefaultPreemption: DefaultPreemptionArgs;
  VolumeBinding: VolumeBindingArgs;
}

export interface ResolvedPlugin {
  name: string;
  /** Score weight (>= 1); 1 for non-score points. */
  weight: number;
}

export interface ProfileConfig {
  schedulerName: string;
  /** Per-profile override (v1 allows it); undefined means "use the global value". */
  percentageOfNodesToScore: number | undefined;
  /** The plugins that run at each extension point, in order, after merging defaults and expanding multiPoint. */
  plugins: Record<ExtensionPoint, ResolvedPlugin[]>;
  pluginArgs: PluginArgsByName;
}

export interface LeaderElectionConfig {
  leaderElect: boolean;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  resourceLock: string;
  resourceName: string;
  resourceNamespace: string;
}

export interface ClientConnectionConfig {
  kubeconfig: string;
  qps: number;
  burst: number;
  contentType: string;
  acceptContentTypes: string;
}

export interface SchedulerConfig {
  /** Where the configuration came from (a path, or "embedded default"), for messages. */
  source: string;
  parallelism: number;
  /** 0 = adaptive, as upstream. */
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  leaderElection: LeaderElectionConfig;
  clientConnection: ClientConnectionConfig;
  profiles: ProfileConfig[];
  /** The defaulted configuration as a v1 KubeSchedulerConfiguration object, for `berth config check` to print. */
  effective: Record<string, unknown>;
}
