/**
 * The bad-input matrix of issue 15, one test per class, each through berth's real entry point (main() as the bin
 * calls it; startBerth for objects arriving on watches): every class ends in a located exit-2 error (file, object or
 * flag, field: what was expected) or, for valid input of unusual shape, in a correct result. Never a JavaScript
 * message or stack, never a crash, never a silently ignored field, never a pod lost from the cluster's accounting.
 * Finer cases of each class live with their modules (test/adapters/simulator/badInput.test.ts, fuzzFields.test.ts,
 * test/config/limits.test.ts, test/adapters/live/decode.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { startBerth } from '../../src/cli/run.js';
import { createLogger } from '../../src/observe/logging.js';
import { FakeApiServer, waitFor, type FakeObject } from '../adapters/live/fakeApiServer.js';

// Each test runs the whole CLI, often several times: on a busy 2-core machine that can take longer than 5 s.
vi.setConfig({ testTimeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), 'berth-bad-input-matrix-'));
let fileCount = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `input-${fileCount++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as the bin does, capturing stdout and stderr (commander writes its errors to process.stderr). */
async function berth(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, (s) => (stdout += s));
    return { code, stdout, stderr };
  } finally {
    spy.mockRestore();
  }
}

/** What the CLI must never print: JavaScript's own error texts and stack frames. */
const RAW_JS = /TypeError|RangeError|SyntaxError|is not a function|Cannot read propert|is not iterable|Maximum call stack|Excessive alias|Invalid URL|argument must be|\n\s+at \S+ \(/;

/** A located exit-2 error: nothing on stdout, the expected text on stderr, nothing JavaScript's own. */
function expectLocated(r: Run, text: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  if (typeof text === 'string') expect(r.stderr).toContain(text);
  else expect(r.stderr).toMatch(text);
  expect(r.stderr).not.toMatch(RAW_JS);
}

const CONFIG = new URL('../../examples/jupyterhub/user-scheduler.yaml', import.meta.url).pathname;
const CONFIG_HEAD = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';
const NODE = { kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } };
const pod = (name: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'Pod',
  metadata: { name, namespace: 'jhub' },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }], ...spec },
});
const snapshot = (...items: unknown[]): string => file(stringify({ apiVersion: 'v1', kind: 'List', items }));

