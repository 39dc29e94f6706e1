/**
 * Fidelity scenario files (YAML; see fidelity/README.md): nodes, optional existing pods and other objects, an
 * optional KubeSchedulerConfiguration, and the pods to schedule one after another. Validated up front so a bad
 * file is reported (file and field) before any control plane starts.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Node, Pod } from '../../src/kube/api.js';
import { SUPPORTED_KINDS } from './kube.js';

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'ScenarioError';
  }
}

export interface ScenarioNode {
  name: string;
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  images: Array<{ names: string[]; sizeBytes: number }>;
  unschedulable: boolean;
}

export interface ScenarioNamespace {
  name: string;
  labels: Record<string, string>;
}

export interface Scenario {
  file: string;
  name: string;
  description: string;
  /** KubeSchedulerConfiguration object (possibly empty: upstream defaults). */
  config: Record<string, unknown>;
  namespaces: ScenarioNamespace[];
  nodes: ScenarioNode[];
  /** Other objects created before any pod, again for each scheduler (SUPPORTED_KINDS in kube.ts). */
  objects: Array<Record<string, unknown>>;
  /** Pods bound up front (spec.nodeName set); a `status` is written through the status subresource. */
  existingPods: Pod[];
  /** Pods scheduled in order; each waits for its first outcome before the next is created. */
  pods: Pod[];
  /** Keys ("namespace/name") of pods expected to reach no outcome at all (neither bound nor PodScheduled=False). */
  expectPending: ReadonlySet<string>;
  /**
   * Run kube-controller-manager's PersistentVolume controllers and the test provisioner (berth.dev/local-path) with
   * each scheduler: the other half of the volume-binding handshake (WaitForFirstConsumer provisioning, binding).
   */
  volumeControllers: boolean;
  /** Seconds to wait after the last pod before reading final placements (pods retried after a failure). */
  settleSeconds: number;
}

export const DEFAULT_IMAGE = 'registry.k8s.io/pause:3.10';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(file: string, field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new ScenarioError(file, field, 'expected a mapping of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') {
      throw new ScenarioError(file, `${field}.${k}`, 'expected a string or number');
    }
    out[k] = String(val);
  }
  return out;
}

function list(file: string, field: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ScenarioError(file, field, 'expected a list');
  return v;
}

const NODE_KEYS = new Set(['name', 'capacity', 'allocatable', 'labels', 'taints', 'images', 'unschedulable']);

function parseNode(file: string, field: string, v: unknown): ScenarioNode {
  if (!isRecord(v)) throw new ScenarioError(file, field, 'expected a node mapping');
  for (const k of Object.keys(v)) {
    if (!NODE_KEYS.has(k)) throw new ScenarioError(file, `${field}.${k}`, `unknown field (known: ${[...NODE_KEYS].join(', ')})`);
  }
  if (typeof v['name'] !== 'string' || v['name'] === '') throw new ScenarioError(file, `${field}.name`, 'required');
  const capacity: Record<string, string> = { pods: '110', ...stringMap(file, `${field}.capacity`, v['capacity']) };
  if (capacity['cpu'] === undefined || capacity['memory'] === undefined) {
    throw new ScenarioError(file, `${field}.capacity`, 'cpu and memory are required');
  }
  const taints = list(file, `${field}.taints`, v['taints']).map((t, i) => {
    const f = `${field}.taints[${i}]`;
    if (!isRecord(t) || typeof t['key'] !== 'string' || typeof t['effect'] !== 'string') {
      throw new ScenarioError(file, f, 'expected {key, value?, effect}');
    }
    return { key: t['key'], ...(t['value'] !== undefined ? { value: String(t['value']) } : {}), effect: t['effect'] };
  });
  const images = list(file, `${field}.images`, v['images']).map((im, i) => {
    const f = `${field}.images[${i}]`;
    if (!isRecord(im) || !Array.isArray(im['names']) || typeof im['sizeBytes'] !== 'number') {
      throw new ScenarioError(file, f, 'expected {names: [..], sizeBytes: N}');
    }
    return { names: im['names'].map(String), sizeBytes: im['sizeBytes'] };
  });
  return {
    name: v['name'],
    capacity,
    allocatable: { ...capacity, ...stringMap(file, `${field}.allocatable`, v['allocatable']) },
    labels: { 'kubernetes.io/hostname': v['name'], ...stringMap(file, `${field}.labels`, v['labels']) },
    taints,
    images,
    unschedulable: v['unschedulable'] === true,
  };
}

