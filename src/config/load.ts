/**
 * Load, default and validate a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) into berth's
 * SchedulerConfig, following upstream kube-scheduler: strict decoding, v1 defaulting (defaults.go, default_plugins.go),
 * validation (validation.go, validation_pluginargs.go) and the framework's plugin expansion (framework.go).
 * All problems found are reported together in one ConfigError.
 */
import { LineCounter, parseDocument } from 'yaml';
import {
  duplicateKeys,
  formatBytesLimit,
  InputFileError,
  MAX_YAML_ALIASES,
  MAX_YAML_DOCUMENT_BYTES,
  oversizedYamlDocument,
  readInputFile,
} from '../kube/input.js';
import { quote } from '../kube/validate.js';
import { EXTENSION_POINTS } from '../scheduler/plugins/catalog.js';
import type { PluginCatalog } from '../scheduler/framework/pluginCatalog.js';
import { IN_TREE_CATALOG } from '../scheduler/plugins/inTree.js';
import type {
  ClientConnectionConfig,
  LeaderElectionConfig,
  ProfileConfig,
  SchedulerConfig,
} from './types.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { Decoder, yamlLocator, type FieldPath } from './decode.js';
import { formatGoDuration } from '../kube/duration.js';
import {
  checkPluginName,
  decodeUserPlugins,
  defaultPluginSets,
  enabledPluginNames,
  mergePlugins,
  queueSortSignature,
  resolvePlugins,
} from './plugins.js';
import { CONFIG_API_VERSION, decodePluginArgs, renderPluginArgs } from './args.js';

export const CONFIG_KIND = 'KubeSchedulerConfiguration';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const EMBEDDED_DEFAULT_SOURCE = 'embedded default';

const TOP_FIELDS = [
  'apiVersion',
  'kind',
  'parallelism',
  'leaderElection',
  'clientConnection',
  'healthzBindAddress',
  'metricsBindAddress',
  'enableProfiling',
  'enableContentionProfiling',
  'percentageOfNodesToScore',
  'percentageOfPlacementsToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'profiles',
  'extenders',
  'delayCacheUntilActive',
] as const;

const LEADER_ELECTION_FIELDS = [
  'leaderElect',
  'leaseDuration',
  'renewDeadline',
  'retryPeriod',
  'resourceLock',
  'resourceName',
  'resourceNamespace',
] as const;

const CLIENT_CONNECTION_FIELDS = ['kubeconfig', 'acceptContentTypes', 'contentType', 'qps', 'burst'] as const;
const PROFILE_FIELDS = [
  'schedulerName',
  'percentageOfNodesToScore',
  'percentageOfPlacementsToScore',
  'plugins',
  'pluginConfig',
] as const;

/** client-go's leader-election jitter factor: renewDeadline must exceed retryPeriod × 1.2. */
const LEADER_ELECTION_JITTER = 1.2;

/** Reads and loads a configuration file (YAML or JSON); `plugins` are the plugins it may name. */
export function loadSchedulerConfig(path: string, plugins: PluginCatalog = IN_TREE_CATALOG): SchedulerConfig {
  return parseSchedulerConfig(readConfigText(path), path, plugins);
}

/** The text of a configuration file; a ConfigError naming the file when it cannot be read. */
export function readConfigText(path: string): string {
  try {
    return readInputFile(path);
  } catch (err) {
    if (!(err instanceof InputFileError)) throw unreadableConfigError(path, err);
    const unreadable = err.detail.startsWith('cannot read: ');
    const message = unreadable ? `cannot read the configuration file: ${err.detail.slice('cannot read: '.length)}` : `the configuration file is ${err.detail}`;
    throw new ConfigError([{ file: path, fieldPath: '', message, hint: unreadable ? 'check the path given to --config' : err.hint }]);
  }
}

/** The error for a configuration file that cannot be read (at start, or when a reload reads it again). */
export function unreadableConfigError(path: string, err: unknown): ConfigError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ConfigError([
    { file: path, fieldPath: '', message: `cannot read the configuration file: ${reason}`, hint: 'check the path given to --config' },
  ]);
}

