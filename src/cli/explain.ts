/**
 * `berth explain NAMESPACE/POD`: why a pod is on its node, or why it is still pending. It reads the running berth's
 * decision record (`--server URL`, /debug/decisions; port-forward friendly) and prints it as `simulate --explain`
 * prints a decision. When berth has no record (the record is off, berth restarted, another replica decided, the
 * pod was dropped from the bounded record) and `--kubeconfig` is given, it recomputes the decision on a read-only
 * snapshot of the cluster and says so: that is what berth would decide now, not what it decided then.
 *
 * Exit status: 0 a decision was printed (recorded or recomputed), 1 no record and no way to recompute (or the pod
 * does not exist), 2 bad input.
 */
import http from 'node:http';
import https from 'node:https';
import { CONFIG_API_VERSION } from '../config/args.js';
import { CONFIG_KIND, loadSchedulerConfig, parseSchedulerConfig } from '../config/load.js';
import type { SchedulerConfig } from '../config/types.js';
import { createKubeClient, type KubeClient } from '../adapters/live/kubeClient.js';
import { KubeconfigError, loadKubeconfig } from '../adapters/live/kubeconfig.js';
import { liveBackgroundIO } from '../adapters/live/backgroundIO.js';
import { LiveSnapshotError, readOnePodSnapshot, readPod } from '../adapters/live/liveSnapshot.js';
import { explainView } from '../adapters/simulator/report.js';
import { simulate } from '../adapters/simulator/simulate.js';
import type { AttemptRecord, VerdictGroup } from '../observe/decisionStore.js';
import { type ExplainView, renderDecision } from '../observe/explainText.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import type { Pod } from '../kube/api.js';

export interface ExplainFlags {
  server?: string;
  /** Bearer token for berth's secure port (/debug paths need one authorized for get on the path). */
  token?: string;
  /** Accept berth's self-signed serving certificate (its default without --tls-cert-file). */
  insecureSkipTlsVerify?: boolean;
  kubeconfig?: string;
  /** The KubeSchedulerConfiguration berth runs with, for a recomputation. */
  config?: string;
}

export interface ExplainIO {
  out: (s: string) => void;
  err: (s: string) => void;
  plugins: PluginCatalog;
}

const FETCH_TIMEOUT_MS = 10_000;

/** What the running berth said: its attempts, or why there are none. */
type RecordAnswer = { kind: 'found'; attempts: AttemptRecord[] } | { kind: 'missing'; why: string };

function isRecordBody(body: unknown): body is { attempts: AttemptRecord[] } {
  return typeof body === 'object' && body !== null && 'attempts' in body && Array.isArray(body.attempts);
}

interface HttpAnswer {
  status: number;
  body: unknown;
}

/** GET a JSON document from berth's port: HTTP, or HTTPS with an optional token and self-signed certificate. */
function getJson(url: URL, access: Pick<ExplainFlags, 'token' | 'insecureSkipTlsVerify'>): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (access.token) headers['authorization'] = `Bearer ${access.token}`;
  const options = { headers, timeout: FETCH_TIMEOUT_MS, ...(url.protocol === 'https:' && access.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}) };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).get(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${FETCH_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
  });
}

const ACCESS_HINT: Readonly<Record<number, string>> = {
  401: 'berth serves /debug on its secure port to authorized tokens: pass --token (e.g. $(kubectl create token SA))',
  403: 'the token may not get /debug/decisions: bind it to a ClusterRole with get on nonResourceURLs ["/debug/*"]',
};

async function fetchRecord(server: URL, pod: string, access: Pick<ExplainFlags, 'token' | 'insecureSkipTlsVerify'>): Promise<RecordAnswer> {
  const url = new URL('/debug/decisions', server);
  url.searchParams.set('pod', pod);
  let res: HttpAnswer;
  try {
    res = await getJson(url, access);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const tlsHint = /self[- ]signed|certificate/i.test(message) ? '; berth\'s certificate is self-signed unless it was given one: add --insecure-skip-tls-verify' : '';
    return { kind: 'missing', why: `berth is not reachable at ${server.origin} (${message})${tlsHint}; for a pod in the cluster: kubectl port-forward -n NAMESPACE deploy/berth 10259` };
  }
  const body = res.body;
  if (res.status === 200 && isRecordBody(body)) return { kind: 'found', attempts: body.attempts };
  const error = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : `HTTP ${res.status}`;
  const hint = ACCESS_HINT[res.status];
  return { kind: 'missing', why: `berth at ${server.origin} has no record of ${pod}: ${error}${hint ? ` (${hint})` : ''}` };
}

function groupNodes(group: VerdictGroup): string {
  const more = group.count - group.nodes.length;
  return more > 0 ? `${group.nodes.join(', ')} (+${more} more)` : group.nodes.join(', ');
}

/** A recorded attempt in the shared explain form: rejected nodes grouped by verdict, the top scored nodes. */
export function recordView(record: AttemptRecord): ExplainView {
  const outcome = record.bound ? 'bound' : record.node ? `not bound (${record.result})` : record.result;
  const preemption = record.preemption;
  return {
    pod: record.pod,
    node: record.node,
    attempt: record.attempt,
    notes: [`recorded by berth at ${record.at}, profile ${record.profile}: ${outcome}`],
    message: record.message,
    filter: record.filter.map((g) => ({ nodes: groupNodes(g), plugin: g.plugin, verdict: g.verdict, reasons: g.reasons })),
    scores: record.scores,
    ...(record.scoredNodes > record.scores.length ? { scoresNote: `(the top ${record.scores.length} of ${record.scoredNodes} scored nodes)` } : {}),
    feasibleNodes: record.feasibleNodes,
    ...(preemption
      ? { sections: [{ title: 'Preemption', lines: [`nominated node ${preemption.nominatedNode}`, `victims: ${preemption.victims.join(', ') || 'none'}`] }] }
      : {}),
  };
}

