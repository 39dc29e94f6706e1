/**
 * The ResourceClaims a pod uses (upstream foreachPodResourceClaim and k8s.io/dynamic-resource-allocation/resourceclaim):
 * by name, or, for a template, the claim the resourceclaim controller generated and recorded in
 * status.resourceClaimStatuses, which must be controlled by the pod. Each failure is upstream's message; a template
 * whose generated name is recorded as empty means the claim was intentionally not created and is skipped.
 */
import type { Pod } from '../../../kube/api.js';
import type { ResourceClaim } from '../../../kube/resource.js';

export interface ClaimSource {
  get(namespace: string, name: string): ResourceClaim | undefined;
}

export interface PodClaim {
  /** The pod's name for the claim (spec.resourceClaims[].name). */
  podClaimName: string;
  claim: ResourceClaim;
}

function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/** The claim's name, undefined when intentionally absent, or an error message (upstream resourceclaim.Name). */
function claimName(pod: Pod, podClaim: { name: string; resourceClaimName?: string; resourceClaimTemplateName?: string }): { name?: string; checkOwner: boolean } | string {
  if (podClaim.resourceClaimName !== undefined) return { name: podClaim.resourceClaimName, checkOwner: false };
  if (podClaim.resourceClaimTemplateName !== undefined) {
    const status = (pod.status?.resourceClaimStatuses ?? []).find((s) => s.name === podClaim.name);
    if (!status) return `pod "${podRef(pod)}": ResourceClaim not created yet`;
    return status.resourceClaimName === undefined ? { checkOwner: true } : { name: status.resourceClaimName, checkOwner: true };
  }
  return `pod "${podRef(pod)}", spec.resourceClaim "${podClaim.name}": none of the supported fields are set`;
}

/** Upstream resourceclaim.IsForPod. */
function isForPod(pod: Pod, claim: ResourceClaim): string | undefined {
  const ns = claim.metadata?.namespace ?? 'default';
  const name = claim.metadata?.name ?? '';
  if (ns !== (pod.metadata?.namespace ?? 'default')) return `ResourceClaim ${ns}/${name} is not in the same namespace as Pod ${podRef(pod)}`;
  const controller = (claim.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (!controller || controller.uid !== pod.metadata?.uid) return `ResourceClaim ${ns}/${name} was not created for Pod ${podRef(pod)} (Pod is not owner)`;
  return undefined;
}

/** The pod's claims in spec order, or the first reason it cannot be scheduled yet. */
export function podClaims(pod: Pod, claims: ClaimSource): PodClaim[] | string {
  const out: PodClaim[] = [];
  const namespace = pod.metadata?.namespace ?? 'default';
  for (const podClaim of pod.spec?.resourceClaims ?? []) {
    const named = claimName(pod, podClaim);
    if (typeof named === 'string') return named;
    if (named.name === undefined) continue;
    const claim = claims.get(namespace, named.name);
    if (!claim) return `could not find ResourceClaim "${namespace}/${named.name}"`;
    if (claim.metadata?.deletionTimestamp) return `resourceclaim "${named.name}" is being deleted`;
    if (named.checkOwner) {
      const problem = isForPod(pod, claim);
      if (problem) return problem;
    }
    out.push({ podClaimName: podClaim.name, claim });
  }
  return out;
}

export function isReservedForPod(claim: ResourceClaim, podUid: string): boolean {
  return (claim.status?.reservedFor ?? []).some((r) => r.uid === podUid);
}
