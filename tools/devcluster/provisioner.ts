// A test external provisioner that behaves like one built on sig-storage-lib-external-provisioner with a local-path
// volume source (rancher's local-path-provisioner, say): it provisions a WaitForFirstConsumer claim once the
// scheduler has written volume.kubernetes.io/selected-node and the PV controller has handed the claim to it
// (volume.kubernetes.io/storage-provisioner), by creating a PV pinned to the selected node and pre-bound to the claim;
// the PV controller then binds the two. On a failure it can give the claim back to the scheduler by removing the
// selected-node annotation, as the library does for ProvisioningReschedule. No storage exists anywhere: only objects.
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { Reflector, type LiveLogger } from '../../src/adapters/live/reflector.js';
import { defaultLog, type LogFn } from './binaries.js';

export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
/** Still written by the PV controller beside the GA one; the library reads it when the GA one is missing. */
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';

export const DEFAULT_PROVISIONER_NAME = 'berth.dev/local-path';

export interface ObjectMetaLite {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
}

/** The fields of a PersistentVolumeClaim the provisioner reads (raw API JSON; other fields are kept on update). */
export interface ClaimObject {
  metadata: ObjectMetaLite;
  spec?: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: Record<string, string> };
  };
  status?: { phase?: string };
}

interface VolumeObject {
  metadata: ObjectMetaLite;
  spec?: { persistentVolumeReclaimPolicy?: string };
  status?: { phase?: string };
}

interface StorageClassObject {
  metadata: ObjectMetaLite;
  provisioner?: string;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
}

/** Decides, per claim and selected node, whether provisioning fails. */
export type FailurePredicate = (claim: ClaimObject, selectedNode: string) => boolean;

export interface ProvisionFailure {
  /** The ProvisioningFailed event's message (default: a fixed test message). */
  message?: string;
  /**
   * Remove volume.kubernetes.io/selected-node so the scheduler picks a node again: what the library does when the
   * provisioner returns ProvisioningReschedule (default true). false: keep it and retry every retryIntervalMs, as
   * for a plain error (the scheduler keeps waiting for the binding).
   */
  reschedule?: boolean;
}

export interface ProvisionerTarget {
  /** Credentials: admin works; the minimum is upstream's system:persistent-volume-provisioner role plus get nodes. */
  kubeConfig: KubeConfig;
  /** A ControlPlane's: its stop() then stops this provisioner first. */
  beforeStop?(fn: () => Promise<void>): void;
}

export interface StartProvisionerOptions {
  /** The name StorageClasses put in .provisioner (default berth.dev/local-path). */
  name?: string;
  /** Wait this long before creating each PV (a slow storage backend). */
  delayMs?: number;
  /** Volume source of the PVs (default local, which requires the node affinity it gets anyway). */
  volumeSource?: 'local' | 'hostPath';
  /** Directory the volume paths are made up under (default /var/lib/berth-local-path; nothing is created). */
  basePath?: string;
  /** Retry interval after a failure that keeps the selected node (default 2000 ms). */
  retryIntervalMs?: number;
  /** Re-examine every claim and volume this often besides on watch events (default 1000 ms). */
  resyncMs?: number;
  /** Bound on the first list of claims, volumes and classes (default 30 s). */
  startupTimeoutMs?: number;
  log?: LogFn;
}

export interface ProvisionerCounts {
  /** PVs created. */
  provisioned: number;
  /** ProvisioningFailed events written. */
  failed: number;
  /** Released Delete-policy PVs deleted. */
  deleted: number;
}

