/**
 * pluginConfig args: strict decoding, upstream v1 defaulting (pkg/scheduler/apis/config/v1/defaults.go) and upstream
 * validation (pkg/scheduler/apis/config/validation/validation_pluginargs.go) for every in-tree plugin that takes args.
 */
import type { NodeAffinity, NodeSelectorTerm, TopologySpreadConstraint } from '../kube/api.js';
import type {
  DefaultPreemptionArgs,
  InterPodAffinityArgs,
  NodeAffinityArgs,
  NodeResourcesBalancedAllocationArgs,
  NodeResourcesFitArgs,
  PluginArgsByName,
  PodTopologySpreadArgs,
  ResourceSpec,
  UtilizationShapePoint,
  VolumeBindingArgs,
} from './types.js';
import type { Decoder, FieldPath } from './decode.js';
import { formatGoDuration } from '../kube/duration.js';

export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';

export type ArgsPluginName = keyof PluginArgsByName;
export const ARGS_PLUGINS: readonly ArgsPluginName[] = [
  'NodeResourcesFit',
  'NodeResourcesBalancedAllocation',
  'InterPodAffinity',
  'PodTopologySpread',
  'NodeAffinity',
  'DefaultPreemption',
  'VolumeBinding',
];

/** Plugins that take args upstream but whose args berth only validates (nothing downstream reads them). */
const VALIDATED_ONLY_ARGS = ['DynamicResources'] as const;

export function takesArgs(name: string): boolean {
  return (ARGS_PLUGINS as readonly string[]).includes(name) || (VALIDATED_ONLY_ARGS as readonly string[]).includes(name);
}

export function isArgsPlugin(name: string): name is ArgsPluginName {
  return (ARGS_PLUGINS as readonly string[]).includes(name);
}

