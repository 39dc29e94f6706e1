/**
 * berth's own kubeconfig model: the clusters, contexts and users of a checked kubeconfig (or of the in-cluster
 * ServiceAccount), and the TLS material and auth headers they give. It exists so that `berth run`, `simulate
 * --from-cluster` and `explain` do not load @kubernetes/client-node at start: importing it costs 60–80 MB of RSS and
 * ~0.7 CPU-seconds (its index, and even its config module, pull in every generated API class), and berth uses it
 * only for credentials.
 *
 * The entries have client-node's shapes (its Cluster, User and Context, as its config_types.js builds them from a
 * file), so a KubeConfig of client-node and this one are interchangeable where berth's client reads credentials
 * (KubeCredentialSource). What berth reads itself: CA (file or data), insecure-skip-tls-verify, tls-server-name,
 * client certificate and key (file or data), a bearer `token`, berth's token-file auth provider (kubeconfig.ts turns
 * `tokenFile`/`token-file` into it; the in-cluster config uses it too), basic username/password and `as`
 * (impersonation). A user that needs a plugin (`exec`, or any other `auth-provider`) is rare: for it client-node is
 * imported then, once, and given these same entries, so those credentials behave exactly as before.
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';

export type { Cluster, Context, User };

/**
 * What berth's API client needs from a kubeconfig: client-node's KubeConfig satisfies it structurally (tests, tools
 * and benchmarks pass one), and so does berth's own (BerthKubeConfig).
 */
export interface KubeCredentialSource {
  getCurrentCluster(): Cluster | null;
  getCurrentUser(): User | null;
  /** Sets TLS options (ca, cert, key, rejectUnauthorized, servername), headers and `auth` on `opts`. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
  /** The API server refused the credentials: a plugin's cached credential is not to be given again. */
  forgetCachedCredentials?(): void;
}

/** The auth-provider name client-node's in-cluster config gives a ServiceAccount token file (its FileAuth). */
export const TOKEN_FILE_PROVIDER = 'tokenFile';

/** Where a pod's ServiceAccount credentials are mounted (client-go's rest.InClusterConfig reads the same files). */
export const SERVICEACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigEntries {
  clusters: Cluster[];
  contexts: Context[];
  users: User[];
  currentContext: string | undefined;
}

type Fields = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const absolute = (dir: string, path: string | undefined): string | undefined => (path === undefined || isAbsolute(path) ? path : join(dir, path));

/** A named list (clusters, contexts, users): each entry's name and its inner mapping, absent when null. */
function entriesOf(list: unknown, inner: string): Array<{ name: string; body: Fields | undefined }> {
  if (!Array.isArray(list)) return [];
  return (list as Fields[]).map((e) => ({ name: String(e['name']), body: (e[inner] ?? undefined) as Fields | undefined }));
}

function clusterOf(name: string, c: Fields, dir: string): Cluster {
  const caFile = absolute(dir, text(c['certificate-authority']));
  return {
    name,
    server: String(c['server']).replace(/\/$/, ''),
    skipTLSVerify: c['insecure-skip-tls-verify'] === true,
    ...optional('caData', text(c['certificate-authority-data'])),
    ...optional('caFile', caFile),
    ...optional('tlsServerName', text(c['tls-server-name'])),
    ...optional('proxyUrl', text(c['proxy-url'])),
  };
}

function userOf(name: string, u: Fields | undefined, dir: string): User {
  if (!u) return { name };
  return {
    name,
    ...optional('certData', text(u['client-certificate-data'])),
    ...optional('certFile', absolute(dir, text(u['client-certificate']))),
    ...optional('keyData', text(u['client-key-data'])),
    ...optional('keyFile', absolute(dir, text(u['client-key']))),
    ...optional('token', text(u['token'])),
    ...optional('username', text(u['username'])),
    ...optional('password', typeof u['password'] === 'string' ? u['password'] : undefined),
    ...optional('impersonateUser', text(u['as'])),
    ...(u['exec'] !== undefined ? { exec: u['exec'] } : {}),
    ...(u['auth-provider'] !== undefined ? { authProvider: u['auth-provider'] } : {}),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * The entries of one checked kubeconfig value (kubeconfig.ts's checkKubeconfigFile, token files already turned into
 * the token-file provider), with relative certificate paths resolved against `dir`, the file's folder, as clientcmd
 * and client-node's loadFromFile resolve them.
 */
export function entriesFromValue(value: unknown, dir: string): KubeconfigEntries {
  const v = value as Fields;
  return {
    clusters: entriesOf(v['clusters'], 'cluster').map((e) => clusterOf(e.name, e.body ?? {}, dir)),
    contexts: entriesOf(v['contexts'], 'context').map((e) => ({
      name: e.name,
      cluster: String(e.body?.['cluster']),
      // client-node's Context types user as a string, and leaves it undefined when absent.
      user: text(e.body?.['user']) as string,
      ...optional('namespace', text(e.body?.['namespace'])),
    })),
    users: entriesOf(v['users'], 'user').map((e) => userOf(e.name, e.body, dir)),
    currentContext: text(v['current-context']),
  };
}

/**
 * $KUBECONFIG's files merged by clientcmd's rules (ClientConfigLoadingRules.Load, which kubectl and client-go use):
 * the first file to name a cluster, user or context wins, a later one's entry of that name is dropped whole, and
 * the current-context is the first one a file sets.
 */
export function mergeEntries(files: readonly KubeconfigEntries[]): KubeconfigEntries {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Set<string>();
    return lists.flat().filter((e) => !seen.has(e.name) && seen.add(e.name));
  };
  return {
    clusters: firstByName(files.map((f) => f.clusters)),
    contexts: firstByName(files.map((f) => f.contexts)),
    users: firstByName(files.map((f) => f.users)),
    currentContext: files.find((f) => f.currentContext !== undefined)?.currentContext,
  };
}

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  /** The mounted ServiceAccount folder (tests point it at a temporary one). */
  serviceAccountRoot?: string;
}

