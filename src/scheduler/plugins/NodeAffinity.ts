/**
 * NodeAffinity (upstream plugins/nodeaffinity, v1.34/v1.35 behaviour).
 *
 * PreFilter: Skip when the pod has no nodeSelector, no required node affinity and the profile adds none. When
 * every required term names nodes through matchFields metadata.name In, the union of those names (intersected
 * within a term) restricts the node set; an empty union is "pod affinity terms conflict".
 * Filter: the profile's addedAffinity (reason "node(s) didn't match scheduler-enforced node affinity"), then the
 * pod's nodeSelector AND its required terms (reason "node(s) didn't match Pod's node affinity/selector"), both
 * UnschedulableAndUnresolvable.
 * PreScore: Skip when the pod has no preferred terms and the profile adds none.
 * Score: Σ weights of the matching preferred terms (the pod's and addedAffinity's); default normalization.
 */
import type { Labels, NodeAffinity as NodeAffinitySpec, NodeSelectorTerm } from '../../kube/api.js';
import { defaultNormalizeScore } from '../framework/normalize.js';
import {
  SKIP,
  Status,
  type CycleState,
  type FilterPlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/types.js';
import type { ArgsDecoder, FieldPath, PluginArgsSpec, PluginDescriptor } from '../framework/plugin.js';
import { decodeNodeSelectorTerm } from './argsHelpers.js';
import type { NodeInfo } from '../cache/nodeInfo.js';
import type { PodInfo } from '../cache/podInfo.js';
import { compileLabelSelector, compileNodeSelectorTerm, compileNodeSelectorTerms, type NodeMatcher } from '../../kube/selectors.js';

export const NAME = 'NodeAffinity';

/** NodeAffinityArgs, validated: node affinity the profile adds to every pod. */
export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinitySpec;
}

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const REQUIRED_MEMO_KEY = `${NAME}/required`;
const PREFERRED_MEMO_KEY = `${NAME}/preferred`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

const REJECT_POD = Status.unresolvable(ERR_REASON_POD);
const REJECT_ENFORCED = Status.unresolvable(ERR_REASON_ENFORCED);
const REJECT_CONFLICT = Status.unresolvable(ERR_REASON_CONFLICT);

const MATCH_ALL: NodeMatcher = () => true;

/**
 * Upstream nodeaffinity.GetRequiredNodeAffinity(pod).Match: the pod's spec.nodeSelector (every key present with
 * the given value; an empty map selects every node) AND its requiredDuringSchedulingIgnoredDuringExecution terms
 * (ORed; no terms match nothing). Does not include a profile's addedAffinity. Memoized on the PodInfo.
 * PodTopologySpread (nodeAffinityPolicy Honor) uses this as well.
 */
export function requiredNodeAffinityMatcher(pod: PodInfo): NodeMatcher {
  return pod.memoize(REQUIRED_MEMO_KEY, compileRequired);
}

function compileRequired(pod: PodInfo): NodeMatcher {
  const nodeSelector = pod.pod.spec?.nodeSelector;
  const selector =
    nodeSelector && Object.keys(nodeSelector).length > 0 ? compileLabelSelector({ matchLabels: nodeSelector }) : undefined;
  const required = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required ? compileNodeSelectorTerms(required.nodeSelectorTerms) : undefined;
  if (selector && terms) return (labels: Labels, name: string) => selector(labels) && terms(labels, name);
  if (selector) return (labels: Labels) => selector(labels);
  return terms ?? MATCH_ALL;
}

interface WeightedMatcher {
  weight: number;
  match: NodeMatcher;
}

/** Upstream NewPreferredSchedulingTerms: terms with weight 0 or no requirements are dropped. */
function compilePreferred(terms: ReadonlyArray<{ weight: number; preference: NodeSelectorTerm }>): WeightedMatcher[] {
  const out: WeightedMatcher[] = [];
  for (const term of terms) {
    const pref = term.preference ?? {};
    if (!term.weight || ((pref.matchExpressions?.length ?? 0) === 0 && (pref.matchFields?.length ?? 0) === 0)) continue;
    out.push({ weight: term.weight, match: compileNodeSelectorTerm(pref) });
  }
  return out;
}

function sumMatching(terms: readonly WeightedMatcher[], node: NodeInfo): number {
  let sum = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i] as WeightedMatcher;
    if (t.match(node.labels, node.name)) sum += t.weight;
  }
  return sum;
}

/**
 * The PreFilterResult upstream derives from matchFields metadata.name In requirements: undefined when some term
 * has none (no restriction), else the union over terms of the per-term intersection.
 */
