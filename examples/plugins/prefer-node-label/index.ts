/**
 * PreferNodeLabel: an example out-of-tree plugin, written only against berth's public API (berth/plugin).
 *
 * It scores nodes by the value of one node label, in the order the operator prefers: with
 * `label: berth.example/pool` and `values: [interactive, batch]`, a node labelled `interactive` scores 100, one
 * labelled `batch` 50, any other node 0. With `requireLabel: true` it also filters out nodes that have none of the
 * values, so a pod is only placed on a preferred pool (and waits, retried when a node gains the label).
 *
 * Run it (docs/plugins.md walks through writing one like it):
 *   npm run build:tools
 *   npx berth simulate examples/plugins/prefer-node-label/cluster.yaml \
 *     -c examples/plugins/prefer-node-label/config.yaml \
 *     --plugins dist/examples/plugins/prefer-node-label/index.js --explain
 */
import {
  type FilterPlugin,
  type Node,
  type NodeInfo,
  type PluginArgsSpec,
  type PluginDescriptor,
  type PodInfo,
  type ScorePlugin,
  MAX_NODE_SCORE,
  Status,
} from 'berth/plugin';

export const NAME = 'PreferNodeLabel';

/** The plugin's pluginConfig args (kind PreferNodeLabelArgs). */
export interface PreferNodeLabelArgs {
  /** The node label to read. */
  label: string;
  /** Its values, most preferred first. */
  values: string[];
  /** Filter out nodes whose label has none of the values. */
  requireLabel: boolean;
}

/** A label key as the API server accepts it: an optional DNS prefix and "/", then a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const args: PluginArgsSpec<PreferNodeLabelArgs> = {
  fields: ['label', 'values', 'requireLabel'],
  defaults: () => ({ label: 'berth.example/pool', values: [], requireLabel: false }),
  decode: (dec, raw, path) => {
    const out = args.defaults();
    const label = dec.string(raw['label'], [...path, 'label']);
    if (label !== undefined) {
      if (LABEL_KEY.test(label)) out.label = label;
      else dec.error([...path, 'label'], `"${label}" is not a valid label key`, 'write a key such as "berth.example/pool" or "pool"');
    }
    const values = dec.array(raw['values'], [...path, 'values']);
    values?.forEach((value, i) => {
      const text = dec.string(value, [...path, 'values', i]);
      if (text === undefined) return;
      if (out.values.includes(text)) dec.error([...path, 'values', i], `"${text}" is listed twice`, 'list each value once, most preferred first');
      else out.values.push(text);
    });
    if (out.values.length === 0) dec.error([...path, 'values'], 'at least one value is required', 'list the label values you prefer, most preferred first');
    const requireLabel = dec.boolean(raw['requireLabel'], [...path, 'requireLabel']);
    if (requireLabel !== undefined) out.requireLabel = requireLabel;
    return out;
  },
  render: (a) => ({ label: a.label, values: [...a.values], requireLabel: a.requireLabel }),
};

export class PreferNodeLabel implements FilterPlugin, ScorePlugin {
  readonly name = NAME;
  /** Each preferred value's score: the first 100, then evenly down to 100/n for the last. */
  private readonly scoreOf: ReadonlyMap<string, number>;
  private readonly rejection: Status;

  constructor(private readonly args: PreferNodeLabelArgs) {
    const n = args.values.length;
    this.scoreOf = new Map(args.values.map((v, i) => [v, Math.trunc((MAX_NODE_SCORE * (n - i)) / n)]));
    // Unresolvable: evicting pods (preemption) cannot give a node the label.
    this.rejection = Status.unresolvable(`node(s) didn't have label ${args.label} in [${args.values.join(', ')}]`);
  }

  filter(_state: unknown, _pod: PodInfo, node: NodeInfo): Status | null {
    if (!this.args.requireLabel) return null;
    return this.scoreOf.has(node.labels[this.args.label] ?? '') ? null : this.rejection;
  }

  score(_state: unknown, _pod: PodInfo, node: NodeInfo): number {
    return this.scoreOf.get(node.labels[this.args.label] ?? '') ?? 0;
  }
}

/**
 * The descriptor berth loads. Its queueing hints retry a pod this plugin rejected only when a node arrives with
 * labels or a node's labels change: other node updates (conditions, resources) cannot give a node the label. A
 * descriptor's hints are fixed before any args are read, so they do not look at the configured label itself.
 */
export const descriptor: PluginDescriptor<PreferNodeLabelArgs> = {
  name: NAME,
  points: ['filter', 'score'],
  events: [
    { event: 'NodeAdd', hint: (_pod, event) => (hasAnyLabel(event.newObject) ? 'Queue' : 'Skip') },
    { event: 'NodeUpdate', hint: (_pod, event) => (labelsChanged(event.oldObject, event.newObject) ? 'Queue' : 'Skip') },
  ],
  args,
  create: (_handle, a) => new PreferNodeLabel(a),
};

function labelsOf(object: unknown): Record<string, string> {
  return (object as Node | undefined)?.metadata?.labels ?? {};
}

function hasAnyLabel(object: unknown): boolean {
  return Object.keys(labelsOf(object)).length > 0;
}

function labelsChanged(before: unknown, after: unknown): boolean {
  const a = labelsOf(before);
  const b = labelsOf(after);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (a[key] !== b[key]) return true;
  return false;
}
