/**
 * VolumeBinding (upstream plugins/volumebinding), simplified but honest about what it checks.
 *
 * PreFilter (per pod, once): every PVC the pod uses (spec.volumes[].persistentVolumeClaim, and generic ephemeral
 * volumes through their "<pod>-<volume>" claim) must exist, not be Lost or being deleted, and an ephemeral claim
 * must be controlled by the pod; otherwise UnschedulableAndUnresolvable with upstream's message. Skip when the pod
 * uses no PVC. A claim is bound when spec.volumeName is set and it carries pv.kubernetes.io/bind-completed (as
 * upstream's isPVCFullyBound). An unbound claim whose class is WaitForFirstConsumer (and which names no volume) is
 * delayed; any other unbound claim (Immediate class, no class, unknown class, or pre-bound to a volume) is
 * "pod has unbound immediate PersistentVolumeClaims".
 * Filter: the bound claims' PersistentVolumes, in the pod's volume order: a missing PV is "node(s) unavailable due
 * to one or more pvc(s) bound to non-existent pv(s)"; a PV whose spec.nodeAffinity.required does not match the
 * node's labels is "node(s) had volume node affinity conflict".
 *
 * Not modelled: delayed (WaitForFirstConsumer) claims are accepted on every node: berth assumes dynamic
 * provisioning and does not look for matching static PVs, StorageClass allowedTopologies or CSI storage capacity
 * for them. Reserve/PreBind (the PV controller handshake) are not berth's; binding the pod lets the PV controller
 * provision as it would for kube-scheduler.
 * PreScore/Score: upstream scores only with the alpha StorageCapacityScoring gate (or static bindings, which berth
 * does not compute), so PreScore always returns Skip and Score is 0.
 */
import type { NodeSelectorTerm, PersistentVolumeClaim, Pod, Volume } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreBindPlugin,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { decodeShape, type UtilizationShapePoint, validateShape } from './argsHelpers.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { compileNodeSelectorTerm } from '../../kube/selectors.js';

export const NAME = 'VolumeBinding';

/** VolumeBindingArgs, defaulted and validated. */
export interface VolumeBindingArgs {
  bindTimeoutSeconds: number;
  shape?: UtilizationShapePoint[];
}

export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const STATE_KEY = NAME;
const REJECT_UNBOUND_IMMEDIATE = Status.unresolvable(ERR_REASON_UNBOUND_IMMEDIATE);
const REJECT_NODE_CONFLICT = Status.unresolvable(ERR_REASON_NODE_CONFLICT);
const REJECT_PV_NOT_EXIST = Status.unresolvable(ERR_REASON_PV_NOT_EXIST);

