/**
 * pluginConfig args, the part common to every plugin: the args object may carry apiVersion and kind (checked here),
 * and every other field belongs to the plugin's args spec (its descriptor's `args`), which decodes, defaults and
 * validates them as upstream does and renders them for `berth config check`.
 */
import type { PluginArgsSpec } from '../scheduler/framework/plugin.js';
import type { Decoder, FieldPath } from './decode.js';

export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';

const META = ['apiVersion', 'kind'];

function checkKindAndVersion(dec: Decoder, raw: Record<string, unknown>, path: FieldPath, plugin: string): void {
  const apiVersion = dec.string(raw['apiVersion'], [...path, 'apiVersion']);
  if (apiVersion !== undefined && apiVersion !== CONFIG_API_VERSION) {
    dec.error([...path, 'apiVersion'], `args apiVersion must be ${CONFIG_API_VERSION}, got "${apiVersion}"`, `remove it or write ${CONFIG_API_VERSION}`);
  }
  const kind = dec.string(raw['kind'], [...path, 'kind']);
  if (kind !== undefined && kind !== `${plugin}Args`) {
    dec.error([...path, 'kind'], `args kind "${kind}" does not match plugin "${plugin}"`, `remove kind or write ${plugin}Args`);
  }
}

/**
 * Decodes, defaults and validates one plugin's args (`value` undefined or null means "defaults") and stores them in
 * `into` under the plugin's name. Args that are not a mapping are reported and leave `into` as it was.
 */
export function decodePluginArgs(
  dec: Decoder,
  plugin: string,
  spec: PluginArgsSpec<unknown>,
  value: unknown,
  path: FieldPath,
  into: Map<string, unknown>,
): void {
  const raw = dec.object(value ?? {}, path, [...META, ...spec.fields], `${plugin} args`);
  if (raw === undefined) return;
  checkKindAndVersion(dec, raw, path, plugin);
  into.set(plugin, spec.decode(dec, raw, path));
}

/**
 * One plugin's args as a v1 object (apiVersion, kind, then the defaulted fields) for the effective configuration;
 * undefined when the spec does not render (args berth validates but does not use).
 */
export function renderPluginArgs(plugin: string, spec: PluginArgsSpec<unknown>, args: unknown): Record<string, unknown> | undefined {
  if (spec.render === undefined) return undefined;
  return { apiVersion: CONFIG_API_VERSION, kind: `${plugin}Args`, ...spec.render(args) };
}
