/**
 * Resource vectors in the units the scheduler accounts in: CPU in milli-units, everything else in whole units
 * (upstream framework.Resource). A pod's requests are computed in podRequests.ts.
 */
import type { ResourceMap } from './api.js';
import { parseMilliQuantity, parseQuantity } from './quantity.js';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Upstream's defaults for a container that names no CPU / memory request (used by scoring only). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export class Resource {
  milliCpu = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  /** Extended resources, hugepages-*, attachable-volumes-*: whole units. */
  scalar: Map<string, number> | null = null;

  get(name: string): number {
    switch (name) {
      case CPU:
        return this.milliCpu;
      case MEMORY:
        return this.memory;
      case EPHEMERAL_STORAGE:
        return this.ephemeralStorage;
      case PODS:
        return this.allowedPodNumber;
      default:
        return this.scalar?.get(name) ?? 0;
    }
  }

  set(name: string, value: number): void {
    switch (name) {
      case CPU:
        this.milliCpu = value;
        return;
      case MEMORY:
        this.memory = value;
        return;
      case EPHEMERAL_STORAGE:
        this.ephemeralStorage = value;
        return;
      case PODS:
        this.allowedPodNumber = value;
        return;
      default:
        if (!this.scalar) this.scalar = new Map();
        this.scalar.set(name, value);
    }
  }

  /** Adds (sign 1) or subtracts (sign -1) another vector in place. */
  accumulate(other: Resource, sign: 1 | -1): void {
    this.milliCpu += sign * other.milliCpu;
    this.memory += sign * other.memory;
    this.ephemeralStorage += sign * other.ephemeralStorage;
    this.allowedPodNumber += sign * other.allowedPodNumber;
    if (other.scalar) {
      for (const [name, value] of other.scalar) this.set(name, this.get(name) + sign * value);
    }
  }

  /** Per-resource maximum, in place. */
  maxWith(other: Resource): void {
    this.milliCpu = Math.max(this.milliCpu, other.milliCpu);
    this.memory = Math.max(this.memory, other.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, other.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, other.allowedPodNumber);
    if (other.scalar) {
      for (const [name, value] of other.scalar) this.set(name, Math.max(this.get(name), value));
    }
  }

  clone(): Resource {
    const copy = new Resource();
    copy.accumulate(this, 1);
    return copy;
  }

  /** Names of the resources with a non-zero amount, in upstream's order: cpu, memory, ephemeral-storage, scalars. */
  names(): string[] {
    const out: string[] = [];
    if (this.milliCpu !== 0) out.push(CPU);
    if (this.memory !== 0) out.push(MEMORY);
    if (this.ephemeralStorage !== 0) out.push(EPHEMERAL_STORAGE);
    if (this.scalar) for (const [name, value] of this.scalar) if (value !== 0) out.push(name);
    return out;
  }
}

/**
 * Upstream IsScalarResourceName: extended resources, hugepages, attachable volumes and prefixed native names (any
 * name containing "kubernetes.io/", e.g. a DeviceClass's implicit `deviceclass.resource.kubernetes.io/<class>`).
 */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  return isExtendedResourceName(name) || name.includes('kubernetes.io/');
}

/** The names the scheduler accounts in a Resource (upstream framework.Resource.Add): the rest are ignored. */
export function isAccountedResourceName(name: string): boolean {
  return name === CPU || name === MEMORY || name === EPHEMERAL_STORAGE || name === PODS || isScalarResourceName(name);
}

/** A domain-qualified name outside kubernetes.io (or a "requests."-free custom name): devices, licenses, GPUs. */
export function isExtendedResourceName(name: string): boolean {
  if (name.startsWith('requests.')) return false;
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io');
}

export class ResourceParseError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'ResourceParseError';
  }
}

/** Parses a requests/limits/allocatable map into a Resource; `field` names where it came from, for errors. */
export function parseResourceMap(map: ResourceMap | undefined, field: string): Resource {
  const out = new Resource();
  if (!map) return out;
  for (const [name, raw] of Object.entries(map)) {
    let value: number;
    try {
      value = name === CPU ? parseMilliQuantity(raw) : parseQuantity(raw);
    } catch (err) {
      throw new ResourceParseError(`${field}.${name}`, (err as Error).message);
    }
    if (isAccountedResourceName(name)) {
      out.set(name, value);
    }
  }
  return out;
}