export interface TestProvisioner {
  readonly name: string;
  /** Fail claims the predicate selects (checked at every attempt); undefined: succeed again. */
  failFor(predicate: FailurePredicate | undefined, failure?: ProvisionFailure): void;
  readonly counts: Readonly<ProvisionerCounts>;
  /** Stops watching and waits for in-flight work. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the provisioner; resolves once its caches of claims, volumes and storage classes are filled. */
export async function startProvisioner(
  target: ProvisionerTarget,
  opts: StartProvisionerOptions = {},
): Promise<TestProvisioner> {
  const p = new LocalPathProvisioner(target.kubeConfig, opts);
  try {
    await p.start(opts.startupTimeoutMs ?? 30_000);
    target.beforeStop?.(() => p.stop());
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

/**
 * Whether the library would provision this claim (its shouldProvision, narrowed to WaitForFirstConsumer): unbound,
 * handed to `name` by the PV controller, a node selected, and a class that names `name`.
 */
export function wantsProvisioning(
  claim: ClaimObject,
  cls: { provisioner?: string } | undefined,
  name: string,
): boolean {
  const ann = claim.metadata.annotations ?? {};
  const handedTo = ann[ANN_STORAGE_PROVISIONER] ?? ann[ANN_BETA_STORAGE_PROVISIONER];
  return (
    !claim.spec?.volumeName &&
    claim.metadata.deletionTimestamp === undefined &&
    handedTo === name &&
    (ann[ANN_SELECTED_NODE] ?? '') !== '' &&
    cls?.provisioner === name
  );
}

/** The PV name the library derives from a claim. */
export function provisionedVolumeName(claim: ClaimObject): string {
  return `pvc-${claim.metadata.uid}`;
}

function asLiveLogger(log: LogFn): LiveLogger {
  const line =
    (level: string) =>
    (obj: object, msg?: string): void =>
      log(`provisioner ${level}: ${msg ?? ''} ${JSON.stringify(obj)}`);
  return { debug: () => undefined, info: () => undefined, warn: line('warn'), error: line('error') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class LocalPathProvisioner implements TestProvisioner {
  readonly name: string;
  readonly counts: ProvisionerCounts = { provisioned: 0, failed: 0, deleted: 0 };
  private readonly client: KubeClient;
  private readonly log: LogFn;
  private readonly abort = new AbortController();
  private readonly claims: Reflector<ClaimObject>;
  private readonly volumes: Reflector<VolumeObject>;
  private readonly classes: Reflector<StorageClassObject>;
  private failure: { predicate: FailurePredicate; failure: ProvisionFailure } | undefined;
  /** Claim uid or PV name → work in progress, so one object never has two operations at once. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Claim uid → when a kept-node failure may be retried. */
  private readonly retryAt = new Map<string, number>();
  /** Claim uids whose PV this provisioner created (the volume cache may lag behind the create). */
  private readonly provisioned = new Set<string>();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError = '';

  constructor(
    kc: KubeConfig,
    private readonly opts: StartProvisionerOptions,
  ) {
    this.name = opts.name ?? DEFAULT_PROVISIONER_NAME;
    this.log = opts.log ?? defaultLog;
    this.client = createKubeClient(kc, { qps: 0, burst: 0, userAgent: `berth-test-provisioner/${this.name}` });
    const reflector = <T extends { metadata: ObjectMetaLite }>(listPath: string): Reflector<T> =>
      new Reflector<T>({
        client: this.client,
        listPath,
        transform: (raw) => raw as T,
        key: (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`,
        handlers: { onAdd: () => this.trigger(), onUpdate: () => this.trigger(), onDelete: () => this.trigger() },
        logger: asLiveLogger(this.log),
        onError: (err) => (this.lastError = err.message),
        backoff: { initialMs: 200, maxMs: 5000 },
      });
    this.claims = reflector<ClaimObject>('/api/v1/persistentvolumeclaims');
    this.volumes = reflector<VolumeObject>('/api/v1/persistentvolumes');
    this.classes = reflector<StorageClassObject>('/apis/storage.k8s.io/v1/storageclasses');
  }

  async start(timeoutMs: number): Promise<void> {
    const all = [this.claims, this.volumes, this.classes];
    for (const r of all) r.start();
    const deadline = Date.now() + timeoutMs;
    while (!all.every((r) => r.hasSynced)) {
      if (Date.now() > deadline) {
        throw new Error(
          `provisioner ${this.name}: no full list of claims, volumes and storage classes within ${timeoutMs} ms` +
            (this.lastError ? ` (last error: ${this.lastError})` : ''),
        );
      }
      await sleep(50);
    }
    this.timer = setInterval(() => this.trigger(), this.opts.resyncMs ?? 1000);
    this.timer.unref();
    this.log(`provisioner ${this.name} started`);
    this.trigger();
  }

  failFor(predicate: FailurePredicate | undefined, failure: ProvisionFailure = {}): void {
    this.failure = predicate ? { predicate, failure } : undefined;
    this.retryAt.clear();
    this.trigger();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.abort.abort();
    await Promise.all([this.claims.stop(), this.volumes.stop(), this.classes.stop()]);
    await Promise.allSettled([...this.inFlight.values()]);
    this.client.close();
  }

  /** Coalesces a burst of triggers (a list delivers every object at once) into one pass on the next turn. */
  private trigger(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  /** Starts an operation for every claim to provision and every released volume to delete; never waits for them. */
  private reconcile(): void {
    const classes = this.classes.items();
    const volumes = this.volumes.items();
    const now = Date.now();
    for (const claim of this.claims.items().values()) {
      const uid = claim.metadata.uid;
      if (this.inFlight.has(uid) || this.provisioned.has(uid) || (this.retryAt.get(uid) ?? 0) > now) continue;
      if (volumes.has(`/${provisionedVolumeName(claim)}`)) continue;
      if (!wantsProvisioning(claim, classes.get(`/${claim.spec?.storageClassName ?? ''}`), this.name)) continue;
      this.run(uid, () => this.provision(claim));
    }
    for (const volume of volumes.values()) {
      if (this.inFlight.has(volume.metadata.name) || !this.releasedForDeletion(volume)) continue;
      this.run(volume.metadata.name, () => this.deleteVolume(volume));
    }
  }

  private run(key: string, op: () => Promise<void>): void {
    const p = op()
      .catch((err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        if (!this.stopped) this.log(`provisioner ${this.name}: ${this.lastError}`);
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.trigger(); // the outcome may leave more to do (e.g. a conflict to retry)
      });
    this.inFlight.set(key, p);
  }

  /** The library's shouldDelete: ours, Released, reclaim policy Delete, not already being deleted. */
  private releasedForDeletion(volume: VolumeObject): boolean {
    return (
      volume.metadata.annotations?.[ANN_PROVISIONED_BY] === this.name &&
      volume.status?.phase === 'Released' &&
      volume.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
      volume.metadata.deletionTimestamp === undefined
    );
  }

  private async deleteVolume(volume: VolumeObject): Promise<void> {
    // The backing directory would be removed here; there is none.
    const res = await this.client.request('DELETE', `/api/v1/persistentvolumes/${volume.metadata.name}`, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: volume.metadata.uid } },
    });
    if (res.status === 404 || res.status === 409) return;
    if (res.status >= 300) throw new Error(`deleting released volume ${volume.metadata.name}: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    this.counts.deleted++;
  }

  private async provision(cached: ClaimObject): Promise<void> {
    if (this.opts.delayMs) await this.abortableSleep(this.opts.delayMs);
    if (this.stopped) return;
    // Act on the claim as it is now, not as the cache had it: the scheduler may have moved on, and an update needs
    // the current resourceVersion.
    const claim = await this.getClaim(cached.metadata.namespace ?? '', cached.metadata.name);
    if (claim === undefined || claim.metadata.uid !== cached.metadata.uid) return;
    const cls = this.classes.items().get(`/${claim.spec?.storageClassName ?? ''}`);
    if (cls === undefined || !wantsProvisioning(claim, cls, this.name)) return;
    const node = claim.metadata.annotations?.[ANN_SELECTED_NODE] ?? '';
    const failing = this.failure;
    if (failing?.predicate(claim, node)) {
      const message = failing.failure.message ?? `test provisioner ${this.name} told to fail for claim ${claimKey(claim)} on node ${node}`;
      await this.fail(claim, message, failing.failure.reschedule ?? true);
      return;
    }
    const nodeRes = await this.client.request('GET', `/api/v1/nodes/${node}`);
    if (nodeRes.status === 404) {
      // The library's answer to a selected node that does not exist: give the claim back to the scheduler.
      await this.fail(claim, `failed to get target node: nodes "${node}" not found`, true);
      return;
    }
    await this.recordEvent(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claimKey(claim)}"`);
    await this.createVolume(claim, cls, node);
  }

  private async createVolume(claim: ClaimObject, cls: StorageClassObject, node: string): Promise<void> {
    const pvName = provisionedVolumeName(claim);
    const res = await this.client.request('POST', '/api/v1/persistentvolumes', { body: this.volumeFor(claim, cls, node) });
    if (res.status >= 300 && res.status !== 409) {
      const message = `failed to create volume ${pvName}: HTTP ${res.status}: ${JSON.stringify(res.body)}`;
      await this.fail(claim, message, false);
      return;
    }
    this.provisioned.add(claim.metadata.uid);
    this.retryAt.delete(claim.metadata.uid);
    if (res.status === 409) return; // an earlier attempt made it
    this.counts.provisioned++;
    await this.recordEvent(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  /** The PV the library stores: pre-bound to the claim (claimRef) and pinned to the selected node. */
  private volumeFor(claim: ClaimObject, cls: StorageClassObject, node: string): unknown {
    const { namespace = '', name, uid, resourceVersion } = claim.metadata;
    const pvName = provisionedVolumeName(claim);
    const path = `${this.opts.basePath ?? '/var/lib/berth-local-path'}/${pvName}_${namespace}_${name}`;
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [ANN_PROVISIONED_BY]: this.name } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.['storage'] ?? '0' },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        ...(claim.spec?.volumeMode ? { volumeMode: claim.spec.volumeMode } : {}),
        storageClassName: claim.spec?.storageClassName ?? '',
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name, uid, resourceVersion },
        ...((this.opts.volumeSource ?? 'local') === 'local' ? { local: { path } } : { hostPath: { path, type: 'DirectoryOrCreate' } }),
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
          },
        },
      },
    };
  }

  /**
   * The library's failure path: a Warning ProvisioningFailed event, then either the selected node goes (an update
   * at the claim's resourceVersion, like the library's; a conflict means the claim changed and is looked at again)
   * or the claim is retried later with the node kept.
   */
  private async fail(claim: ClaimObject, message: string, reschedule: boolean): Promise<void> {
    this.counts.failed++;
    await this.recordEvent(claim, 'Warning', 'ProvisioningFailed', message);
    if (!reschedule) {
      this.retryAt.set(claim.metadata.uid, Date.now() + (this.opts.retryIntervalMs ?? 2000));
      return;
    }
    const annotations = { ...(claim.metadata.annotations ?? {}) };
    delete annotations[ANN_SELECTED_NODE];
    const updated = { ...claim, metadata: { ...claim.metadata, annotations } };
    const path = `/api/v1/namespaces/${claim.metadata.namespace ?? ''}/persistentvolumeclaims/${claim.metadata.name}`;
    const res = await this.client.request('PUT', path, { body: updated });
    if (res.status >= 300 && res.status !== 409 && res.status !== 404) {
      throw new Error(`removing ${ANN_SELECTED_NODE} from claim ${claimKey(claim)}: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    }
  }

  private async getClaim(namespace: string, name: string): Promise<ClaimObject | undefined> {
    const res = await this.client.request<ClaimObject>('GET', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`);
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw new Error(`reading claim ${namespace}/${name}: HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as ClaimObject;
  }

  /** A core/v1 Event on the claim, as client-go's EventRecorder (which the library uses) writes it. */
  private async recordEvent(claim: ClaimObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { namespace = '', name, uid, resourceVersion } = claim.metadata;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const res = await this.client.request('POST', `/api/v1/namespaces/${namespace}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace },
        involvedObject: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name, uid, resourceVersion },
        type,
        reason,
        message,
        source: { component: this.name },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    if (res.status >= 300) this.log(`provisioner ${this.name}: event ${reason} on ${claimKey(claim)} not recorded: HTTP ${res.status}`);
  }

  private abortableSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function claimKey(claim: ClaimObject): string {
  return `${claim.metadata.namespace ?? ''}/${claim.metadata.name}`;
}
