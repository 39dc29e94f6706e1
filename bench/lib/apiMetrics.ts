/**
 * The API server's own count of requests (apiserver_request_total from /metrics), by verb and resource, so the
 * benchmark can say what each scheduler asked of it per pod. WATCH requests are counted when they end.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { ControlPlane } from '../../tools/devcluster/index.js';

/** "VERB resource[/subresource]" → requests. */
export type RequestCounts = Map<string, number>;

function labels(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** Sums apiserver_request_total by "VERB resource[/subresource]" (codes and scopes folded). */
export function parseRequestCounts(text: string): RequestCounts {
  const out: RequestCounts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const l = labels(line.slice('apiserver_request_total{'.length, close));
    const value = Number(line.slice(close + 1).trim());
    const sub = l.get('subresource') ?? '';
    const key = `${l.get('verb') ?? '?'} ${l.get('resource') ?? ''}${sub ? `/${sub}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** after − before, leaving out keys that did not move. */
export function diffCounts(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

/** Reads the API server's /metrics with the admin client certificate. */
export async function fetchRequestCounts(cp: ControlPlane): Promise<RequestCounts> {
  const text = await getText(cp, '/metrics');
  return parseRequestCounts(text);
}

/** GET of a non-JSON endpoint (/metrics, /debug/pprof/...) with the admin certificate; the body as a Buffer. */
export async function getRaw(cp: ControlPlane, path: string, timeoutMs = 60_000): Promise<Buffer> {
  const [ca, cert, key] = await Promise.all([readFile(cp.certs.caCert), readFile(cp.certs.adminCert), readFile(cp.certs.adminKey)]);
  return await new Promise<Buffer>((resolve, reject) => {
    const req = request(`${cp.server}${path}`, { method: 'GET', ca, cert, key, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if ((res.statusCode ?? 0) !== 200) reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`));
        else resolve(body);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function getText(cp: ControlPlane, path: string): Promise<string> {
  return (await getRaw(cp, path)).toString('utf8');
}
