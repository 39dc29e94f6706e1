/**
 * DynamicResources, as far as it shows for pods without resource claims (all berth schedules): upstream v1.37 runs it
 * by default (DRA is GA) at PreFilter, Filter, PostFilter and Score (weight 2).
 *
 * - PreFilter records that it ran and skips pods without claims, so its Filter never runs for them and its Score is 0.
 * - PostFilter runs before DefaultPreemption. When PreFilter ran it answers Unschedulable without a message and
 *   preemption goes on. When an earlier PreFilter plugin rejected the pod, PreFilter never ran: upstream's PostFilter
 *   then fails to read its state and returns the Error "not found", which stops preemption and ends the
 *   FailedScheduling message with " not found" (dynamicresources.go PostFilter → getStateData, framework.go
 *   RunPostFilterPlugins). berth reproduces that, so its messages match kube-scheduler's.
 *
 * Pods that do reference ResourceClaims are refused (UnschedulableAndUnresolvable) with a message saying why: berth
 * does not allocate devices.
 */
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import {
  Code,
  type CycleState,
  type FilterPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterOutcome,
  type PreBindPlugin,
  type PreFilterPlugin,
  type ReservePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { formatGoDuration } from '../../kube/duration.js';

export const NAME = 'DynamicResources';
const STATE_KEY = `PreFilter${NAME}`;
export const ERR_REASON_UNSUPPORTED =
  'pod references ResourceClaims; berth does not support dynamic resource allocation (schedule it with kube-scheduler)';
const UNSUPPORTED = Status.unresolvable(ERR_REASON_UNSUPPORTED);
const STATE_NOT_FOUND = Status.error('not found');
const NOTHING_TO_DO = new Status(Code.Unschedulable);

export class DynamicResources implements PreFilterPlugin, FilterPlugin, PostFilterPlugin, ScorePlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;

  preFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    state.write(STATE_KEY, true);
    if ((pod.pod.spec?.resourceClaims?.length ?? 0) > 0) return UNSUPPORTED;
    return SKIP;
  }

  filter(): Status | null {
    return null;
  }

  postFilter(state: CycleState): PostFilterResult {
    return { status: state.read<boolean>(STATE_KEY) ? NOTHING_TO_DO : STATE_NOT_FOUND };
  }

  score(_state: CycleState, _pod: PodInfo, _node: NodeInfo): number {
    return 0;
  }

  /** Without claims there is nothing to allocate or release (upstream returns at once for claim-less pods). */
  reserve(): Status | null {
    return null;
  }

  unreserve(): void {}

  /** No claim to write: upstream's PreBindPreFlight skips claim-less pods. */
  preBindPreFlight(): Status | null {
    return SKIP;
  }

  async preBind(): Promise<Status | null> {
    return null;
  }
}

/**
 * pluginConfig args: DynamicResourcesArgs (filterTimeout, bindingTimeout) are validated as upstream validates them.
 * berth allocates no devices, so nothing reads them: they decode to nothing and `config check` does not print them.
 */
const argsSpec: PluginArgsSpec<undefined> = {
  fields: ['filterTimeout', 'bindingTimeout'],
  defaults: () => undefined,
  decode: (dec, raw, path) => {
    const filterTimeout = dec.duration(raw['filterTimeout'], [...path, 'filterTimeout']);
    if (filterTimeout !== undefined && filterTimeout < 0) {
      dec.error([...path, 'filterTimeout'], `${formatGoDuration(filterTimeout)} must be zero or positive`, 'use 0s to disable the timeout');
    }
    const bindingTimeout = dec.duration(raw['bindingTimeout'], [...path, 'bindingTimeout']);
    if (bindingTimeout !== undefined && bindingTimeout < 1) {
      dec.error([...path, 'bindingTimeout'], `${formatGoDuration(bindingTimeout)} must be at least 1 second`, 'use 1s or more');
    }
    return undefined;
  },
};

export const descriptor = {
  name: NAME,
  points: ['preEnqueue', 'preFilter', 'filter', 'postFilter', 'score', 'reserve', 'preBind'],
  events: [],
  args: argsSpec,
  create: () => new DynamicResources(),
} satisfies PluginDescriptor;
