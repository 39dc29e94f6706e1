/**
 * DynamicResources' queueing hints (upstream isSchedulableAfterClaimChange and the actions EventsToRegister lists).
 * berth's event kinds cover every change of a kind, where upstream registers only some actions: the hints answer
 * Skip for the others (a DeviceClass or ResourceSlice deleted, a node update that changed neither labels nor
 * allocatable). An event without its objects always queues.
 *
 * Upstream's claim hint first resolves all of the pod's claims from its claim cache and skips when one is still
 * missing. A hint here sees only the changed objects, so it looks at the changed claim alone: where upstream would
 * skip because another of the pod's claims is missing, berth queues, and PreEnqueue or PreFilter holds the pod again.
 * That costs an attempt at most, never a missed retry.
 */
import type { Node, Pod } from '../../../kube/api.js';
import type { ResourceClaim } from '../../../kube/resource.js';
import type { PodInfo } from '../../cache/podInfo.js';
import type { ClusterEvent, QueueingHint } from '../../framework/plugin.js';

function asObject<T>(value: unknown): T | undefined {
  return typeof value === 'object' && value !== null ? (value as T) : undefined;
}

/** Whether the pod uses the claim: by name, or as the claim generated for one of its templates and recorded. */
export function podNamesClaim(pod: Pod, claim: ResourceClaim): boolean {
  if ((claim.metadata?.namespace ?? 'default') !== (pod.metadata?.namespace ?? 'default')) return false;
  const name = claim.metadata?.name;
  const generated = new Map((pod.status?.resourceClaimStatuses ?? []).map((s) => [s.name, s.resourceClaimName]));
  return (pod.spec?.resourceClaims ?? []).some((c) =>
    c.resourceClaimName !== undefined ? c.resourceClaimName === name : c.resourceClaimTemplateName !== undefined && generated.get(c.name) === name,
  );
}

/**
 * A claim deallocated (or deleted while allocated) frees devices for any pod; otherwise only a change to one of the
 * pod's own claims can help: its creation, or a change of its status (a finalizer added by a driver does not).
 */
export function afterClaimChange(pod: PodInfo, event: ClusterEvent): QueueingHint {
  const before = asObject<ResourceClaim>(event.oldObject);
  const after = asObject<ResourceClaim>(event.newObject);
  if (!after) return before === undefined || before.status?.allocation ? 'Queue' : 'Skip';
  if (before?.status?.allocation && !after.status?.allocation) return 'Queue';
  if (!podNamesClaim(pod.pod, after)) return 'Skip';
  if (!before) return 'Queue';
  // Both come from the same watch (or the simulator's own writes), so equal statuses serialise alike; a false
  // difference only queues.
  return JSON.stringify(before.status ?? {}) === JSON.stringify(after.status ?? {}) ? 'Skip' : 'Queue';
}

/** Upstream registers DeviceClass and ResourceSlice Add|Update only: a deletion cannot make a pod schedulable. */
export function afterAddOrUpdate(_pod: PodInfo, event: ClusterEvent): QueueingHint {
  return event.newObject === undefined && event.oldObject !== undefined ? 'Skip' : 'Queue';
}

/** Upstream registers node updates of labels and allocatable (a slice's node selector, per-node allocation). */
export function afterNodeUpdate(_pod: PodInfo, event: ClusterEvent): QueueingHint {
  const before = asObject<Node>(event.oldObject);
  const after = asObject<Node>(event.newObject);
  if (!before || !after) return 'Queue';
  const labels = JSON.stringify(before.metadata?.labels ?? {}) !== JSON.stringify(after.metadata?.labels ?? {});
  const allocatable = JSON.stringify(before.status?.allocatable ?? {}) !== JSON.stringify(after.status?.allocatable ?? {});
  return labels || allocatable ? 'Queue' : 'Skip';
}
