/**
 * What a plugin declares about itself, in one place: its name, the extension points it implements, the cluster
 * events that can make a pod it rejected schedulable, its pluginConfig args (decoding, defaulting, validation,
 * rendering) and how to build it. berth's tables of plugins (the configuration loader's names, multiPoint expansion
 * and args; the framework's instances; the queue's retry decisions) are all derived from a list of these descriptors
 * through a PluginCatalog (pluginCatalog.ts).
 */
import type { ClusterEventKind, ExtensionPoint } from '../plugins/catalog.js';
import type { PodInfo } from '../cache/podInfo.js';
import type { FrameworkHandle, Plugin } from './types.js';

export type { ClusterEventKind, ExtensionPoint } from '../plugins/catalog.js';

/** Where a value sits in the configuration document: keys and list indices from the top, for located messages. */
export type FieldPath = ReadonlyArray<string | number>;

/**
 * The strict decoder args decoders read their raw values with. Each reader returns undefined for an absent (null
 * or undefined) value, and also for a value of the wrong type after reporting it; decoders then go on, so that one
 * load reports every problem of a file at once.
 */
export interface ArgsDecoder {
  /** Reports a problem at `path`: what is wrong, and what to do about it. */
  error(path: FieldPath, message: string, hint?: string): void;
  /** A mapping; keys outside `known` are reported as unknown fields. `what` names the value in messages. */
  object(value: unknown, path: FieldPath, known: readonly string[], what?: string): Record<string, unknown> | undefined;
  array(value: unknown, path: FieldPath): unknown[] | undefined;
  string(value: unknown, path: FieldPath): string | undefined;
  /** A finite number (a Go float64 field such as a margin). */
  number(value: unknown, path: FieldPath): number | undefined;
  /** An integer within Go's int32 (default) or int64 range. */
  integer(value: unknown, path: FieldPath, bits?: 32 | 64): number | undefined;
  boolean(value: unknown, path: FieldPath): boolean | undefined;
  /** A Go duration string such as "15s"; returns seconds. */
  duration(value: unknown, path: FieldPath): number | undefined;
}

/** A plugin's pluginConfig args (upstream's <Name>Args kind): typed value `A`, decoded and defaulted as upstream. */
export interface PluginArgsSpec<A> {
  /**
   * The arg fields besides apiVersion and kind (the configuration loader checks those two for every plugin).
   * Any other field is an unknown-field error, as upstream decodes strictly.
   */
  readonly fields: readonly string[];
  /** The args a profile uses when it has no pluginConfig entry for the plugin (a fresh value on every call). */
  defaults(): A;
  /**
   * Decodes `raw` (a mapping whose fields the loader has already checked against `fields`), applies upstream's
   * defaulting and upstream's validation, and returns the args. Problems are reported through `dec.error` at their
   * field path under `path`; the returned value is then never used, so it only needs to be well-typed.
   */
  decode(dec: ArgsDecoder, raw: Record<string, unknown>, path: FieldPath): A;
  /**
   * The args as the fields of a v1 args object, for `berth config check` (apiVersion and kind are added by the
   * loader). Without it the args are validated but not printed.
   */
  render?(args: A): Record<string, unknown>;
}

/**
 * A change in the cluster, as a queueing hint sees it: the kind of event and, where the adapter has them, the
 * object before and after (Node, Pod, PersistentVolume, ... as the API serves them, trimmed to what berth reads).
 * An add has no oldObject, a delete no newObject.
 */
export interface ClusterEvent {
  readonly kind: ClusterEventKind;
  readonly oldObject?: unknown;
  readonly newObject?: unknown;
}

/**
 * Upstream's QueueingHint: 'Queue' when the event may make the pod the plugin rejected schedulable (it is retried),
 * 'Skip' when it certainly does not (it keeps waiting). A hint that throws counts as 'Queue', as upstream treats a
 * hint's error, so a faulty hint can delay nothing.
 */
export type QueueingHint = 'Queue' | 'Skip';
export type QueueingHintFn = (pod: PodInfo, event: ClusterEvent) => QueueingHint;

/** An event a plugin waits for, with an optional hint that looks at the change before the pod is retried. */
export interface EventInterest {
  readonly event: ClusterEventKind;
  readonly hint?: QueueingHintFn;
}

/**
 * An API write a plugin makes through its handle (`handle.api.write`), or a read of a single object
 * (`handle.api.read`, verb get): RBAC is derived from these.
 */
export interface ApiWriteGrant {
  /** The API group ('' for core/v1). */
  readonly group: string;
  /** The plural resource, e.g. persistentvolumeclaims. */
  readonly resource: string;
  readonly verbs: readonly ('create' | 'update' | 'patch' | 'delete' | 'get')[];
}

/**
 * Everything berth knows of one plugin name. `A` is the type of its decoded args (undefined when it takes none).
 *
 * `create` and `render` are declared as methods so that a descriptor of any `A` fits a list of
 * `PluginDescriptor<unknown>`: the catalog only ever hands a descriptor the args its own `args` spec produced.
 */
export interface PluginDescriptor<A = undefined> {
  /** The upstream plugin name, as written in a KubeSchedulerConfiguration. */
  readonly name: string;
  /** The extension points it implements: where multiPoint enables it and where it may be enabled by name. */
  readonly points: readonly ExtensionPoint[];
  /**
   * The cluster events that can make a pod this plugin rejected schedulable: the queue retries the pod on these
   * (on an event with a hint, only when the hint says 'Queue').
   */
  readonly events: readonly (ClusterEventKind | EventInterest)[];
  /** The API writes it makes in PreBind (berth's ClusterRole grants exactly these, besides the core's own). */
  readonly apiWrites?: readonly ApiWriteGrant[];
  /** Its pluginConfig args; absent when the plugin takes none (then only apiVersion/kind may be configured). */
  readonly args?: PluginArgsSpec<A>;
  /**
   * Builds the plugin for one profile, with the profile's decoded args. Absent for names berth accepts in a
   * configuration but carries out elsewhere (the queue does PrioritySort and SchedulingGates) or that have no
   * effect in berth's environment: the framework lists those as inert.
   */
  create?(handle: FrameworkHandle, args: A): Plugin;
}
