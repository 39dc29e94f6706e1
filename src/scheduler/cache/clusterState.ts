/**
 * ClusterState: the scheduler's model of the cluster, fed by an adapter (the live watch loops or a snapshot file).
 * Nodes with their pods, assumed pods, image spread, and the objects plugins read (volumes, workloads, namespaces).
 * Scheduling runs synchronously between updates, so plugins read this state directly: it is the cycle's snapshot.
 */
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  Labels,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
  VolumeAttachment,
} from '../../kube/api.js';
import type { DeviceClass, DeviceTaintRule, ResourceClaim, ResourceSlice } from '../../kube/resource.js';
import { ExtendedResourceIndex } from './extendedResourceIndex.js';
import { NodeInfo } from './nodeInfo.js';
import { Nominator } from '../queue/nominator.js';
import { PodInfo } from './podInfo.js';

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

function zoneKey(labels: Labels): string {
  const zone = ZONE_LABELS.map((k) => labels[k]).find((v) => v !== undefined) ?? '';
  const region = REGION_LABELS.map((k) => labels[k]).find((v) => v !== undefined) ?? '';
  return zone === '' && region === '' ? '' : `${region}:\x00:${zone}`;
}

function nsKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

/**
 * What plugins see of the cache: read-only. Only the cache itself writes (fed by an adapter's watches or snapshot,
 * and by the core's assume/forget); plugins that must change the cluster do it through the ClusterPort in PreBind.
 */
export interface ClusterView {
  nodes(): readonly NodeInfo[];
  getNode(name: string): NodeInfo | undefined;
  readonly nodeCount: number;
  getPod(uid: string): PodInfo | undefined;
  isAssumed(uid: string): boolean;
  readonly nominator: Pick<Nominator, 'nominatedPods' | 'nominatedNode' | 'size'>;
  readonly nodesWithAffinityPods: ReadonlySet<NodeInfo>;
  readonly nodesWithRequiredAntiAffinityPods: ReadonlySet<NodeInfo>;
  readonly imageNodeCounts: ReadonlyMap<string, number>;
  readonly persistentVolumes: ReadonlyMap<string, PersistentVolume>;
  readonly persistentVolumeClaims: ReadonlyMap<string, PersistentVolumeClaim>;
  readonly storageClasses: ReadonlyMap<string, StorageClass>;
  readonly services: ReadonlyMap<string, Service>;
  readonly replicationControllers: ReadonlyMap<string, ReplicationController>;
  readonly replicaSets: ReadonlyMap<string, ReplicaSet>;
  readonly statefulSets: ReadonlyMap<string, StatefulSet>;
  readonly namespaceLabels: ReadonlyMap<string, Labels>;
  readonly csiDrivers: ReadonlyMap<string, CSIDriver>;
  readonly csiNodes: ReadonlyMap<string, CSINode>;
  /** CSIStorageCapacity objects by "namespace/name". */
  readonly csiStorageCapacities: ReadonlyMap<string, CSIStorageCapacity>;
  readonly volumeAttachments: ReadonlyMap<string, VolumeAttachment>;
  /** PodDisruptionBudgets by "namespace/name" (DefaultPreemption). */
  readonly podDisruptionBudgets: ReadonlyMap<string, PodDisruptionBudget>;
  /** Dynamic resource allocation: DeviceClasses and ResourceSlices by name, ResourceClaims by "namespace/name". */
  readonly deviceClasses: ReadonlyMap<string, DeviceClass>;
  readonly resourceSlices: ReadonlyMap<string, ResourceSlice>;
  /** DeviceTaintRules by name: taints added to the devices of the slices above (applied by DynamicResources). */
  readonly deviceTaintRules: ReadonlyMap<string, DeviceTaintRule>;
  readonly resourceClaims: ReadonlyMap<string, ResourceClaim>;
  /** DRAExtendedResource: the DeviceClass serving an extended resource name (see extendedResourceIndex.ts). */
  deviceClassForExtendedResource(resourceName: string): DeviceClass | undefined;
  getPersistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined;
}

