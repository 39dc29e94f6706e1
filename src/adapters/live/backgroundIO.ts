/**
 * The I/O `berth run` lends plugins' background tasks (src/scheduler/framework/background.ts): the host's fetch and
 * file system (hostBackgroundIO), and berth's own API client for the API server (metrics.k8s.io: its credentials,
 * rate limiter and CA). Every call honours the task's abort signal.
 */
import type { BackgroundIO } from '../../scheduler/framework/background.js';
import { hostBackgroundIO } from '../background.js';
import type { KubeClient } from './kubeClient.js';

/** A single API GET is bounded even when the task's own limit is longer: the refresh loop must come round again. */
const API_GET_TIMEOUT_MS = 30_000;

function statusText(body: unknown): string {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message !== '' ? `: ${message}` : '';
}

export function liveBackgroundIO(client: Pick<KubeClient, 'request'>): BackgroundIO {
  return hostBackgroundIO(async (path, signal) => {
    const res = await client.request<unknown>('GET', path, { timeoutMs: API_GET_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    if (res.status < 200 || res.status >= 300) throw new Error(`GET ${path}: HTTP ${res.status}${statusText(res.body)}`);
    return res.body;
  });
}
