/**
 * What berth reads of each Kubernetes kind: the input of the schema generator (generate.ts). Only these
 * definitions and properties are kept from the published OpenAPI v3 spec, so the generated schema stays small and
 * validates exactly the fields the scheduler interprets. Everything else in an object (managedFields, env, probes,
 * status fields berth ignores, unknown fields) is accepted unchecked, as kubectl output carries plenty of it.
 *
 * The lists follow src/adapters/live/slim.ts (what the live adapter keeps) and the reads in src/scheduler and
 * src/kube; a property here that berth does not read costs nothing but a check of a field kubectl prints correctly.
 */

const CORE = 'io.k8s.api.core.v1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const APPS = 'io.k8s.api.apps.v1.';
const STORAGE = 'io.k8s.api.storage.v1.';

/** The OpenAPI v3 documents (file names under api/openapi-spec/v3) that hold the definitions below. */
export const SPEC_FILES = ['api__v1_openapi.json', 'apis__apps__v1_openapi.json', 'apis__storage.k8s.io__v1_openapi.json'];

/** Kind → its definition: the kinds a snapshot may hold that berth reads. */
export const KINDS: Record<string, string> = {
  Pod: `${CORE}Pod`,
  Node: `${CORE}Node`,
  PersistentVolume: `${CORE}PersistentVolume`,
  PersistentVolumeClaim: `${CORE}PersistentVolumeClaim`,
  Service: `${CORE}Service`,
  ReplicationController: `${CORE}ReplicationController`,
  Namespace: `${CORE}Namespace`,
  ReplicaSet: `${APPS}ReplicaSet`,
  StatefulSet: `${APPS}StatefulSet`,
  StorageClass: `${STORAGE}StorageClass`,
  CSIDriver: `${STORAGE}CSIDriver`,
  CSINode: `${STORAGE}CSINode`,
  CSIStorageCapacity: `${STORAGE}CSIStorageCapacity`,
  VolumeAttachment: `${STORAGE}VolumeAttachment`,
};

/**
 * Definition → the properties kept ('*': all of them). Reaching a definition that is not listed here is a generator
 * error, so nothing large slips in unnoticed.
 */
