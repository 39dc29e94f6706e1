/**
 * Device requests as the allocator sees them (upstream requestAccessor): an `exactly` request or one subrequest of a
 * `firstAvailable` list, with the API's defaults (allocationMode ExactCount, count 1) applied, and naming helpers.
 */
import type { CapacityRequirements, DeviceRequest, DeviceSelector, DeviceSubRequest, DeviceToleration, ResourceClaim } from '../../../kube/resource.js';

export interface RequestView {
  name: string;
  className: string;
  mode: string;
  count: number;
  adminAccess: boolean;
  selectors: readonly DeviceSelector[];
  tolerations: readonly DeviceToleration[];
  capacity: CapacityRequirements | undefined;
}

export function exactView(request: DeviceRequest): RequestView {
  const e = request.exactly ?? {};
  return {
    name: request.name,
    className: e.deviceClassName ?? '',
    mode: e.allocationMode ?? 'ExactCount',
    count: e.count ?? 1,
    adminAccess: e.adminAccess === true,
    selectors: e.selectors ?? [],
    tolerations: e.tolerations ?? [],
    capacity: e.capacity,
  };
}

export function subView(sub: DeviceSubRequest): RequestView {
  return {
    name: sub.name,
    className: sub.deviceClassName ?? '',
    mode: sub.allocationMode ?? 'ExactCount',
    count: sub.count ?? 1,
    adminAccess: false,
    selectors: sub.selectors ?? [],
    tolerations: sub.tolerations ?? [],
    capacity: sub.capacity,
  };
}

/** klog.KObj: "namespace/name". */
export function claimRef(claim: ResourceClaim): string {
  return `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`;
}

export function requestsOf(claim: ResourceClaim): readonly DeviceRequest[] {
  return claim.spec?.devices?.requests ?? [];
}

/** "request" or "request/subrequest". */
export function qualifiedName(parent: string | undefined, name: string): string {
  return parent === undefined ? name : `${parent}/${name}`;
}