export class ClusterState implements ClusterView {
  private readonly nodeMap = new Map<string, NodeInfo>();
  private orderedNodes: NodeInfo[] = [];
  private orderDirty = false;
  /** Assigned pods by uid, with the node they are accounted on. */
  private readonly podsByUid = new Map<string, PodInfo>();
  /** uids of pods assumed by this scheduler and not yet confirmed by the API server. */
  private readonly assumedUids = new Set<string>();
  /** Pods assigned to nodes the state has not seen (yet), so they are accounted when the node arrives. */
  private readonly podsOnUnknownNodes = new Map<string, Map<string, PodInfo>>();
  /**
   * Nodes holding at least one pod with pod (anti-)affinity terms, and with required anti-affinity (upstream's
   * HavePodsWithAffinityNodeInfoList / HavePodsWithRequiredAntiAffinityNodeInfoList): InterPodAffinity visits only
   * these instead of every node.
   */
  readonly nodesWithAffinityPods = new Set<NodeInfo>();
  readonly nodesWithRequiredAntiAffinityPods = new Set<NodeInfo>();
  /** Pending pods nominated to nodes by preemption; filters treat them as running there. */
  readonly nominator = new Nominator();
  /** Normalized image name → number of nodes holding it (ImageLocality's spread factor). */
  readonly imageNodeCounts = new Map<string, number>();

  readonly persistentVolumes = new Map<string, PersistentVolume>();
  readonly persistentVolumeClaims = new Map<string, PersistentVolumeClaim>();
  readonly storageClasses = new Map<string, StorageClass>();
  readonly services = new Map<string, Service>();
  readonly replicationControllers = new Map<string, ReplicationController>();
  readonly replicaSets = new Map<string, ReplicaSet>();
  readonly statefulSets = new Map<string, StatefulSet>();
  /** Namespace name → labels (InterPodAffinity namespaceSelector). */
  readonly namespaceLabels = new Map<string, Labels>();
  readonly csiDrivers = new Map<string, CSIDriver>();
  readonly csiNodes = new Map<string, CSINode>();
  readonly csiStorageCapacities = new Map<string, CSIStorageCapacity>();
  readonly volumeAttachments = new Map<string, VolumeAttachment>();
  readonly podDisruptionBudgets = new Map<string, PodDisruptionBudget>();
  readonly deviceClasses = new Map<string, DeviceClass>();
  readonly resourceSlices = new Map<string, ResourceSlice>();
  readonly deviceTaintRules = new Map<string, DeviceTaintRule>();
  readonly resourceClaims = new Map<string, ResourceClaim>();
  private readonly extendedResources = new ExtendedResourceIndex(this.deviceClasses);

  // ---- nodes ----

