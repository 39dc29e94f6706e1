/**
 * NodeVolumeLimits' queueing hints (upstream CSILimits' QueueingHintFns). berth's event kinds cover every change of
 * a kind, where upstream registers only some actions: the hints answer Skip for the others (a CSINode deleted, a
 * claim updated or deleted, a VolumeAttachment added or updated). An event without its objects always queues.
 */
import type { CSINode, PersistentVolumeClaim, Pod, VolumeAttachment } from '../../../kube/api.js';
import type { PodInfo } from '../../cache/podInfo.js';
import type { ClusterEvent, QueueingHint } from '../../framework/plugin.js';
import { ephemeralClaimName } from '../VolumeBinding.js';
import { inlinePlugin, isInlineMigratable } from './csiTranslation.js';

function asObject<T>(value: unknown): T | undefined {
  return typeof value === 'object' && value !== null ? (value as T) : undefined;
}

function hasEphemeral(volume: { ephemeral?: unknown }): boolean {
  return volume.ephemeral !== undefined && volume.ephemeral !== null;
}

/** Each driver's allocatable count, 0 when it publishes none. */
function driverLimits(csiNode: CSINode): Map<string, number> {
  const limits = new Map<string, number>();
  for (const d of csiNode.spec?.drivers ?? []) limits.set(d.name ?? '', d.allocatable?.count ?? 0);
  return limits;
}

/**
 * A CSINode added always queues; an update queues when a driver's limit went up (a driver newly listed without a
 * count does not, as upstream: its limit stays 0). A deletion never helps.
 */
export function afterCSINodeChange(_pod: PodInfo, event: ClusterEvent): QueueingHint {
  const before = asObject<CSINode>(event.oldObject);
  const after = asObject<CSINode>(event.newObject);
  if (!after) return before ? 'Skip' : 'Queue';
  if (!before) return 'Queue';
  const old = driverLimits(before);
  for (const [name, limit] of driverLimits(after)) if (limit > (old.get(name) ?? 0)) return 'Queue';
  return 'Skip';
}

/** A deleted pod frees volumes when it was on (or nominated to) a node and had a claim or a migratable volume. */
export function afterAssignedPodDelete(_pod: PodInfo, event: ClusterEvent): QueueingHint {
  const deleted = asObject<Pod>(event.oldObject);
  if (!deleted) return 'Queue';
  const volumes = deleted.spec?.volumes ?? [];
  if (volumes.length === 0) return 'Skip';
  if (!deleted.spec?.nodeName && !deleted.status?.nominatedNodeName) return 'Skip';
  for (const v of volumes) if (v.persistentVolumeClaim || hasEphemeral(v) || isInlineMigratable(v)) return 'Queue';
  return 'Skip';
}

/** A claim added queues the pods that name it (directly or as a generic ephemeral volume's claim). */
export function afterPvcChange(pod: PodInfo, event: ClusterEvent): QueueingHint {
  const added = asObject<PersistentVolumeClaim>(event.newObject);
  if (!added) return event.oldObject === undefined ? 'Queue' : 'Skip';
  if (event.oldObject !== undefined) return 'Skip';
  if ((added.metadata?.namespace ?? 'default') !== pod.namespace) return 'Skip';
  for (const v of pod.pod.spec?.volumes ?? []) {
    let claimName: string;
    if (v.persistentVolumeClaim) claimName = v.persistentVolumeClaim.claimName;
    else if (hasEphemeral(v)) claimName = ephemeralClaimName(pod.pod, v);
    else continue;
    if (claimName === added.metadata?.name) return 'Queue';
  }
  return 'Skip';
}

/**
 * A VolumeAttachment deleted queues a pod with any claim (not a generic ephemeral volume, as upstream), or with an
 * inline volume whose CSI driver is the attachment's attacher (or that does not translate: upstream's error).
 */
export function afterVolumeAttachmentChange(pod: PodInfo, event: ClusterEvent): QueueingHint {
  if (event.newObject !== undefined) return 'Skip';
  const deleted = asObject<VolumeAttachment>(event.oldObject);
  if (!deleted) return 'Queue';
  const attacher = deleted.spec?.attacher ?? '';
  for (const v of pod.pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) return 'Queue';
    const found = inlinePlugin(v);
    if (!found) continue;
    // Azure File and vSphere volumes always translate; the others may fail.
    if (found.plugin.migrationOn && found.plugin.inlineHandle(found.src).error !== undefined) return 'Queue';
    if (found.plugin.csiDriver === attacher) return 'Queue';
  }
  return 'Skip';
}
