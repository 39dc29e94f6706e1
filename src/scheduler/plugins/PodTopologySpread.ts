/**
 * PodTopologySpread: upstream's pod topology spread plugin (podtopologyspread/{plugin,common,filtering,scoring}.go,
 * v1.34–v1.36 semantics).
 *
 * Constraints come from the pod's own topologySpreadConstraints; a pod without any gets the defaults (the system
 * defaults under defaultingType System, args.defaultConstraints under List) with a selector built from the Services
 * selecting the pod and the ReplicationController / ReplicaSet / StatefulSet controlling it (upstream
 * helper.DefaultSelector). No selecting object → no default constraints.
 *
 * - PreFilter/Filter use the DoNotSchedule constraints: PreFilter counts matching pods per topology domain (one
 *   Map per constraint) over the eligible nodes that carry every constraint's topology key; Filter is a handful of
 *   Map lookups per node.
 * - PreScore/Score/NormalizeScore use the ScheduleAnyway constraints: domain counts over all nodes for domains that
 *   some feasible node is in, per-node counts for the hostname key, weighted by ln(number of domains + 2).
 */
import type { Labels, LabelSelector, LabelSelectorRequirement, Pod, TopologySpreadConstraint } from '../../kube/api.js';
import type { ClusterView } from '../cache/clusterState.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { compileLabelSelector, type LabelMatcher, MATCH_NOTHING } from '../../kube/selectors.js';
import {
  type CycleState,
  type FilterPlugin,
  type FrameworkHandle,
  MAX_NODE_SCORE,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  SKIP,
  Status,
} from '../framework/types.js';
import type { ArgsDecoder, FieldPath, PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { checkLabelName } from './argsHelpers.js';
import { requiredNodeAffinityMatcher } from './NodeAffinity.js';
import { findUntoleratedTaint, isDoNotScheduleTaint } from './tolerations.js';

export const NAME = 'PodTopologySpread';

/** PodTopologySpreadArgs, defaulted and validated. */
export interface PodTopologySpreadArgs {
  defaultConstraints: TopologySpreadConstraint[];
  defaultingType: 'System' | 'List';
}

/** Upstream ErrReasonConstraintsNotMatch / ErrReasonNodeLabelNotMatch. */
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const CONSTRAINTS_NOT_MATCH = Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
const NODE_LABEL_NOT_MATCH = Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);

const LABEL_HOSTNAME = 'kubernetes.io/hostname';
const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

const DO_NOT_SCHEDULE = 'DoNotSchedule';
const SCHEDULE_ANYWAY = 'ScheduleAnyway';

/** Upstream systemDefaultConstraints. */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: SCHEDULE_ANYWAY, maxSkew: 3 },
  { topologyKey: LABEL_TOPOLOGY_ZONE, whenUnsatisfiable: SCHEDULE_ANYWAY, maxSkew: 5 },
];

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;
const MEMO_HARD = `${NAME}/DoNotSchedule`;
const MEMO_SOFT = `${NAME}/ScheduleAnyway`;

/** Go's math.MaxInt32: the critical path's starting minimum. */
const MAX_INT32 = 2147483647;

/** A constraint with its selector compiled (upstream topologySpreadConstraint). */
export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly isHostname: boolean;
  /** Selector.Matches. */
  readonly matches: LabelMatcher;
  /**
   * False when the selector has no requirements at all (labelSelector `{}`): upstream's countPodsMatchSelector
   * returns 0 for such a selector (v1.27–v1.36), although the selector itself matches every pod.
   */
  readonly countsPods: boolean;
  /** 1 when the incoming pod matches the selector itself, else 0. */
  readonly selfMatch: number;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorNodeTaints: boolean;
}

/**
 * Upstream criticalPaths: the two domains with the fewest matching pods, kept up to date as pods are added or
 * removed in a what-if. Like upstream, only these two are tracked, so after several removals the first may not be
 * the true minimum (upstream's documented caveat); berth reproduces that rather than improve on it.
 */
