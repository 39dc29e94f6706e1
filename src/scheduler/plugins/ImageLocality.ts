/**
 * ImageLocality (upstream pkg/scheduler/framework/plugins/imagelocality/image_locality.go): Score only, favouring
 * nodes that already hold the pod's container images.
 *
 * For every init and regular container (one term per container, repeats included) whose normalized image is on the
 * node: int64(size × spread), spread = nodesWithImage / totalNodes in float64 (upstream scaledImageScore). The sum is
 * clamped to [23 MiB, 1000 MiB × number of containers] and scaled: 100 × (sum − min) / (max − min), integer.
 * totalNodes is every node in the snapshot (not just the feasible ones), as upstream's NodeInfos().List().
 *
 * The known trap: with otherwise equal nodes, replicas of a large image pile onto the nodes that already pulled it
 * (a 1 GiB image on one of three nodes scores 32 there and 0 elsewhere). berth's tunable plugin weight is the remedy.
 */
import type { ClusterView } from '../cache/clusterState.js';
import { MAX_NODE_SCORE, type CycleState, type FrameworkHandle, type ScorePlugin } from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';

export const NAME = 'ImageLocality';

const MB = 1024 * 1024;
/** Upstream minThreshold: 23 MiB. */
export const MIN_THRESHOLD = 23 * MB;
/** Upstream maxContainerThreshold: 1000 MiB per container. */
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Upstream calculatePriority: clamp the sum and scale it to [0, MaxNodeScore] with int64 arithmetic. */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  let sum = sumScores;
  if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
  else if (sum > maxThreshold) sum = maxThreshold;
  // (sum − min) ≤ ~1e12 × containers, × 100 stays far below 2^53; the quotient is non-negative, so trunc = floor
  // (a pod without containers gives 0 / negative = 0, as Go does). `+ 0` turns a -0 into 0.
  return Math.trunc((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD)) + 0;
}

export class ImageLocality implements ScorePlugin {
  readonly name = NAME;
  private readonly cluster: ClusterView;

  constructor(handle: FrameworkHandle) {
    this.cluster = handle.cluster;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const images = pod.images;
    const totalNodes = this.cluster.nodeCount;
    let sum = 0;
    if (node.images.size > 0 && totalNodes > 0) {
      for (let i = 0; i < images.length; i++) {
        const image = images[i] as string;
        const size = node.images.get(image);
        if (size === undefined) continue;
        const spread = (this.cluster.imageNodeCounts.get(image) ?? 0) / totalNodes;
        sum += Math.trunc(size * spread);
      }
    }
    return calculatePriority(sum, images.length);
  }
}

export const descriptor = {
  name: NAME,
  points: ['score'],
  events: [],
  create: (handle) => new ImageLocality(handle),
} satisfies PluginDescriptor;
