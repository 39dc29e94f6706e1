/**
 * Upstream CSILimits' filterAttachableVolumes and getCSIDriverInfo: the CSI volumes a pod attaches to its node, as
 * "<driver>/<volume handle>" → driver. A claim's volume is its bound PV's spec.csi (or the CSI translation of a
 * migratable in-tree PV); a claim not bound yet, or bound to a PV berth has not seen, counts as one volume of its
 * StorageClass's provisioner with a placeholder handle per claim. Inline in-tree volumes count once translated.
 * Translations of in-tree sources count only on nodes that have a CSINode object (upstream's isCSIMigrationOn).
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass, Volume, VolumeAttachment } from '../../../kube/api.js';
import { ephemeralClaimName, pvcNotFoundMessage } from '../VolumeBinding.js';
import { claimClass } from '../volumeBinding/volumes.js';
import { inlinePlugin, pluginByInTreeName, pvPlugin } from './csiTranslation.js';

/** What the lookups read: berth's cache (upstream's informer listers, not VolumeBinding's assumed view). */
export interface AttachableSources {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  storageClass(name: string): StorageClass | undefined;
}

/** Why a pod's volumes could not be listed: a claim of the pod to schedule is missing, or anything else. */
export interface AttachableFailure {
  readonly notFound: boolean;
  readonly message: string;
}

/**
 * The prefix of placeholder handles for claims without a volume. Upstream draws 32 random characters per plugin
 * instance so that no real handle matches; berth's core has no global randomness, and this one is as unlikely.
 */
export const PLACEHOLDER_PREFIX = 'berth.unbound-claim.placeholder';

const NO_VOLUMES: readonly Volume[] = [];

/** A PV's CSI identity; `inTree` ones are translations, counted only on nodes with a CSINode. */
interface PvIdentity {
  readonly unique: string | null;
  readonly driver: string;
  readonly inTree: boolean;
}

const NO_IDENTITY: PvIdentity = { unique: null, driver: '', inTree: false };
/** PV objects are replaced, never changed, when the cache updates: their identity is computed once. */
const pvIdentities = new WeakMap<PersistentVolume, PvIdentity>();

function computePvIdentity(pv: PersistentVolume): PvIdentity {
  const csi = pv.spec?.csi;
  if (csi) {
    const driver = csi.driver ?? '';
    const handle = csi.volumeHandle ?? '';
    return driver === '' || handle === '' ? NO_IDENTITY : { unique: `${driver}/${handle}`, driver, inTree: false };
  }
  const found = pvPlugin(pv);
  if (!found || !found.plugin.migrationOn) return NO_IDENTITY;
  const translated = found.plugin.pvHandle(found.src, pv);
  // A PV that does not translate is not counted (upstream logs and goes on).
  if (translated.error !== undefined || translated.handle === '') return NO_IDENTITY;
  const driver = found.plugin.csiDriver;
  return { unique: `${driver}/${translated.handle}`, driver, inTree: true };
}

function pvIdentity(pv: PersistentVolume): PvIdentity {
  let identity = pvIdentities.get(pv);
  if (!identity) pvIdentities.set(pv, (identity = computePvIdentity(pv)));
  return identity;
}

/** getCSIDriverInfoFromSC: the class's provisioner (or the CSI driver replacing an in-tree one), placeholder handle. */
function storageClassIdentity(pvc: PersistentVolumeClaim, hasCSINode: boolean, src: AttachableSources, out: Map<string, string>): void {
  const className = claimClass(pvc);
  // No class, or a class berth has not seen: an Immediate claim, bound before scheduling; not counted.
  if (className === '') return;
  const storageClass = src.storageClass(className);
  if (!storageClass) return;
  const provisioner = storageClass.provisioner ?? '';
  const inTree = pluginByInTreeName(provisioner);
  let driver = provisioner;
  if (inTree) {
    if (!hasCSINode || !inTree.migrationOn) return;
    driver = inTree.csiDriver;
  }
  if (driver === '') return;
  out.set(`${driver}/${PLACEHOLDER_PREFIX}-${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name ?? ''}`, driver);
}