class CriticalPaths {
  value0 = '';
  num0 = MAX_INT32;
  value1 = '';
  num1 = MAX_INT32;

  update(value: string, num: number): void {
    if (value === this.value0 || value === this.value1) {
      if (value === this.value0) this.num0 = num;
      else this.num1 = num;
      if (this.num0 > this.num1) this.swap();
      return;
    }
    if (num < this.num0) {
      this.value1 = this.value0;
      this.num1 = this.num0;
      this.value0 = value;
      this.num0 = num;
    } else if (num < this.num1) {
      this.value1 = value;
      this.num1 = num;
    }
  }

  private swap(): void {
    [this.value0, this.value1] = [this.value1, this.value0];
    [this.num0, this.num1] = [this.num1, this.num0];
  }

  clone(): CriticalPaths {
    return Object.assign(new CriticalPaths(), this);
  }
}

/** PreFilter's per-domain counts (upstream preFilterState), cloned for what-ifs and updated by AddPod/RemovePod. */
class PreFilterState {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Per constraint: topology value → number of matching pods. */
    readonly counts: Map<string, number>[],
    readonly paths: CriticalPaths[],
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
      this.paths.map((p) => p.clone()),
    );
  }

  /** The global minimum for the skew: 0 when fewer eligible domains than minDomains. */
  minMatch(i: number): number {
    const c = this.constraints[i] as SpreadConstraint;
    if ((this.counts[i] as Map<string, number>).size < c.minDomains) return 0;
    return (this.paths[i] as CriticalPaths).num0;
  }
}

interface PreScoreState {
  readonly constraints: readonly SpreadConstraint[];
  /** Names of feasible nodes missing a constraint's topology key; they score 0. */
  readonly ignored: ReadonlySet<string>;
  /** Per constraint: topology value → matching pods (unused, empty, for the hostname key). */
  readonly counts: readonly Map<string, number>[];
  /** Per constraint: ln(number of domains + 2). */
  readonly weights: readonly number[];
  readonly namespace: string;
}

function hasLabel(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** The label value as Go's map index yields it: "" when absent. */
function labelValue(labels: Labels, key: string): string {
  return hasLabel(labels, key) ? (labels[key] as string) : '';
}

/** Upstream nodeLabelsMatchSpreadConstraints: the node carries every constraint's topology key. */
function nodeHasAllKeys(labels: Labels, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!hasLabel(labels, c.topologyKey)) return false;
  return true;
}

/** Upstream countPodsMatchSelector: same namespace, not terminating, selector matches. */
function countMatchingPods(pods: readonly PodInfo[], c: SpreadConstraint, namespace: string): number {
  if (!c.countsPods) return 0;
  let count = 0;
  for (const p of pods) {
    if (p.terminating || p.namespace !== namespace) continue;
    if (c.matches(p.labels)) count++;
  }
  return count;
}

interface SelectorParts {
  /** null: a nil selector (labels.Nothing()). */
  selector: LabelSelector | null;
}

/**
 * Compiles one API constraint. `selectorOverride` replaces the constraint's own selector (default constraints take
 * the selector deduced from the pod's Services and controller). matchLabelKeys are ANDed into the selector with
 * the pod's values, except for a nil selector, which stays "match nothing" (upstream since v1.27).
 */
function compileConstraint(c: TopologySpreadConstraint, pod: PodInfo, selectorOverride?: SelectorParts): SpreadConstraint {
  let selector: LabelSelector | null;
  if (selectorOverride) {
    selector = selectorOverride.selector;
  } else {
    selector = c.labelSelector ?? null;
    const keys = c.matchLabelKeys ?? [];
    if (selector !== null && keys.length > 0) {
      const extra: LabelSelectorRequirement[] = [];
      for (const key of keys) {
        if (hasLabel(pod.labels, key)) extra.push({ key, operator: 'In', values: [pod.labels[key] as string] });
      }
      if (extra.length > 0) {
        selector = { matchLabels: selector.matchLabels, matchExpressions: [...extra, ...(selector.matchExpressions ?? [])] };
      }
    }
  }
  const matches = selector === null ? MATCH_NOTHING : compileLabelSelector(selector);
  const empty =
    selector !== null &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0;
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    isHostname: c.topologyKey === LABEL_HOSTNAME,
    matches,
    countsPods: !empty,
    selfMatch: matches(pod.labels) ? 1 : 0,
    minDomains: c.minDomains ?? 1,
    honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorNodeTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
  };
}