/** Parses, defaults and validates configuration text (YAML or JSON); `source` names it in messages. */
export function parseSchedulerConfig(text: string, source: string, plugins: PluginCatalog = IN_TREE_CATALOG): SchedulerConfig {
  const over = oversizedYamlDocument(text);
  if (over !== undefined) {
    throw new ConfigError([
      { file: source, fieldPath: '', line: over.line, message: `a YAML document of ${formatBytesLimit(over.bytes)}, more than the ${formatBytesLimit(MAX_YAML_DOCUMENT_BYTES)} berth parses`, hint: 'a scheduler configuration is a few kilobytes: check that this is the right file' },
    ]);
  }
  const lineCounter = new LineCounter();
  // Merge keys (<<: *anchor), as kube-scheduler's YAML decoding accepts them.
  // Repeated keys are found by duplicateKeys (linear) rather than the YAML library's uniqueKeys (quadratic).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: true, merge: true });
  if (doc.errors.length === 0) {
    const duplicates = duplicateKeys(doc);
    if (duplicates.length > 0) throw new ConfigError(duplicates.map((d) => duplicateKeyIssue(source, d.key, lineCounter.linePos(d.offset))));
  }
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => {
      const first = e.message.split('\n')[0] ?? e.message;
      const message = first.replace(/ at line \d+, column \d+:?$/, '');
      const issue: ConfigIssue = {
        file: source,
        fieldPath: '',
        message: `malformed YAML: ${message}`,
        hint:
          e.code === 'DUPLICATE_KEY'
            ? 'each field may appear only once in a mapping; remove or merge the repeated key'
            : 'fix the YAML syntax here (check indentation, that list items start with "- ", and that brackets and quotes are closed)',
      };
      const pos = e.linePos?.[0];
      if (pos !== undefined) {
        issue.line = pos.line;
        issue.column = pos.col;
      }
      return issue;
    });
    throw new ConfigError(issues);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const excessive = message.startsWith('Excessive alias count');
    throw new ConfigError([
      {
        file: source,
        fieldPath: '',
        message: excessive ? `more than ${MAX_YAML_ALIASES.toLocaleString('en-US')} YAML alias expansions` : `malformed YAML: ${message.split('\n')[0] ?? ''}`,
        hint: excessive ? 'berth expands at most that many aliases (a guard against alias bombs)' : 'fix the YAML syntax',
      },
    ]);
  }
  const dec = new Decoder(source, yamlLocator(doc, lineCounter));
  const config = decodeConfiguration(dec, value, source, plugins);
  if (config === undefined || dec.hasErrors) throw new ConfigError(dec.issues);
  return config;
}

function duplicateKeyIssue(source: string, key: string, pos: { line: number; col: number }): ConfigIssue {
  return {
    file: source,
    fieldPath: '',
    line: pos.line,
    column: pos.col,
    message: `malformed YAML: Map keys must be unique (${quote(key)} appears more than once)`,
    hint: 'each field may appear only once in a mapping; remove or merge the repeated key',
  };
}

/** The configuration kube-scheduler runs with when given no file: one profile, default-scheduler. */
export function defaultSchedulerConfig(plugins: PluginCatalog = IN_TREE_CATALOG): SchedulerConfig {
  const dec = new Decoder(EMBEDDED_DEFAULT_SOURCE);
  const config = decodeConfiguration(dec, { apiVersion: CONFIG_API_VERSION, kind: CONFIG_KIND }, EMBEDDED_DEFAULT_SOURCE, plugins);
  if (config === undefined || dec.hasErrors) throw new ConfigError(dec.issues);
  return config;
}