/** storagehelpers.GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName. */
export function persistentVolumeClaimClass(pvc: PersistentVolumeClaim): string {
  const annotations = pvc.metadata?.annotations;
  if (annotations && annotations[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return annotations[BETA_STORAGE_CLASS_ANNOTATION];
  return pvc.spec?.storageClassName ?? '';
}

/**
 * The class's volumeBindingMode. The API server defaults an unset mode to Immediate, so berth does the same for
 * objects that arrive without it (upstream would report "VolumeBindingMode not set" for such an object).
 */
export function isWaitForFirstConsumer(cluster: ClusterView, className: string): boolean {
  if (className === '') return false;
  const sc = cluster.storageClasses.get(className);
  return sc !== undefined && sc.volumeBindingMode === 'WaitForFirstConsumer';
}

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

/**
 * Node-affinity check of a PV (volume.CheckNodeAffinity): upstream matches the terms against a node object that
 * carries only labels, so matchFields requirements see no fields and are not applied (a term with only valid
 * matchFields matches); malformed matchFields (operator other than In/NotIn, or not exactly one value) still void
 * the term. Terms are ORed; no terms match nothing.
 */
export function compileVolumeNodeAffinity(terms: readonly NodeSelectorTerm[]): (labels: Record<string, string>) => boolean {
  const compiled: Array<(labels: Record<string, string>) => boolean> = [];
  for (const term of terms) {
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) continue;
    const fieldsValid = fields.every((r) => (r.operator === 'In' || r.operator === 'NotIn') && (r.values?.length ?? 0) === 1);
    if (!fieldsValid) continue;
    if (exprs.length === 0) {
      compiled.push(() => true);
      continue;
    }
    const m = compileNodeSelectorTerm({ matchExpressions: exprs });
    compiled.push((labels) => m(labels, ''));
  }
  return (labels) => {
    for (const m of compiled) if (m(labels)) return true;
    return false;
  };
}

type BoundCheck = { missing: true } | { missing: false; match: (labels: Record<string, string>) => boolean };

interface VolumeBindingState {
  /** Bound claims' PV checks, in the pod's volume order; PVs without required node affinity are left out. */
  checks: BoundCheck[];
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;

  constructor(private readonly cluster: ClusterView) {}

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const volumes = pod.pod.spec?.volumes ?? [];
    const claims: PersistentVolumeClaim[] = [];
    for (const volume of volumes) {
      let claimName: string;
      const ephemeral = !volume.persistentVolumeClaim && hasEphemeral(volume);
      if (volume.persistentVolumeClaim) claimName = volume.persistentVolumeClaim.claimName ?? '';
      else if (ephemeral) claimName = ephemeralClaimName(pod.pod, volume);
      else continue;
      const pvc = this.cluster.getPersistentVolumeClaim(pod.namespace, claimName);
      if (!pvc) {
        return Status.unresolvable(
          ephemeral
            ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${claimName}"`
            : pvcNotFoundMessage(claimName),
        );
      }
      if (pvc.status?.phase === 'Lost') {
        return Status.unresolvable(
          `persistentvolumeclaim "${claimName}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`,
        );
      }
      if (pvc.metadata?.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${claimName}" is being deleted`);
      if (ephemeral) {
        const controller = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
        if ((pvc.metadata?.namespace ?? 'default') !== pod.namespace || !controller || controller.uid !== pod.uid) {
          return Status.unresolvable(
            `PVC ${pvc.metadata?.namespace ?? 'default'}/${claimName} was not created for pod ${pod.namespace}/${pod.name} (pod is not owner)`,
          );
        }
      }
      claims.push(pvc);
    }
    if (claims.length === 0) return SKIP;

    const checks: BoundCheck[] = [];
    for (const pvc of claims) {
      const volumeName = pvc.spec?.volumeName ?? '';
      const bound = volumeName !== '' && pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
      if (!bound) {
        const delayed = isWaitForFirstConsumer(this.cluster, persistentVolumeClaimClass(pvc));
        if (delayed && volumeName === '') continue;
        return REJECT_UNBOUND_IMMEDIATE;
      }
      const pv = this.cluster.persistentVolumes.get(volumeName);
      if (!pv) {
        checks.push({ missing: true });
        continue;
      }
      const required = pv.spec?.nodeAffinity?.required;
      if (required) checks.push({ missing: false, match: compileVolumeNodeAffinity(required.nodeSelectorTerms ?? []) });
    }
    state.write(STATE_KEY, { checks } satisfies VolumeBindingState);
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return null;
    const checks = s.checks;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i] as BoundCheck;
      if (c.missing) return REJECT_PV_NOT_EXIST;
      if (!c.match(node.labels)) return REJECT_NODE_CONFLICT;
    }
    return null;
  }

  /** Upstream without StorageCapacityScoring: no scorer, PreScore returns Skip. */
  preScore(): Status | null {
    return SKIP;
  }

  score(): number {
    return 0;
  }

  /**
   * Upstream AssumePodVolumes. berth binds no volume itself (bound claims need nothing; delayed claims are left to
   * the PV controller, the documented deviation above), so there is nothing to assume or to undo.
   */
  reserve(): Status | null {
    return null;
  }

  unreserve(): void {}

  /** Nothing for PreBind to write: upstream skips PreBind when every claim is bound. */
  preBindPreFlight(): Status | null {
    return SKIP;
  }

  async preBind(): Promise<Status | null> {
    return null;
  }
}

/**
 * pluginConfig args: upstream's defaulting and validation of VolumeBindingArgs. berth's VolumeBinding does not use
 * them (it leaves the PV controller handshake, which bindTimeoutSeconds bounds, to the cluster and does not score;
 * see the file comment), but a configuration holding them is checked and printed as upstream does.
 */
const argsSpec: PluginArgsSpec<VolumeBindingArgs> = {
  fields: ['bindTimeoutSeconds', 'shape'],
  defaults: () => ({ bindTimeoutSeconds: 600 }),
  decode: (dec, raw, path) => {
    const out = argsSpec.defaults();
    const t = dec.integer(raw['bindTimeoutSeconds'], [...path, 'bindTimeoutSeconds'], 64);
    if (t !== undefined) {
      if (t < 0) dec.error([...path, 'bindTimeoutSeconds'], `invalid bindTimeoutSeconds ${t}, should not be a negative value`, 'use 0 or more seconds (default 600)');
      out.bindTimeoutSeconds = t;
    }
    const shape = decodeShape(dec, raw['shape'], [...path, 'shape']);
    if (shape !== undefined) {
      validateShape(dec, shape, [...path, 'shape']);
      out.shape = shape;
    }
    return out;
  },
  render: (a) => {
    const out: Record<string, unknown> = { bindTimeoutSeconds: a.bindTimeoutSeconds };
    if (a.shape !== undefined) out['shape'] = a.shape.map((p) => ({ ...p }));
    return out;
  },
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'reserve', 'preBind', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'PvcChange', 'PvChange', 'StorageClassChange'],
  args: argsSpec,
  create: (handle) => new VolumeBinding(handle.cluster),
} satisfies PluginDescriptor<VolumeBindingArgs>;
