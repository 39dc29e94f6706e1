import { describe, expect, it } from 'vitest';
import {
  objectKey,
  slimNamespace,
  slimNode,
  slimPersistentVolume,
  slimPersistentVolumeClaim,
  slimPod,
  slimReplicaSet,
  slimReplicationController,
  slimService,
  slimStatefulSet,
  slimStorageClass,
} from '../../../src/adapters/live/slim.js';

const managedFields = [{ manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': {} } }];

const fullPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '42',
    generation: 1,
    labels: { app: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', 'pv.kubernetes.io/bind-completed': 'yes' },
    creationTimestamp: '2024-01-01T00:00:00Z',
    deletionTimestamp: '2024-01-02T00:00:00Z',
    deletionGracePeriodSeconds: 30,
    finalizers: ['x'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss1', controller: true, blockOwnerDeletion: true }],
    managedFields,
  },
  spec: {
    nodeName: 'n1',
    schedulerName: 'berth',
    priority: 1000,
    priorityClassName: 'high',
    preemptionPolicy: 'Never',
    nodeSelector: { disk: 'ssd' },
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
    tolerations: [{ key: 'k', operator: 'Exists' }],
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
    schedulingGates: [{ name: 'gate' }],
    overhead: { cpu: '10m' },
    serviceAccountName: 'default',
    dnsPolicy: 'ClusterFirst',
    securityContext: { runAsUser: 1000 },
    containers: [
      {
        name: 'app',
        image: 'nginx:1',
        command: ['nginx'],
        args: ['-g'],
        env: [{ name: 'SECRET', value: 'x' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        livenessProbe: { httpGet: { path: '/' } },
        resources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' }, claims: [{ name: 'gpu' }] },
        ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP', name: 'http' }],
      },
    ],
    initContainers: [{ name: 'sidecar', image: 'envoy', restartPolicy: 'Always', env: [{ name: 'A', value: 'b' }] }],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
    ],
  },
  status: {
    phase: 'Pending',
    nominatedNodeName: 'n2',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'long message', lastTransitionTime: 't' },
      { type: 'Ready', status: 'False' },
    ],
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'nginx:1' }],
    hostIP: '10.0.0.1',
    podIP: '10.1.0.1',
    qosClass: 'Burstable',
  },
};

describe('slimPod', () => {
  const s = slimPod(fullPod);
  const text = JSON.stringify(s);

  it('keeps what scheduling reads', () => {
    expect(s).toEqual({
      kind: 'Pod',
      metadata: {
        name: 'web-0',
        namespace: 'shop',
        uid: 'u1',
        resourceVersion: '42',
        labels: { app: 'web' },
        creationTimestamp: '2024-01-01T00:00:00Z',
        deletionTimestamp: '2024-01-02T00:00:00Z',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss1', controller: true }],
      },
      spec: {
        nodeName: 'n1',
        schedulerName: 'berth',
        priority: 1000,
        priorityClassName: 'high',
        preemptionPolicy: 'Never',
        nodeSelector: { disk: 'ssd' },
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
        tolerations: [{ key: 'k', operator: 'Exists' }],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
        schedulingGates: [{ name: 'gate' }],
        overhead: { cpu: '10m' },
        containers: [
          {
            name: 'app',
            image: 'nginx:1',
            resources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } },
            ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
          },
        ],
        initContainers: [{ name: 'sidecar', image: 'envoy', restartPolicy: 'Always' }],
        volumes: [
          { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } },
          { name: 'scratch', ephemeral: {} },
        ],
      },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'n2',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
      },
    });
  });

  it.each([
    'managedFields',
    'annotations',
    'last-applied-configuration',
    'finalizers',
    'generation',
    'blockOwnerDeletion',
    '"env"',
    'SECRET',
    'command',
    'args',
    'volumeMounts',
    'livenessProbe',
    'claims',
    'configMap',
    'projected',
    'volumeClaimTemplate',
    'serviceAccountName',
    'securityContext',
    'containerStatuses',
    'podIP',
    'qosClass',
    'Ready',
    'message',
    'lastTransitionTime',
  ])('drops %s', (field) => {
    expect(text).not.toContain(field);
  });

  it('does not share structure it filtered, and tolerates a bare object', () => {
    expect(slimPod({})).toEqual({ kind: 'Pod', metadata: {}, spec: {}, status: {} });
    expect(slimPod({ metadata: { name: 'x', namespace: 'y' }, spec: { containers: [{}] } }).spec?.containers).toEqual([{}]);
  });
});