/** Fills what every pod needs: kind, namespace, container names and images, no termination grace. */
function normalizePod(file: string, field: string, v: unknown): Pod {
  if (!isRecord(v)) throw new ScenarioError(file, field, 'expected a Pod manifest');
  const pod = structuredClone(v);
  pod['apiVersion'] = 'v1';
  pod['kind'] = 'Pod';
  const meta = pod['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string') throw new ScenarioError(file, `${field}.metadata.name`, 'required');
  meta['namespace'] ??= 'default';
  const spec = pod['spec'];
  if (!isRecord(spec)) throw new ScenarioError(file, `${field}.spec`, 'required');
  if (!Array.isArray(spec['containers']) || spec['containers'].length === 0) {
    throw new ScenarioError(file, `${field}.spec.containers`, 'at least one container is required');
  }
  const fill = (cs: unknown, prefix: string): void => {
    (Array.isArray(cs) ? cs : []).forEach((c, i) => {
      if (!isRecord(c)) throw new ScenarioError(file, `${field}.spec.${prefix}[${i}]`, 'expected a container');
      c['name'] ??= `${prefix === 'containers' ? 'c' : 'init'}${i}`;
      c['image'] ??= DEFAULT_IMAGE;
    });
  };
  fill(spec['containers'], 'containers');
  fill(spec['initContainers'], 'initContainers');
  spec['terminationGracePeriodSeconds'] ??= 0;
  return pod as Pod;
}

/** Takes the harness's own `expectPending` key off a pod entry (it is no Pod field). */
function takeExpectPending(file: string, field: string, v: unknown): { entry: unknown; expectPending: boolean } {
  if (!isRecord(v) || v['expectPending'] === undefined) return { entry: v, expectPending: false };
  if (typeof v['expectPending'] !== 'boolean') throw new ScenarioError(file, `${field}.expectPending`, 'expected true or false');
  const { expectPending, ...entry } = v;
  return { entry, expectPending: expectPending === true };
}

function parseObject(file: string, field: string, o: unknown): Record<string, unknown> {
  if (!isRecord(o) || typeof o['kind'] !== 'string' || !isRecord(o['metadata']) || typeof o['metadata']['name'] !== 'string') {
    throw new ScenarioError(file, field, 'expected a Kubernetes object with kind and metadata.name');
  }
  if (!SUPPORTED_KINDS.includes(o['kind']) || ['Pod', 'Node', 'Namespace'].includes(o['kind'])) {
    const kinds = SUPPORTED_KINDS.filter((k) => !['Pod', 'Node', 'Namespace'].includes(k));
    throw new ScenarioError(file, `${field}.kind`, `${o['kind']} is not supported here (objects: ${kinds.join(', ')}; pods, nodes and namespaces have their own lists)`);
  }
  return o;
}

