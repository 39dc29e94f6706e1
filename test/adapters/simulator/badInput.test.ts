/**
 * Bad snapshot input, by the classes a fuzzing run of berth found: each must end in a located exit-2 error (file,
 * object, field: what was expected), never a JavaScript message, a crash, a silently ignored field or a per-pod
 * "scheduler error"; valid input of unusual shape (merge keys, many aliases, many objects) must load.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../../src/cli/main.js';
import { defaultSchedulerConfig } from '../../../src/config/index.js';
import { IN_TREE_CATALOG } from '../../../src/scheduler/plugins/inTree.js';
import { simulate } from '../../../src/adapters/simulator/simulate.js';
import { buildSnapshot, loadSnapshot, parseSnapshotText, SnapshotError } from '../../../src/adapters/simulator/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-bad-input-'));
let fileCount = 0;

function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `cluster-${fileCount++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** Runs `berth simulate FILE`; returns the exit code and both streams. */
async function simulateCli(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['simulate', path], (s) => (stdout += s));
    return { code, stdout, stderr };
  } finally {
    spy.mockRestore();
  }
}

const RAW_JS = /is not a function|Cannot read propert|is not iterable|undefined|Maximum call stack|Excessive alias|\n\s+at /;

const NODE = { kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } };
const pod = (name: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'Pod',
  metadata: { name, namespace: 'jhub' },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1', memory: '1Gi' } } }], ...spec },
});
const list = (...items: unknown[]): string => stringify({ apiVersion: 'v1', kind: 'List', items });

describe('fuzz classes: located exit-2 errors', () => {
  it('a non-string object name (was: exit 1, "cell.padEnd is not a function")', async () => {
    const r = await simulateCli(file(list(NODE, { ...pod('x'), metadata: { name: 12345, namespace: 'jhub' } })));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('items[1] (Pod jhub/(unnamed)): metadata.name: expected a string, got 12345 (a number)');
    expect(r.stderr).not.toMatch(RAW_JS);
  });

  it('wrong-typed fields that gave a raw JavaScript message name the field instead', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [pod('a', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: ['1'] } } }] }), 'spec.containers[0].resources.requests.cpu: expected a quantity, got a list'],
      [pod('b', { affinity: null, tolerations: [null] }), 'spec.tolerations[0]: expected a mapping, got null'],
      [pod('c', { topologySpreadConstraints: -1 }), 'spec.topologySpreadConstraints: expected an array, got -1 (a number)'],
      [pod('d', { containers: [{ name: 'c', image: 'x', ports: 'http' }] }), 'spec.containers[0].ports: expected an array, got "http" (a string)'],
      [{ ...pod('e'), metadata: { name: 'e', namespace: 'jhub', creationTimestamp: 5 } }, 'metadata.creationTimestamp: expected a string, got 5 (a number)'],
    ];
    for (const [obj, message] of cases) {
      const r = await simulateCli(file(list(NODE, obj)));
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(RAW_JS);
    }
  });

  it('wrong types inside tolerations, taints, affinity terms and owner references (was: exit 0, "scheduler error" per pod)', async () => {
    const cases: Array<[unknown[], string]> = [
      [[NODE, pod('t', { tolerations: [{ key: 5, operator: 'Exists' }] })], 'spec.tolerations[0].key: expected a string, got 5 (a number)'],
      [[{ ...NODE, spec: { taints: [{ key: 'k', value: ['v'], effect: 'NoSchedule' }] } }, pod('t')], 'spec.taints[0].value: expected a string, got a list'],
      [[NODE, pod('a', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: 'app' }, topologyKey: 'zone' }] } } })],
        'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels: expected a mapping, got "app" (a string)'],
      [[NODE, { ...pod('o'), metadata: { name: 'o', namespace: 'jhub', ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicaSet', name: 7, uid: 'u' }] } }],
        'metadata.ownerReferences[0].name: expected a string, got 7 (a number)'],
    ];
    for (const [items, message] of cases) {
      const r = await simulateCli(file(list(...items)));
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).not.toContain('scheduler error');
    }
  });

  it('negative quantities (was: a pod requesting -8 CPU freed CPU on its node)', async () => {
    const hog = pod('hog', { nodeName: 'n1', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '-8' } } }] });
    const r = await simulateCli(file(list(NODE, hog, pod('user'))));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('items[1] (Pod jhub/hog): spec.containers[0].resources.requests.cpu: "-8" must be greater than or equal to 0');
  });

  it('fields that were silently ignored or coerced', async () => {
    const taintedNode = { ...NODE, spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } };
    const cases: Array<[unknown[], string]> = [
      [[taintedNode, pod('t', { tolerations: 'x' })], 'spec.tolerations: expected an array, got "x" (a string)'],
      [[NODE, pod('p', { priority: 'high' })], 'spec.priority: expected an integer, got "high" (a string)'],
      [[NODE, pod('v', { nodeName: 5 })], 'spec.nodeName: expected a string, got 5 (a number)'],
      [[NODE, pod('u', { schedulerName: ['berth'] })], 'spec.schedulerName: expected a string, got a list'],
      [[{ ...NODE, spec: { unschedulable: 'yes' } }, pod('w')], 'spec.unschedulable: expected true or false, got "yes" (a string)'],
    ];
    for (const [items, message] of cases) {
      const r = await simulateCli(file(list(...items)));
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('reports every bad object at once, capped at 100 lines with a count of the rest', async () => {
    const bad = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { priority: 'high' }));
    const r = await simulateCli(file(list(NODE, ...bad)));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('250 errors in the snapshot:');
    expect(r.stderr).toContain('… and 150 more');
    expect(r.stderr.split('\n').length).toBeLessThan(110);
  });

  it('long bad values are cut to 80 characters in messages', async () => {
    const r = await simulateCli(file(list(NODE, pod('long', { nodeName: { x: 1 }, schedulerName: 7, priorityClassName: 5, preemptionPolicy: 'y'.repeat(1_000_000) }))));
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(r.stderr).toContain('…');
  });
});

