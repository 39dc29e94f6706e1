// --plugins in the fidelity harness: modules are checked as berth checks them, and upstream's configuration loses
// every mention of the loaded plugins (and nothing else).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PluginModuleError } from '../../src/cli/pluginModules.js';
import { loadUserPlugins, withoutPlugins } from '../../tools/fidelity/userPlugins.js';

describe('withoutPlugins', () => {
  const config = {
    profiles: [
      {
        schedulerName: 'x',
        plugins: {
          multiPoint: { enabled: [{ name: 'PreferNodeLabel', weight: 5 }, { name: 'ImageLocality', weight: 2 }] },
          score: { disabled: [{ name: 'PreferNodeLabel' }, { name: 'NodeResourcesBalancedAllocation' }] },
          filter: { enabled: [{ name: 'PreferNodeLabel' }] },
        },
        pluginConfig: [
          { name: 'PreferNodeLabel', args: { label: 'a' } },
          { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } },
        ],
      },
    ],
  };

  it('removes the named plugins from every set and from pluginConfig, keeping the rest as it was', () => {
    const out = withoutPlugins(config, new Set(['PreferNodeLabel']));
    expect(out).toEqual({
      profiles: [
        {
          schedulerName: 'x',
          plugins: {
            multiPoint: { enabled: [{ name: 'ImageLocality', weight: 2 }] },
            score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] },
            filter: { enabled: [] },
          },
          pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }],
        },
      ],
    });
    // The scenario's own configuration is left alone (berth runs it as written).
    expect(config.profiles[0]!.plugins.multiPoint.enabled).toHaveLength(2);
  });

  it('is the identity without names', () => {
    expect(withoutPlugins(config, new Set())).toBe(config);
  });
});

describe('loadUserPlugins', () => {
  const example = join(import.meta.dirname, '..', '..', 'examples', 'plugins', 'prefer-node-label', 'index.ts');

  it('gives berth absolute module paths and upstream the descriptors\' names', async () => {
    const cwd = join(import.meta.dirname, '..', '..');
    const p = await loadUserPlugins(['./examples/plugins/prefer-node-label/index.ts'], cwd);
    expect(p.modules).toEqual([example]);
    expect([...p.names]).toEqual(['PreferNodeLabel']);
  });

  it('refuses a module that is not a plugin before anything starts', async () => {
    await expect(loadUserPlugins([join(import.meta.dirname, '..', '..', 'src', 'kube', 'quantity.ts')])).rejects.toBeInstanceOf(PluginModuleError);
  });
});
