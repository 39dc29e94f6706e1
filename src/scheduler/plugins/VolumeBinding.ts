/**
 * VolumeBinding (upstream plugins/volumebinding, v1.37): the scheduler's half of the PersistentVolume handshake.
 *
 * - PreFilter: every claim the pod uses (spec.volumes[].persistentVolumeClaim, and generic ephemeral volumes through
 *   their "<pod>-<volume>" claim) must exist, not be Lost or being deleted, and an ephemeral claim must be controlled
 *   by the pod; the claims are sorted into bound, delayed (WaitForFirstConsumer, no volume named) and immediate. Any
 *   unbound immediate claim: "pod has unbound immediate PersistentVolumeClaims". Skip when the pod uses no claim.
 * - Filter (per node, volumeBinding/binder.ts): bound claims' PVs must exist and fit the node; delayed claims need a
 *   static PV (smallest fit) or dynamic provisioning on the node (provisioner, allowedTopologies, CSI storage
 *   capacity), with upstream's reasons. What the node needs is kept per node in the cycle state.
 * - PreScore/Score (StorageCapacityScoring, on by default in v1.37): the chosen volumes' utilization per class
 *   through the args' shape (default: empty is best).
 * - Reserve/Unreserve: the PV claimRefs and claims' selected-node annotations are assumed in the plugin's assume
 *   caches (volumeBinding/assumeCache.ts), so the next pods see them; Unreserve restores them.
 * - PreBindPreFlight/PreBind (volumeBinding/bindVolumes.ts): nothing to do when every claim was bound; else write
 *   the bindings and wait, up to bindTimeoutSeconds, for the PV controller and provisioner to complete them.
 *
 * Not modelled: in-tree volumes are not translated to CSI (their PVs' node affinity is checked as written).
 */
