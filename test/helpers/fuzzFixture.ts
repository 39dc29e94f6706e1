/**
 * A cluster that uses every kind and field berth reads, and the helpers of the field-by-field type fuzz that the
 * snapshot reader (test/adapters/simulator/fuzzFields.test.ts) and the live decoder (test/adapters/live/decodeFuzz.test.ts)
 * both run over it.
 */
const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] };
const nodeTerm = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n9'] }] };

export const FIXTURE: Array<Record<string, unknown>> = [
  {
    kind: 'Node',
    metadata: { name: 'n1', labels: { zone: 'z1', 'kubernetes.io/hostname': 'n1' } },
    spec: { unschedulable: false, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] },
    status: {
      allocatable: { cpu: '8', memory: '16Gi', pods: '20', 'example.com/dev': '2' },
      capacity: { cpu: '8', memory: '16Gi', pods: '20' },
      images: [{ names: ['web:1'], sizeBytes: 1000000 }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  },
  {
    kind: 'Pod',
    metadata: {
      name: 'running', namespace: 'ns', uid: 'u1', labels: { app: 'web', tier: 'a' }, creationTimestamp: '2026-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }],
    },
    spec: {
      nodeName: 'n1', priority: 10, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule', tolerationSeconds: 5 }],
      containers: [{ name: 'c', image: 'web:1', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } }, ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP', hostIP: '0.0.0.0' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'claim', readOnly: false } }],
    },
    status: { phase: 'Running', startTime: '2026-01-01T00:00:01Z', conditions: [{ type: 'Ready', status: 'True', reason: 'x' }] },
  },
  {
    kind: 'Pod',
    metadata: { name: 'pending', namespace: 'ns', labels: { app: 'web' }, creationTimestamp: '2026-01-01T00:00:02Z' },
    spec: {
      schedulerName: 'default-scheduler', priorityClassName: 'high', preemptionPolicy: 'PreemptLowerPriority', nodeSelector: { zone: 'z1' },
      tolerations: [{ operator: 'Exists' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [nodeTerm] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: nodeTerm }],
        },
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: { labelSelector: selector, topologyKey: 'zone', namespaces: ['ns'] } }] },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname', matchLabelKeys: ['x'] }] },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore', matchLabelKeys: ['tier'] }],
      initContainers: [{ name: 'i', image: 'init:1', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } }],
      containers: [{ name: 'c', image: 'web:1', resources: { requests: { cpu: '500m', 'example.com/dev': '1' } } }],
      overhead: { cpu: '10m' },
      volumes: [{ name: 'scratch', ephemeral: {} }, { name: 'disk', gcePersistentDisk: { pdName: 'pd', readOnly: true } }],
    },
  },
  { kind: 'PersistentVolumeClaim', metadata: { name: 'claim', namespace: 'ns', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { volumeName: 'pv1', storageClassName: 'fast', accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', resources: { requests: { storage: '1Gi' } }, selector }, status: { phase: 'Bound' } },
  { kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { storageClassName: 'fast', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, claimRef: { namespace: 'ns', name: 'claim', uid: 'c1' }, nodeAffinity: { required: { nodeSelectorTerms: [nodeTerm] } }, csi: { driver: 'd', volumeHandle: 'h' } }, status: { phase: 'Bound' } },
  { kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'd', volumeBindingMode: 'WaitForFirstConsumer', allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['z1'] }] }] },
  { kind: 'Service', metadata: { name: 'svc', namespace: 'ns' }, spec: { selector: { app: 'web' } } },
  { kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'ns' }, spec: { selector: { app: 'old' } } },
  { kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'ns' }, spec: { selector } },
  { kind: 'StatefulSet', metadata: { name: 'ss', namespace: 'ns' }, spec: { selector } },
  { kind: 'Namespace', metadata: { name: 'ns', labels: { team: 'a' } } },
  { kind: 'CSIDriver', metadata: { name: 'd' }, spec: { storageCapacity: true, attachRequired: true } },
  { kind: 'CSINode', metadata: { name: 'n1' }, spec: { drivers: [{ name: 'd', nodeID: 'n1', allocatable: { count: 10 }, topologyKeys: ['zone'] }] } },
  { kind: 'CSIStorageCapacity', metadata: { name: 'cap', namespace: 'ns' }, storageClassName: 'fast', nodeTopology: selector, capacity: '10Gi', maximumVolumeSize: '5Gi' },
  { kind: 'VolumeAttachment', metadata: { name: 'va' }, spec: { attacher: 'd', nodeName: 'n1', source: { persistentVolumeName: 'pv1' } } },
];

export type Path = Array<string | number>;

/** Every path below the objects' kind (kind itself is checked apart). */
export function paths(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...paths(v, [...prefix, i])]);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => (prefix.length === 0 && k === 'kind' ? [] : [[...prefix, k], ...paths(v, [...prefix, k])]));
  }
  return [];
}

export function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Where the API server accepts another JSON type: numbers are quantities too. */
const QUANTITY_PARENTS = new Set(['requests', 'limits', 'allocatable', 'capacity', 'overhead']);
export function acceptsNumber(obj: Record<string, unknown>, path: Path): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  return (typeof parent === 'string' && QUANTITY_PARENTS.has(parent)) || (obj['kind'] === 'CSIStorageCapacity' && (last === 'capacity' || last === 'maximumVolumeSize'));
}

