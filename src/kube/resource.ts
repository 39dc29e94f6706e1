/**
 * resource.k8s.io/v1 (Dynamic Resource Allocation) object shapes, as the API server serves them (JSON field
 * names), limited to what scheduling reads and writes: DeviceClasses, ResourceSlices and ResourceClaims.
 *
 * Quantities stay strings (exact arithmetic happens where they are used). Optional fields are optional because
 * snapshot files may omit what the API server would default (allocationMode ExactCount, count 1).
 */
import type { NodeSelectorTerm, ObjectMeta } from './api.js';

export interface NodeSelector {
  nodeSelectorTerms?: NodeSelectorTerm[];
}

/** A CEL selector; `cel` is the only selector type in v1. */
export interface DeviceSelector {
  cel?: { expression?: string };
}

/** Opaque, driver-specific configuration: copied into allocation results, never interpreted. */
export interface DeviceConfiguration {
  opaque?: { driver?: string; parameters?: unknown };
}

export interface DeviceClass {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    selectors?: DeviceSelector[];
    config?: DeviceConfiguration[];
    /** DRAExtendedResource: the extended resource name this class serves (default: deviceclass.resource.kubernetes.io/<name>). */
    extendedResourceName?: string;
  };
}

/** A device attribute: exactly one of the value fields. */
export interface DeviceAttribute {
  int?: number;
  bool?: boolean;
  string?: string;
  version?: string;
}

export interface CapacityRequestPolicy {
  default?: string;
  validValues?: string[];
  validRange?: { min?: string; max?: string; step?: string };
}

export interface DeviceCapacity {
  value: string;
  requestPolicy?: CapacityRequestPolicy;
}

export interface DeviceTaint {
  key: string;
  value?: string;
  effect: string; // NoSchedule, NoExecute, None
  timeAdded?: string;
}

/**
 * resource.k8s.io/v1 DeviceTaintRule (DRADeviceTaintRules, GA in v1.37): one taint added to every device the
 * selector matches (driver, pool and device name, each optional; no selector matches nothing).
 */
export interface DeviceTaintRule {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    deviceSelector?: { driver?: string; pool?: string; device?: string };
    taint?: DeviceTaint;
  };
}

export interface DeviceToleration {
  key?: string;
  operator?: string; // Exists, Equal (default)
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface DeviceCounterConsumption {
  counterSet: string;
  counters?: Record<string, { value: string }>;
}

export interface Device {
  name: string;
  attributes?: Record<string, DeviceAttribute>;
  capacity?: Record<string, DeviceCapacity>;
  consumesCounters?: DeviceCounterConsumption[];
  nodeName?: string;
  nodeSelector?: NodeSelector;
  allNodes?: boolean;
  taints?: DeviceTaint[];
  bindsToNode?: boolean;
  bindingConditions?: string[];
  bindingFailureConditions?: string[];
  allowMultipleAllocations?: boolean;
}

export interface CounterSet {
  name: string;
  counters?: Record<string, { value: string }>;
}

export interface ResourceSlice {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    driver?: string;
    pool?: { name?: string; generation?: number; resourceSliceCount?: number };
    nodeName?: string;
    nodeSelector?: NodeSelector;
    allNodes?: boolean;
    perDeviceNodeSelection?: boolean;
    devices?: Device[];
    sharedCounters?: CounterSet[];
  };
}

export interface CapacityRequirements {
  requests?: Record<string, string>;
}

/** What ExactDeviceRequest and DeviceSubRequest have in common. */
export interface DeviceRequestCommon {
  deviceClassName?: string;
  selectors?: DeviceSelector[];
  allocationMode?: string; // ExactCount (default), All
  count?: number;
  tolerations?: DeviceToleration[];
  capacity?: CapacityRequirements;
}

export interface ExactDeviceRequest extends DeviceRequestCommon {
  adminAccess?: boolean;
}

export interface DeviceSubRequest extends DeviceRequestCommon {
  name: string;
}

export interface DeviceRequest {
  name: string;
  exactly?: ExactDeviceRequest;
  firstAvailable?: DeviceSubRequest[];
}

export interface DeviceConstraint {
  requests?: string[];
  matchAttribute?: string;
  distinctAttribute?: string;
}

export interface DeviceClaimConfiguration extends DeviceConfiguration {
  requests?: string[];
}

export interface DeviceRequestAllocationResult {
  request: string;
  driver: string;
  pool: string;
  device: string;
  adminAccess?: boolean;
  tolerations?: DeviceToleration[];
  bindingConditions?: string[];
  bindingFailureConditions?: string[];
  shareID?: string;
  consumedCapacity?: Record<string, string>;
}

export interface DeviceAllocationConfiguration extends DeviceConfiguration {
  source: 'FromClass' | 'FromClaim';
  requests?: string[];
}

export interface AllocationResult {
  devices?: { results?: DeviceRequestAllocationResult[]; config?: DeviceAllocationConfiguration[] };
  nodeSelector?: NodeSelector;
  allocationTimestamp?: string;
}

export interface ResourceClaimConsumerReference {
  apiGroup?: string;
  resource: string;
  name: string;
  uid: string;
}

export interface ResourceClaim {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    devices?: { requests?: DeviceRequest[]; constraints?: DeviceConstraint[]; config?: DeviceClaimConfiguration[] };
  };
  status?: {
    allocation?: AllocationResult;
    reservedFor?: ResourceClaimConsumerReference[];
    devices?: Array<{ driver?: string; pool?: string; device?: string; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> }>;
  };
}

/** The finalizer the scheduler puts on claims it allocates (resourceapi.Finalizer). */
export const CLAIM_FINALIZER = 'resource.kubernetes.io/delete-protection';
/** Upstream ResourceClaimReservedForMaxSize. */
export const RESERVED_FOR_MAX_SIZE = 256;
/** Upstream AllocationResultsMaxSize. */
export const ALLOCATION_RESULTS_MAX_SIZE = 32;
/** Upstream FirstAvailableDeviceRequestMaxSize. */
export const FIRST_AVAILABLE_MAX_SIZE = 8;