describe('snapshots (berth simulate)', () => {
  it('a non-string object name', async () => {
    const r = await berth('simulate', snapshot(NODE, { ...pod('x'), metadata: { name: 12345, namespace: 'jhub' } }));
    expectLocated(r, /input-\d+\.yaml: document, items\[1\] \(Pod jhub\/\(unnamed\)\): metadata\.name: expected a string, got 12345 \(a number\)/);
  });

  it('wrong-typed fields that raised JavaScript errors (trim, null, not iterable)', async () => {
    const r = await berth(
      'simulate',
      snapshot(
        NODE,
        pod('a', { containers: [{ name: 'c', image: 'x', resources: { requests: { memory: 512 * 2 ** 20, cpu: { n: 1 } } } }] }),
        pod('b', { tolerations: [null] }),
        pod('c', { topologySpreadConstraints: -1 }),
      ),
    );
    expectLocated(r, '3 errors in the snapshot:');
    expect(r.stderr).toContain('(Pod jhub/a): spec.containers[0].resources.requests.cpu: expected a quantity, got a mapping');
    expect(r.stderr).toContain('(Pod jhub/b): spec.tolerations[0]: expected a mapping, got null');
    expect(r.stderr).toContain('(Pod jhub/c): spec.topologySpreadConstraints: expected an array, got -1 (a number)');
  });

  it('wrong types inside tolerations, taints, affinity terms and owner references (were per-pod "scheduler error"s)', async () => {
    const r = await berth(
      'simulate',
      snapshot(
        { ...NODE, spec: { taints: [{ key: 'k', value: ['v'], effect: 'NoSchedule' }] } },
        pod('t', { tolerations: [{ key: 5, operator: 'Exists' }] }),
        pod('a', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: 'zone' }] } } } }),
        { ...pod('o'), metadata: { name: 'o', namespace: 'jhub', ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicaSet', name: 7, uid: 'u' }] } },
      ),
    );
    expectLocated(r, '4 errors in the snapshot:');
    expect(r.stderr).toContain('spec.taints[0].value: expected a string, got a list');
    expect(r.stderr).toContain('spec.tolerations[0].key: expected a string, got 5 (a number)');
    expect(r.stderr).toContain('nodeSelectorTerms[0].matchExpressions: expected an array, got "zone" (a string)');
    expect(r.stderr).toContain('metadata.ownerReferences[0].name: expected a string, got 7 (a number)');
  });

  it('negative quantities (a pod requesting -8 CPU freed CPU on its node)', async () => {
    const hog = pod('hog', { nodeName: 'n1', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '-8' } } }] });
    const r = await berth('simulate', snapshot(NODE, hog, pod('user')));
    expectLocated(r, '(Pod jhub/hog): spec.containers[0].resources.requests.cpu: "-8" must be greater than or equal to 0');
  });

  it('fields that were silently ignored or coerced (tolerations: "x", priority: "high", nodeName: 5)', async () => {
    const r = await berth(
      'simulate',
      snapshot({ ...NODE, spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] } }, pod('t', { tolerations: 'x' }), pod('p', { priority: 'high' }), pod('v', { nodeName: 5 })),
    );
    expectLocated(r, '3 errors in the snapshot:');
    expect(r.stderr).toContain('spec.tolerations: expected an array, got "x" (a string)');
    expect(r.stderr).toContain('spec.priority: expected an integer, got "high" (a string)');
    expect(r.stderr).toContain('spec.nodeName: expected a string, got 5 (a number)');
  });

  it('error lists are capped and long values cut', async () => {
    const bad = Array.from({ length: 150 }, (_, i) => pod(`p${i}`, { schedulerName: 'y'.repeat(10_000 + i), priority: 'high' }));
    const r = await berth('simulate', snapshot(NODE, ...bad));
    expectLocated(r, '150 errors in the snapshot:');
    expect(r.stderr).toContain('… and 50 more');
    expect(r.stderr.length).toBeLessThan(30_000);
  }, 60_000);

  it('YAML merge keys (kubectl accepts them) and more than 100 aliases are valid input', async () => {
    const aliases = Array.from({ length: 150 }, (_, i) => `- kind: Pod\n  metadata: {name: p${i}, namespace: jhub}\n  spec: *spec\n`).join('');
    const text =
      'kind: List\nitems:\n- kind: Node\n  metadata: {name: n1}\n  status: {allocatable: {cpu: "64", memory: 64Gi, pods: "500"}}\n' +
      '- kind: Pod\n  metadata: {name: base, namespace: jhub}\n  spec: &spec\n    containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]\n' +
      '- kind: Pod\n  metadata: {name: merged, namespace: jhub}\n  spec:\n    <<: *spec\n    priority: 5\n' +
      aliases;
    const r = await berth('simulate', '--output', 'json', file(text));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const decisions = (JSON.parse(r.stdout) as { decisions: Array<{ pod: string; node: string | null }> }).decisions;
    expect(decisions).toHaveLength(152);
    expect(decisions.every((d) => d.node === 'n1')).toBe(true);
  });

  it('more alias expansions than the limit: the file is named', async () => {
    const bomb = `kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  tolerations:\n  - &t {key: k, operator: Exists}\n${'  - *t\n'.repeat(10_000)}`;
    expectLocated(await berth('simulate', file(bomb)), /input-\d+\.yaml: document 1: more than 10,000 YAML alias expansions/);
  }, 60_000);

  it('a snapshot of 125 000 objects loads (a spread push overflowed the stack)', async () => {
    const items = Array.from({ length: 125_000 }, (_, i) => ({ kind: 'Namespace', metadata: { name: `ns-${i}` } }));
    const r = await berth('simulate', '--output', 'json', file(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [NODE, pod('p'), ...items] }), 'json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decisions: [{ pod: 'jhub/p', node: 'n1' }] });
  }, 120_000);

  it('a file that cannot be read, and a YAML document above the size limit', async () => {
    expectLocated(await berth('simulate', join(dir, 'missing.yaml')), /missing\.yaml: file: cannot read: ENOENT \(check the path\)/);
    expectLocated(await berth('simulate', dir), /: file: cannot read: EISDIR/);
    const big = file(`kind: Namespace\nmetadata: {name: x}\n${'#'.repeat(25 * 2 ** 20)}\n`);
    expectLocated(await berth('simulate', big), /input-\d+\.yaml: line 1: this YAML document is 25 MiB, more than the 24 MiB berth parses as YAML/);
  });
});