const defaultResources = (): ResourceSpec[] => [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

export function defaultPluginArgs(): PluginArgsByName {
  return {
    NodeResourcesFit: {
      ignoredResources: [],
      ignoredResourceGroups: [],
      scoringStrategy: { type: 'LeastAllocated', resources: defaultResources() },
    },
    NodeResourcesBalancedAllocation: { resources: defaultResources() },
    InterPodAffinity: { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false },
    PodTopologySpread: { defaultConstraints: [], defaultingType: 'System' },
    NodeAffinity: {},
    DefaultPreemption: { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 },
    VolumeBinding: { bindTimeoutSeconds: 600 },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Small validators shared by several arg types.

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Upstream's qualified-name rule for label keys: optional DNS-subdomain prefix, "/", name of at most 63 chars. */
export function labelNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name must have at most one "/"';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix === '' || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return 'the prefix must be a DNS subdomain (lower case)';
  }
  if (name === '') return 'the name part must be non-empty';
  if (name.length > 63) return 'the name part must be at most 63 characters';
  if (!LABEL_NAME.test(name)) {
    return 'the name part must consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric';
  }
  return undefined;
}

function checkLabelName(dec: Decoder, key: string, path: FieldPath): void {
  const problem = labelNameProblem(key);
  if (problem !== undefined) dec.error(path, `invalid name "${key}": ${problem}`, 'use a valid label key such as "example.com/name"');
}

function decodeResources(dec: Decoder, value: unknown, path: FieldPath): ResourceSpec[] | undefined {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: ResourceSpec[] = [];
  items.forEach((item, i) => {
    const raw = dec.object(item, [...path, i], ['name', 'weight'], 'a resource');
    if (raw === undefined) return;
    const name = dec.string(raw['name'], [...path, i, 'name']) ?? '';
    const weight = dec.integer(raw['weight'], [...path, i, 'weight'], 64) ?? 0;
    out.push({ name, weight });
  });
  return out;
}

function decodeShape(dec: Decoder, value: unknown, path: FieldPath): UtilizationShapePoint[] | undefined {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: UtilizationShapePoint[] = [];
  items.forEach((item, i) => {
    const raw = dec.object(item, [...path, i], ['utilization', 'score'], 'a shape point');
    if (raw === undefined) return;
    out.push({
      utilization: dec.integer(raw['utilization'], [...path, i, 'utilization']) ?? 0,
      score: dec.integer(raw['score'], [...path, i, 'score']) ?? 0,
    });
  });
  return out;
}

/** validateFunctionShape: at least one point, utilization strictly increasing within 0..100, score within 0..10. */
function validateShape(dec: Decoder, shape: UtilizationShapePoint[], path: FieldPath): void {
  if (shape.length === 0) {
    dec.error(path, 'at least one point must be specified', 'give points such as [{utilization: 0, score: 0}, {utilization: 100, score: 10}]');
    return;
  }
  for (let i = 1; i < shape.length; i++) {
    if (shape[i - 1]!.utilization >= shape[i]!.utilization) {
      dec.error([...path, i, 'utilization'], `utilization ${shape[i]!.utilization} is not greater than the previous point's`, 'list the points with strictly increasing utilization');
      break;
    }
  }
  shape.forEach((p, i) => {
    if (p.utilization < 0 || p.utilization > 100) {
      dec.error([...path, i, 'utilization'], `utilization ${p.utilization} not in valid range [0, 100]`, 'utilization is a percentage');
    }
    if (p.score < 0 || p.score > 10) {
      dec.error([...path, i, 'score'], `score ${p.score} not in valid range [0, 10]`, 'shape scores go from 0 to 10 (berth scales them ×10 to 0..100)');
    }
  });
}

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

const META = ['apiVersion', 'kind'];

// ---------------------------------------------------------------------------------------------------------------
// Per-plugin decoders: each decodes strictly, defaults as upstream, and validates as upstream.

function nodeResourcesFit(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): NodeResourcesFitArgs {
  const out = defaultPluginArgs().NodeResourcesFit;
  const ignored = dec.array(raw['ignoredResources'], [...path, 'ignoredResources']) ?? [];
  out.ignoredResources = [];
  ignored.forEach((r, i) => {
    const s = dec.string(r, [...path, 'ignoredResources', i]);
    if (s === undefined) return;
    checkLabelName(dec, s, [...path, 'ignoredResources', i]);
    out.ignoredResources.push(s);
  });
  const groups = dec.array(raw['ignoredResourceGroups'], [...path, 'ignoredResourceGroups']) ?? [];
  out.ignoredResourceGroups = [];
  groups.forEach((g, i) => {
    const gp = [...path, 'ignoredResourceGroups', i];
    const s = dec.string(g, gp);
    if (s === undefined) return;
    if (s.includes('/')) dec.error(gp, `resource group name "${s}" can't contain '/'`, 'give the group prefix only, e.g. "example.com"');
    else checkLabelName(dec, s, gp);
    out.ignoredResourceGroups.push(s);
  });

  const sPath = [...path, 'scoringStrategy'];
  const rawStrategy = dec.object(raw['scoringStrategy'], sPath, ['type', 'resources', 'requestedToCapacityRatio'], 'scoringStrategy');
  if (rawStrategy === undefined) return out; // upstream defaults the whole strategy when absent

  const type = dec.string(rawStrategy['type'], [...sPath, 'type']);
  const types = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'] as const;
  const knownType = types.find((t) => t === type);
  if (knownType === undefined) {
    // Upstream only defaults the type when the whole scoringStrategy is absent.
    dec.error(
      [...sPath, 'type'],
      type === undefined || type === '' ? 'scoringStrategy.type is required' : `unsupported scoring strategy type "${type}"`,
      `supported values: ${types.join(', ')}`,
    );
  }
  let resources = decodeResources(dec, rawStrategy['resources'], [...sPath, 'resources']) ?? [];
  if (resources.length === 0) resources = defaultResources();
  resources = resources.map((r) => ({ name: r.name, weight: r.weight === 0 ? 1 : r.weight }));
  resources.forEach((r, i) => {
    if (r.weight <= 0 || r.weight > 100) {
      dec.error([...sPath, 'resources', i, 'weight'], `resource weight of ${r.name} not in valid range (0, 100]`, 'use a weight from 1 to 100 (0 means 1)');
    }
    if (r.name === '') dec.error([...sPath, 'resources', i, 'name'], 'resource name is required', 'name a resource such as cpu or memory');
  });
  out.scoringStrategy = { type: knownType ?? 'LeastAllocated', resources };

  const rPath = [...sPath, 'requestedToCapacityRatio'];
  const rawRatio = dec.object(rawStrategy['requestedToCapacityRatio'], rPath, ['shape'], 'requestedToCapacityRatio');
  if (knownType === 'RequestedToCapacityRatio') {
    if (rawRatio === undefined) {
      dec.error(rPath, 'requestedToCapacityRatio must be specified when type is RequestedToCapacityRatio', 'add requestedToCapacityRatio.shape with utilization/score points');
    } else {
      const shape = decodeShape(dec, rawRatio['shape'], [...rPath, 'shape']) ?? [];
      validateShape(dec, shape, [...rPath, 'shape']);
      out.scoringStrategy.requestedToCapacityRatio = { shape };
    }
  } else if (rawRatio !== undefined) {
    dec.error(rPath, 'requestedToCapacityRatio must be nil when type is not RequestedToCapacityRatio', 'remove it or set type: RequestedToCapacityRatio');
  }
  return out;
}

function balancedAllocation(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): NodeResourcesBalancedAllocationArgs {
  let resources = decodeResources(dec, raw['resources'], [...path, 'resources']) ?? [];
  if (resources.length === 0) resources = defaultResources();
  resources = resources.map((r) => ({ name: r.name, weight: r.weight === 0 ? 1 : r.weight }));
  const seen = new Set<string>();
  resources.forEach((r, i) => {
    if (seen.has(r.name)) dec.error([...path, 'resources', i, 'name'], `duplicate resource "${r.name}"`, 'list each resource once');
    seen.add(r.name);
    if (r.weight !== 1) dec.error([...path, 'resources', i, 'weight'], `weight ${r.weight} must be 1`, 'NodeResourcesBalancedAllocation only supports weight 1 (or omit it)');
  });
  return { resources };
}

function interPodAffinity(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): InterPodAffinityArgs {
  const out = defaultPluginArgs().InterPodAffinity;
  const w = dec.integer(raw['hardPodAffinityWeight'], [...path, 'hardPodAffinityWeight']);
  if (w !== undefined) {
    if (w < 0 || w > 100) dec.error([...path, 'hardPodAffinityWeight'], `${w} not in valid range [0, 100]`, 'use a weight from 0 to 100 (default 1)');
    out.hardPodAffinityWeight = w;
  }
  const ignore = dec.boolean(raw['ignorePreferredTermsOfExistingPods'], [...path, 'ignorePreferredTermsOfExistingPods']);
  if (ignore !== undefined) out.ignorePreferredTermsOfExistingPods = ignore;
  return out;
}

const CONSTRAINT_FIELDS = [
  'maxSkew',
  'topologyKey',
  'whenUnsatisfiable',
  'labelSelector',
  'minDomains',
  'nodeAffinityPolicy',
  'nodeTaintsPolicy',
  'matchLabelKeys',
];

function podTopologySpread(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): PodTopologySpreadArgs {
  const typePath = [...path, 'defaultingType'];
  const rawType = dec.string(raw['defaultingType'], typePath);
  let defaultingType: 'System' | 'List' = 'System';
  if (rawType === 'List' || rawType === 'System') defaultingType = rawType;
  else if (rawType !== undefined && rawType !== '') {
    dec.error(typePath, `unsupported defaultingType "${rawType}"`, 'supported values: System, List');
  }

  const cPath = [...path, 'defaultConstraints'];
  const items = dec.array(raw['defaultConstraints'], cPath) ?? [];
  const constraints: TopologySpreadConstraint[] = [];
  items.forEach((item, i) => {
    const p = [...cPath, i];
    const c = dec.object(item, p, CONSTRAINT_FIELDS, 'a topology spread constraint');
    if (c === undefined) return;
    const maxSkew = dec.integer(c['maxSkew'], [...p, 'maxSkew']) ?? 0;
    if (maxSkew <= 0) dec.error([...p, 'maxSkew'], `maxSkew ${maxSkew} not in valid range (0, inf)`, 'set maxSkew to 1 or more');
    const topologyKey = dec.string(c['topologyKey'], [...p, 'topologyKey']) ?? '';
    if (topologyKey === '') dec.error([...p, 'topologyKey'], 'topologyKey can not be empty', 'use a node label key such as topology.kubernetes.io/zone');
    else checkLabelName(dec, topologyKey, [...p, 'topologyKey']);
    const when = dec.string(c['whenUnsatisfiable'], [...p, 'whenUnsatisfiable']) ?? '';
    if (when === '') dec.error([...p, 'whenUnsatisfiable'], 'whenUnsatisfiable can not be empty', 'supported values: DoNotSchedule, ScheduleAnyway');
    else if (when !== 'DoNotSchedule' && when !== 'ScheduleAnyway') {
      dec.error([...p, 'whenUnsatisfiable'], `unsupported whenUnsatisfiable "${when}"`, 'supported values: DoNotSchedule, ScheduleAnyway');
    }
    if (c['labelSelector'] !== undefined && c['labelSelector'] !== null) {
      dec.error([...p, 'labelSelector'], 'constraint must not define a selector, as they are deduced for each pod', 'remove labelSelector from default constraints');
    }
    for (let j = 0; j < constraints.length; j++) {
      const other = constraints[j]!;
      if (other.topologyKey === topologyKey && other.whenUnsatisfiable === when) {
        dec.error(p, `duplicate constraint {${topologyKey}, ${when}}`, `merge it with defaultConstraints[${j}]`);
        break;
      }
    }
    const constraint: TopologySpreadConstraint = { maxSkew, topologyKey, whenUnsatisfiable: when };
    const minDomains = dec.integer(c['minDomains'], [...p, 'minDomains']);
    if (minDomains !== undefined) constraint.minDomains = minDomains;
    for (const policy of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const) {
      const v = dec.string(c[policy], [...p, policy]);
      if (v === undefined) continue;
      if (v !== 'Honor' && v !== 'Ignore') dec.error([...p, policy], `unsupported ${policy} "${v}"`, 'supported values: Honor, Ignore');
      constraint[policy] = v;
    }
    const keys = dec.array(c['matchLabelKeys'], [...p, 'matchLabelKeys']);
    if (keys !== undefined) {
      constraint.matchLabelKeys = keys.map((k, j) => dec.string(k, [...p, 'matchLabelKeys', j]) ?? '');
    }
    constraints.push(constraint);
  });
  if (defaultingType === 'System' && constraints.length > 0) {
    dec.error(typePath, 'defaultingType System is invalid when defaultConstraints are not empty', 'set defaultingType: List to use your own defaultConstraints');
  }
  return { defaultConstraints: constraints, defaultingType };
}

function decodeRequirements(dec: Decoder, value: unknown, path: FieldPath, fields: boolean): NodeSelectorTerm['matchExpressions'] {
  const items = dec.array(value, path);
  if (items === undefined) return undefined;
  const out: NonNullable<NodeSelectorTerm['matchExpressions']> = [];
  items.forEach((item, i) => {
    const p = [...path, i];
    const r = dec.object(item, p, ['key', 'operator', 'values'], 'a node selector requirement');
    if (r === undefined) return;
    const key = dec.string(r['key'], [...p, 'key']) ?? '';
    const operator = dec.string(r['operator'], [...p, 'operator']) ?? '';
    const values = (dec.array(r['values'], [...p, 'values']) ?? []).map((v, j) => dec.string(v, [...p, 'values', j]) ?? '');
    if (fields) {
      if (key !== 'metadata.name') dec.error([...p, 'key'], `"${key}" is not a valid field selector key`, 'matchFields only supports metadata.name');
      if (operator !== 'In' && operator !== 'NotIn') dec.error([...p, 'operator'], `"${operator}" is not a valid field selector operator`, 'use In or NotIn');
      else if (values.length !== 1) dec.error([...p, 'values'], 'must have one element', 'give exactly one node name');
    } else {
      if (key === '') dec.error([...p, 'key'], 'key is required', 'name a node label key');
      else checkLabelName(dec, key, [...p, 'key']);
      switch (operator) {
        case 'In':
        case 'NotIn':
          if (values.length === 0) dec.error([...p, 'values'], `must be specified when operator is ${operator}`, 'give at least one value');
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length > 0) dec.error([...p, 'values'], `may not be specified when operator is ${operator}`, 'remove values');
          break;
        case 'Gt':
        case 'Lt':
          if (values.length !== 1 || !/^-?\d+$/.test(values[0] ?? '')) {
            dec.error([...p, 'values'], `must be a single integer when operator is ${operator}`, 'give exactly one integer value, e.g. ["4"]');
          }
          break;
        default:
          dec.error([...p, 'operator'], `"${operator}" is not a valid node selector operator`, 'use In, NotIn, Exists, DoesNotExist, Gt or Lt');
      }
    }
    out.push({ key, operator, values });
  });
  return out;
}

