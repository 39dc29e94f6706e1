import { describe, expect, it } from 'vitest';
import type { PluginDescriptor } from '../../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../../src/scheduler/framework/pluginCatalog.js';
import type { FilterPlugin, FrameworkHandle } from '../../../src/scheduler/framework/types.js';

interface LimitArgs {
  limit: number;
}

const withArgs: PluginDescriptor<LimitArgs> = {
  name: 'Limited',
  points: ['preFilter', 'filter'],
  events: ['NodeAdd'],
  args: {
    fields: ['limit'],
    defaults: () => ({ limit: 3 }),
    decode: (dec, raw, path) => ({ limit: dec.integer(raw['limit'], [...path, 'limit']) ?? 3 }),
  },
  create: (_handle, args): FilterPlugin => ({ name: `Limited(${args.limit})`, filter: () => null }),
};

const elsewhere: PluginDescriptor = { name: 'Elsewhere', points: ['queueSort'], events: [] };

const handle = {} as FrameworkHandle;

describe('PluginCatalog', () => {
  const catalog = new PluginCatalog([withArgs, elsewhere]);

  it('lists names in the order given and looks descriptors up by name', () => {
    expect(catalog.names).toEqual(['Limited', 'Elsewhere']);
    expect(catalog.has('Limited')).toBe(true);
    expect(catalog.has('Nope')).toBe(false);
    expect(catalog.get('Elsewhere')).toBe(elsewhere);
  });

  it('answers points and events, undefined for unknown names', () => {
    expect(catalog.implements('Limited', 'filter')).toBe(true);
    expect(catalog.implements('Limited', 'score')).toBe(false);
    expect(catalog.implements('Nope', 'filter')).toBe(false);
    expect(catalog.pointsOf('Limited')).toEqual(['preFilter', 'filter']);
    expect(catalog.pointsOf('Nope')).toBeUndefined();
    expect(catalog.eventsOf('Limited')).toEqual([{ event: 'NodeAdd' }]);
    expect(catalog.eventsOf('Elsewhere')).toEqual([]);
    expect(catalog.eventsOf('Nope')).toBeUndefined();
  });

  it('gives args specs and the default args of the plugins that take args', () => {
    expect(catalog.argsSpecOf('Limited')).toBe(withArgs.args);
    expect(catalog.argsSpecOf('Elsewhere')).toBeUndefined();
    expect(catalog.defaultArgs()).toEqual(new Map([['Limited', { limit: 3 }]]));
  });

  it('creates plugins with their args; none for plugins without create or unknown names', () => {
    expect(catalog.create('Limited', handle, { limit: 7 })?.name).toBe('Limited(7)');
    expect(catalog.create('Elsewhere', handle, undefined)).toBeUndefined();
    expect(catalog.create('Nope', handle, undefined)).toBeUndefined();
  });

  it('refuses a name given twice', () => {
    expect(() => new PluginCatalog([elsewhere, withArgs, { ...elsewhere }])).toThrow('duplicate plugin name "Elsewhere"');
  });
});
