/**
 * What the scheduler core asks of the world, and nothing more: the small ports both adapters implement. The live
 * adapter (src/adapters/live/livePort.ts) implements them over the API server; the simulator
 * (src/adapters/simulator/memoryPort.ts) in memory. The core never performs I/O itself: it awaits these.
 *
 * Writes that change what berth's cache shows (a binding, a deleted victim, a PV's claimRef) are reported back by
 * the adapter the way they would arrive from the API server: the live adapter through its watches, the simulator
 * by updating the cache itself.
 */
import type { Pod } from '../kube/api.js';
import type { PodInfo } from './cache/podInfo.js';

/** An API object write a plugin needs in PreBind (upstream: the plugin's clientset calls). */
export interface ObjectWrite {
  verb: 'create' | 'update' | 'patch' | 'delete';
  /** Addresses the collection, e.g. apiVersion 'v1' kind 'PersistentVolumeClaim'. */
  apiVersion: string;
  kind: string;
  namespace?: string;
  /** The object's name (for create: the name in the body, or '' when the body has metadata.generateName). */
  name: string;
  subresource?: 'status';
  /** The whole object (create, update), a JSON merge patch (patch), or DeleteOptions (delete; may be undefined). */
  body: unknown;
}

export interface WriteResult {
  /** HTTP status of the answer; 0 when the request never got one. */
  status: number;
  /** The object as stored (2xx), when the server returned it. */
  object?: unknown;
  /** The server's message, for failures. */
  message?: string;
}

export interface ObjectWriter {
  write(request: ObjectWrite, signal?: AbortSignal): Promise<WriteResult>;
}

/** An API object to read (upstream: a clientset Get), addressed as an ObjectWrite is. */
export interface ObjectRead {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * Reads an object from the cluster itself, not from berth's cache: PreBind re-reads a claim whose write met a
 * conflict, as upstream does. The answer has the object (2xx) or the server's message, as a write's does.
 */
export interface ObjectReader {
  read(request: ObjectRead, signal?: AbortSignal): Promise<WriteResult>;
}

/** An event about a pod, as kube-scheduler writes them (events.k8s.io/v1). */
export interface PodEvent {
  /** The profile (reportingController) that writes it. */
  reporter: string;
  regarding: PodInfo;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  message: string;
  related?: PodInfo;
}

/**
 * A change to a pod's status: the PodScheduled condition and/or status.nominatedNodeName ('' clears it). Applied
 * only where it changes something (as upstream's updatePod); `onlyIfUnchanged` makes it conditional on the pod's
 * resourceVersion, so a late write cannot overwrite what happened since.
 */
export interface PodStatusUpdate {
  condition?: { status: 'True' | 'False'; reason: string; message: string };
  nominatedNodeName?: string;
  onlyIfUnchanged?: boolean;
}

/**
 * The pod as the cluster has it now, after a failed binding cycle: 'pending' with the current object (it still
 * needs scheduling), 'gone' (deleted, replaced by a pod of the same name, or bound meanwhile — possibly by this very
 * attempt, when the answer to the Binding was lost), or 'unknown' (the cluster cannot be asked; keep the pod).
 */
export type PodLookup = { state: 'pending'; pod: Pod } | { state: 'gone' } | { state: 'unknown' };

export interface ClusterPort extends ObjectWriter, ObjectReader {
  /** Binds the pod (POST pods/binding). Resolves with null, or with the error message to report. */
  bind(pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<string | null>;
  /**
   * Evicts a preemption victim as upstream does: DisruptionTarget=True (PreemptionByScheduler) on its status, then
   * a delete with its uid as precondition. Resolves true when deleted, false when it was gone already or the
   * eviction failed (the adapter logs failures).
   */
  evictVictim(victim: PodInfo, preemptor: PodInfo): Promise<boolean>;
  /** Records an event; fire and forget (never throws, never blocks scheduling). */
  recordEvent(event: PodEvent): void;
  /**
   * Patches the pod's status, judged against `pod` (the object as berth last saw it); resolves when done or failed
   * (failures are logged by the adapter, never thrown).
   */
  updatePodStatus(pod: Pod, update: PodStatusUpdate): Promise<void>;
  /** The pod as the cluster has it now (see PodLookup). */
  lookupPod(pod: PodInfo): Promise<PodLookup>;
}
