/**
 * DefaultBinder (upstream plugins/defaultbinder): binds the pod with a Binding through the cluster port — a POST to
 * pods/binding in the live adapter, the in-memory assignment in the simulator. An API error is an Error status
 * with the server's message, which the binding cycle turns into a retry (upstream: "running Bind plugin
 * "DefaultBinder": ...").
 */
import type { PodInfo } from '../cache/podInfo.js';
import type { ClusterPort } from '../ports.js';
import { type BindPlugin, type CycleState, Status } from '../framework/types.js';
import type { PluginDescriptor } from '../framework/plugin.js';

export const NAME = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;

  constructor(private readonly port: Pick<ClusterPort, 'bind'>) {}

  async bind(_state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    const error = await this.port.bind(pod, nodeName, signal);
    return error === null ? null : Status.error(error);
  }
}

export const descriptor = {
  name: NAME,
  points: ['bind'],
  events: [],
  create: (handle) => new DefaultBinder(handle.api),
} satisfies PluginDescriptor;
