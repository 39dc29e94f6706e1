// Applies rendered manifests to the real API server (create, optionally server-side dry-run with strict field
// validation), and small wait helpers for the shipping integration tests.
import type { KubeClient } from '../../src/adapters/live/kubeClient.js';
import type { K8sObject } from './helpers.js';

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ConfigMap: 'configmaps',
  Service: 'services',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Deployment: 'deployments',
  PodDisruptionBudget: 'poddisruptionbudgets',
  ServiceMonitor: 'servicemonitors',
};

/** The collection path of an object (where it is POSTed). */
export function collectionPath(o: K8sObject): string {
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`no plural known for kind ${o.kind}`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return o.metadata.namespace ? `${base}/namespaces/${o.metadata.namespace}/${plural}` : `${base}/${plural}`;
}

export interface ApplyResult {
  object: string;
  status: number;
  message?: string;
}

/** POSTs each object (server-side validation, unknown fields rejected); dryRun leaves nothing behind. */
export async function createAll(client: KubeClient, objs: K8sObject[], opts: { dryRun?: boolean } = {}): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const o of objs) {
    const query: Record<string, string> = { fieldValidation: 'Strict', fieldManager: 'berth-ship-test' };
    if (opts.dryRun) query['dryRun'] = 'All';
    const r = await client.request<{ message?: string }>('POST', collectionPath(o), { body: o, query });
    const message = (r.body as { message?: string } | undefined)?.message;
    out.push({ object: `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`, status: r.status, ...(r.status >= 300 && message ? { message } : {}) });
  }
  return out;
}

export async function deleteAll(client: KubeClient, objs: K8sObject[]): Promise<void> {
  for (const o of [...objs].reverse()) {
    await client.request('DELETE', `${collectionPath(o)}/${o.metadata.name}`).catch(() => undefined);
  }
}

export async function waitUntil(what: string, timeoutMs: number, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
