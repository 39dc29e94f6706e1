/**
 * PodInfo: a pod as scheduling sees it, with everything derived once (requests, ports, normalized images, priority,
 * queue timestamp) so that filter and score loops over thousands of nodes do no parsing.
 */
import type { Pod, Affinity, Labels, Toleration, TopologySpreadConstraint } from '../../kube/api.js';
import { computePodRequests } from '../../kube/podRequests.js';
import type { Resource } from '../../kube/resources.js';

export interface HostPort {
  protocol: string;
  hostIP: string;
  hostPort: number;
}

export class PodInfoError extends Error {
  constructor(
    readonly objectRef: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${objectRef}: ${field}: ${detail}`);
    this.name = 'PodInfoError';
  }
}

/** Upstream ImageLocality's normalization: add ":latest" when the name has no tag (a ":" after the last "/"). */
export function normalizeImageName(name: string): string {
  if (name.lastIndexOf(':') <= name.lastIndexOf('/')) return `${name}:latest`;
  return name;
}

export class PodInfo {
  readonly pod: Pod;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name", the key used in events and logs. */
  readonly key: string;
  readonly labels: Labels;
  readonly schedulerName: string;
  readonly nodeName: string;
  readonly priority: number;
  /** Milliseconds since the epoch: creation time, the queue's tie-break after priority. */
  readonly creationTime: number;
  /**
   * What the pod holds on a node (upstream CalculateResource: pod-level resources, in-place resize status): the
   * NodeInfo totals, and BalancedAllocation's view of the pod.
   */
  readonly requests: Resource;
  /** cpu and memory of `requests` with the non-zero defaults: NodeInfo's non-zero totals. */
  readonly nonZeroRequests: Resource;
  /** The spec alone, without status: what NodeResourcesFit's filter checks for the incoming pod. */
  readonly specRequests: Resource;
  /** NodeResourcesFit's scoring view of the incoming pod (container level, non-zero cpu/memory; see podRequests.ts). */
  readonly fitScoreRequests: Resource;
  readonly hostPorts: HostPort[];
  /** Normalized image names of init and regular containers, one entry per container. */
  readonly images: string[];
  readonly tolerations: Toleration[];
  readonly affinity: Affinity | undefined;
  readonly topologySpreadConstraints: TopologySpreadConstraint[];
  readonly hasRequiredAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;
  readonly hasAnyPodAffinity: boolean;
  readonly pvcNames: string[];
  readonly terminating: boolean;
  /** Plugins memoize their compiled view of this pod here (e.g. parsed affinity terms), keyed by plugin name. */
  private readonly memo = new Map<string, unknown>();

  constructor(pod: Pod, objectPath?: string) {
    this.pod = pod;
    const meta = pod.metadata ?? {};
    const spec = pod.spec ?? {};
    this.namespace = meta.namespace ?? 'default';
    this.name = meta.name ?? '';
    this.key = `${this.namespace}/${this.name}`;
    const path = objectPath ?? `Pod ${this.key}`;
    if (!this.name) throw new PodInfoError(path, 'metadata.name', 'is required');
    this.uid = meta.uid ?? this.key;
    this.labels = meta.labels ?? {};
    this.schedulerName = spec.schedulerName ?? 'default-scheduler';
    this.nodeName = spec.nodeName ?? '';
    this.priority = typeof spec.priority === 'number' ? spec.priority : 0;
    const created = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : 0;
    if (Number.isNaN(created)) {
      throw new PodInfoError(path, 'metadata.creationTimestamp', `${JSON.stringify(meta.creationTimestamp)} is not an RFC 3339 time`);
    }
    this.creationTime = created;
    try {
      const computed = computePodRequests(pod);
      this.requests = computed.requests;
      this.nonZeroRequests = computed.nonZero;
      this.specRequests = computed.specRequests;
      this.fitScoreRequests = computed.fitScoreRequests;
    } catch (err) {
      throw new PodInfoError(path, (err as { field?: string }).field ?? 'spec', (err as { detail?: string }).detail ?? (err as Error).message);
    }
    this.hostPorts = [];
    const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    for (const c of spec.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) {
          this.hostPorts.push({ protocol: p.protocol || 'TCP', hostIP: p.hostIP || '0.0.0.0', hostPort: p.hostPort });
        }
      }
    }
    // Sidecars (restartable init containers) hold their host ports for the pod's life, as upstream counts them.
    for (const c of spec.initContainers ?? []) {
      if (c.restartPolicy !== 'Always') continue;
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) {
          this.hostPorts.push({ protocol: p.protocol || 'TCP', hostIP: p.hostIP || '0.0.0.0', hostPort: p.hostPort });
        }
      }
    }
    this.images = all.map((c) => normalizeImageName(c.image ?? ''));
    this.tolerations = spec.tolerations ?? [];
    this.affinity = spec.affinity;
    this.topologySpreadConstraints = spec.topologySpreadConstraints ?? [];
    const pa = spec.affinity?.podAffinity;
    const paa = spec.affinity?.podAntiAffinity;
    this.hasRequiredAffinity = (pa?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    this.hasRequiredAntiAffinity = (paa?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    this.hasAnyPodAffinity =
      this.hasRequiredAffinity ||
      this.hasRequiredAntiAffinity ||
      (pa?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
      (paa?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    this.pvcNames = (spec.volumes ?? [])
      .map((v) => v.persistentVolumeClaim?.claimName)
      .filter((n): n is string => typeof n === 'string' && n.length > 0);
    this.terminating = Boolean(meta.deletionTimestamp);
  }

  /**
   * The same pod assigned to `nodeName` (what assume records), sharing every derived field instead of parsing the
   * spec again: assume happens once per scheduled pod, on the hot path.
   */
  assignedTo(nodeName: string): PodInfo {
    const copy = Object.create(PodInfo.prototype) as PodInfo;
    Object.assign(copy, this);
    const mutable = copy as unknown as { pod: Pod; nodeName: string };
    mutable.pod = { ...this.pod, spec: { ...(this.pod.spec ?? {}), nodeName } };
    mutable.nodeName = nodeName;
    return copy;
  }

  /**
   * Returns the plugin's memoized value for this pod, computing it on first use. A filter reads it once per node, so
   * hot callers pass a module-level function of the pod, not a closure allocated on every call.
   */
  memoize<T>(key: string, compute: (pod: PodInfo) => T): T {
    const known = this.memo.get(key);
    if (known !== undefined || this.memo.has(key)) return known as T;
    const value = compute(this);
    this.memo.set(key, value);
    return value;
  }
}