/** Bad input (exit status 2). */
export class ExplainUsageError extends Error {}

function parseTarget(ref: string): { namespace: string; name: string } {
  const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(ref);
  if (!m?.[1] || !m[2]) throw new ExplainUsageError(`"${ref}" is not NAMESPACE/POD (e.g. jhub/jupyter-ada)`);
  return { namespace: m[1], name: m[2] };
}

function parseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ExplainUsageError(`--server ${JSON.stringify(server)} is not a URL (e.g. http://127.0.0.1:10259)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ExplainUsageError(`--server ${server}: expected http:// or https://`);
  return url;
}

export async function runExplain(ref: string, flags: ExplainFlags, io: ExplainIO): Promise<number> {
  const target = parseTarget(ref);
  const server = flags.server !== undefined ? parseServer(flags.server) : undefined;
  if (!server && !flags.kubeconfig) throw new ExplainUsageError('give --server URL (a running berth) or --kubeconfig FILE (recompute), or both');
  const key = `${target.namespace}/${target.name}`;
  const answer: RecordAnswer = server ? await fetchRecord(server, key, flags) : { kind: 'missing', why: 'no --server given' };
  if (answer.kind === 'found') {
    io.out(`Decision record of ${key} from ${server?.origin ?? ''}: ${answer.attempts.length} attempt(s), newest first.\n\n`);
    io.out(answer.attempts.map((r) => renderDecision(recordView(r))).join('\n'));
    return 0;
  }
  if (!flags.kubeconfig) {
    io.err(`berth: ${answer.why}\nberth: pass --kubeconfig FILE (and --config, berth's configuration) to recompute the decision on the live cluster.\n`);
    return 1;
  }
  return recompute(target, flags.kubeconfig, flags.config, answer.why, io);
}

/** The configuration to recompute with: berth's own (--config), else upstream's defaults under the pod's scheduler name. */
function recomputeConfig(configPath: string | undefined, schedulerName: string, plugins: PluginCatalog): { config: SchedulerConfig; source: string } {
  if (configPath) {
    const config = loadSchedulerConfig(configPath, plugins);
    if (!config.profiles.some((p) => p.schedulerName === schedulerName)) {
      const names = config.profiles.map((p) => p.schedulerName).join(', ');
      throw new ExplainUsageError(`the pod names scheduler "${schedulerName}", and ${configPath} has no such profile (it has ${names})`);
    }
    return { config, source: configPath };
  }
  const text = `apiVersion: ${CONFIG_API_VERSION}\nkind: ${CONFIG_KIND}\nprofiles:\n  - schedulerName: ${JSON.stringify(schedulerName)}\n`;
  return { config: parseSchedulerConfig(text, 'upstream defaults', plugins), source: "upstream's default weights (pass --config with berth's configuration for its own)" };
}

/** `run`'s checked loader (no client-node unless a plugin is needed); its message, as a usage error of explain. */
function loadExplainKubeconfig(kubeconfig: string): ReturnType<typeof loadKubeconfig> {
  try {
    return loadKubeconfig(kubeconfig);
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    throw new ExplainUsageError(`--kubeconfig ${kubeconfig}: cannot load it: ${err.message}`);
  }
}

async function recompute(target: { namespace: string; name: string }, kubeconfig: string, configPath: string | undefined, why: string, io: ExplainIO): Promise<number> {
  const kc = loadExplainKubeconfig(kubeconfig);
  const client = createKubeClient(kc, { qps: 0, burst: 0, userAgent: 'berth-explain/0.1.0' });
  try {
    const pod = await readPod(client, target.namespace, target.name);
    if (!pod) {
      io.err(`berth: ${why}\nberth: pod ${target.namespace}/${target.name} does not exist in ${client.server}: nothing to recompute.\n`);
      return 1;
    }
    return await recomputeFor(pod, client, configPath, why, io);
  } catch (err) {
    if (!(err instanceof LiveSnapshotError)) throw err;
    io.err(`berth: ${why}\nberth: cannot recompute: ${err.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

async function recomputeFor(pod: Pod, client: KubeClient, configPath: string | undefined, why: string, io: ExplainIO): Promise<number> {
  const schedulerName = pod.spec?.schedulerName ?? 'default-scheduler';
  const { config, source } = recomputeConfig(configPath, schedulerName, io.plugins);
  const { snapshot, boundTo } = await readOnePodSnapshot(client, pod);
  const result = await simulate(snapshot, config, io.plugins, { explain: true, backgroundIO: liveBackgroundIO(client) });
  const decision = result.decisions[0];
  if (!decision) throw new Error(`the simulation did not attempt ${pod.metadata?.namespace}/${pod.metadata?.name}`);
  io.out(`${why}.\n`);
  io.out(`RECOMPUTED now on a read-only snapshot of ${client.server} (${snapshot.nodeCount} nodes, ${snapshot.assignedPodCount} bound pods) with ${source}: what berth would decide now, not a record of what it decided.\n`);
  if (boundTo) io.out(`The pod is bound to ${boundTo}; it was taken off that node for the recomputation.\n`);
  for (const warning of result.warnings) io.err(`warning: ${warning}\n`);
  io.out(`\n${renderDecision({ ...explainView(decision), notes: ['recomputed'] })}`);
  return 0;
}
