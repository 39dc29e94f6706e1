// The image, without a Docker engine: the Dockerfile's own WORKDIR/COPY/RUN steps run stage by stage in a clean
// copy of the tree (git ls-files, minus .dockerignore), each stage in its own root folder; then berth starts from
// the runtime stage's folder exactly as ENTRYPOINT + CMD (and the chart's Deployment args) would, as an
// unprivileged user (uid 65534, the image's USER) on a tree made read-only, so any runtime write fails.
// Differences from a real image, by necessity: the host's Node (20) instead of the image's Node 22, paths under a
// temp root instead of /, and npm resolving from the local cache.
import http from 'node:http';
import https from 'node:https';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getFreePort, kubeconfigForServiceAccount } from '../../tools/devcluster/index.js';
import { createKubeClient, type KubeClient } from '../../src/adapters/live/kubeClient.js';
import { createAll, deleteAll, waitUntil } from '../ship/apply.js';
import { argValue, type DeploymentLike, execForm, findObject, helmTemplate, type K8sObject, parseDockerfile, REPO } from '../ship/helpers.js';

const suffix = randomBytes(3).toString('hex');
const namespace = `ship-image-${suffix}`;
const release = `img-${suffix}`;
const RUN_AS = 65534;

let tmp: string;
let runtimeRoot: string;
let entrypoint: string[];
let cmd: string[];
let admin: KubeClient;
let adminKc: KubeConfig;
let objs: K8sObject[] = [];
const timings: Record<string, number> = {};

/** Top-level .dockerignore patterns, as used here: `**\/name`, `name`, `*.ext`. */
function ignored(path: string, patterns: string[]): boolean {
  const parts = path.split('/');
  return patterns.some((p) => {
    if (p.startsWith('**/')) return parts.includes(p.slice(3));
    if (p.startsWith('*.')) return parts.length === 1 && path.endsWith(p.slice(1));
    return path === p || path.startsWith(`${p}/`);
  });
}

/** Runs the Dockerfile's stages in folders under `tmp`; returns the last stage's root, ENTRYPOINT and CMD. */
function buildImageTree(): { root: string; entrypoint: string[]; cmd: string[]; env: Record<string, string> } {
  const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
  const context = join(tmp, 'context');
  const patterns = readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO }).toString().split('\0').filter((f) => f !== '');
  for (const f of files) {
    if (ignored(f, patterns) || !existsSync(join(REPO, f))) continue;
    mkdirSync(dirname(join(context, f)), { recursive: true });
    cpSync(join(REPO, f), join(context, f));
  }
  const roots = new Map<string, string>();
  let last = { root: '', entrypoint: [] as string[], cmd: [] as string[], env: {} as Record<string, string> };
  dockerfile.stages.forEach((stage, i) => {
    const root = join(tmp, `stage-${i}`);
    mkdirSync(root, { recursive: true });
    if (stage.name) roots.set(stage.name, root);
    let cwd = '/';
    const env: Record<string, string> = {};
    let ep: string[] = [];
    let cm: string[] = [];
    for (const ins of stage.instructions) {
      if (ins.op === 'WORKDIR') {
        cwd = isAbsolute(ins.args) ? ins.args : join(cwd, ins.args);
        mkdirSync(join(root, cwd), { recursive: true });
      } else if (ins.op === 'COPY') {
        const words = ins.args.split(/\s+/);
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        const dest = words.pop()!;
        const srcRoot = from ? roots.get(from) : context;
        if (!srcRoot) throw new Error(`Dockerfile line ${ins.line}: unknown stage ${from}`);
        const destAbs = join(root, isAbsolute(dest) ? dest : join(cwd, dest));
        for (const src of words) {
          const srcAbs = join(srcRoot, src);
          if (!existsSync(srcAbs)) throw new Error(`Dockerfile line ${ins.line}: COPY source ${src} is not in the ${from ? `stage ${from}` : 'build context'}`);
          if (statSync(srcAbs).isDirectory()) cpSync(srcAbs, destAbs, { recursive: true });
          else {
            const target = dest.endsWith('/') || words.length > 1 ? join(destAbs, basename(src)) : destAbs;
            mkdirSync(dirname(target), { recursive: true });
            cpSync(srcAbs, target);
          }
        }
      } else if (ins.op === 'RUN') {
        const t0 = Date.now();
        execFileSync('sh', ['-c', ins.args], {
          cwd: join(root, cwd),
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: join(tmp, 'home'),
            ...env,
            // npm resolves from the machine's cache (the image build would download).
            npm_config_cache: process.env['npm_config_cache'] ?? join(homedir(), '.npm'),
            npm_config_prefer_offline: 'true',
            npm_config_update_notifier: 'false',
          },
        });
        timings[`RUN ${ins.args}`] = Date.now() - t0;
      } else if (ins.op === 'ENV') {
        for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
      } else if (ins.op === 'ENTRYPOINT') {
        ep = execForm(ins.args) ?? [];
      } else if (ins.op === 'CMD') {
        cm = execForm(ins.args) ?? [];
      }
    }
    last = { root, entrypoint: ep, cmd: cm, env };
  });
  return last;
}

