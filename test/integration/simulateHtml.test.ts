// `berth simulate --output html` in a real headless Chromium (Debian's package; test/cluster/chromium.sh installs it
// when missing): the page renders, every simulated pod is in the rendered DOM with its explain scores, and the page
// attempts no network request. Chromium's only route out is a loopback proxy that counts connections; a control page
// that does load an image shows the proxy would see a request. Chromium's own background services, which its flags do
// not silence (component updates, network time, account checks), reach the proxy too: they are told apart by host.
// The screenshot is kept under test-artifacts/.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { HTML_CSP } from '../../src/adapters/simulator/html.js';
import type { SimulationResult } from '../../src/adapters/simulator/simulate.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'berth-html-'));
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'simulate-html');

let chromium: string;
let proxy: Server;
let proxyPort = 0;
/** The host each request through the proxy named (CONNECT host:port, or an absolute http:// URL). */
let requested: string[] = [];
const openSockets = new Set<Socket>();
let allClosed: (() => void) | undefined;

/**
 * Chromium's own services: it calls some of them whatever page it shows, and which ones varies from run to run
 * (updates, network time, account checks, optimization hints). They live under Google's service domains; the hosts
 * there that pages do load from (fonts, hosted libraries, storage) still count as the page's.
 */
const CHROMIUM_SERVICE_DOMAINS = ['.google.com', '.googleapis.com', '.gvt1.com'];
const PAGE_CDNS = new Set(['fonts.googleapis.com', 'fonts.gstatic.com', 'ajax.googleapis.com', 'storage.googleapis.com']);

function isChromiumService(host: string): boolean {
  return !PAGE_CDNS.has(host) && CHROMIUM_SERVICE_DOMAINS.some((d) => host.endsWith(d));
}

function requestHost(firstLine: string): string {
  const target = firstLine.split(' ')[1] ?? '';
  if (firstLine.startsWith('CONNECT ')) return target.replace(/:\d+$/, '');
  return URL.canParse(target) ? new URL(target).hostname : `(unparsed: ${firstLine})`;
}

/** Hosts the page itself asked for. */
function pageRequests(): string[] {
  return requested.filter((host) => !isChromiumService(host));
}

/** Resolves once every connection Chromium opened has delivered its request line or closed (it has exited). */
function proxyIdle(): Promise<void> {
  if (openSockets.size === 0) return Promise.resolve();
  return new Promise((resolve) => (allClosed = resolve));
}

function onProxyConnection(socket: Socket): void {
  openSockets.add(socket);
  socket.on('error', () => undefined);
  socket.once('data', (chunk: Buffer) => {
    requested.push(requestHost(chunk.toString('latin1').split('\r\n')[0] ?? ''));
    socket.destroy();
  });
  socket.on('close', () => {
    openSockets.delete(socket);
    if (openSockets.size === 0) allClosed?.();
  });
}

async function simulate(output: 'html' | 'json'): Promise<string> {
  let text = '';
  const code = await main(['simulate', '-o', output], (s) => (text += s));
  expect(code).toBe(0);
  return text;
}

/** Chromium, headless, with a fresh profile and every request it might make sent to the counting proxy. */
async function chromiumRun(args: string[], page: string): Promise<string> {
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const flags = [
    '--headless',
    '--no-sandbox', // the test runs as root; Chromium's sandbox refuses root
    '--disable-gpu',
    `--user-data-dir=${profile}`,
    `--proxy-server=http://127.0.0.1:${proxyPort}`,
    // Loopback is exempt from proxies by default: make the proxy the only way to any address.
    '--proxy-bypass-list=<-loopback>',
    // Chromium's own background traffic (updates, field trials) would count as the page's.
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-features=OptimizationHints,OptimizationGuideModelDownloading,OptimizationHintsFetching,NetworkTimeServiceQuerying',
  ];
  requested = [];
  const { stdout } = await run(chromium, [...flags, ...args, `file://${page}`], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  await proxyIdle();
  return stdout;
}

function writePage(name: string, html: string): string {
  const path = join(tmp, name);
  writeFileSync(path, html);
  return path;
}

beforeAll(async () => {
  execFileSync('bash', [join(process.cwd(), 'test/cluster/chromium.sh')], { stdio: 'inherit' });
  chromium = execFileSync('bash', [join(process.cwd(), 'test/cluster/chromium.sh'), '--print-path'], { encoding: 'utf8' }).trim();
  proxy = createServer(onProxyConnection);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as AddressInfo).port;
  mkdirSync(ARTIFACTS, { recursive: true });
}, 15 * 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

describe('simulate --output html in headless Chromium', () => {
  it('the proxy sees a page that fetches, and the CSP stops that fetch', async () => {
    const image = '<img src="http://berth-html-test.invalid/pixel.png" alt="">';
    await chromiumRun(['--dump-dom'], writePage('fetches.html', `<!doctype html><html><body>${image}</body></html>`));
    expect(pageRequests()).toContain('berth-html-test.invalid');
    const csp = `<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">`;
    await chromiumRun(['--dump-dom'], writePage('blocked.html', `<!doctype html><html><head>${csp}</head><body>${image}</body></html>`));
    expect(pageRequests()).toEqual([]);
  });

  it('renders every pod with its scores, fetches nothing, and leaves a screenshot', async () => {
    const result = JSON.parse(await simulate('json')) as SimulationResult;
    const html = await simulate('html');
    // Nothing in the page names anything to load: no scripts, stylesheets, images, fonts or links.
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|@import|@font-face/i);
    const page = writePage('report.html', html);
    const dom = await chromiumRun(['--dump-dom'], page);
    expect(pageRequests()).toEqual([]);
    const rendered = [...dom.matchAll(/<tr data-pod="([^"]+)">/g)].map((m) => m[1]);
    expect(rendered).toEqual(result.decisions.map((d) => d.pod));
    expect(result.decisions.length).toBeGreaterThan(0);
    for (const d of result.decisions.filter((x) => x.node)) {
      // The chosen node's row of the explain table carries the pod's total score.
      expect(dom).toMatch(new RegExp(`<tr class="chosen"><td>${d.node}</td>.*?<td>${d.totalScore}</td></tr>`));
    }
    for (const n of result.nodes) expect(dom).toContain(`data-node="${n.node}"`);
    const shot = join(ARTIFACTS, 'report.png');
    rmSync(shot, { force: true });
    await chromiumRun(['--screenshot=' + shot, '--window-size=1280,1600', '--hide-scrollbars'], page);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 1600]);
    expect(pageRequests()).toEqual([]);
  });
});
