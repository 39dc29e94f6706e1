/**
 * InterPodAffinity: required pod (anti-)affinity as a filter, preferred pod (anti-)affinity as a score, with
 * upstream kube-scheduler v1.37 semantics (pkg/scheduler/framework/plugins/interpodaffinity, feature gate
 * InterPodAffinityHostnameFastPath at its default, off).
 *
 * Terms (upstream framework.AffinityTerm): a nil labelSelector matches no pod, an empty one every pod; an empty
 * namespaces list with no namespaceSelector means the owning pod's namespace; otherwise the term covers the listed
 * namespaces OR the namespaces whose labels the namespaceSelector selects ({} = every namespace).
 * matchLabelKeys / mismatchLabelKeys are merged into the labelSelector by the API server at pod creation
 * (MatchLabelKeysInPodAffinity, GA and locked on since v1.33), so the scheduler ignores them.
 *
 * Each pod's terms are compiled once and memoized on its PodInfo. The incoming pod's terms with a non-empty
 * namespaceSelector are resolved per cycle against the namespaces currently known, as upstream's
 * mergeAffinityTermNamespacesIfNotEmpty does.
 */
import type { Labels, PodAffinityTerm, WeightedPodAffinityTerm } from '../../kube/api.js';
import {
  MAX_NODE_SCORE,
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type FrameworkHandle,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/types.js';
import type { PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { compileLabelSelector, MATCH_EVERYTHING, MATCH_NOTHING, type LabelMatcher } from '../../kube/selectors.js';

export const NAME = 'InterPodAffinity';

/** InterPodAffinityArgs, defaulted and validated. */
export interface InterPodAffinityArgs {
  hardPodAffinityWeight: number;
  ignorePreferredTermsOfExistingPods: boolean;
}

export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";

const AFFINITY_REJECTED = Status.unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
const ANTI_AFFINITY_REJECTED = Status.unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
const EXISTING_ANTI_AFFINITY_REJECTED = Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);

const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;
const EMPTY_LABELS: Labels = Object.freeze({}) as Labels;

/** A compiled PodAffinityTerm (upstream fwk.AffinityTerm), with the weight of a preferred term (0 for required). */
export interface CompiledTerm {
  readonly selector: LabelMatcher;
  readonly namespaces: ReadonlySet<string>;
  /** The namespaceSelector; null when absent (upstream labels.Nothing()). */
  readonly nsSelector: LabelMatcher | null;
  /** The namespaceSelector is {}: every namespace (upstream labels.Everything(), Empty() == true). */
  readonly allNamespaces: boolean;
  readonly topologyKey: string;
  readonly weight: number;
}

export interface CompiledPodTerms {
  readonly requiredAffinity: readonly CompiledTerm[];
  readonly requiredAntiAffinity: readonly CompiledTerm[];
  readonly preferredAffinity: readonly CompiledTerm[];
  readonly preferredAntiAffinity: readonly CompiledTerm[];
  /** As an existing pod, it can add to an incoming pod's score (required affinity, or preferred terms). */
  readonly scoresOthers: boolean;
}

const NO_TERMS: readonly CompiledTerm[] = Object.freeze([]) as readonly CompiledTerm[];

function compileTerm(namespace: string, term: PodAffinityTerm, weight: number): CompiledTerm {
  const listed = term.namespaces ?? [];
  const hasNsSelector = term.namespaceSelector !== null && term.namespaceSelector !== undefined;
  const namespaces = new Set<string>(listed.length === 0 && !hasNsSelector ? [namespace] : listed);
  const nsMatcher = hasNsSelector ? compileLabelSelector(term.namespaceSelector) : null;
  return {
    selector: compileLabelSelector(term.labelSelector),
    namespaces,
    nsSelector: nsMatcher === MATCH_NOTHING ? null : nsMatcher,
    allNamespaces: nsMatcher === MATCH_EVERYTHING,
    topologyKey: term.topologyKey,
    weight,
  };
}

function compileRequired(namespace: string, terms: PodAffinityTerm[] | undefined): readonly CompiledTerm[] {
  if (!terms || terms.length === 0) return NO_TERMS;
  return terms.map((t) => compileTerm(namespace, t, 0));
}

function compilePreferred(namespace: string, terms: WeightedPodAffinityTerm[] | undefined): readonly CompiledTerm[] {
  if (!terms || terms.length === 0) return NO_TERMS;
  return terms.map((t) => compileTerm(namespace, t.podAffinityTerm ?? { topologyKey: '' }, t.weight ?? 0));
}

/** The pod's compiled terms, memoized on its PodInfo. */
export function podTerms(pod: PodInfo): CompiledPodTerms {
  return pod.memoize(NAME, () => {
    const pa = pod.affinity?.podAffinity;
    const paa = pod.affinity?.podAntiAffinity;
    const requiredAffinity = compileRequired(pod.namespace, pa?.requiredDuringSchedulingIgnoredDuringExecution);
    const preferredAffinity = compilePreferred(pod.namespace, pa?.preferredDuringSchedulingIgnoredDuringExecution);
    const preferredAntiAffinity = compilePreferred(pod.namespace, paa?.preferredDuringSchedulingIgnoredDuringExecution);
    return {
      requiredAffinity,
      requiredAntiAffinity: compileRequired(pod.namespace, paa?.requiredDuringSchedulingIgnoredDuringExecution),
      preferredAffinity,
      preferredAntiAffinity,
      scoresOthers: requiredAffinity.length > 0 || preferredAffinity.length > 0 || preferredAntiAffinity.length > 0,
    };
  });
}

/**
 * Upstream AffinityTerm.Matches: the pod's namespace is listed, or the namespaceSelector selects `nsLabels`
 * (the pod's namespace labels; null stands for upstream's nil set, used for the incoming pod's merged terms);
 * then the label selector decides.
 */
function termMatches(term: CompiledTerm, pod: PodInfo, nsLabels: Labels | null): boolean {
  // An empty namespaceSelector ({}, allNamespaces) is MATCH_EVERYTHING and so selects any labels, nil included.
  if (term.namespaces.has(pod.namespace) || (term.nsSelector !== null && term.nsSelector(nsLabels ?? EMPTY_LABELS))) {
    return term.selector(pod.labels);
  }
  return false;
}

/** Upstream podMatchesAllAffinityTerms: false for no terms. Terms are the incoming pod's (merged) ones. */
function matchesAllTerms(terms: readonly CompiledTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, null)) return false;
  return true;
}

