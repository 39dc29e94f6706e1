// Helpers for the shipping proofs (Dockerfile, deploy/, charts/berth): YAML loading, a small kustomize renderer,
// helm invocation, RBAC rule algebra, and the set of permissions berth's code actually uses.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { KIND_SPECS } from '../../src/adapters/live/informers.js';
import { IN_TREE_PLUGINS } from '../../src/scheduler/plugins/inTree.js';

export const REPO = join(import.meta.dirname, '..', '..');
export const DEPLOY_DIR = join(REPO, 'deploy');
export const CHART_DIR = join(REPO, 'charts', 'berth');

const execFileP = promisify(execFile);

// ------------------------------------------------------------------ objects

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Every non-empty document of a multi-document YAML text. */
export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0]?.message}`);
    const v = doc.toJS() as K8sObject | null;
    if (v) out.push(v);
  }
  return out;
}

export function findObject<T = K8sObject>(objs: K8sObject[], kind: string, name?: string): T {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o as T;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'Node', 'PersistentVolume', 'StorageClass']);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

// ------------------------------------------------------------------ kustomize (the subset deploy/ uses)

export interface Kustomization {
  namespace?: string;
  resources: string[];
  labels?: Array<{ pairs: Record<string, string> }>;
  configMapGenerator?: Array<{ name: string; files: string[]; options?: { labels?: Record<string, string> } }>;
  images?: Array<{ name: string; newTag?: string; newName?: string }>;
}

export function readKustomization(dir = DEPLOY_DIR): Kustomization {
  return parseObjects(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0] as unknown as Kustomization;
}

/** kustomize's generated-name hash, in spirit: a content hash, 10 characters from a reduced alphabet. */
function contentHash(obj: unknown): string {
  const hex = createHash('sha256').update(JSON.stringify(obj)).digest('hex');
  const alphabet = 'bcdfghkmt';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}

/**
 * Renders deploy/ the way `kubectl apply -k` would for the features it uses: the listed resources, the namespace
 * set on namespaced objects and on ServiceAccount subjects, common labels, a hash-suffixed generated ConfigMap
 * referenced from the Deployment's volumes, and image tags. `namespace` overrides kustomization.yaml's.
 */
export function renderKustomize(dir = DEPLOY_DIR, opts: { namespace?: string; files?: Record<string, string> } = {}): K8sObject[] {
  const k = readKustomization(dir);
  const ns = opts.namespace ?? k.namespace;
  const labels = Object.assign({}, ...(k.labels ?? []).map((l) => l.pairs)) as Record<string, string>;
  const objs: K8sObject[] = [];
  for (const file of k.resources) objs.push(...parseObjects(readFileSync(join(dir, file), 'utf8')));
  const renames = new Map<string, string>();
  for (const gen of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of gen.files) data[f] = opts.files?.[f] ?? readFileSync(join(dir, f), 'utf8');
    const cm: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name, labels: { ...(gen.options?.labels ?? {}) } }, data };
    const hashed = `${gen.name}-${contentHash({ kind: 'ConfigMap', name: gen.name, data })}`;
    renames.set(gen.name, hashed);
    cm.metadata.name = hashed;
    objs.push(cm);
  }
  for (const o of objs) {
    if (o.kind === 'Namespace') {
      if (ns) o.metadata.name = ns;
    } else if (ns && !isClusterScoped(o.kind)) {
      o.metadata.namespace = ns;
    }
    o.metadata.labels = { ...(o.metadata.labels ?? {}), ...labels };
    if ((o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && ns) {
      for (const s of (o['subjects'] as Array<{ kind: string; namespace?: string }>) ?? []) if (s.kind === 'ServiceAccount') s.namespace = ns;
    }
    if (o.kind === 'Deployment') {
      const spec = (o['spec'] as { template: { spec: PodSpec } }).template.spec;
      for (const v of spec.volumes ?? []) {
        const renamed = v.configMap && renames.get(v.configMap.name);
        if (v.configMap && renamed) v.configMap.name = renamed;
      }
      for (const c of spec.containers) {
        for (const img of k.images ?? []) {
          const [name] = c.image.split(':');
          if (name === img.name) c.image = `${img.newName ?? img.name}:${img.newTag ?? c.image.split(':')[1]}`;
        }
      }
    }
  }
  return objs;
}

// ------------------------------------------------------------------ pod spec bits

export interface Probe {
  httpGet?: { path: string; port: number | string };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
}
export interface PodSpec {
  serviceAccountName?: string;
  priorityClassName?: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: object }>;
}
export interface DeploymentLike extends K8sObject {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

/** The value following `flag` in args (`--flag value` or `--flag=value`). */
export function argValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]?.startsWith(`${flag}=`)) return args[i]?.slice(flag.length + 1);
  }
  return undefined;
}

/** A probe's port as a number (resolving a named container port). */
export function probePort(c: Container, probe: Probe | undefined): number {
  const port = probe?.httpGet?.port;
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`probe port ${String(port)} is not a container port`);
  return named.containerPort;
}

// ------------------------------------------------------------------ helm

export function helmPath(binDir: string): string {
  return join(binDir, 'helm');
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(binDir: string, args: string[]): Promise<HelmResult> {
  try {
    const r = await execFileP(helmPath(binDir), args, {
      maxBuffer: 64 * 1024 * 1024,
      // Keep helm's caches and config out of $HOME.
      env: { ...process.env, HELM_CACHE_HOME: '/tmp/berth-helm-cache', HELM_CONFIG_HOME: '/tmp/berth-helm-config', HELM_DATA_HOME: '/tmp/berth-helm-data' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export async function helmTemplate(binDir: string, release: string, namespace: string, extra: string[] = []): Promise<K8sObject[]> {
  const r = await helm(binDir, ['template', release, CHART_DIR, '--namespace', namespace, ...extra]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseObjects(r.stdout);
}

// ------------------------------------------------------------------ RBAC

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/** Flattens rules into "group/resource:verb" (plus "@name" when restricted by resourceNames). */
export function permissions(rules: PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? ['']) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs) {
          if (r.resourceNames && r.resourceNames.length > 0) for (const n of r.resourceNames) out.add(`${g}/${res}:${v}@${n}`);
          else out.add(`${g}/${res}:${v}`);
        }
      }
    }
  }
  return out;
}

const VERB_OF: Record<string, { named: string; collection: string }> = {
  GET: { named: 'get', collection: 'list' },
  POST: { named: 'create', collection: 'create' },
  PUT: { named: 'update', collection: 'update' },
  PATCH: { named: 'patch', collection: 'patch' },
  DELETE: { named: 'delete', collection: 'deletecollection' },
};

/**
 * Maps an API path (placeholders allowed: `${...}`) and method to the RBAC permission it needs:
 * /api/v1/namespaces/X/pods/Y/binding POST → "/pods/binding:create".
 */
export function permissionFor(method: string, path: string): string {
  const parts = path.split('?')[0]!.split('/').filter((p) => p !== '');
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1]!;
    rest = parts.slice(3);
  } else {
    throw new Error(`not a resource path: ${path}`);
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const resource = rest[0]!;
  const named = rest.length >= 2;
  const sub = rest.length >= 3 ? `/${rest[2]}` : '';
  const verbs = VERB_OF[method];
  if (!verbs) throw new Error(`unknown method ${method}`);
  return `${group}/${resource}${sub}:${named ? verbs.named : verbs.collection}`;
}

/** The source files `berth` (src/cli/main.ts) loads: its relative import graph. */
export function berthSourceFiles(entry = join(REPO, 'src', 'cli', 'main.ts')): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) stack.push(join(dirname(file), `${m[1]}.ts`));
  }
  return [...seen].sort();
}

/** Every `request('METHOD', `path`)` with a literal path in berth's sources (the Lease calls go through leasePath()). */
export function literalRequestsInSource(): Array<{ file: string; method: string; path: string }> {
  const re = /\.request(?:<[^>]*>)?\(\s*'(GET|POST|PUT|PATCH|DELETE)',\s*(?:`([^`]*)`|'([^']*)')/g;
  const out: Array<{ file: string; method: string; path: string }> = [];
  for (const file of berthSourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(re)) out.push({ file, method: m[1]!, path: (m[2] ?? m[3])! });
  }
  return out;
}