describe('slimPod: in-tree volume sources', () => {
  const volumes = [
    { name: 'gce', gcePersistentDisk: { pdName: 'disk-1', partition: 2, fsType: 'ext4', readOnly: true } },
    { name: 'ebs', awsElasticBlockStore: { volumeID: 'aws://us-east-1a/vol-1', fsType: 'ext4', partition: 1, readOnly: true } },
    { name: 'iscsi', iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2024', lun: 3, readOnly: true, chapAuthSession: true } },
    { name: 'rbd', rbd: { monitors: ['m1'], pool: 'p', image: 'img', user: 'admin', keyring: '/k', readOnly: false } },
    { name: 'cinder', cinder: { volumeID: 'c-1', fsType: 'ext4', secretRef: { name: 's' } } },
    { name: 'azd', azureDisk: { diskName: 'd', diskURI: '/subscriptions/x/disks/d', kind: 'Managed', cachingMode: 'ReadWrite' } },
    { name: 'pwx', portworxVolume: { volumeID: 'px-1', fsType: 'ext4' } },
    { name: 'azf', azureFile: { secretName: 'secret', shareName: 'share' } },
    { name: 'vsph', vsphereVolume: { volumePath: '[ds] disk.vmdk', storagePolicyName: 'gold' } },
    { name: 'nfs', nfs: { server: 's', path: '/p' } },
  ];
  const s = slimPod({ metadata: { name: 'p' }, spec: { volumes } });

  it('keeps the fields VolumeRestrictions compares and NodeVolumeLimits translates; drops other kinds', () => {
    expect(s.spec?.volumes).toEqual([
      { name: 'gce', gcePersistentDisk: { pdName: 'disk-1', readOnly: true } },
      { name: 'ebs', awsElasticBlockStore: { volumeID: 'aws://us-east-1a/vol-1' } },
      { name: 'iscsi', iscsi: { iqn: 'iqn.2024', readOnly: true } },
      { name: 'rbd', rbd: { monitors: ['m1'], pool: 'p', image: 'img', readOnly: false } },
      { name: 'cinder', cinder: { volumeID: 'c-1' } },
      { name: 'azd', azureDisk: { diskURI: '/subscriptions/x/disks/d', kind: 'Managed' } },
      { name: 'pwx', portworxVolume: { volumeID: 'px-1' } },
      // Present for NodeVolumeLimits' PreFilter (migratable), never counted in v1.37.
      { name: 'azf', azureFile: {} },
      { name: 'vsph', vsphereVolume: {} },
    ]);
  });
});

describe('slimNode', () => {
  const node = {
    metadata: { name: 'n1', uid: 'nu', resourceVersion: '7', labels: { zone: 'a' }, annotations: { 'node.alpha.kubernetes.io/ttl': '0' }, managedFields },
    spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }], podCIDR: '10.0.0.0/24', providerID: 'kwok://n1' },
    status: {
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
      images: [{ names: ['nginx:1', 'nginx@sha256:abc'], sizeBytes: 1000 }],
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: 't' },
        { type: 'Ready', status: 'True', lastHeartbeatTime: 't', message: 'kubelet is posting ready status' },
      ],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      nodeInfo: { kubeletVersion: 'v1' },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  };
  it('keeps labels, taints, unschedulable, allocatable/capacity, images and Ready only', () => {
    expect(slimNode(node)).toEqual({
      kind: 'Node',
      metadata: { name: 'n1', uid: 'nu', resourceVersion: '7', labels: { zone: 'a' } },
      spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] },
      status: {
        allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
        capacity: { cpu: '8', memory: '32Gi', pods: '110' },
        images: [{ names: ['nginx:1', 'nginx@sha256:abc'], sizeBytes: 1000 }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
  });
});