function compileConstraints(
  list: readonly TopologySpreadConstraint[],
  action: string,
  pod: PodInfo,
  selectorOverride?: SelectorParts,
): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of list) if (c.whenUnsatisfiable === action) out.push(compileConstraint(c, pod, selectorOverride));
  return out;
}

/**
 * Upstream helper.DefaultSelector: the selectors of the Services in the pod's namespace that select it, merged,
 * ANDed with the selector of the ReplicationController, ReplicaSet or StatefulSet named by the pod's controller
 * owner reference (apiVersion v1 / apps/v1 exactly). Returns null when the result has no requirements.
 */
export function defaultSelector(pod: PodInfo, cluster: ClusterView): LabelSelector | null {
  const labelSet: Labels = {};
  const ns = pod.namespace;
  for (const svc of cluster.services.values()) {
    if ((svc.metadata?.namespace ?? 'default') !== ns) continue;
    const sel = svc.spec?.selector;
    // A nil selector selects nothing; an empty one selects every pod but adds no requirement.
    if (!sel) continue;
    let selects = true;
    for (const [k, v] of Object.entries(sel)) {
      if (!hasLabel(pod.labels, k) || pod.labels[k] !== v) {
        selects = false;
        break;
      }
    }
    if (selects) Object.assign(labelSet, sel);
  }
  const expressions: LabelSelectorRequirement[] = [];
  const owner = controllerOf(pod.pod);
  if (owner) {
    const key = `${ns}/${owner.name ?? ''}`;
    if (owner.apiVersion === 'v1' && owner.kind === 'ReplicationController') {
      const rc = cluster.replicationControllers.get(key);
      if (rc) Object.assign(labelSet, rc.spec?.selector ?? {});
    } else if (owner.apiVersion === 'apps/v1' && (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet')) {
      const obj = owner.kind === 'ReplicaSet' ? cluster.replicaSets.get(key) : cluster.statefulSets.get(key);
      const sel = obj?.spec?.selector;
      if (sel) {
        for (const [k, v] of Object.entries(sel.matchLabels ?? {})) expressions.push({ key: k, operator: 'In', values: [v] });
        for (const r of sel.matchExpressions ?? []) expressions.push(r);
      }
    }
  }
  if (Object.keys(labelSet).length === 0 && expressions.length === 0) return null;
  return { matchLabels: labelSet, matchExpressions: expressions };
}

function controllerOf(pod: Pod): { kind?: string; name?: string; apiVersion?: string } | undefined {
  for (const ref of pod.metadata?.ownerReferences ?? []) if (ref.controller === true) return ref;
  return undefined;
}

/** Lazily evaluated node inclusion policies for one node (upstream matchNodeInclusionPolicies). */
class Inclusion {
  private affinity = -1;
  private taints = -1;
  private node: NodeInfo | null = null;

  constructor(
    private readonly pod: PodInfo,
    private readonly affinityMatch: (node: NodeInfo) => boolean,
  ) {}

  reset(node: NodeInfo): void {
    this.node = node;
    this.affinity = -1;
    this.taints = -1;
  }

  includes(c: SpreadConstraint): boolean {
    const node = this.node as NodeInfo;
    if (c.honorNodeAffinity) {
      if (this.affinity < 0) this.affinity = this.affinityMatch(node) ? 1 : 0;
      if (this.affinity === 0) return false;
    }
    if (c.honorNodeTaints) {
      if (this.taints < 0) this.taints = findUntoleratedTaint(node.taints, this.pod.tolerations, isDoNotScheduleTaint) ? 0 : 1;
      if (this.taints === 0) return false;
    }
    return true;
  }
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly handle: FrameworkHandle;
  private readonly defaults: readonly TopologySpreadConstraint[];
  private readonly systemDefaulted: boolean;

  constructor(handle: FrameworkHandle, args: PodTopologySpreadArgs) {
    this.handle = handle;
    this.systemDefaulted = args.defaultingType === 'System';
    this.defaults = this.systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : args.defaultConstraints;
  }

  /** Upstream getConstraints / the constraint part of initPreScoreState. */
  constraintsFor(pod: PodInfo, action: string): readonly SpreadConstraint[] {
    if (pod.topologySpreadConstraints.length > 0) {
      return pod.memoize(action === DO_NOT_SCHEDULE ? MEMO_HARD : MEMO_SOFT, () =>
        compileConstraints(pod.topologySpreadConstraints, action, pod),
      );
    }
    if (this.defaults.length === 0) return [];
    let wanted = false;
    for (const c of this.defaults) if (c.whenUnsatisfiable === action) wanted = true;
    if (!wanted) return [];
    // Depends on the Services and controllers in the cluster, so it is rebuilt every cycle.
    const selector = defaultSelector(pod, this.handle.cluster);
    if (selector === null) return [];
    return compileConstraints(this.defaults, action, pod, { selector });
  }

  // ---- PreFilter / Filter ----

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): PreFilterOutcome {
    const constraints = this.constraintsFor(pod, DO_NOT_SCHEDULE);
    if (constraints.length === 0) return SKIP;
    const counts = constraints.map(() => new Map<string, number>());
    const inclusion = new Inclusion(pod, requiredAffinity(pod));
    const ns = pod.namespace;
    for (const node of nodes) {
      const labels = node.labels;
      if (!nodeHasAllKeys(labels, constraints)) continue;
      inclusion.reset(node);
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as SpreadConstraint;
        if (!inclusion.includes(c)) continue;
        const value = labels[c.topologyKey] as string;
        const map = counts[i] as Map<string, number>;
        map.set(value, (map.get(value) ?? 0) + countMatchingPods(node.pods, c, ns));
      }
    }
    const paths = counts.map((map) => {
      const p = new CriticalPaths();
      for (const [value, n] of map) p.update(value, n);
      return p;
    });
    state.write(PRE_FILTER_KEY, new PreFilterState(constraints, counts, paths));
    return null;
  }

  addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null {
    return this.updateWithPod(state, pod, other, node, 1);
  }

  removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null {
    return this.updateWithPod(state, pod, other, node, -1);
  }

  /** Upstream updateWithPod: `other` (same namespace as the pod) counted in or out of the node's domains. */
  private updateWithPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: 1 | -1): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status.error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`);
    if (other.namespace !== pod.namespace || !nodeHasAllKeys(node.labels, s.constraints)) return null;
    const inclusion = new Inclusion(pod, requiredAffinity(pod));
    inclusion.reset(node);
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as SpreadConstraint;
      if (!c.matches(other.labels) || !inclusion.includes(c)) continue;
      const value = node.labels[c.topologyKey] as string;
      const map = s.counts[i] as Map<string, number>;
      const n = (map.get(value) ?? 0) + delta;
      map.set(value, n);
      (s.paths[i] as CriticalPaths).update(value, n);
    }
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status.error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`);
    const constraints = s.constraints;
    const labels = node.labels;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i] as SpreadConstraint;
      if (!hasLabel(labels, c.topologyKey)) return NODE_LABEL_NOT_MATCH;
      const matchNum = (s.counts[i] as Map<string, number>).get(labels[c.topologyKey] as string) ?? 0;
      if (matchNum + c.selfMatch - s.minMatch(i) > c.maxSkew) return CONSTRAINTS_NOT_MATCH;
    }
    return null;
  }

  // ---- PreScore / Score / NormalizeScore ----

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    const allNodes = this.handle.cluster.nodes();
    if (allNodes.length === 0) return SKIP;
    const constraints = this.constraintsFor(pod, SCHEDULE_ANYWAY);
    if (constraints.length === 0) return SKIP;
    // Only non-system-default constraints require every topology key: nodes without a zone label still get
    // hostname spreading from the system defaults.
    const requireAll = pod.topologySpreadConstraints.length > 0 || !this.systemDefaulted;

    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of nodes) {
      if (requireAll && !nodeHasAllKeys(node.labels, constraints)) {
        ignored.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as SpreadConstraint;
        if (c.isHostname) continue; // counted per node in Score
        const map = counts[i] as Map<string, number>;
        const value = labelValue(node.labels, c.topologyKey);
        if (!map.has(value)) map.set(value, 0);
      }
    }
    const weights = constraints.map((c, i) => {
      const size = c.isHostname ? nodes.length - ignored.size : (counts[i] as Map<string, number>).size;
      return Math.log(size + 2);
    });

    const inclusion = new Inclusion(pod, requiredAffinity(pod));
    const ns = pod.namespace;
    for (const node of allNodes) {
      if (requireAll && !nodeHasAllKeys(node.labels, constraints)) continue;
      inclusion.reset(node);
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as SpreadConstraint;
        if (c.isHostname) continue;
        if (!inclusion.includes(c)) continue;
        const map = counts[i] as Map<string, number>;
        const value = labelValue(node.labels, c.topologyKey);
        const current = map.get(value);
        // Only domains some feasible node is in are counted.
        if (current === undefined) continue;
        map.set(value, current + countMatchingPods(node.pods, c, ns));
      }
    }
    const s: PreScoreState = { constraints, ignored, counts, weights, namespace: ns };
    state.write(PRE_SCORE_KEY, s);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) throw new Error(`error reading "${PRE_SCORE_KEY}" from cycleState: not found`);
    if (s.ignored.size > 0 && s.ignored.has(node.name)) return 0;
    const labels = node.labels;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as SpreadConstraint;
      if (!hasLabel(labels, c.topologyKey)) continue;
      const cnt = c.isHostname
        ? countMatchingPods(node.pods, c, s.namespace)
        : ((s.counts[i] as Map<string, number>).get(labels[c.topologyKey] as string) ?? 0);
      score += cnt * (s.weights[i] as number) + (c.maxSkew - 1);
    }
    // Go's math.Round (half away from zero); the score is never negative, where it equals Math.round.
    return Math.round(score);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): Status | null {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return Status.error(`error reading "${PRE_SCORE_KEY}" from cycleState: not found`);
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    const anyIgnored = s.ignored.size > 0;
    for (let i = 0; i < scores.length; i++) {
      if (anyIgnored && s.ignored.has((nodes[i] as NodeInfo).name)) continue;
      const v = scores[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (let i = 0; i < scores.length; i++) {
      if (anyIgnored && s.ignored.has((nodes[i] as NodeInfo).name)) {
        scores[i] = 0;
      } else if (max === 0) {
        scores[i] = MAX_NODE_SCORE;
      } else {
        scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - (scores[i] as number))) / max);
      }
    }
    return null;
  }
}