function decodeTerm(dec: Decoder, value: unknown, path: FieldPath): NodeSelectorTerm {
  const t = dec.object(value, path, ['matchExpressions', 'matchFields'], 'a node selector term');
  const term: NodeSelectorTerm = {};
  if (t === undefined) return term;
  const exprs = decodeRequirements(dec, t['matchExpressions'], [...path, 'matchExpressions'], false);
  if (exprs !== undefined) term.matchExpressions = exprs;
  const fields = decodeRequirements(dec, t['matchFields'], [...path, 'matchFields'], true);
  if (fields !== undefined) term.matchFields = fields;
  return term;
}

function nodeAffinity(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): NodeAffinityArgs {
  const aPath = [...path, 'addedAffinity'];
  const a = dec.object(
    raw['addedAffinity'],
    aPath,
    ['requiredDuringSchedulingIgnoredDuringExecution', 'preferredDuringSchedulingIgnoredDuringExecution'],
    'addedAffinity',
  );
  if (a === undefined) return {};
  const affinity: NodeAffinity = {};
  const reqPath = [...aPath, 'requiredDuringSchedulingIgnoredDuringExecution'];
  const req = dec.object(a['requiredDuringSchedulingIgnoredDuringExecution'], reqPath, ['nodeSelectorTerms'], 'a node selector');
  if (req !== undefined) {
    const terms = dec.array(req['nodeSelectorTerms'], [...reqPath, 'nodeSelectorTerms']) ?? [];
    affinity.requiredDuringSchedulingIgnoredDuringExecution = {
      nodeSelectorTerms: terms.map((t, i) => decodeTerm(dec, t, [...reqPath, 'nodeSelectorTerms', i])),
    };
  }
  const prefPath = [...aPath, 'preferredDuringSchedulingIgnoredDuringExecution'];
  const prefs = dec.array(a['preferredDuringSchedulingIgnoredDuringExecution'], prefPath);
  if (prefs !== undefined) {
    const out: NonNullable<NodeAffinity['preferredDuringSchedulingIgnoredDuringExecution']> = [];
    prefs.forEach((item, i) => {
      const p = [...prefPath, i];
      const pr = dec.object(item, p, ['weight', 'preference'], 'a preferred scheduling term');
      if (pr === undefined) return;
      const weight = dec.integer(pr['weight'], [...p, 'weight']) ?? 0;
      out.push({ weight, preference: decodeTerm(dec, pr['preference'], [...p, 'preference']) });
    });
    affinity.preferredDuringSchedulingIgnoredDuringExecution = out;
  }
  return { addedAffinity: affinity };
}

