/**
 * What each claim of a placed pod got, for `simulate --explain`: the PV it was already bound to, the static PV
 * VolumeBinding chose for it, or a volume provisioned on the chosen node (the simulator's memory port plays the
 * provisioner and the PV controller). Read from the cluster state after the simulation, against the claims' volumes
 * before it.
 */
import type { ClusterView } from '../../scheduler/cache/clusterState.js';
import type { PodInfo } from '../../scheduler/cache/podInfo.js';
import { claimNamesOf } from '../../scheduler/plugins/volumeBinding/binder.js';

export type ClaimOutcomeKind = 'already-bound' | 'static' | 'provisioned' | 'unbound' | 'missing';

export interface ClaimOutcome {
  /** namespace/name of the claim. */
  claim: string;
  kind: ClaimOutcomeKind;
  /** The PV bound to the claim at the end, if any. */
  volume: string | null;
  /** The provisioner of a provisioned volume. */
  provisioner?: string;
}

const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

/** The claims' bound volumes before the simulation, keyed namespace/name (only the bound ones). */
export function boundClaims(cluster: ClusterView): Map<string, string> {
  const bound = new Map<string, string>();
  for (const [key, pvc] of cluster.persistentVolumeClaims) if (pvc.spec?.volumeName) bound.set(key, pvc.spec.volumeName);
  return bound;
}

/** Each claim of `pod`, in volume order, with what it got. */
export function claimOutcomes(pod: PodInfo, cluster: ClusterView, boundBefore: ReadonlyMap<string, string>): ClaimOutcome[] {
  return claimNamesOf(pod).map((name) => {
    const claim = `${pod.namespace}/${name}`;
    const pvc = cluster.getPersistentVolumeClaim(pod.namespace, name);
    if (!pvc) return { claim, kind: 'missing', volume: null };
    const volume = pvc.spec?.volumeName || null;
    if (!volume) return { claim, kind: 'unbound', volume: null };
    if (boundBefore.get(claim) === volume) return { claim, kind: 'already-bound', volume };
    const provisioner = cluster.persistentVolumes.get(volume)?.metadata?.annotations?.[PROVISIONED_BY];
    return provisioner ? { claim, kind: 'provisioned', volume, provisioner } : { claim, kind: 'static', volume };
  });
}

/** One line per claim for the explain output. */
export function describeClaimOutcome(o: ClaimOutcome, node: string | null): string {
  switch (o.kind) {
    case 'already-bound':
      return `${o.claim}: already bound to PV ${o.volume}`;
    case 'static':
      return `${o.claim}: bound to the static PV ${o.volume}`;
    case 'provisioned':
      return `${o.claim}: provisioned by ${o.provisioner} on ${node ?? '?'} (PV ${o.volume})`;
    case 'unbound':
      return `${o.claim}: not bound`;
    case 'missing':
      return `${o.claim}: no such claim`;
  }
}