/**
 * Upstream mergeAffinityTermNamespacesIfNotEmpty for the incoming pod's terms: a non-empty namespaceSelector is
 * unrolled into the namespaces known now and dropped. Terms without one are returned as they are (no allocation).
 */
function resolveIncomingTerms(terms: readonly CompiledTerm[], namespaceLabels: ReadonlyMap<string, Labels>): readonly CompiledTerm[] {
  let resolved: CompiledTerm[] | null = null;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i] as CompiledTerm;
    if (t.nsSelector === null || t.allNamespaces) continue;
    resolved ??= terms.slice();
    const namespaces = new Set(t.namespaces);
    for (const [name, labels] of namespaceLabels) if (t.nsSelector(labels)) namespaces.add(name);
    resolved[i] = { ...t, namespaces, nsSelector: null };
  }
  return resolved ?? terms;
}

function labelValue(labels: Labels, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

/**
 * (topologyKey, value) → integer, kept as parallel arrays of keys and value maps so that Filter and Score walk
 * them without allocating. A pair whose count returns to 0 is deleted, and `pairs` counts the pairs present
 * (upstream's map length: the filter's "no pod matches anywhere" test reads it).
 */
class TopologyMap {
  readonly keys: string[] = [];
  readonly values: Map<string, number>[] = [];
  pairs = 0;

  /** Adds `delta` at (key, the node's value for key); nothing when the node lacks the key. */
  add(nodeLabels: Labels, key: string, delta: number): void {
    const value = labelValue(nodeLabels, key);
    if (value === undefined) return;
    let index = this.keys.indexOf(key);
    if (index < 0) {
      index = this.keys.length;
      this.keys.push(key);
      this.values.push(new Map());
    }
    const map = this.values[index] as Map<string, number>;
    const previous = map.get(value);
    const next = (previous ?? 0) + delta;
    if (next === 0) {
      if (previous !== undefined) {
        map.delete(value);
        this.pairs--;
      }
      return;
    }
    if (previous === undefined) this.pairs++;
    map.set(value, next);
  }

  get(key: string, value: string): number {
    const index = this.keys.indexOf(key);
    if (index < 0) return 0;
    return (this.values[index] as Map<string, number>).get(value) ?? 0;
  }

  clone(): TopologyMap {
    const copy = new TopologyMap();
    copy.keys.push(...this.keys);
    for (const map of this.values) copy.values.push(new Map(map));
    copy.pairs = this.pairs;
    return copy;
  }
}

/** PreFilter's counts; cloned for what-ifs and kept right by AddPod/RemovePod (upstream preFilterState). */
class PreFilterState {
  constructor(
    readonly affinityTerms: readonly CompiledTerm[],
    readonly antiAffinityTerms: readonly CompiledTerm[],
    /** The incoming pod's namespace labels, which existing pods' namespaceSelectors match against. */
    readonly nsLabels: Labels,
    /** Existing pods' required anti-affinity terms matching the incoming pod, by their nodes' topology pairs. */
    readonly existingAntiAffinityCounts: TopologyMap,
    /** Existing pods matching all the incoming pod's required affinity terms. */
    readonly affinityCounts: TopologyMap,
    /** Existing pods matching each of the incoming pod's required anti-affinity terms. */
    readonly antiAffinityCounts: TopologyMap,
    /** The incoming pod matches all its own required affinity terms (first pod of a group). */
    readonly matchesOwnAffinity: boolean,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(
      this.affinityTerms,
      this.antiAffinityTerms,
      this.nsLabels,
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
      this.matchesOwnAffinity,
    );
  }

  /** Upstream updateWithPod: counts `other` on `node` in (multiplier 1) or out (-1). */
  updateWithPod(incoming: PodInfo, other: PodInfo, nodeLabels: Labels, multiplier: 1 | -1): void {
    for (const term of podTerms(other).requiredAntiAffinity) {
      if (termMatches(term, incoming, this.nsLabels)) this.existingAntiAffinityCounts.add(nodeLabels, term.topologyKey, multiplier);
    }
    if (this.affinityTerms.length > 0 && matchesAllTerms(this.affinityTerms, other)) {
      for (const term of this.affinityTerms) this.affinityCounts.add(nodeLabels, term.topologyKey, multiplier);
    }
    for (const term of this.antiAffinityTerms) {
      if (termMatches(term, other, null)) this.antiAffinityCounts.add(nodeLabels, term.topologyKey, multiplier);
    }
  }
}

const STATE_NOT_FOUND = Status.error(`error reading "${PRE_FILTER_KEY}" from cycleState: not found`);

interface PreScoreState {
  topologyScore: TopologyMap;
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;

  constructor(
    private readonly handle: FrameworkHandle,
    private readonly args: InterPodAffinityArgs,
  ) {}

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): PreFilterOutcome {
    const namespaceLabels = this.handle.cluster.namespaceLabels;
    const own = podTerms(pod);
    const affinityTerms = resolveIncomingTerms(own.requiredAffinity, namespaceLabels);
    const antiAffinityTerms = resolveIncomingTerms(own.requiredAntiAffinity, namespaceLabels);
    const nsLabels = namespaceLabels.get(pod.namespace) ?? EMPTY_LABELS;

    // Existing pods' required anti-affinity against the incoming pod.
    const existingAntiAffinityCounts = new TopologyMap();
    // Only nodes holding pods with required anti-affinity can contribute (the cache keeps that index).
    for (const node of this.handle.cluster.nodesWithRequiredAntiAffinityPods) {
      const withAnti = node.podsWithRequiredAntiAffinity;
      for (const existing of withAnti) {
        for (const term of podTerms(existing).requiredAntiAffinity) {
          if (termMatches(term, pod, nsLabels)) existingAntiAffinityCounts.add(node.labels, term.topologyKey, 1);
        }
      }
    }

    // The incoming pod's required terms against every existing pod.
    const affinityCounts = new TopologyMap();
    const antiAffinityCounts = new TopologyMap();
    if (affinityTerms.length > 0 || antiAffinityTerms.length > 0) {
      for (const node of nodes) {
        const labels = node.labels;
        for (const existing of node.pods) {
          if (affinityTerms.length > 0 && matchesAllTerms(affinityTerms, existing)) {
            for (const term of affinityTerms) affinityCounts.add(labels, term.topologyKey, 1);
          }
          for (const term of antiAffinityTerms) {
            if (termMatches(term, existing, null)) antiAffinityCounts.add(labels, term.topologyKey, 1);
          }
        }
      }
    }

    if (existingAntiAffinityCounts.pairs === 0 && affinityTerms.length === 0 && antiAffinityTerms.length === 0) {
      return SKIP;
    }
    const s = new PreFilterState(
      affinityTerms,
      antiAffinityTerms,
      nsLabels,
      existingAntiAffinityCounts,
      affinityCounts,
      antiAffinityCounts,
      matchesAllTerms(affinityTerms, pod),
    );
    state.write(PRE_FILTER_KEY, s);
    return null;
  }

  addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null {
    return this.updateWithPod(state, pod, other, node, 1);
  }

  removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): Status | null {
    return this.updateWithPod(state, pod, other, node, -1);
  }

  private updateWithPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, multiplier: 1 | -1): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) return STATE_NOT_FOUND;
    s.updateWithPod(pod, other, node.labels, multiplier);
    return null;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) return null;
    const labels = node.labels;

    // Incoming pod's affinity: every topology key present, and a matching pod in each of the node's domains,
    // unless no pod matches anywhere and the pod matches its own terms.
    const affinityTerms = s.affinityTerms;
    if (affinityTerms.length > 0) {
      let podsExist = true;
      for (let i = 0; i < affinityTerms.length; i++) {
        const key = (affinityTerms[i] as CompiledTerm).topologyKey;
        const value = labelValue(labels, key);
        if (value === undefined) return AFFINITY_REJECTED;
        if (s.affinityCounts.get(key, value) <= 0) podsExist = false;
      }
      if (!podsExist && !(s.affinityCounts.pairs === 0 && s.matchesOwnAffinity)) return AFFINITY_REJECTED;
    }

    // Incoming pod's anti-affinity.
    if (s.antiAffinityCounts.pairs > 0) {
      const antiTerms = s.antiAffinityTerms;
      for (let i = 0; i < antiTerms.length; i++) {
        const key = (antiTerms[i] as CompiledTerm).topologyKey;
        const value = labelValue(labels, key);
        if (value !== undefined && s.antiAffinityCounts.get(key, value) > 0) return ANTI_AFFINITY_REJECTED;
      }
    }

    // Existing pods' anti-affinity: any of the node's topology pairs with a matching existing pod.
    const existing = s.existingAntiAffinityCounts;
    if (existing.pairs > 0) {
      for (let i = 0; i < existing.keys.length; i++) {
        const value = labelValue(labels, existing.keys[i] as string);
        if (value !== undefined && ((existing.values[i] as Map<string, number>).get(value) ?? 0) > 0) {
          return EXISTING_ANTI_AFFINITY_REJECTED;
        }
      }
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[]): Status | null {
    const own = podTerms(pod);
    const hasConstraints = own.preferredAffinity.length > 0 || own.preferredAntiAffinity.length > 0;
    if (this.args.ignorePreferredTermsOfExistingPods && !hasConstraints) return SKIP;

    const namespaceLabels = this.handle.cluster.namespaceLabels;
    const affinityTerms = resolveIncomingTerms(own.preferredAffinity, namespaceLabels);
    const antiAffinityTerms = resolveIncomingTerms(own.preferredAntiAffinity, namespaceLabels);
    const nsLabels = namespaceLabels.get(pod.namespace) ?? EMPTY_LABELS;
    const hardWeight = this.args.hardPodAffinityWeight;
    const scores = new TopologyMap();

    // Unless the incoming pod has preferred terms, only pods with affinity terms can contribute.
    const candidates: Iterable<NodeInfo> = hasConstraints ? this.handle.cluster.nodes() : this.handle.cluster.nodesWithAffinityPods;
    for (const node of candidates) {
      const pods = hasConstraints ? node.pods : node.podsWithAffinity;
      if (pods.length === 0) continue;
      const labels = node.labels;
      for (const existing of pods) {
        for (const t of affinityTerms) if (termMatches(t, existing, null)) scores.add(labels, t.topologyKey, t.weight);
        for (const t of antiAffinityTerms) if (termMatches(t, existing, null)) scores.add(labels, t.topologyKey, -t.weight);
        if (!existing.hasAnyPodAffinity) continue;
        const theirs = podTerms(existing);
        if (!theirs.scoresOthers) continue;
        if (hardWeight > 0) {
          for (const t of theirs.requiredAffinity) if (termMatches(t, pod, nsLabels)) scores.add(labels, t.topologyKey, hardWeight);
        }
        for (const t of theirs.preferredAffinity) if (termMatches(t, pod, nsLabels)) scores.add(labels, t.topologyKey, t.weight);
        for (const t of theirs.preferredAntiAffinity) if (termMatches(t, pod, nsLabels)) scores.add(labels, t.topologyKey, -t.weight);
      }
    }

    if (scores.pairs === 0) return SKIP;
    const s: PreScoreState = { topologyScore: scores };
    state.write(PRE_SCORE_KEY, s);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined) return 0;
    const map = s.topologyScore;
    const labels = node.labels;
    let score = 0;
    for (let i = 0; i < map.keys.length; i++) {
      const value = labelValue(labels, map.keys[i] as string);
      if (value !== undefined) score += (map.values[i] as Map<string, number>).get(value) ?? 0;
    }
    return score;
  }

  /** Upstream: 100 × (s − min) / (max − min) in float64, truncated; every score 0 when max == min. */
  normalizeScore(state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status | null {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined || s.topologyScore.pairs === 0) return null;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i] as number;
      if (v > max) max = v;
      if (v < min) min = v;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * (((scores[i] as number) - min) / diff)) : 0;
    }
    return null;
  }
}