function defaultPreemption(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): DefaultPreemptionArgs {
  const out = defaultPluginArgs().DefaultPreemption;
  const pctPath = [...path, 'minCandidateNodesPercentage'];
  const absPath = [...path, 'minCandidateNodesAbsolute'];
  out.minCandidateNodesPercentage = dec.integer(raw['minCandidateNodesPercentage'], pctPath) ?? out.minCandidateNodesPercentage;
  out.minCandidateNodesAbsolute = dec.integer(raw['minCandidateNodesAbsolute'], absPath) ?? out.minCandidateNodesAbsolute;
  if (out.minCandidateNodesPercentage < 0 || out.minCandidateNodesPercentage > 100) {
    dec.error(pctPath, `${out.minCandidateNodesPercentage} not in valid range [0, 100]`, 'use a percentage from 0 to 100 (default 10)');
  }
  if (out.minCandidateNodesAbsolute < 0) {
    dec.error(absPath, `${out.minCandidateNodesAbsolute} not in valid range [0, inf)`, 'use 0 or more (default 100)');
  }
  if (out.minCandidateNodesPercentage === 0 && out.minCandidateNodesAbsolute === 0) {
    dec.error(pctPath, 'cannot be zero at the same time as minCandidateNodesAbsolute', 'set at least one of the two above zero');
  }
  return out;
}