describe('configurations (berth config check, simulate --config)', () => {
  it('durations beyond Go\'s range (were printed as 10000000000000000000h0m0s and InfinityhNaNmNaNs)', async () => {
    const r = await berth('config', 'check', file(`${CONFIG_HEAD}leaderElection:\n  leaseDuration: 10000000000000000000h\n  renewDeadline: Infinityh\n`));
    expectLocated(r, 'leaderElection.leaseDuration: duration "10000000000000000000h" is out of range');
    expect(r.stderr).toContain('leaderElection.renewDeadline: invalid duration "Infinityh"');
  });

  // Linear time is measured as a ratio in test/config/limits.test.ts: a wall-clock bound here would fail on a busy machine.
  it('20 000 unknown fields: the first 100 listed, the rest counted', async () => {
    const text = `${CONFIG_HEAD}${Array.from({ length: 20_000 }, (_, i) => `unknownField${i}: ${i}`).join('\n')}\n`;
    const r = await berth('config', 'check', file(text));
    expectLocated(r, '20000 errors in the scheduler configuration:');
    expect(r.stderr).toContain('… and 19900 more');
    expect(r.stderr.length).toBeLessThan(60_000);
  }, 60_000);

  it('the same alias and size limits as snapshots, reported with the file', async () => {
    const aliases = (n: number): string => `${CONFIG_HEAD}profiles:\n- schedulerName: a\n  percentageOfNodesToScore: &p 50\n  pluginConfig: []\nextenders: [${Array.from({ length: n }, () => '*p').join(', ')}]\n`;
    expectLocated(await berth('config', 'check', file(aliases(10_000))), /input-\d+\.yaml: more than 10,000 YAML alias expansions/);
    const big = file(`${CONFIG_HEAD}${'#'.repeat(25 * 2 ** 20)}\n`);
    expectLocated(await berth('simulate', '--config', big), /input-\d+\.yaml.*25 MiB, more than the 24 MiB/);
  }, 60_000);

  it('merge keys are accepted', async () => {
    const r = await berth('config', 'check', file(`${CONFIG_HEAD}profiles:\n- &base\n  schedulerName: a\n  percentageOfNodesToScore: 30\n- <<: *base\n  schedulerName: b\n`));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/percentageOfNodesToScore: 30/g)).toHaveLength(2);
  });
});

