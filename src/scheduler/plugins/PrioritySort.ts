/**
 * PrioritySort (upstream pkg/scheduler/framework/plugins/queuesort): orders the active queue by priority, then
 * enqueue time. berth's scheduling queue orders that way itself (src/scheduler/queue/queue.ts), so the name is
 * accepted in a configuration but has no plugin instance.
 */
import type { PluginDescriptor } from '../framework/plugin.js';

export const NAME = 'PrioritySort';

export const descriptor = {
  name: NAME,
  points: ['queueSort'],
  events: [],
} satisfies PluginDescriptor;