function nodeNamesFromTerms(terms: readonly NodeSelectorTerm[]): Set<string> | undefined {
  let union: Set<string> | undefined;
  for (const term of terms) {
    let termNames: Set<string> | undefined;
    for (const req of term.matchFields ?? []) {
      if (req.key !== 'metadata.name' || req.operator !== 'In') continue;
      const values = new Set(req.values ?? []);
      termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)));
    }
    if (termNames === undefined) return undefined;
    union ??= new Set();
    for (const n of termNames) union.add(n);
  }
  return union;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly addedRequired: NodeMatcher | undefined;
  private readonly addedPreferred: WeightedMatcher[] | undefined;

  constructor(addedAffinity?: NodeAffinitySpec) {
    const required = addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.addedRequired = required ? compileNodeSelectorTerms(required.nodeSelectorTerms) : undefined;
    const preferred = addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    this.addedPreferred = preferred && preferred.length > 0 ? compilePreferred(preferred) : undefined;
  }

  preFilter(_state: CycleState, pod: PodInfo, _nodes?: readonly NodeInfo[]): PreFilterOutcome {
    const required = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const nodeSelector = pod.pod.spec?.nodeSelector;
    if (!required && !this.addedRequired && (nodeSelector === undefined || nodeSelector === null)) return SKIP;
    requiredNodeAffinityMatcher(pod);
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return null;
    const names = nodeNamesFromTerms(terms);
    if (names === undefined) return null;
    if (names.size === 0) return REJECT_CONFLICT;
    return { nodeNames: names };
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (this.addedRequired && !this.addedRequired(node.labels, node.name)) return REJECT_ENFORCED;
    return requiredNodeAffinityMatcher(pod)(node.labels, node.name) ? null : REJECT_POD;
  }

  preScore(state: CycleState, pod: PodInfo, _nodes?: readonly NodeInfo[]): Status | null {
    const preferred = pod.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!preferred && !this.addedPreferred) return SKIP;
    state.write(PRE_SCORE_KEY, this.podPreferred(pod));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    let count = this.addedPreferred ? sumMatching(this.addedPreferred, node) : 0;
    const preferred = state.read<WeightedMatcher[]>(PRE_SCORE_KEY) ?? this.podPreferred(pod);
    count += sumMatching(preferred, node);
    return count;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status | null {
    defaultNormalizeScore(scores, false);
    return null;
  }

  private podPreferred(pod: PodInfo): WeightedMatcher[] {
    return pod.memoize(PREFERRED_MEMO_KEY, () =>
      compilePreferred(pod.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// pluginConfig args: upstream's validation of NodeAffinityArgs (addedAffinity is a node affinity without defaults).

const NODE_AFFINITY_FIELDS = ['requiredDuringSchedulingIgnoredDuringExecution', 'preferredDuringSchedulingIgnoredDuringExecution'];

type PreferredTerms = NonNullable<NodeAffinitySpec['preferredDuringSchedulingIgnoredDuringExecution']>;

function decodePreferredTerms(dec: ArgsDecoder, value: unknown, path: FieldPath): PreferredTerms | undefined {
  const prefs = dec.array(value, path);
  if (prefs === undefined) return undefined;
  const out: PreferredTerms = [];
  prefs.forEach((item, i) => {
    const p = [...path, i];
    const pr = dec.object(item, p, ['weight', 'preference'], 'a preferred scheduling term');
    if (pr === undefined) return;
    const weight = dec.integer(pr['weight'], [...p, 'weight']) ?? 0;
    out.push({ weight, preference: decodeNodeSelectorTerm(dec, pr['preference'], [...p, 'preference']) });
  });
  return out;
}

function decodeAddedAffinity(dec: ArgsDecoder, value: unknown, path: FieldPath): NodeAffinitySpec | undefined {
  const a = dec.object(value, path, NODE_AFFINITY_FIELDS, 'addedAffinity');
  if (a === undefined) return undefined;
  const affinity: NodeAffinitySpec = {};
  const reqPath = [...path, 'requiredDuringSchedulingIgnoredDuringExecution'];
  const req = dec.object(a['requiredDuringSchedulingIgnoredDuringExecution'], reqPath, ['nodeSelectorTerms'], 'a node selector');
  if (req !== undefined) {
    const terms = dec.array(req['nodeSelectorTerms'], [...reqPath, 'nodeSelectorTerms']) ?? [];
    affinity.requiredDuringSchedulingIgnoredDuringExecution = {
      nodeSelectorTerms: terms.map((t, i) => decodeNodeSelectorTerm(dec, t, [...reqPath, 'nodeSelectorTerms', i])),
    };
  }
  const prefPath = [...path, 'preferredDuringSchedulingIgnoredDuringExecution'];
  const preferred = decodePreferredTerms(dec, a['preferredDuringSchedulingIgnoredDuringExecution'], prefPath);
  if (preferred !== undefined) affinity.preferredDuringSchedulingIgnoredDuringExecution = preferred;
  return affinity;
}

const argsSpec: PluginArgsSpec<NodeAffinityArgs> = {
  fields: ['addedAffinity'],
  defaults: () => ({}),
  decode: (dec, raw, path) => {
    const addedAffinity = decodeAddedAffinity(dec, raw['addedAffinity'], [...path, 'addedAffinity']);
    return addedAffinity === undefined ? {} : { addedAffinity };
  },
  render: (a) => (a.addedAffinity === undefined ? {} : { addedAffinity: structuredClone(a.addedAffinity) }),
};

export const descriptor = {
  name: NAME,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  events: ['NodeAdd', 'NodeUpdate'],
  args: argsSpec,
  create: (_handle, args) => new NodeAffinity(args.addedAffinity),
} satisfies PluginDescriptor<NodeAffinityArgs>;
