/**
 * DRAExtendedResource (on in v1.37): which DeviceClass serves an extended resource a pod requests without a claim
 * (upstream k8s.io/dynamic-resource-allocation/deviceclass/extendedresourcecache). Every class serves its implicit
 * name `deviceclass.resource.kubernetes.io/<class name>`; a class with spec.extendedResourceName also serves that
 * name, and when several classes name the same resource the oldest wins (ties: the smallest name).
 *
 * Upstream updates its map event by event, so in rare histories (a winning class deleted while another names the
 * same resource) its answer depends on the order events arrived; berth derives the answer from the classes present.
 */
import type { DeviceClass } from '../../kube/resource.js';

export const DEVICE_CLASS_RESOURCE_PREFIX = 'deviceclass.resource.kubernetes.io/';

function createdAt(cls: DeviceClass): number {
  const raw = cls.metadata?.creationTimestamp;
  const ms = raw ? Date.parse(raw) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** Whether `a` wins over `b` for the same explicit extended resource name. */
function wins(a: DeviceClass, b: DeviceClass): boolean {
  const ta = createdAt(a);
  const tb = createdAt(b);
  if (ta !== tb) return ta < tb;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '');
}

export class ExtendedResourceIndex {
  private readonly explicit = new Map<string, DeviceClass>();
  private dirty = true;

  constructor(private readonly classes: ReadonlyMap<string, DeviceClass>) {}

  /** The class set changed: the explicit names are recomputed on the next lookup. */
  invalidate(): void {
    this.dirty = true;
  }

  /** The class serving `resourceName`, or undefined when no class does. */
  classFor(resourceName: string): DeviceClass | undefined {
    if (this.dirty) this.rebuild();
    const named = this.explicit.get(resourceName);
    if (named) return named;
    if (!resourceName.startsWith(DEVICE_CLASS_RESOURCE_PREFIX)) return undefined;
    return this.classes.get(resourceName.slice(DEVICE_CLASS_RESOURCE_PREFIX.length));
  }

  private rebuild(): void {
    this.explicit.clear();
    for (const cls of this.classes.values()) {
      const name = cls.spec?.extendedResourceName;
      if (!name) continue;
      const current = this.explicit.get(name);
      if (!current || wins(cls, current)) this.explicit.set(name, cls);
    }
    this.dirty = false;
  }
}