describe('slimming the other kinds', () => {
  it('PersistentVolumeClaim keeps class, volume, access modes, phase, owner, and the binding annotations', () => {
    const pvc = slimPersistentVolumeClaim({
      metadata: {
        name: 'c',
        namespace: 'ns',
        uid: 'cu',
        resourceVersion: '1',
        annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'volume.beta.kubernetes.io/storage-class': 'fast', other: 'x' },
        ownerReferences: [{ kind: 'Pod', name: 'p', uid: 'pu', controller: true }],
        managedFields,
      },
      spec: { volumeName: 'pv1', storageClassName: 'fast', accessModes: ['ReadWriteOncePod'], resources: { requests: { storage: '1Gi' } }, dataSource: { name: 'snap' } },
      status: { phase: 'Bound', capacity: { storage: '1Gi' } },
    });
    expect(pvc).toEqual({
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'c',
        namespace: 'ns',
        uid: 'cu',
        resourceVersion: '1',
        annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'volume.beta.kubernetes.io/storage-class': 'fast' },
        ownerReferences: [{ kind: 'Pod', name: 'p', uid: 'pu', controller: true }],
      },
      spec: { volumeName: 'pv1', storageClassName: 'fast', accessModes: ['ReadWriteOncePod'], resources: { requests: { storage: '1Gi' } } },
      status: { phase: 'Bound' },
    });
  });

  it('PersistentVolume keeps the identity of in-tree sources CSI migration translates', () => {
    const spec = (source: Record<string, unknown>) => slimPersistentVolume({ metadata: { name: 'pv' }, spec: source }).spec;
    expect(spec({ gcePersistentDisk: { pdName: 'd', fsType: 'ext4', partition: 1 } })).toEqual({ gcePersistentDisk: { pdName: 'd' } });
    expect(spec({ awsElasticBlockStore: { volumeID: 'vol-1', readOnly: true } })).toEqual({ awsElasticBlockStore: { volumeID: 'vol-1' } });
    expect(spec({ cinder: { volumeID: 'c', secretRef: { name: 's' } } })).toEqual({ cinder: { volumeID: 'c' } });
    expect(spec({ azureDisk: { diskName: 'd', diskURI: 'u', kind: 'Shared', fsType: 'ext4' } })).toEqual({ azureDisk: { diskURI: 'u', kind: 'Shared' } });
    expect(spec({ portworxVolume: { volumeID: 'px', fsType: 'ext4' } })).toEqual({ portworxVolume: { volumeID: 'px' } });
    // Sources no plugin reads on a PV.
    expect(spec({ iscsi: { iqn: 'i', targetPortal: 't', lun: 0 }, rbd: { monitors: ['m'], image: 'i' }, nfs: { server: 's' } })).toEqual({});
  });

  it('PersistentVolume keeps labels, class, node affinity, its claim ref and its CSI identity', () => {
    const pv = slimPersistentVolume({
      metadata: { name: 'pv1', resourceVersion: '2', labels: { 'topology.kubernetes.io/zone': 'a' }, managedFields },
      spec: {
        storageClassName: 'fast',
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }] } },
        claimRef: { namespace: 'ns', name: 'c', uid: 'cu', apiVersion: 'v1', kind: 'PersistentVolumeClaim', resourceVersion: '9' },
        csi: { driver: 'x', volumeHandle: 'h', volumeAttributes: { a: 'b' }, fsType: 'ext4' },
        mountOptions: ['ro'],
      },
      status: { phase: 'Bound', lastPhaseTransitionTime: 't' },
    });
    expect(JSON.stringify(pv)).not.toMatch(/volumeAttributes|fsType|mountOptions|managedFields|lastPhaseTransitionTime/);
    expect(pv.spec?.csi).toEqual({ driver: 'x', volumeHandle: 'h' });
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.key).toBe('k');
    expect(pv.metadata?.labels).toEqual({ 'topology.kubernetes.io/zone': 'a' });
    // The whole reference: VolumeBinding compares it and writes it back in a merge patch.
    expect((pv.spec as { claimRef?: unknown }).claimRef).toEqual({
      namespace: 'ns',
      name: 'c',
      uid: 'cu',
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      resourceVersion: '9',
    });
  });

  it('StorageClass keeps provisioner and binding mode', () => {
    expect(
      slimStorageClass({ metadata: { name: 'fast', managedFields }, provisioner: 'csi.x', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3' }, reclaimPolicy: 'Delete' }),
    ).toEqual({ kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'csi.x', volumeBindingMode: 'WaitForFirstConsumer' });
  });

  it('Services, ReplicationControllers, ReplicaSets, StatefulSets keep their selectors; Namespaces their labels', () => {
    const meta = { name: 'w', namespace: 'ns', uid: 'u', resourceVersion: '3', labels: { a: 'b' }, annotations: { x: 'y' }, managedFields };
    expect(slimService({ metadata: meta, spec: { selector: { app: 'w' }, ports: [{ port: 80 }], clusterIP: '10.0.0.1' }, status: {} })).toEqual({
      kind: 'Service',
      metadata: { name: 'w', namespace: 'ns', uid: 'u', resourceVersion: '3', labels: { a: 'b' } },
      spec: { selector: { app: 'w' } },
    });
    expect(slimReplicationController({ metadata: meta, spec: { selector: { app: 'w' }, replicas: 3, template: { spec: {} } } }).spec).toEqual({ selector: { app: 'w' } });
    const rs = slimReplicaSet({
      metadata: { ...meta, ownerReferences: [{ kind: 'Deployment', name: 'd', uid: 'du', controller: true, apiVersion: 'apps/v1' }] },
      spec: { selector: { matchLabels: { app: 'w' } }, replicas: 3, template: { spec: { containers: [] } } },
      status: { replicas: 3 },
    });
    expect(rs).toEqual({
      kind: 'ReplicaSet',
      metadata: {
        name: 'w',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '3',
        labels: { a: 'b' },
        ownerReferences: [{ kind: 'Deployment', name: 'd', uid: 'du', controller: true, apiVersion: 'apps/v1' }],
      },
      spec: { selector: { matchLabels: { app: 'w' } } },
    });
    expect(slimStatefulSet({ metadata: meta, spec: { selector: { matchExpressions: [] }, serviceName: 's', volumeClaimTemplates: [] } }).spec).toEqual({
      selector: { matchExpressions: [] },
    });
    expect(slimNamespace({ metadata: { name: 'ns', labels: { team: 'a' }, managedFields }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } })).toEqual({
      kind: 'Namespace',
      metadata: { name: 'ns', labels: { team: 'a' } },
    });
  });

  it('objectKey is namespace/name, or name for cluster-scoped objects', () => {
    expect(objectKey({ metadata: { name: 'p', namespace: 'ns' } })).toBe('ns/p');
    expect(objectKey({ metadata: { name: 'n1' } })).toBe('n1');
  });
});
