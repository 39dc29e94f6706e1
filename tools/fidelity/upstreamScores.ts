/**
 * Upstream kube-scheduler's own account of its decisions, read from its log. The harness runs it with
 * `--vmodule=schedule_one=10` (klog text format; vmodule is text-only), so that pkg/scheduler/schedule_one.go logs,
 * for every scheduling attempt:
 *
 *   "Attempting to schedule pod" pod="ns/name"                                  (V(3), scheduleOne)
 *   "Plugin scored node for pod" pod=.. plugin=.. node=.. score=N               (V(10), prioritizeNodes: weighted)
 *   "Calculated node's final score for pod" pod=.. node=.. score=N              (V(10), prioritizeNodes: the total)
 *   "Successfully bound pod to node" pod=.. node=..                             (V(2), the binding cycle)
 *
 * prioritizeNodes runs only when more than one node is feasible: an attempt without score lines chose its node
 * without scoring. These are the only evidence the harness accepts for a tie; berth's own scores never judge berth.
 */

export interface ScoringAttempt {
  /** Total (weighted) score per node; empty when the attempt did not score (one feasible node, or it failed). */
  totals: Map<string, number>;
  /** Weighted, normalized score per node and plugin. */
  plugins: Map<string, Map<string, number>>;
  /** The node the binding cycle of this attempt bound the pod to. */
  boundNode?: string;
}

/** Every logged attempt of every pod, by "namespace/name", in log order. */
export type UpstreamScores = Map<string, ScoringAttempt[]>;

export const UPSTREAM_SCORE_LOG_FLAGS: readonly string[] = ['--v=2', '--vmodule=schedule_one=10'];

const MESSAGES = {
  attempt: 'Attempting to schedule pod',
  plugin: 'Plugin scored node for pod',
  total: "Calculated node's final score for pod",
  bound: 'Successfully bound pod to node',
} as const;

/** Reads one Go-quoted string starting at text[i] === '"'; returns the value and the index after it. */
function readQuoted(text: string, i: number): { value: string; end: number } | undefined {
  let j = i + 1;
  let raw = '';
  while (j < text.length) {
    const ch = text[j]!;
    if (ch === '\\') {
      raw += text.slice(j, j + 2);
      j += 2;
      continue;
    }
    if (ch === '"') break;
    raw += ch;
    j++;
  }
  if (j >= text.length) return undefined;
  try {
    // Go's strconv.Quote output is valid JSON for the printable ASCII klog emits for names and messages.
    return { value: JSON.parse(`"${raw}"`) as string, end: j + 1 };
  } catch {
    return { value: raw, end: j + 1 };
  }
}

/** The message and key=value pairs of one klog text line (`I0102 15:04:05.000000 pid file:line] "msg" k="v" n=1`). */
export function parseKlogLine(line: string): { message: string; values: Record<string, string> } | undefined {
  const start = line.indexOf('] "');
  if (start < 0) return undefined;
  const msg = readQuoted(line, start + 2);
  if (!msg) return undefined;
  const values: Record<string, string> = {};
  let i = msg.end;
  for (;;) {
    while (line[i] === ' ') i++;
    const eq = line.indexOf('=', i);
    if (i >= line.length || eq < 0) break;
    const key = line.slice(i, eq);
    if (line[eq + 1] === '"') {
      const v = readQuoted(line, eq + 1);
      if (!v) break;
      values[key] = v.value;
      i = v.end;
    } else {
      const sp = line.indexOf(' ', eq + 1);
      const end = sp < 0 ? line.length : sp;
      values[key] = line.slice(eq + 1, end);
      i = end;
    }
  }
  return { message: msg.value, values };
}

function numberValue(v: string | undefined, line: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n)) throw new Error(`upstream scheduler log: no numeric score in line: ${line}`);
  return n;
}

/**
 * Parses upstream's log into attempts per pod. Throws when the log has no attempt at all although `expectAttempts`
 * is set: then the verbosity flags did not take effect and every tie would silently be refused.
 */
