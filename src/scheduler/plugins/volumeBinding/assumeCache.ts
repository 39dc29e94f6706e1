/**
 * Assumed PersistentVolumes and claims (upstream volumebinding's assume cache): when a pod is reserved on a node,
 * the bindings it is about to write (a PV's claimRef, a claim's selected-node annotation) are laid over the cache's
 * objects, so the next pods' Filter sees them at once. An assumption lasts until the watch delivers a newer version
 * of the object (the write arrived, or someone else changed it) or until it is restored (Unreserve, failed PreBind).
 */
import type { ObjectMeta } from '../../../kube/api.js';

/** Kubernetes resourceVersions are opaque, but etcd's are integers; compare them as upstream's versioner does. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x === null || y === null) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

function parseVersion(v: string | undefined): bigint | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  return BigInt(v);
}

export class AssumeCache<T extends { metadata?: ObjectMeta }> {
  private readonly assumed = new Map<string, T>();

  /** `informer` reads the object as the watch last delivered it. */
  constructor(private readonly informer: (key: string) => T | undefined) {}

  /** The object with its assumption, unless the informer has a newer version (or lost it). */
  get(key: string): T | undefined {
    const current = this.informer(key);
    const assumed = this.assumed.get(key);
    if (assumed === undefined) return current;
    if (current === undefined) {
      this.assumed.delete(key);
      return undefined;
    }
    if (compareResourceVersions(current.metadata?.resourceVersion, assumed.metadata?.resourceVersion) > 0) {
      this.assumed.delete(key);
      return current;
    }
    return assumed;
  }

  /** The object as the API server last reported it (ignoring assumptions). */
  getApiObject(key: string): T | undefined {
    return this.informer(key);
  }

  /** Lays `obj` over the cached object; an error message when there is none or the assumption is older than it. */
  assume(key: string, obj: T): string | null {
    const current = this.get(key);
    if (current === undefined) return `assume cache: object "${key}" not found`;
    if (compareResourceVersions(obj.metadata?.resourceVersion, current.metadata?.resourceVersion) < 0) {
      return `assume cache: target version ${obj.metadata?.resourceVersion ?? ''} of assumed object "${key}" is older than current version ${current.metadata?.resourceVersion ?? ''}`;
    }
    this.assumed.set(key, obj);
    return null;
  }

  /** Drops the assumption: the informer's object is the truth again. */
  restore(key: string): void {
    this.assumed.delete(key);
  }

  /** Keys with a live assumption. */
  get assumedKeys(): string[] {
    return [...this.assumed.keys()].filter((key) => this.get(key) === this.assumed.get(key));
  }
}
