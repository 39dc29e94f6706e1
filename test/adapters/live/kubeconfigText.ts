import { stringify } from 'yaml';

/**
 * The YAML of a one-cluster kubeconfig (cluster "c", context "x" current, user "u" when given), as the kubeconfig
 * tests write it: only the cluster and user fields differ from test to test.
 */
export function kubeconfigText(cluster: Record<string, unknown>, user?: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'x',
    clusters: [{ name: 'c', cluster }],
    contexts: [{ name: 'x', context: { cluster: 'c', ...(user ? { user: 'u' } : {}) } }],
    users: user ? [{ name: 'u', user }] : [],
  });
}