export function parseUpstreamScores(log: string, expectAttempts = false): UpstreamScores {
  const out: UpstreamScores = new Map();
  const current = (pod: string): ScoringAttempt => {
    let attempts = out.get(pod);
    if (!attempts) out.set(pod, (attempts = []));
    if (attempts.length === 0) attempts.push(newAttempt());
    return attempts[attempts.length - 1]!;
  };
  for (const line of log.split('\n')) {
    if (!line.includes('schedule_one.go')) continue;
    const parsed = parseKlogLine(line);
    const pod = parsed?.values['pod'];
    if (!parsed || !pod) continue;
    const node = parsed.values['node'] ?? '';
    switch (parsed.message) {
      case MESSAGES.attempt: {
        const attempts = out.get(pod) ?? [];
        attempts.push(newAttempt());
        out.set(pod, attempts);
        break;
      }
      case MESSAGES.plugin: {
        const a = current(pod);
        const byPlugin = a.plugins.get(node) ?? new Map<string, number>();
        byPlugin.set(parsed.values['plugin'] ?? '?', numberValue(parsed.values['score'], line));
        a.plugins.set(node, byPlugin);
        break;
      }
      case MESSAGES.total:
        current(pod).totals.set(node, numberValue(parsed.values['score'], line));
        break;
      case MESSAGES.bound:
        current(pod).boundNode = node;
        break;
    }
  }
  if (expectAttempts && out.size === 0) {
    throw new Error(
      `upstream kube-scheduler's log has no "${MESSAGES.attempt}" line: it did not run with ${UPSTREAM_SCORE_LOG_FLAGS.join(' ')}, ` +
        'so its scores cannot judge ties',
    );
  }
  return out;
}

function newAttempt(): ScoringAttempt {
  return { totals: new Map(), plugins: new Map() };
}

/** The attempt whose binding cycle bound `pod` to `node` (the last one, should a pod be bound twice). */
export function bindingAttempt(scores: UpstreamScores, pod: string, node: string): ScoringAttempt | undefined {
  const attempts = scores.get(pod) ?? [];
  for (let i = attempts.length - 1; i >= 0; i--) if (attempts[i]!.boundNode === node) return attempts[i];
  return undefined;
}

/** Nodes sharing the highest value of `totals` (sorted), or [] for no totals. */
export function topNodes(totals: ReadonlyMap<string, number>): string[] {
  let best = -Infinity;
  for (const v of totals.values()) if (v > best) best = v;
  return [...totals].filter(([, v]) => v === best).map(([n]) => n).sort();
}

export function formatTotals(totals: ReadonlyMap<string, number>): string {
  return [...totals]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([n, v]) => `${n}=${v}`)
    .join(', ');
}

export type TieVerdict = { tie: true; top: string[]; total: number; note: string } | { tie: false; note: string };

/**
 * Whether upstream's own totals for the attempt that bound the pod show a tie at the top that holds both
 * upstream's node and berth's. Anything else (no record, no scoring, a unique top, berth's node outside the top)
 * is no tie.
 */
export function judgeTie(attempt: ScoringAttempt | undefined, upstreamNode: string, berthNode: string): TieVerdict {
  if (!attempt) {
    return { tie: false, note: `upstream's log has no attempt that bound the pod to ${upstreamNode}, so no tie can be shown` };
  }
  if (attempt.totals.size === 0) {
    return { tie: false, note: `upstream chose ${upstreamNode} without scoring (a single feasible node): no tie` };
  }
  const top = topNodes(attempt.totals);
  const scores = `upstream's totals: ${formatTotals(attempt.totals)}`;
  if (!top.includes(upstreamNode)) {
    return { tie: false, note: `harness issue: upstream bound to ${upstreamNode} but its top node(s) are ${top.join(', ')} (${scores})` };
  }
  if (top.length < 2) return { tie: false, note: `no tie: ${scores}` };
  if (!top.includes(berthNode)) return { tie: false, note: `berth's node is not in upstream's tie ${top.join(', ')} (${scores})` };
  return { tie: true, top, total: attempt.totals.get(upstreamNode)!, note: `tie in upstream's totals among ${top.join(', ')} (score ${attempt.totals.get(upstreamNode)})` };
}

/**
 * Score plugins that alone decided this binding, by upstream's own scores: the node won with a unique top total,
 * and without that plugin's score it would not be among the top nodes.
 */
export function decisivePlugins(attempt: ScoringAttempt): string[] {
  const node = attempt.boundNode;
  if (node === undefined || attempt.totals.size < 2) return [];
  const top = topNodes(attempt.totals);
  if (top.length !== 1 || top[0] !== node) return [];
  const names = new Set<string>();
  for (const byPlugin of attempt.plugins.values()) for (const p of byPlugin.keys()) names.add(p);
  const out: string[] = [];
  for (const plugin of [...names].sort()) {
    const without = new Map<string, number>();
    for (const [n, total] of attempt.totals) without.set(n, total - (attempt.plugins.get(n)?.get(plugin) ?? 0));
    if (!topNodes(without).includes(node)) out.push(plugin);
  }
  return out;
}