/**
 * The in-cluster ServiceAccount config, as client-node's loadFromCluster builds it: the API server from
 * KUBERNETES_SERVICE_HOST/PORT (plain http on 80, 8080 and 8001), the mounted CA, and the mounted token as a token
 * file that berth's client re-reads.
 */
export function inClusterEntries(opts: InClusterOptions = {}): KubeconfigEntries {
  const env = opts.env ?? process.env;
  const root = opts.serviceAccountRoot ?? SERVICEACCOUNT_ROOT;
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'];
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(root, 'namespace'), 'utf8');
  } catch {
    namespace = undefined; // optional, as for client-node: berth does not use it
  }
  return {
    clusters: [{ name: 'inCluster', server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${String(port)}`, caFile: join(root, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: { name: TOKEN_FILE_PROVIDER, config: { tokenFile: join(root, 'token') } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...optional('namespace', namespace) }],
    currentContext: 'inClusterContext',
  };
}

/** berth's token-file provider, the one auth provider berth serves itself (kubeClient.ts re-reads the file). */
export function tokenFileOf(user: User | null): string | undefined {
  const provider = user?.authProvider as { name?: unknown; config?: Record<string, unknown> } | undefined;
  if (provider?.name !== TOKEN_FILE_PROVIDER) return undefined;
  return text(provider.config?.['tokenFile']);
}

/** A user whose credentials come from a plugin client-node runs: an exec command, or an auth provider not berth's. */
export function needsPlugin(user: User | null): boolean {
  if (!user) return false;
  if (user.exec !== undefined && user.exec !== null) return true;
  return user.authProvider !== undefined && user.authProvider !== null && tokenFileOf(user) === undefined;
}

/** A file's bytes, else base64 data, as client-node's bufferFromFileOrString (the file wins when both are set). */
function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

/** The cluster's TLS options: what client-go's transport config and client-node's applyHTTPSOptions set. */
function applyClusterTls(cluster: Cluster, opts: https.RequestOptions): void {
  if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
  if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
  const ca = fileOrData(cluster.caFile, cluster.caData);
  if (ca) opts.ca = ca;
}

/** The user's client certificate, impersonation and auth: the bearer token wins over the token file, as in client-node. */
function applyUser(user: User, opts: https.RequestOptions): void {
  const cert = fileOrData(user.certFile, user.certData);
  if (cert) opts.cert = cert;
  const key = fileOrData(user.keyFile, user.keyData);
  if (key) opts.key = key;
  const headers = (opts.headers ??= {}) as Record<string, string | string[] | number | undefined>;
  if (user.impersonateUser !== undefined) headers['Impersonate-User'] = user.impersonateUser;
  const tokenFile = tokenFileOf(user);
  // Read now, as client-node's FileAuth reads it; kubeClient.ts puts its own re-read copy in place of it.
  if (tokenFile !== undefined) headers['Authorization'] = `Bearer ${readFileSync(tokenFile, 'utf8')}`;
  if (user.token) headers['Authorization'] = `Bearer ${user.token}`;
  if (user.username) opts.auth = `${user.username}:${user.password ?? ''}`;
}

/**
 * A kubeconfig berth reads itself. Built by kubeconfig.ts's loadKubeconfig; the entries are already checked there.
 */
export class BerthKubeConfig implements KubeCredentialSource {
  private plugin: Promise<KubeConfig> | undefined;

  constructor(
    readonly entries: KubeconfigEntries,
    /** Imports client-node (tests count the calls); only a user that needs a plugin makes it run. */
    private readonly importClientNode: () => Promise<typeof import('@kubernetes/client-node')> = () => import('@kubernetes/client-node'),
  ) {}

  getCurrentContext(): string | undefined {
    return this.entries.currentContext;
  }

  getCurrentContextObject(): Context | null {
    const name = this.entries.currentContext;
    return name === undefined ? null : (this.entries.contexts.find((c) => c.name === name) ?? null);
  }

  getCurrentCluster(): Cluster | null {
    const context = this.getCurrentContextObject();
    return context ? (this.entries.clusters.find((c) => c.name === context.cluster) ?? null) : null;
  }

  getCurrentUser(): User | null {
    const context = this.getCurrentContextObject();
    if (!context || context.user === undefined) return null;
    return this.entries.users.find((u) => u.name === context.user) ?? null;
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    if (needsPlugin(user)) {
      await (await this.clientNode()).applyToHTTPSOptions(opts);
      return;
    }
    if (cluster) applyClusterTls(cluster, opts);
    if (user) applyUser(user, opts);
    // client-node's createAgent refuses this before any connection; berth keeps its message.
    if (cluster && cluster.server.startsWith('http:') && !cluster.skipTLSVerify && !cluster.proxyUrl) {
      throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
    }
  }

  /** A new client-node KubeConfig comes with new authenticators, so the exec plugin runs again. */
  forgetCachedCredentials(): void {
    this.plugin = undefined;
  }

  /** client-node's KubeConfig over these same entries, made once so that its plugins keep their cached credentials. */
  private clientNode(): Promise<KubeConfig> {
    this.plugin ??= this.importClientNode().then(({ KubeConfig: ClientNodeKubeConfig }) => {
      const kc = new ClientNodeKubeConfig();
      const { clusters, contexts, users, currentContext } = this.entries;
      kc.loadFromOptions({ clusters, contexts, users, ...(currentContext !== undefined ? { currentContext } : {}) });
      return kc;
    });
    return this.plugin;
  }
}
