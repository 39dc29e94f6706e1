/**
 * PreBind's half of the handshake (upstream BindPodVolumes, bindAPIUpdate, checkBindings): write the reserved
 * bindings — each static PV's claimRef, each claim's selected-node annotation — then poll every second, on the
 * injected clock, until the PV controller (and, for provisioning, a provisioner) report every claim fully bound
 * and each volume fits the node. Fails early when a PV's claimRef was reset or a provisioner gave up (it removes
 * selected-node, which is how it asks for another node), and after the bind timeout.
 *
 * The writes are JSON merge patches conditional on the resourceVersion the decision was made on (upstream sends
 * whole-object updates with it, which berth cannot: it keeps only the fields it reads).
 */
import type { PersistentVolume, PersistentVolumeClaim } from '../../../kube/api.js';
import type { Clock } from '../../clock.js';
import type { ObjectWriter } from '../../ports.js';
import type { AssumeCache } from './assumeCache.js';
import { compareResourceVersions } from './assumeCache.js';
import { claimKey, type NodeFacts, type PodVolumes } from './binder.js';
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, isClaimFullyBound, volumeNodeAffinityMatches } from './volumes.js';

/** upstream: wait.PollUntilContextTimeout(ctx, time.Second, bindTimeout, ...). */
const POLL_INTERVAL_MS = 1000;

export interface BindVolumesDeps {
  api: ObjectWriter;
  clock: Clock;
  pvCache: AssumeCache<PersistentVolume>;
  pvcCache: AssumeCache<PersistentVolumeClaim>;
  /** The node as the cache has it now; undefined when it is gone. */
  node(name: string): NodeFacts | undefined;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Writes the bindings and waits for them; null on success, else the error message (upstream's wording). */
export async function bindPodVolumes(nodeName: string, volumes: PodVolumes, deps: BindVolumesDeps): Promise<string | null> {
  const written = await writeBindings(volumes, deps);
  if (typeof written === 'string') return written;
  const deadline = deps.clock.now() + deps.timeoutMs;
  for (;;) {
    await deps.clock.sleep(POLL_INTERVAL_MS, deps.signal);
    if (deps.signal.aborted) return `binding volumes: ${abortReason(deps.signal)}`;
    const check = checkBindings(nodeName, written, deps);
    if (check === true) return null;
    if (typeof check === 'string') return `binding volumes: ${check}`;
    if (deps.clock.now() >= deadline) return 'binding volumes: context deadline exceeded';
  }
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'context canceled';
}

interface Written {
  volumes: PersistentVolume[];
  claims: PersistentVolumeClaim[];
}

/**
 * Upstream bindAPIUpdate: PVs first, then claims. The assumptions of objects not written (after a failure) are
 * restored; the written objects (as the API server returned them) are what checkBindings compares versions with.
 */
async function writeBindings(volumes: PodVolumes, deps: BindVolumesDeps): Promise<Written | string> {
  const written: Written = { volumes: [], claims: [] };
  const bindings = volumes.staticBindings;
  const claims = volumes.dynamicProvisions.map((p) => p.pvc);
  let i = 0;
  let j = 0;
  try {
    for (; i < bindings.length; i++) {
      const pv = bindings[i]!.pv;
      const res = await deps.api.write(volumePatch(pv), deps.signal);
      if (res.status < 200 || res.status >= 300) return res.message ?? `updating PersistentVolume "${pv.metadata?.name ?? ''}" failed`;
      written.volumes.push((res.object as PersistentVolume | undefined) ?? pv);
    }
    for (; j < claims.length; j++) {
      const pvc = claims[j]!;
      const res = await deps.api.write(claimPatch(pvc), deps.signal);
      if (res.status < 200 || res.status >= 300) return res.message ?? `updating PersistentVolumeClaim "${claimKey(pvc)}" failed`;
      written.claims.push((res.object as PersistentVolumeClaim | undefined) ?? pvc);
    }
    return written;
  } finally {
    for (const b of bindings.slice(i)) deps.pvCache.restore(b.pv.metadata?.name ?? '');
    for (const c of claims.slice(j)) deps.pvcCache.restore(claimKey(c));
  }
}

function volumePatch(pv: PersistentVolume): Parameters<ObjectWriter['write']>[0] {
  const annotations = pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined ? { [ANN_BOUND_BY_CONTROLLER]: 'yes' } : undefined;
  return {
    verb: 'patch',
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    name: pv.metadata?.name ?? '',
    body: {
      metadata: { resourceVersion: pv.metadata?.resourceVersion, ...(annotations ? { annotations } : {}) },
      spec: { claimRef: pv.spec?.claimRef },
    },
  };
}

function claimPatch(pvc: PersistentVolumeClaim): Parameters<ObjectWriter['write']>[0] {
  return {
    verb: 'patch',
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    namespace: pvc.metadata?.namespace ?? 'default',
    name: pvc.metadata?.name ?? '',
    body: {
      metadata: {
        resourceVersion: pvc.metadata?.resourceVersion,
        annotations: { [ANN_SELECTED_NODE]: pvc.metadata?.annotations?.[ANN_SELECTED_NODE] ?? '' },
      },
    },
  };
}

/**
 * Upstream checkBindings, on the objects as the watch delivered them: true when every claim is fully bound, false
 * to keep waiting (the watch has not caught up, the PV controller is not done), an error message to give up.
 */
function checkBindings(nodeName: string, written: Written, deps: BindVolumesDeps): boolean | string {
  const node = deps.node(nodeName);
  if (!node) return `failed to get node "${nodeName}": node "${nodeName}" not found`;
  for (const ours of written.volumes) {
    const name = ours.metadata?.name ?? '';
    const pv = deps.pvCache.getApiObject(name);
    if (!pv) return `failed to check binding: persistentvolume "${name}" not found`;
    const claimRef = ours.spec?.claimRef;
    const pvc = deps.pvcCache.getApiObject(`${claimRef?.namespace ?? ''}/${claimRef?.name ?? ''}`);
    if (!pvc) return `failed to check binding: persistentvolumeclaim "${claimRef?.namespace ?? ''}/${claimRef?.name ?? ''}" not found`;
    if (compareResourceVersions(ours.metadata?.resourceVersion, pv.metadata?.resourceVersion) > 0) return false;
    if (!volumeNodeAffinityMatches(pv, node.labels)) return `pv "${name}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`;
    if (!pv.spec?.claimRef || !pv.spec.claimRef.uid) return `ClaimRef got reset for pv "${name}"`;
    if (!isClaimFullyBound(pvc)) return false;
  }
  for (const ours of written.claims) {
    const pvc = deps.pvcCache.getApiObject(claimKey(ours));
    if (!pvc) return `failed to check provisioning pvc: persistentvolumeclaim "${claimKey(ours)}" not found`;
    if (compareResourceVersions(ours.metadata?.resourceVersion, pvc.metadata?.resourceVersion) > 0) return false;
    if (pvc.metadata?.annotations?.[ANN_SELECTED_NODE] !== nodeName) return `provisioning failed for PVC "${pvc.metadata?.name ?? ''}"`;
    const volumeName = pvc.spec?.volumeName ?? '';
    if (volumeName !== '') {
      const pv = deps.pvCache.getApiObject(volumeName);
      // Not there yet: the PV may still be on its way through the watch.
      if (!pv) return false;
      if (!volumeNodeAffinityMatches(pv, node.labels)) {
        return `pv "${volumeName}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`;
      }
    }
    if (!isClaimFullyBound(pvc)) return false;
  }
  return true;
}