function volumeBinding(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): VolumeBindingArgs {
  const out = defaultPluginArgs().VolumeBinding;
  const t = dec.integer(raw['bindTimeoutSeconds'], [...path, 'bindTimeoutSeconds'], 64);
  if (t !== undefined) {
    if (t < 0) dec.error([...path, 'bindTimeoutSeconds'], `invalid bindTimeoutSeconds ${t}, should not be a negative value`, 'use 0 or more seconds (default 600)');
    out.bindTimeoutSeconds = t;
  }
  const shape = decodeShape(dec, raw['shape'], [...path, 'shape']);
  if (shape !== undefined) {
    validateShape(dec, shape, [...path, 'shape']);
    out.shape = shape;
  }
  return out;
}

function dynamicResources(dec: Decoder, raw: Record<string, unknown>, path: FieldPath): void {
  const filterTimeout = dec.duration(raw['filterTimeout'], [...path, 'filterTimeout']);
  if (filterTimeout !== undefined && filterTimeout < 0) {
    dec.error([...path, 'filterTimeout'], `${formatGoDuration(filterTimeout)} must be zero or positive`, 'use 0s to disable the timeout');
  }
  const bindingTimeout = dec.duration(raw['bindingTimeout'], [...path, 'bindingTimeout']);
  if (bindingTimeout !== undefined && bindingTimeout < 1) {
    dec.error([...path, 'bindingTimeout'], `${formatGoDuration(bindingTimeout)} must be at least 1 second`, 'use 1s or more');
  }
}

