/**
 * The plugins a scheduler knows, by name, built from their descriptors (plugin.ts). The configuration loader checks
 * names, expands multiPoint and decodes args with it; the framework builds plugins from it; the queue reads which
 * events each plugin waits for. berth's own plugins are IN_TREE_CATALOG (src/scheduler/plugins/inTree.ts); tests
 * and embedders build catalogs with more.
 */
import type { EventInterest, ExtensionPoint, PluginArgsSpec, PluginDescriptor } from './plugin.js';
import type { FrameworkHandle, Plugin } from './types.js';

export class PluginCatalog {
  private readonly byName = new Map<string, PluginDescriptor<unknown>>();
  private readonly interests = new Map<string, readonly EventInterest[]>();
  /** Every plugin name, in the order the descriptors were given. */
  readonly names: readonly string[];

  /** Descriptors in the order names are listed in messages; a name given twice is an error. */
  constructor(descriptors: readonly PluginDescriptor<unknown>[]) {
    for (const descriptor of descriptors) {
      if (this.byName.has(descriptor.name)) throw new Error(`plugin catalog: duplicate plugin name "${descriptor.name}"`);
      this.byName.set(descriptor.name, descriptor);
      this.interests.set(
        descriptor.name,
        descriptor.events.map((e) => (typeof e === 'string' ? { event: e } : e)),
      );
    }
    this.names = [...this.byName.keys()];
  }

  /** Every descriptor, in order (to build a catalog with more). */
  descriptors(): PluginDescriptor<unknown>[] {
    return [...this.byName.values()];
  }

  get(name: string): PluginDescriptor<unknown> | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** True when the plugin is known and implements `point`. */
  implements(name: string, point: ExtensionPoint): boolean {
    return this.byName.get(name)?.points.includes(point) ?? false;
  }

  /** The extension points of a known plugin; undefined for an unknown name. */
  pointsOf(name: string): readonly ExtensionPoint[] | undefined {
    return this.byName.get(name)?.points;
  }

  /** The events that can make a pod the plugin rejected schedulable, with their hints; undefined for an unknown name. */
  eventsOf(name: string): readonly EventInterest[] | undefined {
    return this.interests.get(name);
  }

  /** The plugin's args spec; undefined when it takes no args or is unknown. */
  argsSpecOf(name: string): PluginArgsSpec<unknown> | undefined {
    return this.byName.get(name)?.args;
  }

  /** The default args of every plugin that takes args, by name: what a profile without pluginConfig uses. */
  defaultArgs(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [name, descriptor] of this.byName) if (descriptor.args) out.set(name, descriptor.args.defaults());
    return out;
  }

  /**
   * Builds the plugin with `args`, which must be what its args spec decoded (or defaulted). Undefined when the
   * catalog cannot build it: an unknown name, or a plugin without `create` (carried out elsewhere, or inert).
   */
  create(name: string, handle: FrameworkHandle, args: unknown): Plugin | undefined {
    return this.byName.get(name)?.create?.(handle, args);
  }
}