/** pluginConfig args: upstream's defaulting and validation of InterPodAffinityArgs. */
const argsSpec: PluginArgsSpec<InterPodAffinityArgs> = {
  fields: ['hardPodAffinityWeight', 'ignorePreferredTermsOfExistingPods'],
  defaults: () => ({ hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false }),
  decode: (dec, raw, path) => {
    const out = argsSpec.defaults();
    const w = dec.integer(raw['hardPodAffinityWeight'], [...path, 'hardPodAffinityWeight']);
    if (w !== undefined) {
      if (w < 0 || w > 100) dec.error([...path, 'hardPodAffinityWeight'], `${w} not in valid range [0, 100]`, 'use a weight from 0 to 100 (default 1)');
      out.hardPodAffinityWeight = w;
    }
    const ignore = dec.boolean(raw['ignorePreferredTermsOfExistingPods'], [...path, 'ignorePreferredTermsOfExistingPods']);
    if (ignore !== undefined) out.ignorePreferredTermsOfExistingPods = ignore;
    return out;
  },
  render: (a) => {
    const out: Record<string, unknown> = { hardPodAffinityWeight: a.hardPodAffinityWeight };
    if (a.ignorePreferredTermsOfExistingPods) out['ignorePreferredTermsOfExistingPods'] = true;
    return out;
  },
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NamespaceChange'],
  args: argsSpec,
  create: (handle, args) => new InterPodAffinity(handle, args),
} satisfies PluginDescriptor<InterPodAffinityArgs>;
