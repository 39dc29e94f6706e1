/**
 * NodeVolumeLimits (upstream plugins/nodevolumelimits, the CSILimits plugin of v1.37): how many CSI volumes each
 * driver may attach to a node, as the node's CSINode object publishes them (spec.drivers[].allocatable.count).
 *
 * - PreFilter: Skip unless the pod has a claim, a generic ephemeral volume, or an inline volume CSI migration knows
 *   (GCE PD, AWS EBS, Cinder, Azure Disk, Azure File, vSphere, Portworx).
 * - Filter: the pod's CSI volumes, "<driver>/<handle>" (nodeVolumeLimits/attachable.ts). A claim of the pod that
 *   does not exist is UnschedulableAndUnresolvable "looking up PVC <ns>/<name>: persistentvolumeclaim "<name>" not
 *   found". With VolumeLimitScaling (on by default in v1.37), a driver whose CSIDriver sets
 *   preventPodSchedulingIfMissing and that the node's CSINode does not list is "<driver> CSI driver is not installed
 *   on the node". Then, for each driver with a limit on the node: the volumes of the pods on the node, plus the
 *   volumes VolumeAttachments attach to it that no pod there uses, plus the pod's volumes not already on the node,
 *   must not exceed the limit, else "node(s) exceed max volume count" (both Unschedulable). A volume shared by
 *   several pods counts once. As upstream, a pod's volume that only a VolumeAttachment (no pod) holds on the node
 *   counts twice: once attached, once new.
 *
 * The pod's own volumes depend only on whether the node has a CSINode (translated in-tree volumes count only
 * there), so they are listed at most twice per cycle; the VolumeAttachments are grouped by node once per cycle.
 */
import type { CSINode, VolumeAttachment } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import { SKIP, Status, type CycleState, type FilterPlugin, type PreFilterOutcome, type PreFilterPlugin } from '../framework/types.js';
import { attachmentKey, collectAttachable, type AttachableSources } from './nodeVolumeLimits/attachable.js';
import { isInlineMigratable } from './nodeVolumeLimits/csiTranslation.js';
import { afterAssignedPodDelete, afterCSINodeChange, afterPvcChange, afterVolumeAttachmentChange } from './nodeVolumeLimits/hints.js';

export const NAME = 'NodeVolumeLimits';

export const ERR_REASON_MAX_VOLUME_COUNT = 'node(s) exceed max volume count';

/** The VolumeLimitScaling rejection of a node whose CSINode lacks an opted-in driver. */
export function driverNotInstalledMessage(driver: string): string {
  return `${driver} CSI driver is not installed on the node`;
}

const STATE_KEY = `PreFilter${NAME}`;
const REJECT_MAX_VOLUME_COUNT = Status.unschedulable(ERR_REASON_MAX_VOLUME_COUNT);
const NO_ATTACHMENTS: readonly VolumeAttachment[] = [];

/** The pod's CSI volumes ("<driver>/<handle>" → driver), and the drivers that ask to be installed on the node. */
interface PodCSIVolumes {
  readonly volumes: ReadonlyMap<string, string>;
  readonly requireInstalled: readonly string[];
}

/**
 * Per-cycle memo, shared by clones: nothing in it depends on the pods on a node, which is what what-ifs change.
 * Filter creates it when PreFilter did not run (upstream's Filter needs no PreFilter state).
 */
class NodeVolumeLimitsState {
  withCSINode: PodCSIVolumes | Status | undefined;
  withoutCSINode: PodCSIVolumes | Status | undefined;
  attachmentsByNode: Map<string, VolumeAttachment[]> | undefined;
}

function hasLimits(csiNode: CSINode): boolean {
  for (const d of csiNode.spec?.drivers ?? []) if (typeof d.allocatable?.count === 'number') return true;
  return false;
}

/** The driver's allocatable count on the node (getVolumeLimits), undefined when it has none. */
function limitOf(csiNode: CSINode, driver: string): number | undefined {
  let limit: number | undefined;
  for (const d of csiNode.spec?.drivers ?? []) {
    if (d.name === driver && typeof d.allocatable?.count === 'number') limit = d.allocatable.count;
  }
  return limit;
}