/**
 * The cluster-wide permissions berth's code needs, derived from the code: list+watch for every watched kind
 * (src/adapters/live/informers.ts KIND_SPECS), plus every literal request path in src/ (bindings, status patches, events,
 * pod reads and preemption deletes).
 */
export function clusterPermissionsFromCode(): Set<string> {
  const out = new Set<string>();
  for (const spec of Object.values(KIND_SPECS)) {
    const base = permissionFor('GET', spec.listPath).replace(/:list$/, '');
    out.add(`${base}:list`);
    out.add(`${base}:watch`);
  }
  for (const r of literalRequestsInSource()) out.add(permissionFor(r.method, r.path));
  // Plugins' own writes (PreBind), as their descriptors declare them.
  for (const plugin of IN_TREE_PLUGINS) {
    for (const w of plugin.apiWrites ?? []) for (const verb of w.verbs) out.add(`${w.group}/${w.resource}:${verb}`);
  }
  return out;
}

/** The Lease permissions leader election needs (src/adapters/live/leaderElection.ts: get, create, update on one name). */
export function leasePermissions(leaseName: string): Set<string> {
  return new Set([`coordination.k8s.io/leases:create`, `coordination.k8s.io/leases:get@${leaseName}`, `coordination.k8s.io/leases:update@${leaseName}`]);
}

// ------------------------------------------------------------------ Dockerfile

export interface DockerInstruction {
  op: string;
  args: string;
  line: number;
}

export interface DockerStage {
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

/** Parses a Dockerfile into stages (line continuations joined, comments dropped, ARG defaults substituted in FROM). */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: DockerStage[] } {
  const lines = text.split('\n');
  const logical: Array<{ text: string; line: number }> = [];
  let buf = '';
  let start = 0;
  lines.forEach((raw, i) => {
    const l = raw.trimEnd();
    if (buf === '' && (l.trim().startsWith('#') || l.trim() === '')) return;
    if (buf === '') start = i + 1;
    if (l.endsWith('\\')) buf += `${l.slice(0, -1)} `;
    else {
      logical.push({ text: (buf + l).trim(), line: start });
      buf = '';
    }
  });
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const { text: t, line } of logical) {
    const m = /^(\S+)\s+(.*)$/.exec(t);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      const from = fm[1]!.replace(/\$\{(\w+)\}/g, (_, n: string) => globalArgs[n] ?? '');
      stages.push({ from, ...(fm[2] ? { name: fm[2] } : {}), instructions: [] });
    } else if (stages.length === 0 && op === 'ARG') {
      const [k, v] = args.split('=');
      globalArgs[k!] = v ?? '';
    } else {
      stages[stages.length - 1]?.instructions.push({ op, args, line });
    }
  }
  return { args: globalArgs, stages };
}

/** The JSON array of an exec-form instruction (ENTRYPOINT/CMD), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}