  /** Adds or updates a node; throws NodeInfoError (naming the field) on malformed input. */
  upsertNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    const existing = this.nodeMap.get(name);
    if (existing) {
      this.countImages(existing, -1);
      const oldZone = zoneKey(existing.labels);
      existing.setNode(node);
      this.countImages(existing, 1);
      if (zoneKey(existing.labels) !== oldZone) this.orderDirty = true;
      return existing;
    }
    const info = new NodeInfo(node);
    this.nodeMap.set(info.name, info);
    this.countImages(info, 1);
    const waiting = this.podsOnUnknownNodes.get(info.name);
    if (waiting) {
      for (const pod of waiting.values()) info.addPod(pod);
      this.podsOnUnknownNodes.delete(info.name);
      this.indexAffinity(info);
    }
    this.orderDirty = true;
    return info;
  }

  removeNode(name: string): void {
    const info = this.nodeMap.get(name);
    if (!info) return;
    this.countImages(info, -1);
    this.nodeMap.delete(name);
    this.nodesWithAffinityPods.delete(info);
    this.nodesWithRequiredAntiAffinityPods.delete(info);
    // Its pods stay accounted in case the node comes back before the pods' deletions arrive (as upstream's cache).
    if (info.pods.length > 0) {
      const waiting = new Map<string, PodInfo>();
      for (const pod of info.pods) waiting.set(pod.uid, pod);
      this.podsOnUnknownNodes.set(name, waiting);
    }
    this.orderDirty = true;
  }

  getNode(name: string): NodeInfo | undefined {
    return this.nodeMap.get(name);
  }

  get nodeCount(): number {
    return this.nodeMap.size;
  }

  /**
   * Nodes in upstream's NodeTree order: zones interleaved round-robin, insertion order within a zone, so the
   * feasible-node search samples zones evenly when it stops early.
   */
  nodes(): readonly NodeInfo[] {
    if (this.orderDirty) {
      const zones = new Map<string, NodeInfo[]>();
      for (const info of this.nodeMap.values()) {
        const key = zoneKey(info.labels);
        let list = zones.get(key);
        if (!list) zones.set(key, (list = []));
        list.push(info);
      }
      const lists = [...zones.values()];
      const ordered: NodeInfo[] = [];
      for (let i = 0; ordered.length < this.nodeMap.size; i++) {
        for (const list of lists) {
          const node = list[i];
          if (node) ordered.push(node);
        }
      }
      this.orderedNodes = ordered;
      this.orderDirty = false;
    }
    return this.orderedNodes;
  }

  private countImages(info: NodeInfo, delta: 1 | -1): void {
    for (const image of info.images.keys()) {
      const count = (this.imageNodeCounts.get(image) ?? 0) + delta;
      if (count <= 0) this.imageNodeCounts.delete(image);
      else this.imageNodeCounts.set(image, count);
    }
  }

  // ---- pods ----

  /**
   * Adds or updates an assigned pod (spec.nodeName set) as the API server reports it. Confirms an assumed pod.
   * Returns the PodInfo accounted.
   */
  upsertAssignedPod(pod: Pod): PodInfo {
    const info = new PodInfo(pod);
    this.removePodByUid(info.uid);
    this.assumedUids.delete(info.uid);
    this.account(info);
    return info;
  }

  /** Removes an assigned or assumed pod by uid; returns the removed PodInfo if there was one. */
  removePodByUid(uid: string): PodInfo | undefined {
    const existing = this.podsByUid.get(uid);
    if (!existing) return undefined;
    this.podsByUid.delete(uid);
    this.assumedUids.delete(uid);
    const node = this.nodeMap.get(existing.nodeName);
    if (node) {
      node.removePod(existing);
      this.indexAffinity(node);
    } else {
      this.podsOnUnknownNodes.get(existing.nodeName)?.delete(uid);
    }
    return existing;
  }

  private indexAffinity(node: NodeInfo): void {
    if (node.podsWithAffinity.length > 0) this.nodesWithAffinityPods.add(node);
    else this.nodesWithAffinityPods.delete(node);
    if (node.podsWithRequiredAntiAffinity.length > 0) this.nodesWithRequiredAntiAffinityPods.add(node);
    else this.nodesWithRequiredAntiAffinityPods.delete(node);
  }

  /** Accounts a pod on a node right after it was chosen, before the binding is confirmed (upstream "assume"). */
  assumePod(pod: PodInfo, nodeName: string): PodInfo {
    const assigned = pod.assignedTo(nodeName);
    this.removePodByUid(assigned.uid);
    this.account(assigned);
    this.assumedUids.add(assigned.uid);
    return assigned;
  }

  /**
   * Puts back a PodInfo taken out with removePodByUid (preemption's what-if checks): the same object, on its
   * node, with its assumed flag as it was.
   */
  restorePod(info: PodInfo, assumed: boolean): void {
    this.removePodByUid(info.uid);
    this.account(info);
    if (assumed) this.assumedUids.add(info.uid);
  }

  /** Drops an assumed pod whose binding failed. A pod already confirmed by the API server stays. */
  forgetPod(uid: string): void {
    if (this.assumedUids.has(uid)) this.removePodByUid(uid);
  }

  isAssumed(uid: string): boolean {
    return this.assumedUids.has(uid);
  }

  getPod(uid: string): PodInfo | undefined {
    return this.podsByUid.get(uid);
  }

  get podCount(): number {
    return this.podsByUid.size;
  }

  private account(info: PodInfo): void {
    this.podsByUid.set(info.uid, info);
    const node = this.nodeMap.get(info.nodeName);
    if (node) {
      node.addPod(info);
      this.indexAffinity(node);
      return;
    }
    let waiting = this.podsOnUnknownNodes.get(info.nodeName);
    if (!waiting) this.podsOnUnknownNodes.set(info.nodeName, (waiting = new Map()));
    waiting.set(info.uid, info);
  }

  // ---- other objects ----

  upsertObject(kind: string, obj: { metadata?: { name?: string; namespace?: string; labels?: Labels } }): boolean {
    const name = obj.metadata?.name ?? '';
    const key = nsKey(obj.metadata?.namespace, name);
    switch (kind) {
      case 'PersistentVolume':
        this.persistentVolumes.set(name, obj as PersistentVolume);
        return true;
      case 'PersistentVolumeClaim':
        this.persistentVolumeClaims.set(key, obj as PersistentVolumeClaim);
        return true;
      case 'StorageClass':
        this.storageClasses.set(name, obj as StorageClass);
        return true;
      case 'Service':
        this.services.set(key, obj as Service);
        return true;
      case 'ReplicationController':
        this.replicationControllers.set(key, obj as ReplicationController);
        return true;
      case 'ReplicaSet':
        this.replicaSets.set(key, obj as ReplicaSet);
        return true;
      case 'StatefulSet':
        this.statefulSets.set(key, obj as StatefulSet);
        return true;
      case 'Namespace':
        this.namespaceLabels.set(name, (obj as Namespace).metadata?.labels ?? {});
        return true;
      case 'CSIDriver':
        this.csiDrivers.set(name, obj as CSIDriver);
        return true;
      case 'CSINode':
        this.csiNodes.set(name, obj as CSINode);
        return true;
      case 'CSIStorageCapacity':
        this.csiStorageCapacities.set(key, obj as CSIStorageCapacity);
        return true;
      case 'VolumeAttachment':
        this.volumeAttachments.set(name, obj as VolumeAttachment);
        return true;
      case 'PodDisruptionBudget':
        this.podDisruptionBudgets.set(key, obj as PodDisruptionBudget);
        return true;
      case 'DeviceClass':
        this.deviceClasses.set(name, obj as DeviceClass);
        this.extendedResources.invalidate();
        return true;
      case 'ResourceSlice':
        this.resourceSlices.set(name, obj as ResourceSlice);
        return true;
      case 'DeviceTaintRule':
        this.deviceTaintRules.set(name, obj as DeviceTaintRule);
        return true;
      case 'ResourceClaim':
        this.resourceClaims.set(key, obj as ResourceClaim);
        return true;
      default:
        return false;
    }
  }

  removeObject(kind: string, namespace: string | undefined, name: string): void {
    const key = nsKey(namespace, name);
    switch (kind) {
      case 'PersistentVolume':
        this.persistentVolumes.delete(name);
        break;
      case 'PersistentVolumeClaim':
        this.persistentVolumeClaims.delete(key);
        break;
      case 'StorageClass':
        this.storageClasses.delete(name);
        break;
      case 'Service':
        this.services.delete(key);
        break;
      case 'ReplicationController':
        this.replicationControllers.delete(key);
        break;
      case 'ReplicaSet':
        this.replicaSets.delete(key);
        break;
      case 'StatefulSet':
        this.statefulSets.delete(key);
        break;
      case 'Namespace':
        this.namespaceLabels.delete(name);
        break;
      case 'CSIDriver':
        this.csiDrivers.delete(name);
        break;
      case 'CSINode':
        this.csiNodes.delete(name);
        break;
      case 'CSIStorageCapacity':
        this.csiStorageCapacities.delete(key);
        break;
      case 'VolumeAttachment':
        this.volumeAttachments.delete(name);
        break;
      case 'PodDisruptionBudget':
        this.podDisruptionBudgets.delete(key);
        break;
      case 'DeviceClass':
        this.deviceClasses.delete(name);
        this.extendedResources.invalidate();
        break;
      case 'ResourceSlice':
        this.resourceSlices.delete(name);
        break;
      case 'DeviceTaintRule':
        this.deviceTaintRules.delete(name);
        break;
      case 'ResourceClaim':
        this.resourceClaims.delete(key);
        break;
      default:
        break;
    }
  }

  getPersistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.persistentVolumeClaims.get(nsKey(namespace, name));
  }

  deviceClassForExtendedResource(resourceName: string): DeviceClass | undefined {
    return this.extendedResources.classFor(resourceName);
  }
}