/** Loads and validates one scenario file (any path). */
export function loadScenario(path: string): Scenario {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(path, 'file', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ScenarioError(path, 'YAML', (err as Error).message.split('\n')[0] ?? 'malformed');
  }
  if (!isRecord(doc)) throw new ScenarioError(path, 'document', 'expected a mapping');
  const known = new Set(['name', 'description', 'config', 'configFile', 'namespaces', 'nodes', 'objects', 'existingPods', 'pods', 'settleSeconds', 'volumeControllers']);
  for (const k of Object.keys(doc)) {
    if (!known.has(k)) throw new ScenarioError(path, k, `unknown field (known: ${[...known].join(', ')})`);
  }
  let config: Record<string, unknown> = {};
  if (doc['config'] !== undefined && doc['configFile'] !== undefined) throw new ScenarioError(path, 'config', 'give config or configFile, not both');
  if (doc['config'] !== undefined) {
    if (!isRecord(doc['config'])) throw new ScenarioError(path, 'config', 'expected a KubeSchedulerConfiguration mapping');
    config = doc['config'];
  } else if (doc['configFile'] !== undefined) {
    if (typeof doc['configFile'] !== 'string') throw new ScenarioError(path, 'configFile', 'expected a path');
    const cfgPath = resolve(dirname(file), doc['configFile']);
    let parsed: unknown;
    try {
      parsed = parse(readFileSync(cfgPath, 'utf8'));
    } catch (err) {
      throw new ScenarioError(path, 'configFile', `${cfgPath}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!isRecord(parsed)) throw new ScenarioError(path, 'configFile', `${cfgPath}: expected a KubeSchedulerConfiguration`);
    config = parsed;
  }
  const nodes = list(path, 'nodes', doc['nodes']).map((n, i) => parseNode(path, `nodes[${i}]`, n));
  if (nodes.length === 0) throw new ScenarioError(path, 'nodes', 'at least one node is required');
  const nodeNames = new Set<string>();
  for (const n of nodes) {
    if (nodeNames.has(n.name)) throw new ScenarioError(path, 'nodes', `node "${n.name}" appears twice`);
    nodeNames.add(n.name);
  }
  const existingPods = list(path, 'existingPods', doc['existingPods']).map((p, i) => {
    const pod = normalizePod(path, `existingPods[${i}]`, p);
    if (!pod.spec?.nodeName || !nodeNames.has(pod.spec.nodeName)) {
      throw new ScenarioError(path, `existingPods[${i}].spec.nodeName`, 'must name one of the nodes');
    }
    return pod;
  });
  const expectPending = new Set<string>();
  const pods = list(path, 'pods', doc['pods']).map((p, i) => {
    const { entry, expectPending: pending } = takeExpectPending(path, `pods[${i}]`, p);
    const pod = normalizePod(path, `pods[${i}]`, entry);
    if (pod.spec?.nodeName) throw new ScenarioError(path, `pods[${i}].spec.nodeName`, 'pods to schedule must not be bound (use existingPods)');
    if (pod.status !== undefined) throw new ScenarioError(path, `pods[${i}].status`, 'only existing pods may carry a status');
    if (pending) expectPending.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    return pod;
  });
  if (pods.length === 0) throw new ScenarioError(path, 'pods', 'at least one pod to schedule is required');
  const keys = new Set<string>();
  for (const p of [...existingPods, ...pods]) {
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
    if (keys.has(key)) throw new ScenarioError(path, 'pods', `pod "${key}" appears twice`);
    keys.add(key);
  }
  const namespaces = list(path, 'namespaces', doc['namespaces']).map((n, i) => {
    if (!isRecord(n) || typeof n['name'] !== 'string') throw new ScenarioError(path, `namespaces[${i}]`, 'expected {name, labels?}');
    return { name: n['name'], labels: stringMap(path, `namespaces[${i}].labels`, n['labels']) };
  });
  const objects = list(path, 'objects', doc['objects']).map((o, i) => parseObject(path, `objects[${i}]`, o));
  const settle = doc['settleSeconds'] ?? 0;
  if (typeof settle !== 'number' || settle < 0) throw new ScenarioError(path, 'settleSeconds', 'expected a number ≥ 0');
  const volumeControllers = doc['volumeControllers'] ?? false;
  if (typeof volumeControllers !== 'boolean') throw new ScenarioError(path, 'volumeControllers', 'expected true or false');
  return {
    file,
    name: typeof doc['name'] === 'string' ? doc['name'] : basename(file).replace(/\.ya?ml$/, ''),
    description: typeof doc['description'] === 'string' ? doc['description'] : '',
    config,
    namespaces,
    nodes,
    objects,
    existingPods,
    pods,
    expectPending,
    volumeControllers,
    settleSeconds: settle,
  };
}

/** The Node object a scenario node becomes (status set through the status subresource). */
export function nodeObject(n: ScenarioNode): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...n.labels } },
    spec: {
      ...(n.taints.length > 0 ? { taints: n.taints.map((t) => ({ ...t })) } : {}),
      ...(n.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      capacity: { ...n.capacity },
      allocatable: { ...n.allocatable },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fidelity harness node' }],
      images: n.images.map((i) => ({ names: [...i.names], sizeBytes: i.sizeBytes })),
    },
  } as unknown as Node;
}

/** Every namespace the scenario's pods and objects live in. */
export function scenarioNamespaces(s: Scenario): ScenarioNamespace[] {
  const byName = new Map<string, ScenarioNamespace>();
  for (const n of s.namespaces) byName.set(n.name, n);
  const add = (ns: string | undefined): void => {
    if (ns && !byName.has(ns)) byName.set(ns, { name: ns, labels: {} });
  };
  for (const p of [...s.existingPods, ...s.pods]) add(p.metadata?.namespace);
  for (const o of s.objects) add((o['metadata'] as { namespace?: string }).namespace);
  return [...byName.values()];
}
