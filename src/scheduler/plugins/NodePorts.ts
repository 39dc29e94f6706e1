/**
 * NodePorts (upstream plugins/nodeports): the pod's host ports (regular containers and sidecars) must not conflict
 * with host ports already held on the node: same protocol and port, and equal host IPs or either one 0.0.0.0.
 */
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
} from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { HostPort, PodInfo } from '../cache/podInfo.js';

export const NAME = 'NodePorts';

export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const STATE_KEY = `PreFilter${NAME}`;
const MEMO_KEY = `${NAME}/hostPorts`;
const REJECT = Status.unschedulable(ERR_REASON);

/** Upstream sanitizes an empty host IP to 0.0.0.0 and an empty protocol to TCP before checking conflicts. */
function wantedPorts(pod: PodInfo): HostPort[] {
  return pod.hostPorts.map((p) => ({
    protocol: p.protocol === '' ? 'TCP' : p.protocol,
    hostIP: p.hostIP === '' ? '0.0.0.0' : p.hostIP,
    hostPort: p.hostPort,
  }));
}

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    if (pod.hostPorts.length === 0) return SKIP;
    state.write(STATE_KEY, pod.memoize(MEMO_KEY, () => wantedPorts(pod)));
    return null;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const wanted = state.read<HostPort[]>(STATE_KEY) ?? pod.memoize(MEMO_KEY, () => wantedPorts(pod));
    for (let i = 0; i < wanted.length; i++) {
      if (node.hasPortConflict(wanted[i] as HostPort)) return REJECT;
    }
    return null;
  }
}

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete'],
  create: () => new NodePorts(),
} satisfies PluginDescriptor;
