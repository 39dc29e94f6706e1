// Fake Node objects (no kubelet): capacity/allocatable, labels, taints, images and a Ready condition.
import { CoreV1Api, type KubeConfig, type V1Node, type V1Taint } from '@kubernetes/client-node';

/** Annotation kwok is told to select on (see startKwok); fake nodes carry it unless `kwok: false`. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';

export interface FakeNodeImage {
  names: string[];
  sizeBytes: number;
}

export interface FakeNodeSpec {
  name: string;
  /** Quantities; defaults cpu '4', memory '16Gi', pods '110', ephemeral-storage '100Gi'. */
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Extended resources, e.g. { 'example.com/gpu': '2' }. */
  extended?: Record<string, string>;
  /** Allocatable if different from capacity (same keys as capacity). */
  allocatable?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: V1Taint[];
  images?: FakeNodeImage[];
  /** Ready condition status (default true). */
  ready?: boolean;
  unschedulable?: boolean;
  /** Mark the node for kwok (default true). */
  kwok?: boolean;
}

export function fakeNodeObject(spec: FakeNodeSpec): V1Node {
  const capacity: Record<string, string> = {
    cpu: spec.cpu ?? '4',
    memory: spec.memory ?? '16Gi',
    pods: spec.pods ?? '110',
    'ephemeral-storage': spec.ephemeralStorage ?? '100Gi',
    ...(spec.extended ?? {}),
  };
  const allocatable = { ...capacity, ...(spec.allocatable ?? {}) };
  const now = new Date();
  const annotations: Record<string, string> = { ...(spec.annotations ?? {}) };
  if (spec.kwok ?? true) annotations[KWOK_NODE_ANNOTATION] = KWOK_NODE_ANNOTATION_VALUE;
  const ready = spec.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...(spec.labels ?? {}),
      },
      annotations,
    },
    spec: {
      ...(spec.taints && spec.taints.length > 0 ? { taints: spec.taints } : {}),
      ...(spec.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      capacity,
      allocatable,
      phase: 'Running',
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'KubeletNotReady',
          message: ready ? 'fake node is ready' : 'fake node is not ready',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      images: (spec.images ?? []).map((i) => ({ names: i.names, sizeBytes: i.sizeBytes })),
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'fake',
        kubeProxyVersion: 'fake',
        containerRuntimeVersion: 'fake://0',
        kernelVersion: '',
        osImage: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    },
  };
}

/**
 * Creates the nodes and sets their status (capacity, allocatable, images, Ready) through the status
 * subresource. Returns the created nodes with their status.
 */
export async function createFakeNodes(kc: KubeConfig, specs: FakeNodeSpec[]): Promise<V1Node[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const out: V1Node[] = [];
  for (const spec of specs) {
    const desired = fakeNodeObject(spec);
    const created = await core.createNode({ body: desired });
    const name = created.metadata?.name ?? spec.name;
    // Node creation keeps status today, but set it through the subresource so it holds either way.
    const withStatus = await core.replaceNodeStatus({
      name,
      body: { ...created, status: desired.status },
    });
    out.push(withStatus);
  }
  return out;
}

/** Deletes the named nodes, ignoring ones already gone. */
export async function deleteNodes(kc: KubeConfig, names: string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) {
    try {
      await core.deleteNode({ name });
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && (err as { code: unknown }).code === 404)) throw err;
    }
  }
}