import type { CSIStorageCapacity, PersistentVolume, PersistentVolumeClaim, Pod, Volume } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import {
  type CycleState,
  type FilterPlugin,
  type FrameworkHandle,
  type PreBindPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from '../framework/types.js';
import { decodeShape, type UtilizationShapePoint, validateShape } from './argsHelpers.js';
import { buildBrokenLinearFunction, MAX_CUSTOM_PRIORITY_SCORE } from './resourceAllocation.js';
import { AssumeCache } from './volumeBinding/assumeCache.js';
import { claimKey, findPodVolumes, podVolumeClaims, type PodVolumeClaims, type PodVolumes, type VolumeSources } from './volumeBinding/binder.js';
import { bindPodVolumes } from './volumeBinding/bindVolumes.js';
import {
  ANN_SELECTED_NODE,
  bindVolumeToClaim,
  isClaimFullyBound,
  requestedStorage,
  volumeCapacity,
  volumeClass,
} from './volumeBinding/volumes.js';
import { parseQuantityBig } from '../../kube/quantity.js';

export const NAME = 'VolumeBinding';

/** VolumeBindingArgs, defaulted and validated. */
export interface VolumeBindingArgs {
  bindTimeoutSeconds: number;
  /** Defaulted (StorageCapacityScoring is on in v1.37): utilization 0 scores 10, 100 scores 0. */
  shape: UtilizationShapePoint[];
}

export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

const STATE_KEY = NAME;
const REJECT_UNBOUND_IMMEDIATE = Status.unresolvable(ERR_REASON_UNBOUND_IMMEDIATE);

/** The lister's NotFound error text. */
export function pvcNotFoundMessage(name: string): string {
  return `persistentvolumeclaim "${name}" not found`;
}

/** ephemeral.VolumeClaimName: the claim of a generic ephemeral volume is "<pod name>-<volume name>". */
export function ephemeralClaimName(pod: Pod, volume: Volume): string {
  return `${pod.metadata?.name ?? ''}-${volume.name ?? ''}`;
}

function hasEphemeral(volume: Volume): boolean {
  return volume.ephemeral !== undefined && volume.ephemeral !== null;
}

/** The cycle's state (upstream stateData; shared, not copied, by clones, as upstream's Clone returns itself). */
interface VolumeBindingState {
  claims: PodVolumeClaims | null;
  podVolumesByNode: Map<string, PodVolumes>;
  hasStaticBindings: boolean;
  allBound: boolean;
}

/** Upstream's volumeCapacityScorer over the classes a node's volumes use: round(mean of shape(utilization)). */
function capacityScorer(shape: readonly UtilizationShapePoint[]): (classes: ReadonlyMap<string, { requested: bigint; capacity: bigint }>) => number {
  const scale = 100 / MAX_CUSTOM_PRIORITY_SCORE;
  const f = buildBrokenLinearFunction(shape.map((p) => ({ utilization: p.utilization, score: p.score * scale })));
  return (classes) => {
    if (classes.size === 0) return 0;
    let total = 0;
    for (const { requested, capacity } of classes.values()) {
      total += capacity === 0n || requested > capacity ? f(100) : f(Number((requested * 100n) / capacity));
    }
    return Math.round(total / classes.size);
  };
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;
  private readonly cluster: ClusterView;
  private readonly pvCache: AssumeCache<PersistentVolume>;
  private readonly pvcCache: AssumeCache<PersistentVolumeClaim>;
  private readonly sources: VolumeSources;
  private readonly scorer: ReturnType<typeof capacityScorer>;

  constructor(
    private readonly handle: FrameworkHandle,
    private readonly args: VolumeBindingArgs,
  ) {
    const cluster = handle.cluster;
    this.cluster = cluster;
    this.pvCache = new AssumeCache((name) => cluster.persistentVolumes.get(name));
    this.pvcCache = new AssumeCache((key) => cluster.persistentVolumeClaims.get(key));
    this.scorer = capacityScorer(args.shape);
    this.sources = {
      claim: (namespace, name) => this.pvcCache.get(`${namespace}/${name}`),
      volume: (name) => this.pvCache.get(name),
      volumesOfClass: (className) => this.volumesOfClass(className),
      storageClass: (name) => cluster.storageClasses.get(name),
      csiDriver: (name) => cluster.csiDrivers.get(name),
      storageCapacities: () => cluster.csiStorageCapacities.values(),
    };
  }

  /** Upstream pvCache.ListPVs: every PV of the class, with assumptions, in name order (deterministic ties). */
  private volumesOfClass(className: string): PersistentVolume[] {
    const out: PersistentVolume[] = [];
    for (const name of [...this.cluster.persistentVolumes.keys()].sort()) {
      const pv = this.pvCache.get(name);
      if (pv && volumeClass(pv) === className) out.push(pv);
    }
    return out;
  }

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const found = this.podClaims(pod);
    if (found instanceof Status) return found;
    const s: VolumeBindingState = { claims: null, podVolumesByNode: new Map(), hasStaticBindings: false, allBound: true };
    state.write(STATE_KEY, s);
    if (found.length === 0) return SKIP;
    const claims = podVolumeClaims(found, this.sources);
    if (claims.immediate.length > 0) return REJECT_UNBOUND_IMMEDIATE;
    s.claims = claims;
    return null;
  }

  /** Upstream podHasPVCs: the pod's claims (assumed view), or why it cannot be scheduled yet. */
  private podClaims(pod: PodInfo): PersistentVolumeClaim[] | Status {
    const claims: PersistentVolumeClaim[] = [];
    for (const volume of pod.pod.spec?.volumes ?? []) {
      const ephemeral = !volume.persistentVolumeClaim && hasEphemeral(volume);
      if (!volume.persistentVolumeClaim && !ephemeral) continue;
      const claimName = ephemeral ? ephemeralClaimName(pod.pod, volume) : (volume.persistentVolumeClaim?.claimName ?? '');
      const pvc = this.sources.claim(pod.namespace, claimName);
      if (!pvc) {
        return Status.unresolvable(
          ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${claimName}"` : pvcNotFoundMessage(claimName),
        );
      }
      if (pvc.status?.phase === 'Lost') {
        return Status.unresolvable(`persistentvolumeclaim "${claimName}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`);
      }
      if (pvc.metadata?.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${claimName}" is being deleted`);
      if (ephemeral) {
        const controller = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
        if ((pvc.metadata?.namespace ?? 'default') !== pod.namespace || !controller || controller.uid !== pod.uid) {
          return Status.unresolvable(`PVC ${pvc.metadata?.namespace ?? 'default'}/${claimName} was not created for pod ${pod.namespace}/${pod.name} (pod is not owner)`);
        }
      }
      claims.push(pvc);
    }
    return claims;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    if (!s.claims) return null;
    const found = findPodVolumes(s.claims, { name: node.name, labels: node.labels }, this.sources);
    if (found.error !== undefined) return Status.error(found.error);
    if (found.reasons.length > 0) return Status.unresolvable(...found.reasons);
    s.podVolumesByNode.set(node.name, found.podVolumes);
    if (found.podVolumes.staticBindings.length > 0) s.hasStaticBindings = true;
    return null;
  }

  /** StorageCapacityScoring is on: scores for every pod (0 on nodes without volumes to bind). */
  preScore(state: CycleState): Status | null {
    if (!state.read<VolumeBindingState>(STATE_KEY)) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const volumes = state.read<VolumeBindingState>(STATE_KEY)?.podVolumesByNode.get(node.name);
    if (!volumes) return 0;
    const classes = new Map<string, { requested: bigint; capacity: bigint }>();
    if (volumes.staticBindings.length > 0) {
      for (const { pv, pvc } of volumes.staticBindings) {
        const entry = classes.get(volumeClass(pv)) ?? { requested: 0n, capacity: 0n };
        entry.requested += requestedStorage(pvc);
        entry.capacity += volumeCapacity(pv);
        classes.set(volumeClass(pv), entry);
      }
    } else {
      for (const { pvc, capacity } of volumes.dynamicProvisions) {
        if (!capacity) continue;
        const cls = pvc.spec?.storageClassName ?? '';
        const entry = classes.get(cls) ?? { requested: 0n, capacity: 0n };
        // Not a sum: two claims of one class share one CSIStorageCapacity.
        entry.capacity = capacityOf(capacity);
        entry.requested += requestedStorage(pvc);
        classes.set(cls, entry);
      }
    }
    return this.scorer(classes);
  }

  /** Upstream AssumePodVolumes: lays the node's bindings over the assume caches (nothing when all are bound). */
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    const volumes = s.podVolumesByNode.get(nodeName);
    if (!volumes || this.allClaimsBound(pod)) {
      s.allBound = true;
      return null;
    }
    const error = this.assume(volumes, nodeName);
    if (error) return Status.error(error);
    s.allBound = false;
    return null;
  }

  private allClaimsBound(pod: PodInfo): boolean {
    const claims = this.podClaims(pod);
    return Array.isArray(claims) && claims.every(isClaimFullyBound);
  }

  /** Replaces the node's volumes by their assumed versions (claimRef set, selected-node set); reverts on failure. */
  private assume(volumes: PodVolumes, nodeName: string): string | null {
    const assumed: PodVolumes = { staticBindings: [], dynamicProvisions: [] };
    const fail = (error: string): string => {
      this.revert(assumed);
      return error;
    };
    for (const binding of volumes.staticBindings) {
      const { pv, dirty } = bindVolumeToClaim(binding.pv, binding.pvc);
      if (dirty) {
        const error = this.pvCache.assume(pv.metadata?.name ?? '', pv);
        if (error) return fail(error);
      }
      assumed.staticBindings.push({ pvc: binding.pvc, pv });
    }
    for (const provision of volumes.dynamicProvisions) {
      const meta = provision.pvc.metadata ?? {};
      const pvc: PersistentVolumeClaim = { ...provision.pvc, metadata: { ...meta, annotations: { ...(meta.annotations ?? {}), [ANN_SELECTED_NODE]: nodeName } } };
      const error = this.pvcCache.assume(claimKey(pvc), pvc);
      if (error) return fail(error);
      assumed.dynamicProvisions.push({ pvc });
    }
    volumes.staticBindings = assumed.staticBindings;
    volumes.dynamicProvisions = assumed.dynamicProvisions;
    return null;
  }

  private revert(volumes: PodVolumes): void {
    for (const b of volumes.staticBindings) this.pvCache.restore(b.pv.metadata?.name ?? '');
    for (const p of volumes.dynamicProvisions) this.pvcCache.restore(claimKey(p.pvc));
  }

  unreserve(state: CycleState, _pod: PodInfo, nodeName: string): void {
    const volumes = state.read<VolumeBindingState>(STATE_KEY)?.podVolumesByNode.get(nodeName);
    if (volumes) this.revert(volumes);
  }

  preBindPreFlight(state: CycleState, _pod: PodInfo, nodeName: string): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    if (s.allBound) return SKIP;
    if (!s.podVolumesByNode.has(nodeName)) return Status.error(`no pod volume found for node "${nodeName}"`);
    return null;
  }

  async preBind(state: CycleState, _pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return Status.error(`reading "${STATE_KEY}" from cycleState: not found`);
    if (s.allBound) return null;
    const volumes = s.podVolumesByNode.get(nodeName);
    if (!volumes) return Status.error(`no pod volume found for node "${nodeName}"`);
    const cluster = this.cluster;
    const error = await bindPodVolumes(nodeName, volumes, {
      api: this.handle.api,
      clock: this.handle.clock,
      pvCache: this.pvCache,
      pvcCache: this.pvcCache,
      node: (name) => {
        const node = cluster.getNode(name);
        return node ? { name: node.name, labels: node.labels } : undefined;
      },
      timeoutMs: this.args.bindTimeoutSeconds * 1000,
      signal,
    });
    return error === null ? null : Status.error(error);
  }
}