describe('command-line flags', () => {
  it('values out of range or of the wrong kind name the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', '-c', CONFIG, '--port', '70000'], /option '--port <n>' argument '70000' is invalid\. expected a port from 0 to 65535/],
      [['run', '-c', CONFIG, '--port', '-1'], /option '--port <n>' argument '-1' is invalid/],
      [['run', '-c', CONFIG, '--bind-concurrency', '0'], /option '--bind-concurrency <n>' argument '0' is invalid\. expected an integer of at least 1/],
      [['run', '-c', CONFIG, '--heap-growth-percent', '-5'], /option '--heap-growth-percent <n>' argument '-5' is invalid\. expected an integer from 0 \(V8's own choice\) to 300/],
      [['run', '-c', CONFIG, '--heap-growth-percent', '5000'], /option '--heap-growth-percent <n>' argument '5000' is invalid\. expected an integer from 0/],
      [['run', '-c', CONFIG, '--bind-address', 'localhost:80'], /option '--bind-address <ip>' argument 'localhost:80' is invalid\. expected an IP address/],
      [['run', '-c', CONFIG, '--log-level', 'loud'], /option '--log-level <level>' argument 'loud' is invalid/],
      [['simulate', '--seed', 'x'], /option '--seed <n>' argument 'x' is invalid\. expected an integer/],
      [['simulate', '--output', 'xml'], /option '-o, --output <format>' argument 'xml' is invalid/],
      [['simulate', '--plugin-call-budget', '-1s'], /option '--plugin-call-budget <duration>' argument '-1s' is invalid/],
      [['simulate', '--frobnicate'], /unknown option '--frobnicate'/],
      [['run'], /required option '-c, --config <file>' not specified/],
    ];
    for (const [argv, message] of cases) expectLocated(await berth(...argv), message);
  });

  it('a --port that is taken names the flags (was a raw "listen EADDRINUSE" with exit 1)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as AddressInfo).port);
    const kubeconfig = file(stringify({ clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
    try {
      const r = await berth('run', '-c', CONFIG, '--kubeconfig', kubeconfig, '--no-leader-elect', '--bind-address', '127.0.0.1', '--port', port);
      expectLocated(r, `--bind-address 127.0.0.1 --port ${port}: cannot listen: EADDRINUSE (the port is taken; pass another --port, or --port 0 for any free one)`);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('files named by flags that cannot be read or loaded', async () => {
    expectLocated(await berth('simulate', '--config', join(dir, 'nope.yaml')), /nope\.yaml.*ENOENT/);
    expectLocated(await berth('simulate', '--pods', join(dir, 'nope.yaml')), /nope\.yaml: file: cannot read: ENOENT/);
    expectLocated(await berth('simulate', '--plugins', join(dir, 'nope.mjs')), /nope\.mjs/);
  });
});

describe('kubeconfigs (berth run)', () => {
  const kubeconfig = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://127.0.0.1:6443' }): string =>
    file(
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
  const run = (path: string): Promise<Run> => berth('run', '-c', CONFIG, '--kubeconfig', path, '--port', '0', '--no-leader-elect');

  it('a kubeconfig that cannot be read or parsed', async () => {
    expectLocated(await run(join(dir, 'missing-kubeconfig')), /missing-kubeconfig: cannot read: ENOENT \(check the path, or pass another --kubeconfig\)/);
    expectLocated(await run(file('clusters: [\n')), /input-\d+\.yaml: malformed YAML at line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]\n/);
    expectLocated(await run(file('')), /input-\d+\.yaml: the file is empty/);
  });

  it('wrong-typed fields name the field (were "Invalid URL" or an endless retry of "argument must be of type string")', async () => {
    expectLocated(await run(file('clusters: 5\n')), /input-\d+\.yaml: clusters: expected an array, got 5 \(a number\)/);
    expectLocated(await run(kubeconfig({ exec: { command: 5 } })), /users\[0\]\.user\.exec\.command: expected a string, got 5 \(a number\)/);
    expectLocated(await run(kubeconfig({ token: 't' }, { server: 'not a url' })), /cluster "c": server: not a URL: "not a url"/);
    expectLocated(await run(kubeconfig({ token: 't' }, {})), /clusters\[0\]\.cluster\.server: is required/);
  });

  it('a certificate or token file that cannot be read stops berth at start (it retried every list for ever)', async () => {
    expectLocated(await run(kubeconfig({ token: 't' }, { server: 'https://127.0.0.1:6443', 'certificate-authority': '/nonexistent/ca.crt' })), /certificate-authority: cannot read "\/nonexistent\/ca\.crt": ENOENT/);
    expectLocated(await run(kubeconfig({ 'client-certificate': join(dir, 'missing.crt'), 'client-key': join(dir, 'missing.key') })), /client-certificate: cannot read ".*missing\.crt": ENOENT/);
    // token-file (client-node's spelling) is tokenFile (clientcmd's): checked like it, before client-node reads it.
    expectLocated(await run(kubeconfig({ 'token-file': join(dir, 'missing-token') })), /input-\d+\.yaml: tokenFile: cannot read ".*missing-token": ENOENT/);
    expectLocated(await run(kubeconfig({ tokenFile: join(dir, 'missing-token') })), /input-\d+\.yaml: tokenFile: cannot read ".*missing-token": ENOENT/);
  });

  it('no current context', async () => {
    const text = stringify({ clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }], users: [], contexts: [] });
    expectLocated(await run(file(text)), /input-\d+\.yaml: no current-context/);
  });
});

describe('objects arriving on watches (berth run)', () => {
  let server: FakeApiServer;
  beforeAll(async () => {
    server = new FakeApiServer();
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('a malformed pod is logged with its field and not scheduled; the other pods are bound', async () => {
    const kubeconfigPath = file(server.kubeConfig().exportConfig(), 'json');
    const logged: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void logged.push(line) });
    const scheduled = (name: string, spec: Record<string, unknown> = {}): FakeObject => ({
      metadata: { name, namespace: 'jhub', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { schedulerName: 'jupyterhub-user-scheduler', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }], ...spec },
      status: { phase: 'Pending' },
    });
    server.upsert('/api/v1/nodes', { metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } });
    server.upsert('/api/v1/pods', scheduled('good'));
    server.upsert('/api/v1/pods', scheduled('bad', { tolerations: 'x' }));
    // JSON on the wire: the fake API server reads request bodies as JSON only (berth's default is protobuf).
    const transport = { apiContentType: 'json', apiProtocol: 'http1.1' } as const;
    const b = await startBerth({ config: CONFIG, kubeconfig: kubeconfigPath, bindAddress: '127.0.0.1', port: 0, logLevel: 'info', bindConcurrency: 4, leaderElect: false, transport }, undefined, logger);
    try {
      await waitFor('the good pod bound', () => (server.pod('jhub', 'good')?.['spec'] as { nodeName?: string }).nodeName === 'n1', 10_000);
      server.upsert('/api/v1/pods', scheduled('later'));
      await waitFor('a pod added after the bad one bound', () => (server.pod('jhub', 'later')?.['spec'] as { nodeName?: string }).nodeName === 'n1', 10_000);
      expect((server.pod('jhub', 'bad')?.['spec'] as { nodeName?: string }).nodeName).toBeUndefined();
      const errors = logged.map((l) => JSON.parse(l) as { level: string; err?: string; msg: string }).filter((l) => l.level === 'error');
      expect(errors).toEqual([expect.objectContaining({ msg: 'cannot decode listed object; skipped', err: 'Pod jhub/bad: spec.tolerations: expected an array, got "x" (a string)' })]);
      expect(logged.join('')).not.toMatch(RAW_JS);
    } finally {
      await b.shutdown('test');
    }
  }, 30_000);
});
