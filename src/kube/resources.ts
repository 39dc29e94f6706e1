/**
 * Resource vectors in the units the scheduler accounts in: CPU in milli-units, everything else in whole units.
 * Pod requests follow upstream's resource.PodRequests: regular containers and sidecars (restartable init
 * containers) run together; each ordinary init container runs alone beside the sidecars declared before it; the pod
 * needs the larger of the two, plus spec.overhead.
 */
import type { Container, Pod, ResourceMap } from './api.js';
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

/** Upstream IsScalarResourceName: extended resources, hugepages and attachable volumes. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  return isExtendedResourceName(name);
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
    if (name === CPU || name === MEMORY || name === EPHEMERAL_STORAGE || name === PODS || isScalarResourceName(name)) {
      out.set(name, value);
    }
  }
  return out;
}

/** A container's effective requests: requests, or limits where no request is given (API-server defaulting). */
function containerRequests(container: Container, field: string): Resource {
  const requests = container.resources?.requests;
  const limits = container.resources?.limits;
  if (!limits) return parseResourceMap(requests, `${field}.resources.requests`);
  const merged: ResourceMap = { ...limits, ...(requests ?? {}) };
  return parseResourceMap(merged, `${field}.resources`);
}

function withNonZeroDefaults(req: Resource, container: Container): Resource {
  const names = new Set([
    ...Object.keys(container.resources?.requests ?? {}),
    ...Object.keys(container.resources?.limits ?? {}),
  ]);
  const out = new Resource();
  out.milliCpu = names.has(CPU) ? req.milliCpu : DEFAULT_MILLI_CPU_REQUEST;
  out.memory = names.has(MEMORY) ? req.memory : DEFAULT_MEMORY_REQUEST;
  return out;
}

export interface PodRequests {
  /** What NodeResourcesFit filters on and BalancedAllocation scores on. */
  requests: Resource;
  /** CPU and memory with upstream's defaults for missing container requests; Least/MostAllocated score on these. */
  nonZero: Resource;
}

/** Computes a pod's requests as upstream does (containers, sidecars, init containers, overhead). */
export function computePodRequests(pod: Pod, objectPath = ''): PodRequests {
  const spec = pod.spec ?? {};
  const prefix = objectPath ? `${objectPath}.` : '';
  const sum = new Resource();
  const sumNonZero = new Resource();
  (spec.containers ?? []).forEach((c, i) => {
    const req = containerRequests(c, `${prefix}spec.containers[${i}]`);
    sum.accumulate(req, 1);
    sumNonZero.accumulate(withNonZeroDefaults(req, c), 1);
  });
  const sidecars = new Resource();
  const sidecarsNonZero = new Resource();
  const initMax = new Resource();
  const initMaxNonZero = new Resource();
  (spec.initContainers ?? []).forEach((c, i) => {
    const req = containerRequests(c, `${prefix}spec.initContainers[${i}]`);
    const reqNonZero = withNonZeroDefaults(req, c);
    if (c.restartPolicy === 'Always') {
      sum.accumulate(req, 1);
      sumNonZero.accumulate(reqNonZero, 1);
      sidecars.accumulate(req, 1);
      sidecarsNonZero.accumulate(reqNonZero, 1);
      initMax.maxWith(sidecars);
      initMaxNonZero.maxWith(sidecarsNonZero);
    } else {
      const whileRunning = req.clone();
      whileRunning.accumulate(sidecars, 1);
      const whileRunningNonZero = reqNonZero.clone();
      whileRunningNonZero.accumulate(sidecarsNonZero, 1);
      initMax.maxWith(whileRunning);
      initMaxNonZero.maxWith(whileRunningNonZero);
    }
  });
  sum.maxWith(initMax);
  sumNonZero.maxWith(initMaxNonZero);
  if (spec.overhead) {
    const overhead = parseResourceMap(spec.overhead, `${prefix}spec.overhead`);
    sum.accumulate(overhead, 1);
    const overheadNonZero = new Resource();
    overheadNonZero.milliCpu = overhead.milliCpu;
    overheadNonZero.memory = overhead.memory;
    sumNonZero.accumulate(overheadNonZero, 1);
  }
  const nonZero = new Resource();
  nonZero.milliCpu = sumNonZero.milliCpu;
  nonZero.memory = sumNonZero.memory;
  return { requests: sum, nonZero };
}
