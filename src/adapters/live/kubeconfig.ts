/**
 * Loading the kubeconfig for `berth run` so that a bad one stops berth at start with exit status 2 and a message
 * naming the file and the field, as kubectl's "error loading config file" does. client-node's loader alone would throw
 * a raw JavaScript message ("Invalid URL", "The "file" argument must be of type string") or, for a missing certificate
 * or a wrong-typed exec command, start anyway and retry every list for ever.
 *
 * The file is read with the same limits as snapshots and configurations, parsed with the same YAML reader, checked
 * against a JSON Schema of the clientcmd v1 fields client-node reads (the format is not in the OpenAPI spec), and the
 * files it names must be readable. berth's own model (kubeCredentials.ts) then holds the checked value, never the
 * text; client-node is imported only if the chosen user needs a credential plugin (exec, an auth provider).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { InputFileError, MAX_REPORTED_ISSUES, MAX_YAML_ALIASES, readInputFile } from '../../kube/input.js';
import { compileIssueChecker, formatPath, quote, type FieldIssue } from '../../kube/validate.js';
import {
  BerthKubeConfig,
  entriesFromValue,
  inClusterEntries,
  mergeEntries,
  TOKEN_FILE_PROVIDER,
  tokenFileOf,
  type InClusterOptions,
  type KubeconfigEntries,
} from './kubeCredentials.js';

export { TOKEN_FILE_PROVIDER };

export class KubeconfigError extends Error {
  constructor(
    /** The kubeconfig file, or a description of where berth looked. */
    readonly file: string,
    readonly lines: readonly string[],
  ) {
    const shown = lines.slice(0, MAX_REPORTED_ISSUES);
    const more = lines.length - shown.length;
    super(
      lines.length === 1
        ? `${file}: ${lines[0] ?? ''}`
        : [`${file}: ${lines.length} errors in the kubeconfig:`, ...shown.map((l) => `  ${l}`), ...(more > 0 ? [`  … and ${more} more`] : [])].join('\n'),
    );
    this.name = 'KubeconfigError';
  }
}

const str = { type: 'string' };
const named = (inner: string, body: Record<string, unknown>, required: string[]): Record<string, unknown> => ({
  type: 'array',
  items: {
    type: 'object',
    kubeStruct: true,
    required: ['name', inner],
    properties: { name: str, [inner]: { type: 'object', kubeStruct: true, required, properties: body } },
  },
});

/** clientcmd v1 Config, the fields client-node reads, with the names it requires (config_types.js). */
const KUBECONFIG_SCHEMA: Record<string, unknown> = {
  type: 'object',
  kubeStruct: true,
  properties: {
    'current-context': str,
    clusters: named(
      'cluster',
      {
        server: str,
        'certificate-authority': str,
        'certificate-authority-data': str,
        'insecure-skip-tls-verify': { type: 'boolean' },
        'tls-server-name': str,
        'proxy-url': str,
      },
      ['server'],
    ),
    contexts: named('context', { cluster: str, user: str, namespace: str }, ['cluster']),
    users: {
      type: 'array',
      items: {
        type: 'object',
        kubeStruct: true,
        required: ['name'],
        properties: {
          name: str,
          user: {
            type: 'object',
            kubeStruct: true,
            properties: {
              token: str,
              tokenFile: str,
              'token-file': str,
              'client-certificate': str,
              'client-certificate-data': str,
              'client-key': str,
              'client-key-data': str,
              username: str,
              password: str,
              as: str,
              exec: {
                type: 'object',
                kubeStruct: true,
                required: ['command'],
                properties: {
                  command: str,
                  args: { type: 'array', items: str },
                  env: { type: 'array', items: { type: 'object', kubeStruct: true, required: ['name', 'value'], properties: { name: str, value: str } } },
                  apiVersion: str,
                },
              },
              'auth-provider': { type: 'object', kubeStruct: true, required: ['name'], properties: { name: str, config: { type: 'object', additionalProperties: str } } },
            },
          },
        },
      },
    },
  },
};

let checkShape: ((value: unknown) => FieldIssue[]) | undefined;

function issueLine(i: FieldIssue): string {
  return `${formatPath(i.path)}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`;
}

/**
 * Reads, parses and checks one kubeconfig file; throws KubeconfigError listing what is wrong. Returns the checked
 * value with its null fields dropped (absent, as in Go), which is what berth's model is built from: the text must not
 * be parsed again, as a null that passed the check would reach the reader ("Cannot read properties of null").
 */