export const SELECTION: Record<string, readonly string[] | '*'> = {
  [`${CORE}Pod`]: ['metadata', 'spec', 'status'],
  [`${CORE}Node`]: ['metadata', 'spec', 'status'],
  [`${CORE}PersistentVolume`]: ['metadata', 'spec', 'status'],
  [`${CORE}PersistentVolumeClaim`]: ['metadata', 'spec', 'status'],
  [`${CORE}Service`]: ['metadata', 'spec'],
  [`${CORE}ReplicationController`]: ['metadata', 'spec'],
  [`${CORE}Namespace`]: ['metadata'],
  [`${APPS}ReplicaSet`]: ['metadata', 'spec'],
  [`${APPS}StatefulSet`]: ['metadata', 'spec'],
  [`${STORAGE}StorageClass`]: ['metadata', 'provisioner', 'volumeBindingMode', 'allowedTopologies'],
  [`${STORAGE}CSIDriver`]: ['metadata', 'spec'],
  [`${STORAGE}CSINode`]: ['metadata', 'spec'],
  [`${STORAGE}CSIStorageCapacity`]: ['metadata', 'storageClassName', 'nodeTopology', 'capacity', 'maximumVolumeSize'],
  [`${STORAGE}VolumeAttachment`]: ['metadata', 'spec'],

  [`${META}ObjectMeta`]: ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'annotations', 'creationTimestamp', 'deletionTimestamp', 'ownerReferences'],
  [`${META}OwnerReference`]: ['apiVersion', 'kind', 'name', 'uid', 'controller'],
  [`${META}Time`]: '*',
  [`${META}LabelSelector`]: '*',
  [`${META}LabelSelectorRequirement`]: '*',
  'io.k8s.apimachinery.pkg.api.resource.Quantity': '*',

  [`${CORE}PodSpec`]: [
    'nodeName', 'schedulerName', 'priority', 'priorityClassName', 'preemptionPolicy', 'nodeSelector', 'affinity', 'tolerations',
    'topologySpreadConstraints', 'containers', 'initContainers', 'overhead', 'volumes', 'schedulingGates', 'resourceClaims',
  ],
  [`${CORE}PodStatus`]: ['phase', 'nominatedNodeName', 'conditions', 'startTime'],
  [`${CORE}PodCondition`]: ['type', 'status', 'reason'],
  [`${CORE}Container`]: ['name', 'image', 'resources', 'ports', 'restartPolicy'],
  [`${CORE}ResourceRequirements`]: ['requests', 'limits'],
  [`${CORE}ContainerPort`]: ['containerPort', 'hostPort', 'hostIP', 'protocol'],
  [`${CORE}Volume`]: ['name', 'persistentVolumeClaim', 'ephemeral', 'gcePersistentDisk', 'awsElasticBlockStore', 'iscsi', 'rbd'],
  [`${CORE}PersistentVolumeClaimVolumeSource`]: '*',
  // Only its presence matters (the claim is "<pod>-<volume>").
  [`${CORE}EphemeralVolumeSource`]: [],
  [`${CORE}GCEPersistentDiskVolumeSource`]: ['pdName', 'readOnly'],
  [`${CORE}AWSElasticBlockStoreVolumeSource`]: ['volumeID', 'readOnly'],
  [`${CORE}ISCSIVolumeSource`]: ['targetPortal', 'iqn', 'lun', 'readOnly'],
  [`${CORE}ISCSIPersistentVolumeSource`]: ['targetPortal', 'iqn', 'lun', 'readOnly'],
  [`${CORE}RBDVolumeSource`]: ['monitors', 'pool', 'image', 'readOnly'],
  [`${CORE}RBDPersistentVolumeSource`]: ['monitors', 'pool', 'image', 'readOnly'],
  [`${CORE}Affinity`]: '*',
  [`${CORE}NodeAffinity`]: '*',
  [`${CORE}PodAffinity`]: '*',
  [`${CORE}PodAntiAffinity`]: '*',
  [`${CORE}NodeSelector`]: '*',
  [`${CORE}NodeSelectorTerm`]: '*',
  [`${CORE}NodeSelectorRequirement`]: '*',
  [`${CORE}PreferredSchedulingTerm`]: '*',
  [`${CORE}PodAffinityTerm`]: '*',
  [`${CORE}WeightedPodAffinityTerm`]: '*',
  [`${CORE}Toleration`]: '*',
  [`${CORE}Taint`]: '*',
  [`${CORE}TopologySpreadConstraint`]: '*',
  [`${CORE}PodSchedulingGate`]: '*',
  [`${CORE}PodResourceClaim`]: '*',

  [`${CORE}NodeSpec`]: ['unschedulable', 'taints'],
  [`${CORE}NodeStatus`]: ['allocatable', 'capacity', 'images', 'conditions'],
  [`${CORE}ContainerImage`]: '*',
  [`${CORE}NodeCondition`]: ['type', 'status'],

  [`${CORE}PersistentVolumeSpec`]: [
    'storageClassName', 'nodeAffinity', 'accessModes', 'volumeMode', 'volumeAttributesClassName', 'capacity', 'claimRef', 'csi',
    'gcePersistentDisk', 'awsElasticBlockStore', 'iscsi', 'rbd',
  ],
  [`${CORE}PersistentVolumeStatus`]: ['phase'],
  [`${CORE}VolumeNodeAffinity`]: '*',
  [`${CORE}ObjectReference`]: ['apiVersion', 'kind', 'namespace', 'name', 'uid', 'resourceVersion'],
  [`${CORE}CSIPersistentVolumeSource`]: ['driver', 'volumeHandle'],
  [`${CORE}PersistentVolumeClaimSpec`]: ['volumeName', 'storageClassName', 'accessModes', 'volumeMode', 'volumeAttributesClassName', 'selector', 'resources'],
  [`${CORE}VolumeResourceRequirements`]: ['requests'],
  [`${CORE}PersistentVolumeClaimStatus`]: ['phase'],

  [`${CORE}ServiceSpec`]: ['selector'],
  [`${CORE}ReplicationControllerSpec`]: ['selector'],
  [`${APPS}ReplicaSetSpec`]: ['selector'],
  [`${APPS}StatefulSetSpec`]: ['selector'],

  [`${CORE}TopologySelectorTerm`]: '*',
  [`${CORE}TopologySelectorLabelRequirement`]: '*',
  [`${STORAGE}CSIDriverSpec`]: ['storageCapacity', 'attachRequired', 'preventPodSchedulingIfMissing'],
  [`${STORAGE}CSINodeSpec`]: '*',
  [`${STORAGE}CSINodeDriver`]: '*',
  [`${STORAGE}VolumeNodeResources`]: '*',
  [`${STORAGE}VolumeAttachmentSpec`]: ['attacher', 'nodeName', 'source'],
  [`${STORAGE}VolumeAttachmentSource`]: ['persistentVolumeName'],
};

