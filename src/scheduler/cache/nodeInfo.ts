/**
 * NodeInfo: one node's scheduling state, kept incrementally. Adding or removing a pod adjusts the running totals
 * (requested, non-zero requested, host ports, pod lists); nothing is recomputed per scheduling cycle.
 */
import type { Labels, Node, Taint } from '../../kube/api.js';
import type { HostPort, PodInfo } from './podInfo.js';
import { normalizeImageName } from './podInfo.js';
import { parseResourceMap, Resource } from '../../kube/resources.js';

export class NodeInfoError extends Error {
  constructor(
    readonly objectRef: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${objectRef}: ${field}: ${detail}`);
    this.name = 'NodeInfoError';
  }
}

export class NodeInfo {
  readonly name: string;
  node: Node;
  labels: Labels;
  taints: Taint[];
  unschedulable: boolean;
  allocatable: Resource;
  /** Normalized image name → size in bytes of that image on this node. */
  images: Map<string, number>;

  /** Sum of the real requests of the pods on the node (NodeResourcesFit filter, BalancedAllocation). */
  readonly requested = new Resource();
  /** Sum of requests with upstream's non-zero defaults (Least/MostAllocated, RequestedToCapacityRatio). */
  readonly nonZeroRequested = new Resource();
  readonly pods: PodInfo[] = [];
  /** Pods on the node with any pod (anti-)affinity; InterPodAffinity scans only these. */
  readonly podsWithAffinity: PodInfo[] = [];
  /** Pods on the node with required anti-affinity; InterPodAffinity's filter checks these against incoming pods. */
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** "protocol/port" → hostIP → number of pods holding it. */
  private readonly usedPorts = new Map<string, Map<string, number>>();

  constructor(node: Node, objectPath?: string) {
    const name = node.metadata?.name;
    const path = objectPath ?? `Node ${name ?? '(unnamed)'}`;
    if (!name) throw new NodeInfoError(path, 'metadata.name', 'is required');
    this.name = name;
    this.node = node;
    this.labels = {};
    this.taints = [];
    this.unschedulable = false;
    this.allocatable = new Resource();
    this.images = new Map();
    this.setNode(node, path);
  }

  /** Replaces the node object (labels, taints, allocatable, images) keeping the pods accounted on it. */
  setNode(node: Node, objectPath?: string): void {
    const path = objectPath ?? `Node ${this.name}`;
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    const alloc = node.status?.allocatable ?? node.status?.capacity;
    try {
      this.allocatable = parseResourceMap(alloc, 'status.allocatable');
    } catch (err) {
      throw new NodeInfoError(path, (err as { field?: string }).field ?? 'status.allocatable', (err as { detail?: string }).detail ?? (err as Error).message);
    }
    const images = new Map<string, number>();
    for (const image of node.status?.images ?? []) {
      for (const name of image.names ?? []) images.set(normalizeImageName(name), image.sizeBytes ?? 0);
    }
    this.images = images;
  }

  /**
   * A copy for a what-if (preemption's dry run, the nominated-pod pass): the same node object and derived fields,
   * its own pod lists and running totals, so adding or removing pods on it leaves the cache untouched.
   */
  clone(): NodeInfo {
    const copy = Object.create(NodeInfo.prototype) as NodeInfo;
    const fields = copy as unknown as {
      name: string; node: Node; labels: Labels; taints: Taint[]; unschedulable: boolean; allocatable: Resource;
      images: Map<string, number>; requested: Resource; nonZeroRequested: Resource; pods: PodInfo[];
      podsWithAffinity: PodInfo[]; podsWithRequiredAntiAffinity: PodInfo[]; usedPorts: Map<string, Map<string, number>>;
    };
    fields.name = this.name;
    fields.node = this.node;
    fields.labels = this.labels;
    fields.taints = this.taints;
    fields.unschedulable = this.unschedulable;
    fields.allocatable = this.allocatable;
    fields.images = this.images;
    fields.requested = this.requested.clone();
    fields.nonZeroRequested = this.nonZeroRequested.clone();
    fields.pods = this.pods.slice();
    fields.podsWithAffinity = this.podsWithAffinity.slice();
    fields.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.slice();
    fields.usedPorts = new Map([...this.usedPorts].map(([key, ips]) => [key, new Map(ips)]));
    return copy;
  }

  addPod(pod: PodInfo): void {
    this.requested.accumulate(pod.requests, 1);
    this.nonZeroRequested.accumulate(pod.nonZeroRequests, 1);
    this.pods.push(pod);
    if (pod.hasAnyPodAffinity) this.podsWithAffinity.push(pod);
    if (pod.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(pod);
    for (const port of pod.hostPorts) this.changePort(port, 1);
  }

  /** Removes a pod by uid; returns false when it was not on this node. */
  removePod(pod: PodInfo): boolean {
    const index = this.pods.findIndex((p) => p.uid === pod.uid);
    if (index < 0) return false;
    const existing = this.pods[index] as PodInfo;
    removeAt(this.pods, index);
    removeByUid(this.podsWithAffinity, existing.uid);
    removeByUid(this.podsWithRequiredAntiAffinity, existing.uid);
    this.requested.accumulate(existing.requests, -1);
    this.nonZeroRequested.accumulate(existing.nonZeroRequests, -1);
    for (const port of existing.hostPorts) this.changePort(port, -1);
    return true;
  }

  /** Upstream NodePorts conflict: same protocol and port, and equal IPs or either side 0.0.0.0. */
  hasPortConflict(wanted: HostPort): boolean {
    const ips = this.usedPorts.get(`${wanted.protocol}/${wanted.hostPort}`);
    if (!ips || ips.size === 0) return false;
    if (wanted.hostIP === '0.0.0.0') return true;
    return ips.has(wanted.hostIP) || ips.has('0.0.0.0');
  }

  private changePort(port: HostPort, delta: 1 | -1): void {
    const key = `${port.protocol}/${port.hostPort}`;
    let ips = this.usedPorts.get(key);
    if (!ips) {
      ips = new Map();
      this.usedPorts.set(key, ips);
    }
    const count = (ips.get(port.hostIP) ?? 0) + delta;
    if (count <= 0) ips.delete(port.hostIP);
    else ips.set(port.hostIP, count);
    if (ips.size === 0) this.usedPorts.delete(key);
  }
}

function removeAt<T>(list: T[], index: number): void {
  const last = list.pop() as T;
  if (index < list.length) list[index] = last;
}

function removeByUid(list: PodInfo[], uid: string): void {
  const index = list.findIndex((p) => p.uid === uid);
  if (index >= 0) removeAt(list, index);
}
