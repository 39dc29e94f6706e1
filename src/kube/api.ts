/**
 * The subset of Kubernetes v1 object shapes (as JSON/YAML, the way the API server and kubectl print them) that
 * scheduling reads. Both adapters hand the core these plain objects; nothing here depends on a client library.
 */

export type Labels = Record<string, string>;
export type ResourceMap = Record<string, string | number>;

export interface ObjectMeta {
  name?: string;
  /** A prefix the API server completes into a unique name when `name` is empty on create. */
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Labels;
  annotations?: Labels;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  resourceVersion?: string;
  finalizers?: string[];
  ownerReferences?: Array<{ kind?: string; name?: string; uid?: string; controller?: boolean; apiVersion?: string }>;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string; // In, NotIn, Exists, DoesNotExist
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string; // In, NotIn, Exists, DoesNotExist, Gt, Lt
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
  preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; preference: NodeSelectorTerm }>;
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector | null;
  namespaces?: string[];
  namespaceSelector?: LabelSelector | null;
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}

export interface Affinity {
  nodeAffinity?: NodeAffinity;
  podAffinity?: PodAffinity;
  podAntiAffinity?: PodAffinity;
}

export interface Toleration {
  key?: string;
  operator?: string; // Exists, Equal
  value?: string;
  effect?: string; // NoSchedule, PreferNoSchedule, NoExecute, ''
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string; // DoNotSchedule, ScheduleAnyway
  labelSelector?: LabelSelector | null;
  minDomains?: number;
  nodeAffinityPolicy?: string; // Honor, Ignore
  nodeTaintsPolicy?: string; // Honor, Ignore
  matchLabelKeys?: string[];
}

export interface ContainerPort {
  containerPort?: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

/** Requests and limits, of a container or (PodLevelResources) of the whole pod. */
export interface ResourceRequirements {
  requests?: ResourceMap;
  limits?: ResourceMap;
}

export interface Container {
  name?: string;
  image?: string;
  resources?: ResourceRequirements;
  ports?: ContainerPort[];
  restartPolicy?: string;
}

export interface Volume {
  name?: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  ephemeral?: unknown;
  [other: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
  priority?: number;
  priorityClassName?: string;
  /** PreemptLowerPriority (default) or Never. */
  preemptionPolicy?: string;
  nodeSelector?: Labels;
  affinity?: Affinity;
  tolerations?: Toleration[];
  topologySpreadConstraints?: TopologySpreadConstraint[];
  containers?: Container[];
  initContainers?: Container[];
  overhead?: ResourceMap;
  /** Pod-level requests and limits (PodLevelResources: cpu, memory and hugepages-* apply). */
  resources?: ResourceRequirements;
  volumes?: Volume[];
  schedulingGates?: Array<{ name: string }>;
  /** Dynamic resource allocation: the claims the pod uses, by name or through a template (DynamicResources). */
  resourceClaims?: PodResourceClaim[];
}

export interface PodResourceClaim {
  name: string;
  resourceClaimName?: string;
  resourceClaimTemplateName?: string;
}

export interface PodStatus {
  phase?: string;
  nominatedNodeName?: string;
  conditions?: unknown[];
  startTime?: string;
  /** The claims the resourceclaim controller generated from templates, by pod claim name. */
  resourceClaimStatuses?: Array<{ name: string; resourceClaimName?: string }>;
  /** DRAExtendedResource: the special claim the scheduler created for extended resources backed by devices. */
  extendedResourceClaimStatus?: PodExtendedResourceClaimStatus;
}

/** A pod condition (PodScheduled, DisruptionTarget, PodResizePending, ...). */
export interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** What the kubelet reports of one container's resources (in-place resize): allocated and actually applied. */
export interface ContainerStatus {
  name?: string;
  allocatedResources?: ResourceMap;
  resources?: ResourceRequirements;
}

export interface PodStatus {
  phase?: string;
  nominatedNodeName?: string;
  conditions?: unknown[];
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  /** Pod-level totals the node allocated (InPlacePodLevelResourcesVerticalScaling). */
  allocatedResources?: ResourceMap;
  /** Pod-level resources actually applied (InPlacePodLevelResourcesVerticalScaling). */
  resources?: ResourceRequirements;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  status?: PodStatus;
}

export interface NodeSpec {
  unschedulable?: boolean;
  taints?: Taint[];
}

export interface ContainerImage {
  names?: string[];
  sizeBytes?: number;
}

/** One of a node's addresses (type InternalIP, ExternalIP, Hostname, ...). */
export interface NodeAddress {
  type?: string;
  address?: string;
}

export interface NodeStatus {
  allocatable?: ResourceMap;
  capacity?: ResourceMap;
  /** Read by NodeUtilization, to match a metric's host label to its node. */
  addresses?: NodeAddress[];
  images?: ContainerImage[];
  conditions?: Array<{ type?: string; status?: string }>;
}

export interface Node {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: NodeSpec;
  status?: NodeStatus;
}

export interface PersistentVolumeClaim {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    volumeName?: string;
    storageClassName?: string;
    accessModes?: string[];
    volumeMode?: string;
    volumeAttributesClassName?: string;
    selector?: LabelSelector;
    resources?: { requests?: ResourceMap };
  };
  status?: { phase?: string };
}

/** spec.claimRef of a PersistentVolume: the claim it is (pre-)bound to. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface PersistentVolume {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    storageClassName?: string;
    nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
    accessModes?: string[];
    volumeMode?: string;
    volumeAttributesClassName?: string;
    capacity?: ResourceMap;
    claimRef?: ObjectReference;
    csi?: { driver?: string; volumeHandle?: string };
    /** In-tree sources that CSI migration translates (NodeVolumeLimits counts them as their CSI driver's). */
    gcePersistentDisk?: { pdName?: string };
    awsElasticBlockStore?: { volumeID?: string };
    cinder?: { volumeID?: string };
    azureDisk?: { diskURI?: string; kind?: string };
    portworxVolume?: { volumeID?: string };
  };
  status?: { phase?: string };
}