/**
 * How the API server validates the quantities of a map or field (pkg/apis/core/validation): `resource` is
 * ValidateResourceQuantityValue (not negative; whole numbers for pods and extended resources), `positive` is
 * ValidatePositiveQuantityValue (PV capacity, a claim's storage request), `nonnegative` is ValidateNonnegativeQuantity,
 * `any` is a syntactically valid quantity. Properties not listed here are `any`.
 */
export const QUANTITY_RULES: Record<string, 'resource' | 'positive' | 'nonnegative'> = {
  [`${CORE}ResourceRequirements.requests`]: 'resource',
  [`${CORE}ResourceRequirements.limits`]: 'resource',
  [`${CORE}PodSpec.overhead`]: 'resource',
  [`${CORE}NodeStatus.allocatable`]: 'resource',
  [`${CORE}NodeStatus.capacity`]: 'resource',
  [`${CORE}PersistentVolumeSpec.capacity`]: 'positive',
  [`${CORE}VolumeResourceRequirements.requests`]: 'positive',
  [`${STORAGE}CSIStorageCapacity.capacity`]: 'nonnegative',
};

/**
 * Values the API server's validation accepts (the OpenAPI spec carries no enums for these): a value outside them
 * would make berth match nothing or fall back to a default silently, where the API server rejects the object.
 */
export const ENUMS: Record<string, readonly string[]> = {
  // validateTolerations: "" means Equal; Lt/Gt behind TaintTolerationComparisonOperators (berth reads them).
  [`${CORE}Toleration.operator`]: ['', 'Equal', 'Exists', 'Lt', 'Gt'],
  [`${CORE}Toleration.effect`]: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  [`${CORE}Taint.effect`]: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  [`${CORE}NodeSelectorRequirement.operator`]: ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'],
  [`${META}LabelSelectorRequirement.operator`]: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
  [`${CORE}TopologySpreadConstraint.whenUnsatisfiable`]: ['DoNotSchedule', 'ScheduleAnyway'],
  [`${CORE}TopologySpreadConstraint.nodeAffinityPolicy`]: ['Honor', 'Ignore'],
  [`${CORE}TopologySpreadConstraint.nodeTaintsPolicy`]: ['Honor', 'Ignore'],
  [`${CORE}PodSpec.preemptionPolicy`]: ['PreemptLowerPriority', 'Never'],
  [`${CORE}ContainerPort.protocol`]: ['TCP', 'UDP', 'SCTP'],
  [`${STORAGE}StorageClass.volumeBindingMode`]: ['Immediate', 'WaitForFirstConsumer'],
  [`${CORE}PersistentVolumeSpec.volumeMode`]: ['Block', 'Filesystem'],
  [`${CORE}PersistentVolumeClaimSpec.volumeMode`]: ['Block', 'Filesystem'],
};

/** Definition.property required by the API server although the OpenAPI spec does not mark it (every object has a name). */
export const EXTRA_REQUIRED: Record<string, readonly string[]> = {
  [`${META}ObjectMeta`]: ['name'],
};

/**
 * Required in the spec but checked by berth itself with its own message ("spec.containers must list at least one
 * container", which also covers an empty list).
 */
export const DROPPED_REQUIRED: readonly string[] = [`${CORE}PodSpec.containers`];