/** An image path (/app/...) inside the runtime stage's folder; `node` is the host's node. */
function mapArg(arg: string, extra: Record<string, string> = {}): string {
  if (arg === 'node') return process.execPath;
  for (const [prefix, to] of Object.entries({ '/app/': join(runtimeRoot, 'app') + '/', ...extra })) if (arg.startsWith(prefix)) return to + arg.slice(prefix.length);
  return arg;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the image's entrypoint with `args` as uid/gid 65534 with the image's ENV, as the container would. */
function start(args: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  const argv = [...entrypoint.map((a) => mapArg(a)), ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: join(runtimeRoot, 'app'),
    uid: RUN_AS,
    gid: RUN_AS,
    env: { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

let imageEnv: Record<string, string> = {};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'berth-ship-image-'));
  chmodSync(tmp, 0o755);
  const t0 = Date.now();
  const built = buildImageTree();
  timings['build total'] = Date.now() - t0;
  runtimeRoot = built.root;
  entrypoint = built.entrypoint;
  cmd = built.cmd;
  imageEnv = built.env;
  // Read-only root filesystem: nobody may write anywhere in the image tree.
  execFileSync('chmod', ['-R', 'a-w', runtimeRoot]);
  adminKc = new KubeConfig();
  adminKc.loadFromFile(inject('kubeconfigPath'));
  admin = createKubeClient(adminKc, { qps: 0, burst: 0 });
}, 12 * 60_000);