const FIELDS: Readonly<Record<string, readonly string[]>> = {
  NodeResourcesFit: ['ignoredResources', 'ignoredResourceGroups', 'scoringStrategy'],
  NodeResourcesBalancedAllocation: ['resources'],
  InterPodAffinity: ['hardPodAffinityWeight', 'ignorePreferredTermsOfExistingPods'],
  PodTopologySpread: ['defaultConstraints', 'defaultingType'],
  NodeAffinity: ['addedAffinity'],
  DefaultPreemption: ['minCandidateNodesPercentage', 'minCandidateNodesAbsolute'],
  VolumeBinding: ['bindTimeoutSeconds', 'shape'],
  DynamicResources: ['filterTimeout', 'bindingTimeout'],
};

/**
 * Decodes, defaults and validates one plugin's args into `into`. `value` undefined/null means "defaults".
 * The caller has checked that the plugin takes args.
 */
export function decodePluginArgs(dec: Decoder, plugin: string, value: unknown, path: FieldPath, into: PluginArgsByName): void {
  const fields = FIELDS[plugin] ?? [];
  const raw = dec.object(value ?? {}, path, [...META, ...fields], `${plugin} args`);
  if (raw === undefined) return;
  checkKindAndVersion(dec, raw, path, plugin);
  switch (plugin) {
    case 'NodeResourcesFit':
      into.NodeResourcesFit = nodeResourcesFit(dec, raw, path);
      break;
    case 'NodeResourcesBalancedAllocation':
      into.NodeResourcesBalancedAllocation = balancedAllocation(dec, raw, path);
      break;
    case 'InterPodAffinity':
      into.InterPodAffinity = interPodAffinity(dec, raw, path);
      break;
    case 'PodTopologySpread':
      into.PodTopologySpread = podTopologySpread(dec, raw, path);
      break;
    case 'NodeAffinity':
      into.NodeAffinity = nodeAffinity(dec, raw, path);
      break;
    case 'DefaultPreemption':
      into.DefaultPreemption = defaultPreemption(dec, raw, path);
      break;
    case 'VolumeBinding':
      into.VolumeBinding = volumeBinding(dec, raw, path);
      break;
    case 'DynamicResources':
      dynamicResources(dec, raw, path);
      break;
  }
}