describe('valid input of unusual shape loads', () => {
  it('YAML merge keys are merged, as kubectl merges them', async () => {
    const text = `
kind: List
items:
- kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
- kind: Pod
  metadata: {name: base, namespace: default}
  spec: &spec
    containers: [{name: c, image: x, resources: {requests: {cpu: "3"}}}]
- kind: Pod
  metadata: {name: merged, namespace: default}
  spec:
    <<: *spec
    priority: 5
`;
    const snap = buildSnapshot(parseSnapshotText(text, 'merge.yaml'));
    const merged = snap.pendingPods.find((p) => p.name === 'merged');
    expect(merged?.priority).toBe(5);
    expect(merged?.requests.milliCpu).toBe(3000);
    const result = await simulate(snap, defaultSchedulerConfig(), IN_TREE_CATALOG);
    expect(result.decisions.filter((d) => d.node !== null)).toHaveLength(1); // 3 + 3 CPU do not fit on 4
  });

  it('more than 100 aliases (the YAML library\'s default) load; more than 10 000 expansions are a located error', async () => {
    const pods = (n: number): string =>
      Array.from({ length: n }, (_, i) => `- kind: Pod\n  metadata: {name: p${i}, namespace: default}\n  spec: *spec\n`).join('');
    const text = (n: number): string =>
      `kind: List\nitems:\n- kind: Node\n  metadata: {name: n1}\n  status: {allocatable: {cpu: "64", memory: 64Gi, pods: "500"}}\n- kind: Pod\n  metadata: {name: base, namespace: default}\n  spec: &spec\n    containers: [{name: c, image: x}]\n${pods(n)}`;
    expect(loadSnapshot([file(text(300))]).pendingPods).toHaveLength(301);
    const bomb = (n: number): string =>
      `kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  tolerations:\n  - &t {key: k, operator: Exists}\n${'  - *t\n'.repeat(n)}`;
    // The anchor counts as one expansion, as in the YAML library's count.
    expect(loadSnapshot([file(bomb(9_999))]).pendingPods[0]?.tolerations).toHaveLength(10_000);
    const r = await simulateCli(file(bomb(10_000)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cluster-\d+\.yaml: document 1: more than 10,000 YAML alias expansions/);
  }, 120_000);

  it('130 000 objects load (a spread push of that many overflowed the stack)', () => {
    const items = Array.from({ length: 130_000 }, (_, i) => ({ kind: 'Namespace', metadata: { name: `ns-${i}` } }));
    const path = file(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [NODE, ...items] }), 'json');
    const snap = loadSnapshot([path]);
    expect(snap.cluster.namespaceLabels.size).toBe(130_000);
  }, 120_000);

  it('a YAML document above the YAML size limit is refused with a way out, not parsed into an out-of-memory crash', () => {
    const big = `kind: List\nitems:\n${'- {kind: Namespace, metadata: {name: x}}\n'.repeat(700_000)}`;
    expect(() => loadSnapshot([file(big)])).toThrowError(/line 1: this YAML document is \d+ MiB, more than the 24 MiB berth parses as YAML \(save the snapshot as JSON/);
  });
});

describe('SnapshotError', () => {
  it('keeps the first issue\'s parts for callers', () => {
    try {
      buildSnapshot(parseSnapshotText(list(NODE, pod('x', { priority: 'high' })), 'c.yaml'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SnapshotError);
      const e = err as SnapshotError;
      expect([e.file, e.where, e.detail]).toEqual(['c.yaml', 'document, items[1] (Pod jhub/x)', 'spec.priority: expected an integer, got "high" (a string)']);
    }
  });
});
