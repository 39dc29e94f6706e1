/**
 * Test-only: makes one of berth's score plugins score every node 0, to prove that a fidelity scenario depends on
 * that plugin (the harness must then report differences). The harness starts berth through berthEntry.ts with
 * BERTH_FIDELITY_ZERO_SCORE=<plugin>; nothing in src/ knows about it.
 */
import type { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';
import { isScore, type Plugin, type ScorePlugin } from '../../src/scheduler/framework/types.js';

export const ZERO_SCORE_ENV = 'BERTH_FIDELITY_ZERO_SCORE';

/** Score 0 everywhere, and a normalization that keeps it 0 (a reversing one would otherwise turn 0 into 100). */
function zero(plugin: ScorePlugin): void {
  plugin.score = () => 0;
  if (plugin.normalizeScore) {
    plugin.normalizeScore = (_state, _pod, _nodes, scores) => {
      scores.fill(0);
      return null;
    };
  }
}

/** Score plugins of a catalog, by name. */
export function scorePluginNames(catalog: PluginCatalog): string[] {
  return catalog.names.filter((n) => catalog.implements(n, 'score'));
}

/** Wraps `catalog.create` so the named plugin is built with its scores zeroed. Throws for a name that is not a score plugin. */
export function installZeroScore(catalog: PluginCatalog, name: string): void {
  if (!catalog.implements(name, 'score')) {
    throw new Error(`${ZERO_SCORE_ENV}=${name}: not one of berth's score plugins (${scorePluginNames(catalog).join(', ')})`);
  }
  const create = catalog.create.bind(catalog);
  catalog.create = (pluginName, handle, args): Plugin | undefined => {
    const plugin = create(pluginName, handle, args);
    if (plugin && pluginName === name && isScore(plugin)) zero(plugin);
    return plugin;
  };
}
