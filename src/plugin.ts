/**
 * berth's public plugin API: `import { ... } from 'berth/plugin'`. Everything a scheduler plugin written outside
 * berth needs, and nothing else: the descriptor a plugin module exports, the contract of each extension point,
 * statuses and cycle state, the read-only views of nodes, pods and the cluster, and helpers for the Kubernetes
 * values plugins read (quantities, selectors, durations, pod requests).
 *
 * Stability: what this module exports follows semantic versioning from berth 1.0 (docs/plugins.md says exactly
 * what that covers). berth's other modules are internal and may change in any release.
 *
 * NodeInfo and PodInfo are exported as types only: plugins receive them, never build them, and must not change
 * them (they are berth's cache; only the cache writes it).
 */

// ---- the descriptor a plugin module exports
export type {
  ApiWriteGrant,
  ArgsDecoder,
  ClusterEvent,
  ClusterEventKind,
  EventInterest,
  ExtensionPoint,
  FieldPath,
  PluginArgsSpec,
  PluginDescriptor,
  QueueingHint,
  QueueingHintFn,
} from './scheduler/framework/plugin.js';

// ---- background work (data a plugin fetches beside the cycles; the adapter runs it)
export type { BackgroundIO, BackgroundReport, BackgroundTask, HttpRequestInit, HttpResponse } from './scheduler/framework/background.js';
export { RUN_TIMEOUT_MS } from './scheduler/framework/background.js';

// ---- extension point contracts, statuses, cycle state
export {
  Code,
  CycleState,
  isSuccess,
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  PluginError,
  SKIP,
  Status,
} from './scheduler/framework/types.js';
export type {
  BindPlugin,
  Diagnosis,
  FilterPlugin,
  FrameworkHandle,
  NodeRejection,
  PermitPlugin,
  PermitResult,
  Plugin,
  PostBindPlugin,
  PostFilterPlugin,
  PostFilterResult,
  PreBindPlugin,
  PreFilterOutcome,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  ScorePlugin,
  StateData,
  WaitingPod,
} from './scheduler/framework/types.js';
export { defaultNormalizeScore } from './scheduler/framework/normalize.js';

// ---- read-only views
export type { ClusterView } from './scheduler/cache/clusterState.js';
export type { NodeInfo } from './scheduler/cache/nodeInfo.js';
export type { HostPort, PodInfo } from './scheduler/cache/podInfo.js';
export type { Clock } from './scheduler/clock.js';
export type { ClusterPort, ObjectRead, ObjectReader, ObjectWrite, ObjectWriter, PodEvent, WriteResult } from './scheduler/ports.js';

// ---- Kubernetes values
export type * from './kube/api.js';
export { isQuantity, parseMilliQuantity, parseQuantity, QuantityError } from './kube/quantity.js';
export { compileLabelSelector, compileNodeSelectorTerms, type LabelMatcher, type NodeMatcher } from './kube/selectors.js';
export { CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Resource } from './kube/resources.js';
export { computePodRequests, type PodRequests } from './kube/podRequests.js';
export { formatGoDuration, parseGoDuration } from './kube/duration.js';
