/**
 * PersistentVolume and claim helpers with the semantics of upstream's component-helpers/storage/volume, which the PV
 * controller and the scheduler share: a claim's class, whether a volume is (pre-)bound to a claim, binding a volume
 * to a claim, a volume's node affinity, and FindMatchingVolume (the smallest available volume that satisfies a
 * claim on a node). Pure functions over plain API objects.
 */
import type { Labels, NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, StorageClass, TopologySelectorTerm } from '../../../kube/api.js';
import { parseQuantityBig } from '../../../kube/quantity.js';
import { compileLabelSelector, compileNodeSelectorTerm } from '../../../kube/selectors.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** A StorageClass provisioner that means "no dynamic provisioning" (static local volumes). */
export const NOT_SUPPORTED_PROVISIONER = 'kubernetes.io/no-provisioner';

/** GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName. */
export function claimClass(pvc: PersistentVolumeClaim): string {
  const annotated = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return pvc.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  const annotated = pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return pv.spec?.storageClassName ?? '';
}

/** isPVCFullyBound: a volume named and the PV controller's bind-completed annotation set. */
export function isClaimFullyBound(pvc: PersistentVolumeClaim): boolean {
  return (pvc.spec?.volumeName ?? '') !== '' && pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}

/** IsVolumeBoundToClaim: pre-bound or bound to this claim (name and namespace; uid when the claimRef has one). */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? 'default')) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/**
 * GetBindVolumeToClaim: the volume with its claimRef set to the claim and, when the scheduler (not the user) makes
 * the binding, the bound-by-controller annotation. `dirty` tells whether anything changed.
 */
export function bindVolumeToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): { pv: PersistentVolume; dirty: boolean } {
  const byController = !isVolumeBoundToClaim(pv, pvc);
  const meta = pvc.metadata ?? {};
  const ref = pv.spec?.claimRef;
  let spec = pv.spec ?? {};
  let metadata = pv.metadata ?? {};
  let dirty = false;
  if (!ref || ref.name !== meta.name || ref.namespace !== (meta.namespace ?? 'default') || ref.uid !== meta.uid) {
    const claimRef = {
      kind: 'PersistentVolumeClaim',
      namespace: meta.namespace ?? 'default',
      name: meta.name ?? '',
      uid: meta.uid ?? '',
      apiVersion: 'v1',
      resourceVersion: meta.resourceVersion ?? '',
    };
    spec = { ...spec, claimRef };
    dirty = true;
  }
  if (byController && metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
    metadata = { ...metadata, annotations: { ...(metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' } };
    dirty = true;
  }
  return { pv: dirty ? { ...pv, metadata, spec } : pv, dirty };
}

/**
 * volume.CheckNodeAffinity: the PV's required node affinity against the node's labels. Upstream matches against a
 * node carrying only labels, so matchFields see no fields: a term of only valid matchFields matches; malformed
 * matchFields void the term. Terms are ORed; a required affinity with no usable term matches nothing.
 */
export function volumeNodeAffinityMatches(pv: PersistentVolume, nodeLabels: Labels): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  if (!required) return true;
  return compileVolumeNodeAffinity(required.nodeSelectorTerms ?? [])(nodeLabels);
}

export function compileVolumeNodeAffinity(terms: readonly NodeSelectorTerm[]): (labels: Labels) => boolean {
  const compiled: Array<(labels: Labels) => boolean> = [];
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

/** MatchTopologySelectorTerms (StorageClass allowedTopologies): no terms match every node; terms are ORed. */
export function topologyAllows(terms: readonly TopologySelectorTerm[] | undefined, nodeLabels: Labels): boolean {
  if (!terms || terms.length === 0) return true;
  return terms.some((term) =>
    (term.matchLabelExpressions ?? []).every((e) => {
      const value = Object.prototype.hasOwnProperty.call(nodeLabels, e.key ?? '') ? nodeLabels[e.key ?? ''] : undefined;
      return value !== undefined && (e.values ?? []).includes(value);
    }),
  );
}

/** The claim's storage request in bytes (0 when it asks for none). */
export function requestedStorage(pvc: PersistentVolumeClaim): bigint {
  const q = pvc.spec?.resources?.requests?.['storage'];
  return q === undefined ? 0n : parseQuantityBig(q);
}

/** The volume's storage capacity in bytes (0 when it states none). */
export function volumeCapacity(pv: PersistentVolume): bigint {
  const q = pv.spec?.capacity?.['storage'];
  return q === undefined ? 0n : parseQuantityBig(q);
}

/** CheckVolumeModeMismatches: an unset mode is Filesystem. */
function volumeModeMismatch(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** CheckAccessModes: the volume offers every access mode the claim asks for. */
function accessModesSatisfied(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((mode) => offered.has(mode));
}

/**
 * FindMatchingVolume on the scheduler path (a node is given): a volume pre-bound to the claim wins (or, when its
 * node affinity does not fit, means no match at all); otherwise the smallest Available volume of the claim's class
 * with enough capacity, the same volume mode and attributes class, matching labels and access modes, fitting node
 * affinity, not being deleted, and not `excluded` (already chosen for another claim of the pod).
 */
export function findMatchingVolume(
  pvc: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  nodeLabels: Labels,
  excluded: ReadonlySet<string>,
): PersistentVolume | null {
  const requested = requestedStorage(pvc);
  const requestedClass = claimClass(pvc);
  const selector = pvc.spec?.selector ? compileLabelSelector(pvc.spec.selector) : null;
  const claimVac = pvc.spec?.volumeAttributesClassName ?? '';
  let smallest: PersistentVolume | null = null;
  let smallestSize = 0n;
  for (const pv of volumes) {
    if (excluded.has(pv.metadata?.name ?? '')) continue;
    if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) continue;
    const size = volumeCapacity(pv);
    if (size < requested) continue;
    if (volumeModeMismatch(pvc, pv)) continue;
    if ((pv.spec?.volumeAttributesClassName ?? '') !== claimVac) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const affinityFits = volumeNodeAffinityMatches(pv, nodeLabels);
    if (isVolumeBoundToClaim(pv, pvc)) return affinityFits ? pv : null;
    if (pv.status?.phase !== 'Available') continue;
    if (selector && !selector(pv.metadata?.labels ?? {})) continue;
    if (volumeClass(pv) !== requestedClass || !affinityFits || !accessModesSatisfied(pvc, pv)) continue;
    if (smallest === null || smallestSize > size) {
      smallest = pv;
      smallestSize = size;
    }
  }
  return smallest;
}

/** The class's binding mode; the API server defaults an unset mode to Immediate. */
export function isWaitForFirstConsumer(storageClass: StorageClass | undefined): boolean {
  return storageClass?.volumeBindingMode === 'WaitForFirstConsumer';
}
