/**
 * Nominated pods (upstream's nominator): a pod that preempted victims is nominated to the node it freed, and until
 * it is bound, pods of lower or equal priority must not take that room. Filters see a node's nominated pods of
 * equal or higher priority as if they were running there (upstream RunFilterPluginsWithNominatedPods).
 */
import type { PodInfo } from '../cache/podInfo.js';

export class Nominator {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeOf = new Map<string, string>();

  /** Nominates the pod to the node, replacing an earlier nomination; an empty node name clears it. */
  nominate(pod: PodInfo, nodeName: string): void {
    this.clear(pod.uid);
    if (nodeName === '') return;
    let pods = this.byNode.get(nodeName);
    if (!pods) this.byNode.set(nodeName, (pods = new Map()));
    pods.set(pod.uid, pod);
    this.nodeOf.set(pod.uid, nodeName);
  }

  clear(uid: string): void {
    const node = this.nodeOf.get(uid);
    if (node === undefined) return;
    this.nodeOf.delete(uid);
    const pods = this.byNode.get(node);
    pods?.delete(uid);
    if (pods && pods.size === 0) this.byNode.delete(node);
  }

  nominatedNode(uid: string): string | undefined {
    return this.nodeOf.get(uid);
  }

  /** Pods nominated to the node, if any (undefined on the common path: no allocation). */
  nominatedPods(nodeName: string): ReadonlyMap<string, PodInfo> | undefined {
    return this.byNode.get(nodeName);
  }

  get size(): number {
    return this.nodeOf.size;
  }
}
