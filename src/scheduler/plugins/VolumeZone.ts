/**
 * VolumeZone (upstream plugins/volumezone, v1.34/v1.35 behaviour).
 *
 * PreFilter: for each spec.volumes[].persistentVolumeClaim of the pod, the claim's bound PV (spec.volumeName);
 * unbound claims of a WaitForFirstConsumer class are ignored. Errors (all UnschedulableAndUnresolvable, upstream's
 * text): "PersistentVolumeClaim had no name", `persistentvolumeclaim "<name>" not found`,
 * "PersistentVolumeClaim had no pv name and storageClass name", `storageclass.storage.k8s.io "<name>" not found`,
 * "PersistentVolume had no name" (unbound claim of an Immediate class), `persistentvolume "<name>" not found`.
 * The PVs' zone/region labels (legacy failure-domain.beta.kubernetes.io and GA topology.kubernetes.io keys; values
 * may be "__"-separated sets) are collected once. Skip when there are none.
 * Filter: a node with none of the four labels passes (single-zone clusters); otherwise every PV label must be
 * matched by the node's same key (or, for a legacy key, the GA key) with a value in the set, else
 * "node(s) had no available volume zone".
 */
import type { Labels, PersistentVolume } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
} from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { pvcNotFoundMessage } from './VolumeBinding.js';
import { claimClass } from './volumeBinding/volumes.js';

export const NAME = 'VolumeZone';

export const ERR_REASON_CONFLICT = 'node(s) had no available volume zone';

const LABEL_BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const LABEL_BETA_REGION = 'failure-domain.beta.kubernetes.io/region';
const LABEL_ZONE = 'topology.kubernetes.io/zone';
const LABEL_REGION = 'topology.kubernetes.io/region';

/** Upstream's order of the topology labels. */
const TOPOLOGY_LABELS = [LABEL_BETA_ZONE, LABEL_BETA_REGION, LABEL_ZONE, LABEL_REGION] as const;

const STATE_KEY = `PreFilter${NAME}`;
const REJECT = Status.unresolvable(ERR_REASON_CONFLICT);

interface PVTopology {
  key: string;
  /** The GA key to try when the node lacks `key` (equal to `key` for GA keys). */
  gaKey: string;
  values: ReadonlySet<string>;
}

function translateToGA(label: string): string {
  if (label === LABEL_BETA_REGION) return LABEL_REGION;
  if (label === LABEL_BETA_ZONE) return LABEL_ZONE;
  return label;
}

/** volumehelpers.LabelZonesToSet: "__"-separated, each entry trimmed; an empty entry makes the label unusable. */
function labelZonesToSet(value: string): Set<string> | undefined {
  const out = new Set<string>();
  for (const part of value.split('__')) {
    const zone = part.trim();
    if (zone === '') return undefined;
    out.add(zone);
  }
  return out;
}

function pvTopologies(pv: PersistentVolume, into: PVTopology[]): void {
  const labels = pv.metadata?.labels ?? {};
  for (const key of TOPOLOGY_LABELS) {
    const value = labels[key];
    if (value === undefined) continue;
    const values = labelZonesToSet(value);
    if (!values) continue; // upstream logs and ignores a malformed label
    into.push({ key, gaKey: translateToGA(key), values });
  }
}

function hasLabel(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

export class VolumeZone implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  constructor(private readonly cluster: ClusterView) {}

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    const topologies: PVTopology[] = [];
    for (const volume of pod.pod.spec?.volumes ?? []) {
      if (!volume.persistentVolumeClaim) continue;
      const claimName = volume.persistentVolumeClaim.claimName ?? '';
      if (claimName === '') return Status.unresolvable('PersistentVolumeClaim had no name');
      const pvc = this.cluster.getPersistentVolumeClaim(pod.namespace, claimName);
      if (!pvc) return Status.unresolvable(pvcNotFoundMessage(claimName));
      const pvName = pvc.spec?.volumeName ?? '';
      if (pvName === '') {
        const className = claimClass(pvc);
        if (className === '') return Status.unresolvable('PersistentVolumeClaim had no pv name and storageClass name');
        const sc = this.cluster.storageClasses.get(className);
        if (!sc) return Status.unresolvable(`storageclass.storage.k8s.io "${className}" not found`);
        // An unset mode is the API server's default, Immediate (upstream reports "VolumeBindingMode not set").
        if (sc.volumeBindingMode === 'WaitForFirstConsumer') continue;
        return Status.unresolvable('PersistentVolume had no name');
      }
      const pv = this.cluster.persistentVolumes.get(pvName);
      if (!pv) return Status.unresolvable(`persistentvolume "${pvName}" not found`);
      pvTopologies(pv, topologies);
    }
    if (topologies.length === 0) return SKIP;
    state.write(STATE_KEY, topologies);
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const topologies = state.read<PVTopology[]>(STATE_KEY);
    if (!topologies) return null;
    const labels = node.labels;
    if (
      !hasLabel(labels, LABEL_BETA_ZONE) &&
      !hasLabel(labels, LABEL_BETA_REGION) &&
      !hasLabel(labels, LABEL_ZONE) &&
      !hasLabel(labels, LABEL_REGION)
    ) {
      return null;
    }
    for (let i = 0; i < topologies.length; i++) {
      const t = topologies[i] as PVTopology;
      let key = t.key;
      if (!hasLabel(labels, key)) key = t.gaKey;
      if (!hasLabel(labels, key) || !t.values.has(labels[key] as string)) return REJECT;
    }
    return null;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate', 'PvcChange', 'PvChange', 'StorageClassChange'],
  create: (handle) => new VolumeZone(handle.cluster),
} satisfies PluginDescriptor;