afterAll(async () => {
  process.stderr.write(`[shipImage] timings (ms): ${JSON.stringify(timings)}\n`);
  await deleteAll(admin, objs.filter((o) => o.kind.startsWith('Cluster')));
  await admin.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  admin.close();
  if (runtimeRoot) execFileSync('chmod', ['-R', 'u+w', runtimeRoot]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('the image (Dockerfile steps run in a clean copy of the tree)', () => {
  it('holds compiled berth and production dependencies only', () => {
    const app = join(runtimeRoot, 'app');
    expect(existsSync(join(app, 'dist/src/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'package.json'))).toBe(true);
    expect(existsSync(join(app, 'examples/jupyterhub/cluster.yaml'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/fastify/package.json'))).toBe(true);
    for (const dev of ['typescript', 'vitest', 'fast-check']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'test'))).toBe(false);
    expect(entrypoint).toEqual(['node', '/app/dist/src/cli/main.js']);
  });

  it('--help and the bundled simulation run as uid 65534 on the read-only tree', async () => {
    const help = await start(['--help'], imageEnv).done;
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/run\s/);
    const sim = await start(['simulate'], imageEnv).done;
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain('jupyterhub');
  });

  it('config check accepts deploy/config.yaml', async () => {
    const etc = join(tmp, 'etc-deploy');
    mkdirSync(etc);
    cpSync(join(REPO, 'deploy/config.yaml'), join(etc, 'config.yaml'));
    execFileSync('chmod', ['-R', 'a+rX,a-w', etc]);
    const r = await start(['config', 'check', join(etc, 'config.yaml')], imageEnv).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('schedulerName: berth');
  });

  it('runs the chart\'s Deployment args (CMD shape) against the API server with its ServiceAccount; SIGTERM exits 0', async () => {
    expect((await admin.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } })).status).toBe(201);
    objs = await helmTemplate(inject('controlPlaneBinDir'), release, namespace, ['--set', `schedulerName=berth-img-${suffix}`]);
    expect((await createAll(admin, objs)).filter((r) => r.status !== 201)).toEqual([]);
    const d = findObject<DeploymentLike>(objs, 'Deployment');
    const c = d.spec.template.spec.containers[0]!;
    // The image's CMD and the Deployment's args agree on the subcommand and the config path.
    expect(c.args!.slice(0, 3)).toEqual(cmd);
    const mount = c.volumeMounts![0]!;
    const cm = findObject<K8sObject & { data: Record<string, string> }>(objs, 'ConfigMap', d.spec.template.spec.volumes![0]!.configMap!.name);
    const etc = join(tmp, 'mount');
    mkdirSync(join(etc, mount.mountPath), { recursive: true });
    for (const [k, v] of Object.entries(cm.data)) writeFileSync(join(etc, mount.mountPath, k), v);
    const sa = await kubeconfigForServiceAccount(adminKc, namespace, d.spec.template.spec.serviceAccountName!, { create: false, writeTo: join(tmp, 'kubeconfig') });
    chownSync(sa.kubeconfigPath!, RUN_AS, RUN_AS);
    execFileSync('chmod', ['-R', 'a+rX,a-w', etc]);
    const port = await getFreePort();
    const args = c.args!.map((a) => mapArg(a, { [`${mount.mountPath}/`]: join(etc, mount.mountPath) + '/' }));
    args[args.indexOf('--port') + 1] = String(port);
    const t0 = Date.now();
    const proc = start([...args, '--kubeconfig', sa.kubeconfigPath!, '--bind-address', '127.0.0.1'], imageEnv);
    try {
      // The probes' scheme: HTTPS (the chart's default secure port, a self-signed certificate made at start).
      const scheme = (c.readinessProbe!.httpGet as { scheme?: string }).scheme ?? 'HTTP';
      const probe = (path: string): Promise<number> =>
        new Promise((resolve) => {
          const mod = scheme === 'HTTPS' ? https : http;
          const req = mod.get(`${scheme.toLowerCase()}://127.0.0.1:${port}${path}`, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(0));
        });
      await waitUntil('/readyz 200', 60_000, async () => (await probe(c.readinessProbe!.httpGet!.path)) === 200);
      timings['run → ready'] = Date.now() - t0;
      expect(await probe(c.livenessProbe!.httpGet!.path)).toBe(200);
      // /metrics on the secure port: an anonymous scrape is refused (401), so the port really checks tokens.
      expect(await probe('/metrics')).toBe(scheme === 'HTTPS' ? 401 : 200);
      await waitUntil('the Lease', 20_000, async () => {
        const r = await admin.request<{ spec: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${release}-berth`);
        return r.status === 200 && ((r.body as { spec: { holderIdentity?: string } }).spec.holderIdentity ?? '') !== '';
      });
    } finally {
      proc.child.kill('SIGTERM');
    }
    const r = await proc.done;
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/EACCES|EROFS|EPERM|forbidden/i);
    expect(r.stdout).toContain('berth started');
    expect(argValue(args, '--config')).toBe(join(etc, mount.mountPath, 'config.yaml'));
  });
});
