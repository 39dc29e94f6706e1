/**
 * Small builders for nodes, pods and profiles used across the unit tests.
 */
import type { Container, Node, Pod, PodSpec, Taint } from '../../src/kube/api.js';
import { ClusterState } from '../../src/scheduler/cache/clusterState.js';
import { PodInfo } from '../../src/scheduler/cache/podInfo.js';
import { defaultSchedulerConfig } from '../../src/config/index.js';
import type { ProfileConfig } from '../../src/config/types.js';
import { CLUSTER_EVENT_KINDS, EXTENSION_POINTS, type ExtensionPoint } from '../../src/scheduler/plugins/catalog.js';
import { MemoryPort } from '../../src/adapters/simulator/memoryPort.js';
import type { Clock } from '../../src/scheduler/clock.js';
import { Framework } from '../../src/scheduler/framework/framework.js';
import type { FrameworkHandle, Plugin } from '../../src/scheduler/framework/types.js';
import type { PluginDescriptor } from '../../src/scheduler/framework/plugin.js';
import { PluginCatalog } from '../../src/scheduler/framework/pluginCatalog.js';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

export function makeNode(name: string, opts: NodeOptions = {}): Node {
  const allocatable: Record<string, string> = {
    cpu: opts.cpu ?? '4',
    memory: opts.memory ?? '32Gi',
    pods: opts.pods ?? '110',
    ...(opts.extra ?? {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { allocatable, capacity: allocatable, images: opts.images ?? [] },
  };
}

export interface PodOptions {
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  image?: string;
  nodeName?: string;
  priority?: number;
  created?: string;
  spec?: Partial<PodSpec>;
  containers?: Container[];
}

let counter = 0;

export function makePod(name: string, opts: PodOptions = {}): Pod {
  counter += 1;
  const requests: Record<string, string> = { ...(opts.requests ?? {}) };
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  const containers: Container[] = opts.containers ?? [
    { name: 'main', image: opts.image ?? 'registry.k8s.io/pause:3.10', resources: { requests } },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${name}-${counter}`,
      labels: opts.labels ?? {},
      creationTimestamp: opts.created ?? new Date(Date.UTC(2026, 0, 1, 0, 0, counter % 60)).toISOString(),
    },
    spec: {
      schedulerName: 'default-scheduler',
      containers,
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.spec ?? {}),
    },
  };
}

export function podInfo(name: string, opts: PodOptions = {}): PodInfo {
  return new PodInfo(makePod(name, opts));
}

/** A cluster with the given nodes and assigned pods (each pod must carry nodeName). */
export function makeCluster(nodes: Node[], assignedPods: Pod[] = []): ClusterState {
  const cluster = new ClusterState();
  for (const n of nodes) cluster.upsertNode(n);
  for (const p of assignedPods) cluster.upsertAssignedPod(p);
  return cluster;
}

/**
 * A profile with no plugins resolved; tests fill in the points they need. Plugin args are the configuration
 * loader's upstream defaults for every in-tree plugin (a fresh copy per call, so tests may replace entries).
 */
export function emptyProfile(overrides: Partial<ProfileConfig> = {}): ProfileConfig {
  const plugins = Object.fromEntries(EXTENSION_POINTS.map((p) => [p, []])) as unknown as ProfileConfig['plugins'];
  const defaults = defaultSchedulerConfig().profiles[0] as ProfileConfig;
  return {
    schedulerName: 'default-scheduler',
    percentageOfNodesToScore: undefined,
    plugins,
    pluginArgs: structuredClone(defaults.pluginArgs),
    ...overrides,
  };
}

/** A clock for tests: time moves only when advanced; sleeps resolve at once (no test waits on real time here). */
export function fixedClock(now = 0): Clock {
  return { now: () => now, sleep: async () => {} };
}

/**
 * A framework handle over `cluster` for plugin tests: the profile's plugins from `plugins` (none by default),
 * a fixed clock and the simulator's in-memory port.
 */
export function makeHandle(
  cluster: ClusterState,
  profile: ProfileConfig = emptyProfile(),
  plugins: PluginCatalog = new PluginCatalog([]),
): FrameworkHandle {
  return makeFramework(cluster, profile, plugins).handle;
}

/** A framework for `profile` over `cluster`, with a fixed clock and the simulator's in-memory port. */
export function makeFramework(cluster: ClusterState, profile: ProfileConfig, plugins: PluginCatalog): Framework {
  return new Framework(profile, { cluster, plugins, clock: fixedClock(), api: new MemoryPort(cluster) });
}

/**
 * A descriptor whose create always returns `plugin` (a hand-made test plugin, or a stand-in for an in-tree one).
 * Its points and events come from `facts` (pass an in-tree descriptor to stand in for that plugin); without events
 * it waits for every cluster event, as the queue treats a plugin it does not know.
 */
export function testDescriptor(
  plugin: Plugin,
  facts: { points?: readonly ExtensionPoint[]; events?: PluginDescriptor['events'] } = {},
): PluginDescriptor {
  return { name: plugin.name, points: facts.points ?? [], events: facts.events ?? CLUSTER_EVENT_KINDS, create: () => plugin };
}

/** One plugin's decoded args in a profile, typed by the plugin's descriptor. */
export function pluginArgsOf<A>(profile: ProfileConfig, descriptor: PluginDescriptor<A>): A {
  return profile.pluginArgs.get(descriptor.name) as A;
}

/** Builds a plugin from its descriptor, as the framework does: with `args`, else the plugin's default args. */
export function createPlugin<A>(descriptor: PluginDescriptor<A>, handle: FrameworkHandle, args?: A): Plugin {
  if (!descriptor.create) throw new Error(`plugin ${descriptor.name} has no create: berth carries it out elsewhere`);
  // A descriptor without an args spec takes undefined args.
  return descriptor.create(handle, args ?? (descriptor.args?.defaults() as A));
}