export function checkKubeconfigFile(file: string): unknown {
  let text: string;
  try {
    text = readInputFile(file);
  } catch (err) {
    if (err instanceof InputFileError) throw new KubeconfigError(file, [`${err.detail} (${err.hint}, or pass another --kubeconfig)`]);
    throw err;
  }
  const doc = parseDocument(text, { merge: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    // The YAML library's message ends with its own " at line L, column C:"; the position is given once, in front.
    const at = syntax.linePos?.[0];
    const message = (syntax.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new KubeconfigError(file, [`malformed YAML at line ${at?.line ?? '?'}, column ${at?.col ?? '?'}: ${message}`]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new KubeconfigError(file, [`malformed YAML: ${quote(err instanceof Error ? err.message : String(err))}`]);
  }
  if (value === null || value === undefined) throw new KubeconfigError(file, ['the file is empty (expected a kubeconfig: clusters, contexts, users)']);
  checkShape ??= compileIssueChecker(KUBECONFIG_SCHEMA);
  const issues = checkShape(value);
  if (issues.length > 0) throw new KubeconfigError(file, issues.map(issueLine));
  return value;
}

/**
 * clientcmd's `tokenFile` (and the `token-file` spelling client-node reads): client-node ignores the first and reads
 * the second once, at load, so a rotated token would never be seen. Both become the token-file auth provider that
 * in-cluster configs use, with the path resolved against the kubeconfig's folder as clientcmd resolves it; berth's
 * client (kubeClient.ts) re-reads that file as client-go does. As in client-go, the file's token wins over a
 * `token` beside it.
 */
function tokenFileAsProvider(value: unknown, dir: string): unknown {
  const users = (value as { users?: unknown }).users;
  if (!Array.isArray(users)) return value;
  for (const entry of users as Array<{ user?: Record<string, unknown> }>) {
    const user = entry.user;
    if (!user || user['auth-provider'] !== undefined) continue;
    const path = typeof user['tokenFile'] === 'string' && user['tokenFile'] !== '' ? user['tokenFile'] : user['token-file'];
    if (typeof path !== 'string' || path === '') continue;
    delete user['tokenFile'];
    delete user['token-file'];
    delete user['token'];
    user['auth-provider'] = { name: TOKEN_FILE_PROVIDER, config: { tokenFile: isAbsolute(path) ? path : join(dir, path) } };
  }
  return value;
}

/** One checked file's entries, with relative certificate paths resolved against its folder. */
function loadChecked(file: string): KubeconfigEntries {
  const value = tokenFileAsProvider(checkKubeconfigFile(file), dirname(file));
  return load(file, () => entriesFromValue(value, dirname(file)));
}

/** The files client-node's loadFromDefault reads: $KUBECONFIG's list, else ~/.kube/config when it exists. */
function defaultFiles(env: NodeJS.ProcessEnv): string[] {
  const list = env['KUBECONFIG'];
  if (list) return list.split(delimiter).filter((f) => f !== '');
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/** A file named while loading that cannot be read: name it rather than quote Node's message. */
function loadFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.path === 'string' && typeof e.code === 'string') return `cannot read ${quote(e.path)}: ${e.code} (a file the kubeconfig names; check the path)`;
  return `cannot be loaded: ${quote(err instanceof Error ? err.message : String(err))}`;
}

/** Runs a loader step; whatever it still throws is reported against the file, not as a JavaScript error. */
function load<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new KubeconfigError(where, [loadFailure(err)]);
  }
}

/** The files the chosen context needs (certificates, keys, token files): each must be readable now. */
function unreadableFiles(kc: BerthKubeConfig): string[] {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const named: Array<[string, string | undefined]> = [
    ['certificate-authority', cluster?.caFile],
    ['client-certificate', user?.certFile],
    ['client-key', user?.keyFile],
    ['tokenFile', tokenFileOf(user)],
  ];
  const out: string[] = [];
  for (const [field, path] of named) {
    if (path === undefined || path === '') continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      out.push(`${field}: cannot read ${quote(path)}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (check the path and its permissions)`);
    }
  }
  return out;
}

/** The chosen context's cluster: present, with an http(s) server URL. */
function clusterProblems(kc: BerthKubeConfig): string[] {
  const context = kc.getCurrentContext();
  if (!context) return ['no current-context (set current-context, or pass another --kubeconfig)'];
  const cluster = kc.getCurrentCluster();
  if (!cluster) return [`current-context ${quote(context)} names no context with a known cluster (check contexts and clusters)`];
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    return [`cluster ${quote(cluster.name)}: server: not a URL: ${quote(cluster.server)} (write https://HOST:PORT)`];
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return [`cluster ${quote(cluster.name)}: server: expected an https:// or http:// URL, got ${quote(cluster.server)}`];
  }
  return [];
}

export interface KubeconfigLookup extends InClusterOptions {
  /** Where KUBERNETES_SERVICE_HOST and KUBECONFIG are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The kubeconfig for `berth run`: `path` (--kubeconfig or clientConnection.kubeconfig), else the in-cluster
 * ServiceAccount, else $KUBECONFIG or ~/.kube/config, as kube-scheduler looks. Throws KubeconfigError.
 */
export function loadKubeconfig(path: string | undefined, lookup: KubeconfigLookup = {}): BerthKubeConfig {
  const env = lookup.env ?? process.env;
  let where: string;
  let entries: KubeconfigEntries;
  if (path) {
    where = path;
    entries = loadChecked(path);
  } else if (env['KUBERNETES_SERVICE_HOST']) {
    where = 'in-cluster ServiceAccount';
    entries = load(where, () => inClusterEntries({ ...lookup, env }));
  } else {
    const files = defaultFiles(env);
    if (files.length === 0) {
      // The loader serves run, simulate --from-cluster and explain alike: name where it looked, not a command.
      throw new KubeconfigError('$KUBECONFIG and ~/.kube/config', ['no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a ServiceAccount']);
    }
    // clientcmd's rules, as kubectl merges $KUBECONFIG: the first file to name an entry, or set current-context, wins.
    where = files.join(delimiter);
    entries = mergeEntries(files.map(loadChecked));
  }
  const kc = new BerthKubeConfig(entries);
  const problems = [...clusterProblems(kc), ...unreadableFiles(kc)];
  if (problems.length > 0) throw new KubeconfigError(where, problems);
  return kc;
}
