/**
 * DeviceTaintRules (DRADeviceTaintRules, GA and on by default in v1.37): the ResourceSlices the allocator sees are
 * the published ones with each matching rule's taint appended to the device's own taints, as upstream's
 * ResourceSlice tracker (dynamic-resource-allocation/resourceslice/tracker) patches them. A rule's selector matches
 * by driver, pool and device name; a missing field matches any, a missing selector matches no device. The
 * allocator then treats a rule's taint as one the driver published (search.ts: NoSchedule and NoExecute keep the
 * device from requests that do not tolerate them; None is informational).
 */
import type { Device, DeviceTaintRule, ResourceSlice } from '../../../kube/resource.js';
import type { PodInfo } from '../../cache/podInfo.js';
import type { ClusterEvent, QueueingHint } from '../../framework/plugin.js';

function ruleApplies(rule: DeviceTaintRule, slice: ResourceSlice, device: Device): boolean {
  const selector = rule.spec?.deviceSelector;
  if (!selector || !rule.spec?.taint) return false;
  if (selector.driver !== undefined && selector.driver !== slice.spec?.driver) return false;
  if (selector.pool !== undefined && selector.pool !== slice.spec?.pool?.name) return false;
  return selector.device === undefined || selector.device === device.name;
}

/** The slice with the rules' taints added to its matching devices; the same object when no rule matches. */
export function taintedSlice(slice: ResourceSlice, rules: readonly DeviceTaintRule[]): ResourceSlice {
  const devices = slice.spec?.devices ?? [];
  let patched: Device[] | undefined;
  devices.forEach((device, i) => {
    const added = rules.filter((rule) => ruleApplies(rule, slice, device)).map((rule) => rule.spec?.taint as NonNullable<NonNullable<DeviceTaintRule['spec']>['taint']>);
    if (added.length === 0) return;
    patched ??= [...devices];
    patched[i] = { ...device, taints: [...(device.taints ?? []), ...added] };
  });
  return patched ? { ...slice, spec: { ...slice.spec, devices: patched } } : slice;
}

/** Every slice as the allocator must see it (upstream ListWithDeviceTaintRules). */
export function slicesWithTaintRules(slices: Iterable<ResourceSlice>, rules: ReadonlyMap<string, DeviceTaintRule>): ResourceSlice[] {
  const all = [...slices];
  if (rules.size === 0) return all;
  // Sorted by name: the order of a device's added taints does not change what the allocator decides, but a fixed
  // order keeps runs alike.
  const ordered = [...rules.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return all.map((slice) => taintedSlice(slice, ordered));
}

/**
 * The ResourceSliceChange hint. A DeviceTaintRule change arrives as this event (upstream's tracker reports it as an
 * update of the slices it patches), and queues even when the rule was deleted: that takes taints away. A slice
 * itself queues when added or updated, as upstream registers.
 */
export function afterSliceOrTaintRuleChange(_pod: PodInfo, event: ClusterEvent): QueueingHint {
  const kindOf = (o: unknown): unknown => (typeof o === 'object' && o !== null ? (o as { kind?: unknown }).kind : undefined);
  if (kindOf(event.newObject) === 'DeviceTaintRule' || kindOf(event.oldObject) === 'DeviceTaintRule') return 'Queue';
  return event.newObject === undefined && event.oldObject !== undefined ? 'Skip' : 'Queue';
}
