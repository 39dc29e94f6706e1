/**
 * NodeVolumeLimits (upstream pkg/scheduler/framework/plugins/nodevolumelimits): per-node CSI volume limits published
 * in CSINode objects. berth does not watch CSINode objects; upstream, with no CSINode limits published, passes every
 * node, which is what berth does: the name is accepted and inert.
 */
import type { PluginDescriptor } from '../framework/plugin.js';

export const NAME = 'NodeVolumeLimits';

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'PvcChange', 'PvChange'],
} satisfies PluginDescriptor;
