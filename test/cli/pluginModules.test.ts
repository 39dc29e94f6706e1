import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPluginModules, PluginModuleError } from '../../src/cli/pluginModules.js';
import { main } from '../../src/cli/main.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';

/** Writes plugin modules (plain JavaScript, as a built plugin is) into a fresh folder; returns the folder. */
function modules(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-plugins-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const GOOD = `export const descriptor = { name: 'Good', points: ['filter'], events: ['NodeAdd'], create: () => ({ name: 'Good', filter: () => null }) };`;

async function loadError(dir: string, spec: string): Promise<string> {
  try {
    await loadPluginModules([spec], IN_TREE_CATALOG, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginModuleError);
    return (err as Error).message;
  }
  throw new Error('expected a PluginModuleError');
}

describe('--plugins: loading modules', () => {
  it('loads descriptor, descriptors and default exports, by path relative to the working folder', async () => {
    const dir = modules({
      'one.mjs': GOOD,
      'many.mjs': `export const descriptors = [
        { name: 'A', points: ['score'], events: [], create: () => ({ name: 'A', score: () => 1 }) },
        { name: 'B', points: ['filter'], events: [{ event: 'NodeUpdate', hint: () => 'Queue' }], create: () => ({ name: 'B', filter: () => null }) },
      ];`,
      'default.mjs': `export default { name: 'C', points: ['reserve'], events: [], create: () => ({ name: 'C', reserve: () => null, unreserve() {} }) };`,
    });
    const loaded = await loadPluginModules(['./one.mjs', './many.mjs', join(dir, 'default.mjs')], IN_TREE_CATALOG, dir);
    expect(loaded.map((d) => d.name)).toEqual(['Good', 'A', 'B', 'C']);
  });

  it('says which module, descriptor and field is wrong, with what to do', async () => {
    const dir = modules({
      'none.mjs': 'export const notAPlugin = 1;',
      'typo.mjs': `export const descriptor = { name: 'T', points: ['fliter'], events: [], create: () => ({}) };`,
      'queue.mjs': `export const descriptor = { name: 'Q', points: ['queueSort'], events: [], create: () => ({}) };`,
      'event.mjs': `export const descriptor = { name: 'E', points: ['filter'], events: ['NodeAdded'], create: () => ({}) };`,
      'noCreate.mjs': `export const descriptor = { name: 'N', points: ['filter'], events: [] };`,
      'badName.mjs': `export const descriptor = { name: 'has space', points: ['filter'], events: [], create: () => ({}) };`,
      'clash.mjs': `export const descriptor = { name: 'NodeAffinity', points: ['filter'], events: [], create: () => ({}) };`,
      'args.mjs': `export const descriptor = { name: 'Ar', points: ['filter'], events: [], args: { fields: ['x'], defaults: () => { throw new Error('no default'); }, decode: () => ({}) }, create: () => ({}) };`,
      'syntax.mjs': 'export const descriptor = {',
    });
    expect(await loadError(dir, './none.mjs')).toBe(
      '--plugins ./none.mjs: the module exports no plugin descriptor; export one as "descriptor" (or a list as "descriptors", or either as the default export)',
    );
    expect(await loadError(dir, './typo.mjs')).toContain('--plugins ./typo.mjs: descriptor.points[0]: unknown extension point "fliter"; did you mean "filter"?');
    expect(await loadError(dir, './queue.mjs')).toBe("--plugins ./queue.mjs: descriptor.points[0]: berth's queue does queueSort itself (PrioritySort, SchedulingGates); a loaded plugin cannot");
    expect(await loadError(dir, './event.mjs')).toContain('descriptor.events[0]: unknown cluster event "NodeAdded"; did you mean "NodeAdd"?');
    expect(await loadError(dir, './noCreate.mjs')).toBe('--plugins ./noCreate.mjs: descriptor.create: expected a function (handle, args) => plugin, got undefined');
    expect(await loadError(dir, './badName.mjs')).toContain('descriptor.name: expected a plugin name');
    expect(await loadError(dir, './clash.mjs')).toBe('--plugins ./clash.mjs: descriptor.name: "NodeAffinity" is a plugin berth already has; give yours another name');
    expect(await loadError(dir, './args.mjs')).toBe('--plugins ./args.mjs: descriptor.args.defaults: threw: no default');
    expect(await loadError(dir, './syntax.mjs')).toMatch(/^--plugins \.\/syntax\.mjs: the module failed to load: /);
    expect(await loadError(dir, './missing.mjs')).toMatch(/^--plugins \.\/missing\.mjs: no such file \(/);
    expect(await loadError(dir, 'berth-plugin-that-is-not-installed')).toBe(
      '--plugins berth-plugin-that-is-not-installed: no such package; install it (npm install berth-plugin-that-is-not-installed) or pass a path to its built .js file',
    );
  });

  it('a name defined by two modules is an error naming both', async () => {
    const dir = modules({ 'a.mjs': GOOD, 'b.mjs': GOOD });
    await expect(loadPluginModules(['./a.mjs', './b.mjs'], IN_TREE_CATALOG, dir)).rejects.toThrow(
      '--plugins ./b.mjs: descriptor.name: "Good" is also defined by --plugins ./a.mjs',
    );
  });
});

describe('--plugins on the command line', () => {
  function capture() {
    const out: string[] = [];
    return { out, write: (s: string) => void out.push(s) };
  }

  it('config check validates a loaded plugin like an in-tree one: enabled by name, unknown names still exit 2', async () => {
    const dir = modules({
      'good.mjs': GOOD,
      'config.yaml': 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n  - schedulerName: berth\n    plugins:\n      filter:\n        enabled: [{name: Good}]\n',
    });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const ok = capture();
      expect(await main(['config', 'check', 'config.yaml', '--plugins', './good.mjs'], ok.write)).toBe(0);
      expect(ok.out.join('')).toContain('- name: Good');
      // Without --plugins the name is unknown: exit 2 (the message goes to stderr).
      expect(await main(['config', 'check', 'config.yaml'], capture().write)).toBe(2);
      // A module that cannot be loaded: exit 2 too.
      expect(await main(['config', 'check', 'config.yaml', '--plugins', './nope.mjs'], capture().write)).toBe(2);
    } finally {
      process.chdir(cwd);
    }
  });
});