/** The pod's nodeSelector and required node affinity as one node predicate (upstream GetRequiredNodeAffinity). */
function requiredAffinity(pod: PodInfo): (node: NodeInfo) => boolean {
  const match = requiredNodeAffinityMatcher(pod);
  return (node) => match(node.labels, node.name);
}

// ---------------------------------------------------------------------------------------------------------------
// pluginConfig args: upstream's defaulting and validation of PodTopologySpreadArgs.

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

/** One of defaultConstraints, validated (and checked against the `earlier` ones for duplicates). */
function decodeDefaultConstraint(
  dec: ArgsDecoder,
  item: unknown,
  p: FieldPath,
  earlier: readonly TopologySpreadConstraint[],
): TopologySpreadConstraint | undefined {
  const c = dec.object(item, p, CONSTRAINT_FIELDS, 'a topology spread constraint');
  if (c === undefined) return undefined;
  const maxSkew = dec.integer(c['maxSkew'], [...p, 'maxSkew']) ?? 0;
  if (maxSkew <= 0) dec.error([...p, 'maxSkew'], `maxSkew ${maxSkew} not in valid range (0, inf)`, 'set maxSkew to 1 or more');
  const topologyKey = dec.string(c['topologyKey'], [...p, 'topologyKey']) ?? '';
  if (topologyKey === '') dec.error([...p, 'topologyKey'], 'topologyKey can not be empty', 'use a node label key such as topology.kubernetes.io/zone');
  else checkLabelName(dec, topologyKey, [...p, 'topologyKey']);
  const when = dec.string(c['whenUnsatisfiable'], [...p, 'whenUnsatisfiable']) ?? '';
  if (when === '') dec.error([...p, 'whenUnsatisfiable'], 'whenUnsatisfiable can not be empty', 'supported values: DoNotSchedule, ScheduleAnyway');
  else if (when !== DO_NOT_SCHEDULE && when !== SCHEDULE_ANYWAY) {
    dec.error([...p, 'whenUnsatisfiable'], `unsupported whenUnsatisfiable "${when}"`, 'supported values: DoNotSchedule, ScheduleAnyway');
  }
  if (c['labelSelector'] !== undefined && c['labelSelector'] !== null) {
    dec.error([...p, 'labelSelector'], 'constraint must not define a selector, as they are deduced for each pod', 'remove labelSelector from default constraints');
  }
  const duplicate = earlier.findIndex((other) => other.topologyKey === topologyKey && other.whenUnsatisfiable === when);
  if (duplicate >= 0) dec.error(p, `duplicate constraint {${topologyKey}, ${when}}`, `merge it with defaultConstraints[${duplicate}]`);
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
  if (keys !== undefined) constraint.matchLabelKeys = keys.map((k, j) => dec.string(k, [...p, 'matchLabelKeys', j]) ?? '');
  return constraint;
}

