/**
 * The API client's wire settings as `berth run` flags, shared by the CLI and the benchmark (whose ceiling arms
 * take the same flags as berth arms, so both sides of a comparison talk to the API server alike).
 */
import type { KubeClientOptions } from './kubeClient.js';

/** The KubeClientOptions the wire flags set. */
export type TransportOptions = Pick<KubeClientOptions, never>;

/** Parses wire flags (e.g. from a benchmark arm); an unknown flag is an error naming the ones known. */
export function transportOptionsFromArgs(args: readonly string[]): TransportOptions {
  if (args.length > 0) throw new Error(`unknown client flag ${args[0]}: no wire flags are known`);
  return {};
}
