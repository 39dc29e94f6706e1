// Kubeconfig files for the dev control plane: the admin (client certificate) one and service-account (token) ones.
import { readFile, writeFile } from 'node:fs/promises';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export type KubeconfigUser = { token: string } | { clientCertificateData: string; clientKeyData: string };

export interface KubeconfigSpec {
  /** Cluster/context/user name. */
  name: string;
  server: string;
  /** Base64 PEM of the CA that signed the apiserver's serving certificate. */
  certificateAuthorityData: string;
  user: KubeconfigUser;
  namespace?: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const user =
    'token' in spec.user
      ? { token: spec.user.token }
      : { 'client-certificate-data': spec.user.clientCertificateData, 'client-key-data': spec.user.clientKeyData };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: spec.name, cluster: { server: spec.server, 'certificate-authority-data': spec.certificateAuthorityData } },
    ],
    users: [{ name: spec.name, user }],
    contexts: [
      {
        name: spec.name,
        context: { cluster: spec.name, user: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': spec.name,
    preferences: {},
  });
}

export function kubeConfigFromYaml(yamlText: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yamlText);
  return kc;
}

export async function loadKubeConfig(path: string): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function isApiStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

export interface ServiceAccountKubeconfig {
  namespace: string;
  name: string;
  /** Bound token from the TokenRequest API. */
  token: string;
  /** Username the apiserver sees: system:serviceaccount:<ns>:<name>. */
  username: string;
  kubeConfig: KubeConfig;
  kubeconfigYaml: string;
  /** Set when `writeTo` was given. */
  kubeconfigPath?: string;
}

export interface ServiceAccountKubeconfigOptions {
  /** Create the namespace and the ServiceAccount when missing (default true). */
  create?: boolean;
  /** Token lifetime (default 3600 s; the apiserver's minimum is 600 s). */
  expirationSeconds?: number;
  /** Also write the kubeconfig to this path. */
  writeTo?: string;
}

async function caDataOf(adminKc: KubeConfig): Promise<string> {
  const cluster = adminKc.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  if (cluster.caData) return cluster.caData;
  if (cluster.caFile) return (await readFile(cluster.caFile)).toString('base64');
  throw new Error('admin kubeconfig has no certificate authority');
}

/**
 * Gets a token for ServiceAccount `namespace/name` via the TokenRequest API (using the admin identity in
 * `adminKc`) and returns a kubeconfig that authenticates as that ServiceAccount, for RBAC tests.
 */
export async function kubeconfigForServiceAccount(
  adminKc: KubeConfig,
  namespace: string,
  name: string,
  opts: ServiceAccountKubeconfigOptions = {},
): Promise<ServiceAccountKubeconfig> {
  const core = adminKc.makeApiClient(CoreV1Api);
  if (opts.create ?? true) {
    try {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
    } catch (err) {
      if (!isApiStatus(err, 409)) throw err;
    }
    try {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
    } catch (err) {
      if (!isApiStatus(err, 409)) throw err;
    }
  }
  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 3600 },
    },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = adminKc.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const kubeconfigYaml = renderKubeconfig({
    name: `sa-${namespace}-${name}`,
    server: cluster.server,
    certificateAuthorityData: await caDataOf(adminKc),
    user: { token },
    namespace,
  });
  const result: ServiceAccountKubeconfig = {
    namespace,
    name,
    token,
    username: `system:serviceaccount:${namespace}:${name}`,
    kubeConfig: kubeConfigFromYaml(kubeconfigYaml),
    kubeconfigYaml,
  };
  if (opts.writeTo) {
    await writeFile(opts.writeTo, kubeconfigYaml, { mode: 0o600 });
    result.kubeconfigPath = opts.writeTo;
  }
  return result;
}