function capacityOf(capacity: CSIStorageCapacity): bigint {
  return capacity.capacity === undefined ? 0n : parseQuantityBig(capacity.capacity);
}

/** pluginConfig args: upstream's defaulting (with StorageCapacityScoring on) and validation of VolumeBindingArgs. */
const argsSpec: PluginArgsSpec<VolumeBindingArgs> = {
  fields: ['bindTimeoutSeconds', 'shape'],
  defaults: () => ({
    bindTimeoutSeconds: 600,
    shape: [
      { utilization: 0, score: MAX_CUSTOM_PRIORITY_SCORE },
      { utilization: 100, score: 0 },
    ],
  }),
  decode: (dec, raw, path) => {
    const out = argsSpec.defaults();
    const t = dec.integer(raw['bindTimeoutSeconds'], [...path, 'bindTimeoutSeconds'], 64);
    if (t !== undefined) {
      if (t < 0) dec.error([...path, 'bindTimeoutSeconds'], `invalid bindTimeoutSeconds ${t}, should not be a negative value`, 'use 0 or more seconds (default 600)');
      out.bindTimeoutSeconds = t;
    }
    const shape = decodeShape(dec, raw['shape'], [...path, 'shape']);
    // Upstream defaults only an empty shape; a given one is validated as it is.
    if (shape !== undefined && shape.length > 0) {
      validateShape(dec, shape, [...path, 'shape']);
      out.shape = shape;
    }
    return out;
  },
  render: (a) => {
    return { bindTimeoutSeconds: a.bindTimeoutSeconds, shape: a.shape.map((p) => ({ ...p })) };
  },
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'reserve', 'preBind', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'PvcChange', 'PvChange', 'StorageClassChange', 'CSINodeChange', 'CSIDriverChange', 'CSIStorageCapacityChange'],
  // PreBind: a PV's claimRef, a claim's selected-node annotation (merge patches).
  apiWrites: [
    { group: '', resource: 'persistentvolumes', verbs: ['patch'] },
    { group: '', resource: 'persistentvolumeclaims', verbs: ['patch'] },
  ],
  args: argsSpec,
  create: (handle, args) => new VolumeBinding(handle, args),
} satisfies PluginDescriptor<VolumeBindingArgs>;
