/**
 * SchedulingGates (upstream pkg/scheduler/framework/plugins/schedulinggates): holds back pods with
 * spec.schedulingGates. berth's scheduling queue keeps gated pods aside (src/scheduler/queue/queue.ts), so the name
 * is accepted in a configuration but has no plugin instance.
 */
import type { PluginDescriptor } from '../framework/plugin.js';

export const NAME = 'SchedulingGates';

export const descriptor = {
  name: NAME,
  points: ['preEnqueue'],
  events: [],
} satisfies PluginDescriptor;
