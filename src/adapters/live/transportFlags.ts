/**
 * The API client's wire settings as `berth run` flags, shared by the CLI and the benchmark (whose ceiling arms
 * take the same flags as berth arms, so both sides of a comparison talk to the API server alike).
 */
import type { KubeClientOptions } from './kubeClient.js';

export type ApiContentType = 'protobuf' | 'json';
export const API_CONTENT_TYPES: readonly ApiContentType[] = ['protobuf', 'json'];

/** The KubeClientOptions the wire flags set. */
export type TransportOptions = Pick<KubeClientOptions, 'protobuf'>;

export interface TransportFlags {
  /** protobuf: offer protobuf for core/v1 lists, watches, Bindings and Events (JSON for the rest); json: JSON only. */
  apiContentType: ApiContentType;
}

export const DEFAULT_TRANSPORT: TransportFlags = { apiContentType: 'protobuf' };

export function transportOptions(flags: TransportFlags): TransportOptions {
  return { protobuf: flags.apiContentType === 'protobuf' };
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
    } else {
      throw new Error(`unknown client flag ${a} (known: --api-content-type protobuf|json)`);
    }
  }
  return transportOptions(flags);
}