function decodeConfiguration(dec: Decoder, value: unknown, source: string, plugins: PluginCatalog): SchedulerConfig | undefined {
  if (value === null || value === undefined) {
    dec.error([], 'the configuration is empty', `write a ${CONFIG_KIND} with apiVersion: ${CONFIG_API_VERSION}`);
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    dec.error([], `expected a ${CONFIG_KIND} mapping at the top level`, `write a ${CONFIG_KIND} with apiVersion: ${CONFIG_API_VERSION}`);
    return undefined;
  }
  const top = value as Record<string, unknown>;

  // apiVersion and kind first: with the wrong schema every other message would be noise.
  const apiVersion = top['apiVersion'];
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    dec.error(['apiVersion'], "the configuration's apiVersion is missing", `add apiVersion: ${CONFIG_API_VERSION}`);
  } else if (apiVersion !== CONFIG_API_VERSION) {
    const text = String(apiVersion);
    const old = /^kubescheduler\.config\.k8s\.io\/v1(alpha|beta)\d+$/.test(text);
    dec.error(
      ['apiVersion'],
      old
        ? `apiVersion "${text}" is no longer served: upstream removed the v1beta* KubeSchedulerConfiguration versions (v1beta2 in Kubernetes 1.28, v1beta3 in 1.29)`
        : `unsupported apiVersion "${text}"`,
      `use apiVersion: ${CONFIG_API_VERSION}` + (old ? ' (fields are mostly the same; see the upstream migration notes)' : ''),
    );
  }
  const kind = top['kind'];
  if (kind !== CONFIG_KIND) {
    dec.error(
      ['kind'],
      kind === undefined || kind === null ? 'the configuration kind is missing' : `unsupported kind "${String(kind)}"`,
      `use kind: ${CONFIG_KIND}`,
    );
  }
  if (dec.hasErrors) return undefined;

  dec.object(top, [], TOP_FIELDS, 'the configuration');

  const parallelism = dec.integer(top['parallelism'], ['parallelism']) ?? 16;
  if (parallelism <= 0) dec.error(['parallelism'], `parallelism ${parallelism} should be an integer value greater than zero`, 'use 1 or more (default 16)');

  const percentageOfNodesToScore = decodePercentage(dec, top['percentageOfNodesToScore'], ['percentageOfNodesToScore']) ?? 0;
  // Recent upstream v1 (pod group scheduling, feature-gated): validated as upstream, otherwise unused by berth.
  decodePercentage(dec, top['percentageOfPlacementsToScore'], ['percentageOfPlacementsToScore']);

  const podInitialBackoffSeconds = dec.integer(top['podInitialBackoffSeconds'], ['podInitialBackoffSeconds'], 64) ?? 1;
  const podMaxBackoffSeconds = dec.integer(top['podMaxBackoffSeconds'], ['podMaxBackoffSeconds'], 64) ?? 10;
  if (podInitialBackoffSeconds <= 0) {
    dec.error(['podInitialBackoffSeconds'], `podInitialBackoffSeconds ${podInitialBackoffSeconds} must be greater than 0`, 'use 1 or more (default 1)');
  }
  if (podMaxBackoffSeconds < podInitialBackoffSeconds) {
    dec.error(
      ['podMaxBackoffSeconds'],
      `podMaxBackoffSeconds ${podMaxBackoffSeconds} must be greater than or equal to podInitialBackoffSeconds (${podInitialBackoffSeconds})`,
      'raise podMaxBackoffSeconds or lower podInitialBackoffSeconds',
    );
  }

  const enableProfiling = dec.boolean(top['enableProfiling'], ['enableProfiling']) ?? true;
  const enableContentionProfiling = dec.boolean(top['enableContentionProfiling'], ['enableContentionProfiling']) ?? enableProfiling;
  const healthzBindAddress = dec.string(top['healthzBindAddress'], ['healthzBindAddress']);
  const metricsBindAddress = dec.string(top['metricsBindAddress'], ['metricsBindAddress']);
  const delayCacheUntilActive = dec.boolean(top['delayCacheUntilActive'], ['delayCacheUntilActive']) ?? false;

  const extenders = dec.array(top['extenders'], ['extenders']);
  if (extenders !== undefined && extenders.length > 0) {
    dec.error(['extenders'], 'extenders are not supported by berth', 'remove the extenders list (berth runs in-tree plugins only)');
  }

  const leaderElection = decodeLeaderElection(dec, top['leaderElection']);
  const clientConnection = decodeClientConnection(dec, top['clientConnection']);

  const profileResult = decodeProfiles(dec, top['profiles'], plugins);

  const effective: Record<string, unknown> = {
    apiVersion: CONFIG_API_VERSION,
    kind: CONFIG_KIND,
    parallelism,
    leaderElection: {
      leaderElect: leaderElection.leaderElect,
      leaseDuration: formatGoDuration(leaderElection.leaseDurationSeconds),
      renewDeadline: formatGoDuration(leaderElection.renewDeadlineSeconds),
      retryPeriod: formatGoDuration(leaderElection.retryPeriodSeconds),
      resourceLock: leaderElection.resourceLock,
      resourceName: leaderElection.resourceName,
      resourceNamespace: leaderElection.resourceNamespace,
    },
    clientConnection: { ...clientConnection },
  };
  if (healthzBindAddress !== undefined) effective['healthzBindAddress'] = healthzBindAddress;
  if (metricsBindAddress !== undefined) effective['metricsBindAddress'] = metricsBindAddress;
  Object.assign(effective, {
    enableProfiling,
    enableContentionProfiling,
    percentageOfNodesToScore,
    podInitialBackoffSeconds,
    podMaxBackoffSeconds,
    profiles: profileResult.effective,
  });
  if (delayCacheUntilActive) effective['delayCacheUntilActive'] = true;

  return {
    source,
    parallelism,
    percentageOfNodesToScore,
    podInitialBackoffSeconds,
    podMaxBackoffSeconds,
    leaderElection,
    clientConnection,
    profiles: profileResult.profiles,
    effective,
  };
}