const argsSpec: PluginArgsSpec<PodTopologySpreadArgs> = {
  fields: ['defaultConstraints', 'defaultingType'],
  defaults: () => ({ defaultConstraints: [], defaultingType: 'System' }),
  decode: (dec, raw, path) => {
    const typePath = [...path, 'defaultingType'];
    const rawType = dec.string(raw['defaultingType'], typePath);
    let defaultingType: PodTopologySpreadArgs['defaultingType'] = 'System';
    if (rawType === 'List' || rawType === 'System') defaultingType = rawType;
    else if (rawType !== undefined && rawType !== '') dec.error(typePath, `unsupported defaultingType "${rawType}"`, 'supported values: System, List');

    const constraintsPath = [...path, 'defaultConstraints'];
    const constraints: TopologySpreadConstraint[] = [];
    (dec.array(raw['defaultConstraints'], constraintsPath) ?? []).forEach((item, i) => {
      const constraint = decodeDefaultConstraint(dec, item, [...constraintsPath, i], constraints);
      if (constraint !== undefined) constraints.push(constraint);
    });
    if (defaultingType === 'System' && constraints.length > 0) {
      dec.error(typePath, 'defaultingType System is invalid when defaultConstraints are not empty', 'set defaultingType: List to use your own defaultConstraints');
    }
    return { defaultConstraints: constraints, defaultingType };
  },
  render: (a) => {
    const out: Record<string, unknown> = {};
    if (a.defaultConstraints.length > 0) out['defaultConstraints'] = structuredClone(a.defaultConstraints);
    out['defaultingType'] = a.defaultingType;
    return out;
  },
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'NodeDelete', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  args: argsSpec,
  create: (handle, args) => new PodTopologySpread(handle, args),
} satisfies PluginDescriptor<PodTopologySpreadArgs>;
