/**
 * NodeDeclaredFeatures (upstream, feature gate NodeDeclaredFeatures): matches the node features a
 * pod needs against those its node declares. Upstream skips pods that need no declared node features (all but a few
 * alpha features); berth does not read node-declared features, so the name is accepted and inert.
 */
import type { PluginDescriptor } from '../framework/plugin.js';

export const NAME = 'NodeDeclaredFeatures';

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter'],
  events: ['NodeAdd', 'NodeUpdate'],
} satisfies PluginDescriptor;