function decodePercentage(dec: Decoder, value: unknown, path: FieldPath): number | undefined {
  const pct = dec.integer(value, path);
  if (pct !== undefined && (pct < 0 || pct > 100)) {
    dec.error(path, `${String(path[path.length - 1])} ${pct} not in valid range [0-100]`, 'use 0 (adaptive, the default) or a percentage from 1 to 100');
  }
  return pct;
}

function decodeLeaderElection(dec: Decoder, value: unknown): LeaderElectionConfig {
  const path = ['leaderElection'];
  const raw = dec.object(value, path, LEADER_ELECTION_FIELDS, 'leaderElection') ?? {};
  const str = (key: string, def: string): string => {
    const s = dec.string(raw[key], [...path, key]);
    return s === undefined || s === '' ? def : s;
  };
  const dur = (key: string, def: number): number => dec.duration(raw[key], [...path, key]) ?? def;
  const out: LeaderElectionConfig = {
    leaderElect: dec.boolean(raw['leaderElect'], [...path, 'leaderElect']) ?? true,
    leaseDurationSeconds: dur('leaseDuration', 15),
    renewDeadlineSeconds: dur('renewDeadline', 10),
    retryPeriodSeconds: dur('retryPeriod', 2),
    resourceLock: str('resourceLock', 'leases'),
    resourceName: str('resourceName', 'kube-scheduler'),
    resourceNamespace: str('resourceNamespace', 'kube-system'),
  };
  if (!out.leaderElect) return out;
  const positive: Array<[string, number]> = [
    ['leaseDuration', out.leaseDurationSeconds],
    ['renewDeadline', out.renewDeadlineSeconds],
    ['retryPeriod', out.retryPeriodSeconds],
  ];
  for (const [key, seconds] of positive) {
    if (seconds <= 0) dec.error([...path, key], `${key} ${formatGoDuration(seconds)} must be greater than zero`, 'use a positive duration such as "15s"');
  }
  if (out.leaseDurationSeconds <= out.renewDeadlineSeconds) {
    dec.error(
      [...path, 'leaseDuration'],
      `leaseDuration (${formatGoDuration(out.leaseDurationSeconds)}) must be greater than renewDeadline (${formatGoDuration(out.renewDeadlineSeconds)})`,
      'defaults are leaseDuration 15s, renewDeadline 10s, retryPeriod 2s',
    );
  }
  if (out.renewDeadlineSeconds > 0 && out.renewDeadlineSeconds <= out.retryPeriodSeconds * LEADER_ELECTION_JITTER) {
    dec.error(
      [...path, 'renewDeadline'],
      `renewDeadline (${formatGoDuration(out.renewDeadlineSeconds)}) must be greater than retryPeriod × ${LEADER_ELECTION_JITTER} (${formatGoDuration(out.retryPeriodSeconds * LEADER_ELECTION_JITTER)})`,
      'client-go refuses such a leader elector; lower retryPeriod or raise renewDeadline',
    );
  }
  if (out.resourceLock !== 'leases') {
    dec.error([...path, 'resourceLock'], `resourceLock "${out.resourceLock}" is not supported: resourceLock value must be "leases"`, 'use resourceLock: leases');
  }
  return out;
}

