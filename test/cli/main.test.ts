import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

function capture() {
  let out = '';
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: (s: string) => (out += s), get stdout() { return out; }, get stderr() { return err; }, restore: () => spy.mockRestore() };
}

const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));

describe('berth CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('simulate with no arguments runs the bundled JupyterHub example', async () => {
    const io = capture();
    const code = await main(['simulate'], io.out);
    io.restore();
    expect(code).toBe(0);
    expect(io.stdout).toContain('simulating the bundled example');
    expect(io.stdout).toContain('8/8 pods scheduled.');
  });

  it('simulate places pods with ResourceClaims on the node whose slice has the device (examples/dra)', async () => {
    const io = capture();
    const code = await main(['simulate', new URL('../../examples/dra/cluster.yaml', import.meta.url).pathname], io.out);
    io.restore();
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/default\/gpu-user +n2 /);
    expect(io.stdout).toMatch(/default\/gpu-sharer +n2 /);
    expect(io.stdout).toMatch(/default\/fpga-user +<pending> +- +0\/2 nodes are available: 2 cannot allocate all claims\./);
    expect(io.stdout).toContain('2/3 pods scheduled.');
  });

  it('a bad snapshot exits 2 with a located message and prints nothing on stdout', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kind: Node\nmetadata: {name: n}\nstatus: {allocatable: {cpu: lots}}\n');
    const io = capture();
    const code = await main(['simulate', file], io.out);
    io.restore();
    expect(code).toBe(2);
    expect(io.stdout).toBe('');
    expect(io.stderr).toContain(`${file}: document (Node n): status.allocatable.cpu: invalid quantity "lots"`);
  });

  it('a bad config exits 2 naming the field and the fix, without a stack trace', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled: [{name: ImageLocalty, weight: 3}]\n',
    );
    const io = capture();
    const code = await main(['simulate', '--config', file], io.out);
    io.restore();
    expect(code).toBe(2);
    expect(io.stderr).toContain('profiles[0].plugins.score.enabled[0].name');
    expect(io.stderr).toContain('did you mean "ImageLocality"');
    expect(io.stderr).not.toMatch(/\n\s+at /);
  });

  it('config check prints the effective configuration', async () => {
    const io = capture();
    const code = await main(['config', 'check', new URL('../../examples/jupyterhub/user-scheduler.yaml', import.meta.url).pathname], io.out);
    io.restore();
    expect(code).toBe(0);
    expect(io.stdout).toContain('jupyterhub-user-scheduler');
    expect(io.stdout).toContain('weight: 14631');
  });

  it('--output json prints parseable JSON only', async () => {
    const io = capture();
    const code = await main(['simulate', '--output', 'json'], io.out);
    io.restore();
    expect(code).toBe(0);
    const parsed = JSON.parse(io.stdout) as { decisions: unknown[]; nodes: unknown[] };
    expect(parsed.decisions).toHaveLength(8);
    expect(parsed.nodes).toHaveLength(3);
  });

  it('unknown options exit 2', async () => {
    const io = capture();
    const code = await main(['simulate', '--frobnicate'], io.out);
    io.restore();
    expect(code).toBe(2);
  });

  it('run: certificate flags that cannot serve exit 2 naming the flag, before anything listens', async () => {
    // A kubeconfig that parses; its server is never dialled, since the flags are refused first.
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const config = join(dir, 'run-config.yaml');
    writeFileSync(config, 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nleaderElection: {leaderElect: false}\n');
    const base = ['run', '--config', config, '--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1', '--port', '0'];
    for (const [args, message] of [
      [['--tls-cert-file', join(dir, 'tls.crt')], '--tls-cert-file and --tls-private-key-file go together'],
      [['--tls-cert-file', join(dir, 'missing.crt'), '--tls-private-key-file', join(dir, 'missing.key')], 'missing.crt: cannot read it'],
      [['--insecure-serving', '--tls-cert-file', join(dir, 'a.crt'), '--tls-private-key-file', join(dir, 'a.key')], 'need secure serving: drop --insecure-serving'],
    ] as const) {
      const io = capture();
      const code = await main([...base, ...args], io.out);
      io.restore();
      expect(code, args.join(' ')).toBe(2);
      expect(io.stderr).toContain(message);
    }
  });
});