function listsDriver(csiNode: CSINode, driver: string): boolean {
  for (const d of csiNode.spec?.drivers ?? []) if (d.name === driver) return true;
  return false;
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export class NodeVolumeLimits implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;
  private readonly sources: AttachableSources;
  // Scratch space for Filter, which runs one call at a time: cleared on each use instead of allocated.
  private readonly attached = new Map<string, string>();
  private readonly attachedCount = new Map<string, number>();
  private readonly newCount = new Map<string, number>();
  private readonly attachmentsSeen = new Set<string>();
  /** "not installed" rejections by driver name (few drivers; the same status every time). */
  private readonly notInstalled = new Map<string, Status>();

  constructor(private readonly cluster: ClusterView) {
    this.sources = {
      claim: (namespace, name) => cluster.getPersistentVolumeClaim(namespace, name),
      volume: (name) => cluster.persistentVolumes.get(name),
      storageClass: (name) => cluster.storageClasses.get(name),
    };
  }

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    for (const v of pod.pod.spec?.volumes ?? []) {
      const ephemeral = v.ephemeral !== undefined && v.ephemeral !== null;
      if (v.persistentVolumeClaim || ephemeral || isInlineMigratable(v)) {
        state.write(STATE_KEY, new NodeVolumeLimitsState());
        return null;
      }
    }
    return SKIP;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if ((pod.pod.spec?.volumes?.length ?? 0) === 0) return null;
    const csiNode = this.cluster.csiNodes.get(node.name);
    const s = this.stateOf(state);
    const mine = this.podVolumes(s, pod, csiNode !== undefined);
    if (mine instanceof Status) return mine;
    if (mine.volumes.size === 0) return null;
    for (const driver of mine.requireInstalled) {
      if (!csiNode || !listsDriver(csiNode, driver)) return this.notInstalledStatus(driver);
    }
    if (!csiNode || !hasLimits(csiNode)) return null;
    return this.checkLimits(s, mine.volumes, csiNode, node);
  }

  private stateOf(state: CycleState): NodeVolumeLimitsState {
    let s = state.read<NodeVolumeLimitsState>(STATE_KEY);
    if (!s) state.write(STATE_KEY, (s = new NodeVolumeLimitsState()));
    return s;
  }

  /** The pod's volumes as counted on a node with or without a CSINode, or why they cannot be listed. */
  private podVolumes(s: NodeVolumeLimitsState, pod: PodInfo, hasCSINode: boolean): PodCSIVolumes | Status {
    const memo = hasCSINode ? s.withCSINode : s.withoutCSINode;
    if (memo) return memo;
    const volumes = new Map<string, string>();
    const failure = collectAttachable(pod.pod, pod.namespace, hasCSINode, true, this.sources, volumes);
    let result: PodCSIVolumes | Status;
    if (failure) result = failure.notFound ? Status.unresolvable(failure.message) : Status.error(failure.message);
    else result = { volumes, requireInstalled: this.requireInstalled(volumes) };
    if (hasCSINode) s.withCSINode = result;
    else s.withoutCSINode = result;
    return result;
  }

  /**
   * checkCSIDriverOnNode's opt-in: drivers with a CSIDriver object setting preventPodSchedulingIfMissing. A driver
   * without a CSIDriver object may not be a CSI driver at all, and passes.
   */
  private requireInstalled(volumes: ReadonlyMap<string, string>): string[] {
    const out: string[] = [];
    for (const driver of volumes.values()) {
      if (out.includes(driver)) continue;
      if (this.cluster.csiDrivers.get(driver)?.spec?.preventPodSchedulingIfMissing === true) out.push(driver);
    }
    return out;
  }

  private notInstalledStatus(driver: string): Status {
    let status = this.notInstalled.get(driver);
    if (!status) this.notInstalled.set(driver, (status = Status.unschedulable(driverNotInstalledMessage(driver))));
    return status;
  }

  /** The volumes on the node per driver (pods, then VolumeAttachments), plus the pod's new ones, against the limits. */
  private checkLimits(s: NodeVolumeLimitsState, mine: ReadonlyMap<string, string>, csiNode: CSINode, node: NodeInfo): Status | null {
    const attached = this.attached;
    attached.clear();
    for (const existing of node.pods) {
      // Existing pods' missing claims are skipped; their other failures are errors, as upstream.
      const failure = collectAttachable(existing.pod, existing.namespace, true, false, this.sources, attached);
      if (failure) return Status.error(failure.message);
    }
    const counts = this.attachedCount;
    counts.clear();
    for (const driver of attached.values()) increment(counts, driver);
    const seen = this.attachmentsSeen;
    seen.clear();
    for (const va of this.attachmentsOn(s, node.name)) {
      const key = attachmentKey(va, this.sources);
      if (key === null || attached.has(key) || seen.has(key)) continue;
      seen.add(key);
      increment(counts, va.spec?.attacher ?? '');
    }
    const fresh = this.newCount;
    fresh.clear();
    for (const [key, driver] of mine) if (!attached.has(key)) increment(fresh, driver);
    for (const [driver, count] of fresh) {
      const limit = limitOf(csiNode, driver);
      if (limit !== undefined && (counts.get(driver) ?? 0) + count > limit) return REJECT_MAX_VOLUME_COUNT;
    }
    return null;
  }

  /** The VolumeAttachments to the node (upstream's index by spec.nodeName), grouped once per cycle. */
  private attachmentsOn(s: NodeVolumeLimitsState, nodeName: string): readonly VolumeAttachment[] {
    if (!s.attachmentsByNode) {
      const byNode = new Map<string, VolumeAttachment[]>();
      for (const va of this.cluster.volumeAttachments.values()) {
        const name = va.spec?.nodeName ?? '';
        const list = byNode.get(name);
        if (list) list.push(va);
        else byNode.set(name, [va]);
      }
      s.attachmentsByNode = byNode;
    }
    return s.attachmentsByNode.get(nodeName) ?? NO_ATTACHMENTS;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  // Upstream: CSINode/Add and Update (a new node's limits, a raised limit), AssignedPod/Delete (volumes released),
  // PersistentVolumeClaim/Add (a missing claim), VolumeAttachment/Delete (a volume detached), with its hints.
  events: [
    { event: 'CSINodeChange', hint: afterCSINodeChange },
    { event: 'AssignedPodDelete', hint: afterAssignedPodDelete },
    { event: 'PvcChange', hint: afterPvcChange },
    { event: 'VolumeAttachmentChange', hint: afterVolumeAttachmentChange },
  ],
  create: (handle) => new NodeVolumeLimits(handle.cluster),
} satisfies PluginDescriptor;
