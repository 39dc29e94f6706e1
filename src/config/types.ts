/**
 * The effective (defaulted, validated) scheduler configuration that the rest of berth consumes.
 * Produced by src/config/load.ts from a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1).
 */
import type { ExtensionPoint } from '../scheduler/plugins/catalog.js';

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
  /**
   * Decoded args of every plugin that takes args (its descriptor has an args spec), by plugin name: the profile's
   * pluginConfig entry, else the plugin's defaults. Each value has the type its plugin's args spec decodes to.
   */
  pluginArgs: ReadonlyMap<string, unknown>;
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