/** A StorageClass allowedTopologies term: every expression must match a node label value. */
export interface TopologySelectorTerm {
  matchLabelExpressions?: Array<{ key?: string; values?: string[] }>;
}

export interface StorageClass {
  kind?: string;
  metadata?: ObjectMeta;
  provisioner?: string;
  volumeBindingMode?: string;
  allowedTopologies?: TopologySelectorTerm[];
}

/** storage.k8s.io/v1 CSIDriver: whether the driver asks the scheduler to check storage capacity. */
export interface CSIDriver {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { storageCapacity?: boolean; attachRequired?: boolean; preventPodSchedulingIfMissing?: boolean };
}

/** storage.k8s.io/v1 VolumeAttachment: a volume attached (or being attached) to a node by a CSI driver. */
export interface VolumeAttachment {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { attacher?: string; nodeName?: string; source?: { persistentVolumeName?: string } };
}

/** storage.k8s.io/v1 CSIStorageCapacity: free capacity of a storage class in a topology segment. */
export interface CSIStorageCapacity {
  kind?: string;
  metadata?: ObjectMeta;
  storageClassName?: string;
  nodeTopology?: LabelSelector | null;
  capacity?: string;
  maximumVolumeSize?: string;
}

/** storage.k8s.io/v1 CSINode: the CSI drivers on a node and how many volumes each may attach. */
export interface CSINode {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { drivers?: Array<{ name?: string; nodeID?: string; allocatable?: { count?: number } | null; topologyKeys?: string[] }> };
}

/** Services, ReplicationControllers (map selectors), ReplicaSets and StatefulSets (label selectors). */
export interface Service {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { selector?: Labels };
}

export interface ReplicationController {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { selector?: Labels };
}

export interface ReplicaSet {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { selector?: LabelSelector };
}

export interface StatefulSet {
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { selector?: LabelSelector };
}

/** policy/v1 PodDisruptionBudget: what preemption reads (selector, allowed disruptions, pods already disrupted). */
export interface PodDisruptionBudget {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { selector?: LabelSelector | null };
  status?: { disruptionsAllowed?: number; disruptedPods?: Record<string, string> };
}

export interface Namespace {
  kind?: string;
  metadata?: ObjectMeta;
}

/** Which device request of the special claim serves a container's extended resource (core/v1). */
export interface ContainerExtendedResourceRequest {
  containerName: string;
  resourceName: string;
  requestName: string;
}

export interface PodExtendedResourceClaimStatus {
  requestMappings: ContainerExtendedResourceRequest[];
  resourceClaimName: string;
}
