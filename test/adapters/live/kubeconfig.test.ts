/**
 * The kubeconfig reader of `berth run`: every field it checks, replaced in turn by a value of another JSON type (and
 * by null), is refused with a KubeconfigError naming that field, or — a null field being an absent one, as in Go —
 * loaded; never a JavaScript error. And the ways berth finds a kubeconfig ($KUBECONFIG, the in-cluster
 * ServiceAccount) are checked the same way.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { KubeconfigError, loadKubeconfig } from '../../../src/adapters/live/kubeconfig.js';
import { formatPath } from '../../../src/kube/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-kubeconfig-'));
const caFile = join(dir, 'ca.crt');
writeFileSync(caFile, 'not checked here');
let count = 0;
function file(value: unknown): string {
  const path = join(dir, `kubeconfig-${count++}`);
  writeFileSync(path, typeof value === 'string' ? value : stringify(value));
  return path;
}

/** A kubeconfig with every field the reader checks. */
const FULL = {
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'x',
  clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': caFile, 'insecure-skip-tls-verify': false, 'tls-server-name': 'api', 'proxy-url': 'http://127.0.0.1:3128' } }],
  contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'ns' } }],
  users: [
    { name: 'u', user: { token: 't', username: 'a', password: 'b', as: 'c', 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' } },
    { name: 'e', user: { exec: { command: 'get-token', args: ['--x'], env: [{ name: 'A', value: '1' }], apiVersion: 'client.authentication.k8s.io/v1' } } },
    { name: 'p', user: { 'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } } } },
  ],
};

/** Every path into FULL, objects and arrays included. */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => paths(v, [...at, i]))];
  if (typeof value === 'object' && value !== null) return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
  return [at];
}

function replaced(path: ReadonlyArray<string | number>, value: unknown): unknown {
  const copy = structuredClone(FULL) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const seg of path.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
  return copy;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const OTHERS: unknown[] = [5, 'x', true, [1], { a: 1 }, null];

describe('the kubeconfig fuzz: each field replaced by a value of another type', () => {
  it('is refused naming the field, or loads; never a JavaScript error', () => {
    expect(loadKubeconfig(file(FULL)).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    let refused = 0;
    for (const path of paths(FULL).filter((p) => p.length > 0 && p[0] !== 'apiVersion' && p[0] !== 'kind')) {
      const original: unknown = path.reduce<unknown>((o, seg) => (o as Record<string | number, unknown>)[seg], FULL);
      for (const value of OTHERS.filter((v) => kindOf(v) !== kindOf(original))) {
        const where = `${formatPath(path)} = ${JSON.stringify(value)}`;
        let thrown: unknown;
        try {
          loadKubeconfig(file(replaced(path, value)));
        } catch (err) {
          thrown = err;
        }
        if (thrown === undefined) {
          // Loaded: only a null (absent) field of a kind client-node does not need, or a map value of any name.
          expect(value === null || path.includes('config'), where).toBe(true);
          continue;
        }
        expect(thrown, `${where}: ${String(thrown)}`).toBeInstanceOf(KubeconfigError);
        const message = (thrown as Error).message;
        expect(message, where).not.toMatch(/TypeError|is not a function|Cannot read propert|Invalid URL|argument must be/);
        // The message names the field, its parent (a required field made null), or the context or cluster it breaks.
        const named = [formatPath(path), formatPath(path.slice(0, -1)), 'current-context', 'cluster "c"', 'no current-context'];
        expect(named.some((n) => n !== '' && message.includes(n)), `${where}: ${message}`).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  }, 60_000);
});

describe('where berth finds the kubeconfig', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('$KUBECONFIG: each listed file is checked and named', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    vi.stubEnv('KUBECONFIG', [file(FULL), file({ clusters: 'x' })].join(':'));
    expect(() => loadKubeconfig(undefined)).toThrowError(/kubeconfig-\d+: clusters: expected an array, got "x" \(a string\)/);
  });

  it('in a pod: a ServiceAccount token that cannot be read stops berth at start', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.0.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(() => loadKubeconfig(undefined)).toThrowError(
      /^in-cluster ServiceAccount: 2 errors in the kubeconfig:\n {2}certificate-authority: cannot read "\/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/ca\.crt": ENOENT/,
    );
  });
});