function decodeClientConnection(dec: Decoder, value: unknown): ClientConnectionConfig {
  const path = ['clientConnection'];
  const raw = dec.object(value, path, CLIENT_CONNECTION_FIELDS, 'clientConnection') ?? {};
  const qps = dec.number(raw['qps'], [...path, 'qps']);
  const burst = dec.integer(raw['burst'], [...path, 'burst']);
  const contentType = dec.string(raw['contentType'], [...path, 'contentType']);
  const out: ClientConnectionConfig = {
    kubeconfig: dec.string(raw['kubeconfig'], [...path, 'kubeconfig']) ?? '',
    acceptContentTypes: dec.string(raw['acceptContentTypes'], [...path, 'acceptContentTypes']) ?? '',
    contentType: contentType === undefined || contentType === '' ? 'application/vnd.kubernetes.protobuf' : contentType,
    qps: qps === undefined || qps === 0 ? 50 : qps,
    burst: burst === undefined || burst === 0 ? 100 : burst,
  };
  if (out.burst < 0) dec.error([...path, 'burst'], `burst ${out.burst} must be non-negative`, 'use 0 (default 100) or more');
  return out;
}

interface ProfilesResult {
  profiles: ProfileConfig[];
  effective: Record<string, unknown>[];
}

function decodeProfiles(dec: Decoder, value: unknown, plugins: PluginCatalog): ProfilesResult {
  const items = dec.array(value, ['profiles']) ?? [];
  const list: unknown[] = items.length === 0 ? [{}] : items;
  const single = list.length === 1;
  const profiles: ProfileConfig[] = [];
  const effective: Record<string, unknown>[] = [];
  const namesSeen = new Map<string, number>();
  let queueSortCanon: string | undefined;

  list.forEach((item, i) => {
    const path: FieldPath = ['profiles', i];
    const raw = dec.object(item ?? {}, path, PROFILE_FIELDS, 'a profile') ?? {};

    const rawName = raw['schedulerName'];
    let schedulerName = dec.string(rawName, [...path, 'schedulerName']);
    if (schedulerName === undefined && single && (rawName === undefined || rawName === null)) schedulerName = DEFAULT_SCHEDULER_NAME;
    if (schedulerName === undefined || schedulerName === '') {
      dec.error(
        [...path, 'schedulerName'],
        'schedulerName is required',
        single ? `give the profile a name (or omit the field for "${DEFAULT_SCHEDULER_NAME}")` : 'every profile needs its own schedulerName when there are several',
      );
      schedulerName = schedulerName ?? '';
    } else {
      const first = namesSeen.get(schedulerName);
      if (first !== undefined) {
        dec.error(
          [...path, 'schedulerName'],
          `duplicate schedulerName "${schedulerName}" (also profiles[${first}].schedulerName)`,
          'give each profile a distinct schedulerName',
        );
      } else {
        namesSeen.set(schedulerName, i);
      }
    }

    const pct = decodePercentage(dec, raw['percentageOfNodesToScore'], [...path, 'percentageOfNodesToScore']);
    decodePercentage(dec, raw['percentageOfPlacementsToScore'], [...path, 'percentageOfPlacementsToScore']);

    const custom = decodeUserPlugins(dec, raw['plugins'], [...path, 'plugins'], plugins);
    const signature = queueSortSignature(custom);
    if (i === 0) queueSortCanon = signature;
    else if (signature !== queueSortCanon) {
      dec.error([...path, 'plugins', 'queueSort'], 'queueSort must be the same for all profiles', 'configure queueSort identically in every profile (or not at all)');
    }
    const merged = mergePlugins(defaultPluginSets(), custom);
    const resolved = resolvePlugins(dec, merged, path, schedulerName, plugins);

    const pluginArgs = plugins.defaultArgs();
    const configured = decodePluginConfig(dec, raw['pluginConfig'], path, pluginArgs, plugins);

    const profile: ProfileConfig = { schedulerName, percentageOfNodesToScore: pct, plugins: resolved, pluginArgs };
    profiles.push(profile);
    effective.push(renderProfile(profile, configured, enabledPluginNames(merged), plugins));
  });
  return { profiles, effective };
}