/** The args of one plugin as a v1 object (kind, apiVersion and defaulted fields), for the effective configuration. */
export function renderPluginArgs(plugin: ArgsPluginName, args: PluginArgsByName): Record<string, unknown> {
  const head = { apiVersion: CONFIG_API_VERSION, kind: `${plugin}Args` };
  switch (plugin) {
    case 'NodeResourcesFit': {
      const a = args.NodeResourcesFit;
      const strategy: Record<string, unknown> = {
        type: a.scoringStrategy.type,
        resources: a.scoringStrategy.resources.map((r) => ({ ...r })),
      };
      if (a.scoringStrategy.requestedToCapacityRatio !== undefined) {
        strategy['requestedToCapacityRatio'] = { shape: a.scoringStrategy.requestedToCapacityRatio.shape.map((p) => ({ ...p })) };
      }
      const out: Record<string, unknown> = { ...head };
      if (a.ignoredResources.length > 0) out['ignoredResources'] = [...a.ignoredResources];
      if (a.ignoredResourceGroups.length > 0) out['ignoredResourceGroups'] = [...a.ignoredResourceGroups];
      out['scoringStrategy'] = strategy;
      return out;
    }
    case 'NodeResourcesBalancedAllocation':
      return { ...head, resources: args.NodeResourcesBalancedAllocation.resources.map((r) => ({ ...r })) };
    case 'InterPodAffinity': {
      const out: Record<string, unknown> = { ...head, hardPodAffinityWeight: args.InterPodAffinity.hardPodAffinityWeight };
      if (args.InterPodAffinity.ignorePreferredTermsOfExistingPods) out['ignorePreferredTermsOfExistingPods'] = true;
      return out;
    }
    case 'PodTopologySpread': {
      const out: Record<string, unknown> = { ...head };
      if (args.PodTopologySpread.defaultConstraints.length > 0) {
        out['defaultConstraints'] = structuredClone(args.PodTopologySpread.defaultConstraints);
      }
      out['defaultingType'] = args.PodTopologySpread.defaultingType;
      return out;
    }
    case 'NodeAffinity': {
      const out: Record<string, unknown> = { ...head };
      if (args.NodeAffinity.addedAffinity !== undefined) out['addedAffinity'] = structuredClone(args.NodeAffinity.addedAffinity);
      return out;
    }
    case 'DefaultPreemption':
      return { ...head, ...args.DefaultPreemption };
    case 'VolumeBinding': {
      const out: Record<string, unknown> = { ...head, bindTimeoutSeconds: args.VolumeBinding.bindTimeoutSeconds };
      if (args.VolumeBinding.shape !== undefined) out['shape'] = args.VolumeBinding.shape.map((p) => ({ ...p }));
      return out;
    }
  }
}