/** getCSIDriverInfo: adds the claim's volume to `out` when it is a CSI volume. */
function addClaimVolume(pvc: PersistentVolumeClaim, hasCSINode: boolean, src: AttachableSources, out: Map<string, string>): void {
  const pvName = pvc.spec?.volumeName ?? '';
  const pv = pvName === '' ? undefined : src.volume(pvName);
  if (!pv) {
    storageClassIdentity(pvc, hasCSINode, src, out);
    return;
  }
  const identity = pvIdentity(pv);
  if (identity.unique === null || (identity.inTree && !hasCSINode)) return;
  out.set(identity.unique, identity.driver);
}

/** checkAttachableInlineVolume: a migratable inline volume counts once translated; a failed translation is an error. */
function addInlineVolume(volume: Volume, hasCSINode: boolean, out: Map<string, string>): AttachableFailure | null {
  const found = inlinePlugin(volume);
  if (!found || !hasCSINode || !found.plugin.migrationOn) return null;
  const translated = found.plugin.inlineHandle(found.src);
  if (translated.error !== undefined) {
    return { notFound: false, message: `converting volume(${volume.name ?? ''}) from inline to csi: ${translated.error}` };
  }
  const driver = found.plugin.csiDriver;
  out.set(`${driver}/${translated.handle}`, driver);
  return null;
}

/** ephemeral.VolumeIsForPod: the claim is in the pod's namespace and the pod is its controller. */
function ephemeralOwnerError(pod: Pod, namespace: string, pvc: PersistentVolumeClaim): AttachableFailure | null {
  const pvcNamespace = pvc.metadata?.namespace ?? 'default';
  const controller = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (pvcNamespace === namespace && controller !== undefined && controller.uid === pod.metadata?.uid) return null;
  const podName = pod.metadata?.name ?? '';
  return { notFound: false, message: `PVC ${pvcNamespace}/${pvc.metadata?.name ?? ''} was not created for pod ${namespace}/${podName} (pod is not owner)` };
}

/**
 * filterAttachableVolumes: adds the pod's CSI volumes to `out`. For the pod to schedule (`newPod`) a missing claim
 * is a failure; for pods already on the node it is skipped. Either way an ephemeral claim the pod does not own and
 * an inline volume that does not translate are failures (upstream returns them as errors).
 */
export function collectAttachable(
  pod: Pod,
  namespace: string,
  hasCSINode: boolean,
  newPod: boolean,
  src: AttachableSources,
  out: Map<string, string>,
): AttachableFailure | null {
  for (const volume of pod.spec?.volumes ?? NO_VOLUMES) {
    let claimName: string;
    const ephemeral = !volume.persistentVolumeClaim && volume.ephemeral !== undefined && volume.ephemeral !== null;
    if (volume.persistentVolumeClaim) claimName = volume.persistentVolumeClaim.claimName ?? '';
    else if (ephemeral) claimName = ephemeralClaimName(pod, volume);
    else {
      const failure = addInlineVolume(volume, hasCSINode, out);
      if (failure) return failure;
      continue;
    }
    if (claimName === '') return { notFound: false, message: 'PersistentVolumeClaim had no name' };
    const pvc = src.claim(namespace, claimName);
    if (!pvc) {
      if (!newPod) continue;
      return { notFound: true, message: `looking up PVC ${namespace}/${claimName}: ${pvcNotFoundMessage(claimName)}` };
    }
    if (ephemeral) {
      const failure = ephemeralOwnerError(pod, namespace, pvc);
      if (failure) return failure;
    }
    addClaimVolume(pvc, hasCSINode, src, out);
  }
  return null;
}

/** VolumeAttachments and PVs are replaced, never changed, in the cache: a key is recomputed only for another PV. */
const attachmentKeys = new WeakMap<VolumeAttachment, { pv: PersistentVolume; key: string | null }>();

/**
 * getNodeVolumeAttachmentInfo's key for one VolumeAttachment: "<attacher>/<handle of its PV>", or null when it has
 * no attacher, names no PV, or its PV is unknown or not a CSI volume.
 */
export function attachmentKey(va: VolumeAttachment, src: AttachableSources): string | null {
  const attacher = va.spec?.attacher ?? '';
  const pvName = va.spec?.source?.persistentVolumeName;
  if (attacher === '' || pvName === undefined) return null;
  const pv = src.volume(pvName);
  if (!pv) return null;
  const cached = attachmentKeys.get(va);
  if (cached && cached.pv === pv) return cached.key;
  const csi = pv.spec?.csi;
  const key = csi ? `${attacher}/${csi.volumeHandle ?? ''}` : null;
  attachmentKeys.set(va, { pv, key });
  return key;
}
