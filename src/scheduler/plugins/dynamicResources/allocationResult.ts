/**
 * Turning the search's picks into AllocationResults (upstream Allocate's tail): one result per device with the
 * request (or "request/subrequest") it serves, the class configurations (each class once, listing the requests it
 * applies to) and the claim's own, and the node selector the allocation limits the pod to.
 */
import type { NodeSelectorRequirement } from '../../../kube/api.js';
import type { AllocationResult, DeviceAllocationConfiguration, DeviceRequestAllocationResult, NodeSelector, ResourceClaim } from '../../../kube/resource.js';
import { requestKey, type Picked, type RequestData, type Search } from './search.js';
import { qualifiedName, requestsOf } from './requests.js';

function deviceResult(p: Picked): DeviceRequestAllocationResult {
  const { candidate } = p;
  const out: DeviceRequestAllocationResult = {
    request: qualifiedName(p.parent, p.request),
    driver: candidate.driver,
    pool: candidate.pool.pool,
    device: candidate.device.name,
  };
  if (p.adminAccess) out.adminAccess = true;
  if (p.tolerations.length > 0) out.tolerations = [...p.tolerations];
  if (candidate.device.bindingConditions) out.bindingConditions = [...candidate.device.bindingConditions];
  if (candidate.device.bindingFailureConditions) out.bindingFailureConditions = [...candidate.device.bindingFailureConditions];
  if (p.shareId !== undefined) out.shareID = p.shareId;
  if (p.consumed) out.consumedCapacity = Object.fromEntries([...p.consumed].map(([k, v]) => [k, v.toString()]));
  return out;
}

/** The request data of the request or of its chosen subrequest. */
function chosen(requests: ReadonlyMap<string, RequestData>, search: Search, claimIndex: number, requestIndex: number): RequestData | undefined {
  const first = requests.get(requestKey(claimIndex, requestIndex, 0));
  if (first?.parent === undefined) return first;
  return requests.get(requestKey(claimIndex, requestIndex, search.selectedSub(requestKey(claimIndex, requestIndex, 0))));
}

function configs(claim: ResourceClaim, claimIndex: number, requests: ReadonlyMap<string, RequestData>, search: Search): DeviceAllocationConfiguration[] {
  const out: DeviceAllocationConfiguration[] = [];
  const byClass = new Map<string, DeviceAllocationConfiguration[]>();
  const names: string[] = [];
  requestsOf(claim).forEach((_, i) => {
    const data = chosen(requests, search, claimIndex, i);
    if (!data) return;
    const name = qualifiedName(data.parent, data.view.name);
    names.push(name);
    const className = data.cls.metadata?.name ?? '';
    const existing = byClass.get(className);
    if (existing) {
      for (const c of existing) c.requests?.push(name);
      return;
    }
    const added = (data.cls.spec?.config ?? []).map((c): DeviceAllocationConfiguration => ({ ...c, source: 'FromClass', requests: [name] }));
    byClass.set(className, added);
    out.push(...added);
  });
  for (const config of claim.spec?.devices?.config ?? []) {
    const { requests: wanted, ...rest } = config;
    if (!wanted || wanted.length === 0 || names.some((n) => wanted.includes(n) || wanted.includes(n.split('/')[0] ?? n))) {
      out.push({ ...rest, source: 'FromClaim', ...(wanted && wanted.length > 0 ? { requests: [...wanted] } : {}) });
    }
  }
  // A configuration that applies to every request says so by listing none.
  for (const c of out) {
    if (c.requests && names.every((n) => c.requests?.includes(n) || c.requests?.includes(n.split('/')[0] ?? n))) delete c.requests;
  }
  return out;
}

function addRequirements(from: readonly NodeSelectorRequirement[] | undefined, to: NodeSelectorRequirement[]): void {
  for (const r of from ?? []) {
    const values = [...(r.values ?? [])].sort().join('\x00');
    if (!to.some((t) => t.key === r.key && t.operator === r.operator && [...(t.values ?? [])].sort().join('\x00') === values)) to.push(r);
  }
}

/** Upstream createNodeSelector: the node itself for node-local devices, else the slices' selectors combined. */
function nodeSelector(picks: readonly Picked[], nodeName: string): NodeSelector | undefined | string {
  const fields: NodeSelectorRequirement[] = [];
  const expressions: NodeSelectorRequirement[] = [];
  for (const p of picks) {
    const spec = p.candidate.slice.spec ?? {};
    const perDevice = spec.perDeviceNodeSelection === true;
    const name = perDevice ? p.candidate.device.nodeName : spec.nodeName;
    const selector = perDevice ? p.candidate.device.nodeSelector : spec.nodeSelector;
    if (name || p.candidate.device.bindsToNode) {
      return { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
    }
    const terms = selector?.nodeSelectorTerms ?? [];
    if (terms.length > 1) return `unsupported ResourceSlice.NodeSelector with ${terms.length} terms`;
    addRequirements(terms[0]?.matchFields, fields);
    addRequirements(terms[0]?.matchExpressions, expressions);
  }
  if (fields.length === 0 && expressions.length === 0) return undefined;
  return { nodeSelectorTerms: [{ ...(expressions.length > 0 ? { matchExpressions: expressions } : {}), ...(fields.length > 0 ? { matchFields: fields } : {}) }] };
}

/** The allocation results, one per claim; a string is an error message. */
export function buildResults(
  claims: readonly ResourceClaim[],
  requests: ReadonlyMap<string, RequestData>,
  search: Search,
  nodeName: string,
): AllocationResult[] | string {
  const out: AllocationResult[] = [];
  for (const [i, claim] of claims.entries()) {
    const picks = search.results[i] ?? [];
    const result: AllocationResult = { devices: { results: picks.map(deviceResult) } };
    const config = configs(claim, i, requests, search);
    if (config.length > 0 && result.devices) result.devices.config = config;
    const selector = nodeSelector(picks, nodeName);
    if (typeof selector === 'string') return `create NodeSelector for claim ${claim.metadata?.name ?? ''}: ${selector}`;
    if (selector) result.nodeSelector = selector;
    out.push(result);
  }
  return out;
}