/** Decodes pluginConfig into `into`; returns the names of the plugins whose args it configured, in order. */
function decodePluginConfig(
  dec: Decoder,
  value: unknown,
  profilePath: FieldPath,
  into: Map<string, unknown>,
  plugins: PluginCatalog,
): string[] {
  const path = [...profilePath, 'pluginConfig'];
  const items = dec.array(value, path) ?? [];
  const seen = new Map<string, number>();
  const configured: string[] = [];
  items.forEach((item, j) => {
    const p = [...path, j];
    const raw = dec.object(item, p, ['name', 'args'], 'a pluginConfig entry');
    if (raw === undefined) return;
    const name = dec.string(raw['name'], [...p, 'name']);
    if (name === undefined || name === '') {
      dec.error([...p, 'name'], 'pluginConfig name is required', 'name the plugin these args are for');
      return;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      dec.error([...p, 'name'], `duplicate pluginConfig for plugin "${name}" (also pluginConfig[${first}])`, 'merge the args into one pluginConfig entry per plugin');
      return;
    }
    seen.set(name, j);
    if (!checkPluginName(dec, name, [...p, 'name'], plugins)) return;
    const args = raw['args'];
    const spec = plugins.argsSpecOf(name);
    if (spec === undefined) {
      const empty = args === undefined || args === null || (typeof args === 'object' && !Array.isArray(args) && Object.keys(args).every((k) => k === 'apiVersion' || k === 'kind'));
      if (!empty) dec.error([...p, 'args'], `plugin "${name}" takes no args`, 'remove this pluginConfig entry');
      return;
    }
    decodePluginArgs(dec, name, spec, args, [...p, 'args'], into);
    configured.push(name);
  });
  return configured;
}

/**
 * The profile's pluginConfig as upstream defaulting leaves it: the user's entries first, then the defaults of the
 * other enabled plugins (sorted by name); only args that render (see PluginArgsSpec.render).
 */
function renderPluginConfig(profile: ProfileConfig, configured: string[], enabledNames: string[], plugins: PluginCatalog): unknown[] {
  const out: unknown[] = [];
  for (const name of new Set([...configured, ...enabledNames])) {
    const spec = plugins.argsSpecOf(name);
    const args = spec && renderPluginArgs(name, spec, profile.pluginArgs.get(name));
    if (args !== undefined) out.push({ name, args });
  }
  return out;
}

function renderProfile(profile: ProfileConfig, configured: string[], enabledNames: string[], plugins: PluginCatalog): Record<string, unknown> {
  // The resolved lists per point; multiPoint is disabled with "*" so that loading this output gives the same lists.
  const renderedPlugins: Record<string, unknown> = { multiPoint: { disabled: [{ name: '*' }] } };
  for (const point of EXTENSION_POINTS) {
    const resolved = profile.plugins[point];
    if (resolved.length === 0) continue;
    renderedPlugins[point] = {
      enabled: resolved.map((p) => (point === 'score' ? { name: p.name, weight: p.weight } : { name: p.name })),
    };
  }
  const out: Record<string, unknown> = { schedulerName: profile.schedulerName };
  if (profile.percentageOfNodesToScore !== undefined) out['percentageOfNodesToScore'] = profile.percentageOfNodesToScore;
  out['plugins'] = renderedPlugins;
  out['pluginConfig'] = renderPluginConfig(profile, configured, enabledNames, plugins);
  return out;
}
