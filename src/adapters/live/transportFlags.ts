/**
 * The API client's wire settings as `berth run` flags, shared by the CLI and the benchmark (whose ceiling arms
 * take the same flags as berth arms, so both sides of a comparison talk to the API server alike).
 */
import type { KubeClientOptions } from './kubeClient.js';

export type ApiContentType = 'protobuf' | 'json';
export const API_CONTENT_TYPES: readonly ApiContentType[] = ['protobuf', 'json'];
export type ApiProtocol = 'http2' | 'http1.1';
export const API_PROTOCOLS: readonly ApiProtocol[] = ['http2', 'http1.1'];

/** The KubeClientOptions the wire flags set. */
export type TransportOptions = Pick<KubeClientOptions, 'protobuf' | 'http2'>;

export interface TransportFlags {
  /** protobuf: offer protobuf for core/v1 lists, watches, Bindings and Events (JSON for the rest); json: JSON only. */
  apiContentType: ApiContentType;
  /** http2: one multiplexed connection (https only); http1.1: a keep-alive pool plus a socket per watch. */
  apiProtocol: ApiProtocol;
}

/**
 * Protobuf over HTTP/2, as kube-scheduler talks to the API server (issue 16, docs/benchmarks.md): it costs the API
 * server and etcd about 0.88x the CPU per pod of JSON over HTTP/1.1 and halves the bytes, and it passes the API-server
 * fault test (test/integration/liveFaults.test.ts) since its two failures were fixed (an HTTP/2 request whose stream
 * was reset before any response never settled; a Binding whose answer was lost after the watch had shown the pod
 * bound was requeued, and its retry dropped the pod from the cache). JSON stays for kinds without protobuf types
 * (every non-core group but events.k8s.io), and HTTP/1.1 for plain-http servers; both remain flags.
 */
export const DEFAULT_TRANSPORT: TransportFlags = { apiContentType: 'protobuf', apiProtocol: 'http2' };

export function transportOptions(flags: TransportFlags): TransportOptions {
  return { protobuf: flags.apiContentType === 'protobuf', http2: flags.apiProtocol === 'http2' };
}

/** Parses wire flags (e.g. a benchmark arm's); an unknown flag is an error naming the known ones. */
export function transportOptionsFromArgs(args: readonly string[]): TransportOptions {
  const flags: TransportFlags = { ...DEFAULT_TRANSPORT };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [name, inline] = a.includes('=') ? (a.split('=', 2) as [string, string]) : [a, undefined];
    if (name === '--api-content-type') {
      const v = inline ?? args[++i];
      if (!API_CONTENT_TYPES.includes(v as ApiContentType)) throw new Error(`--api-content-type: "${v}" is not one of ${API_CONTENT_TYPES.join(', ')}`);
      flags.apiContentType = v as ApiContentType;
    } else if (name === '--api-protocol') {
      const v = inline ?? args[++i];
      if (!API_PROTOCOLS.includes(v as ApiProtocol)) throw new Error(`--api-protocol: "${v}" is not one of ${API_PROTOCOLS.join(', ')}`);
      flags.apiProtocol = v as ApiProtocol;
    } else {
      throw new Error(`unknown client flag ${a} (known: --api-content-type protobuf|json, --api-protocol http2|http1.1)`);
    }
  }
  return transportOptions(flags);
}
