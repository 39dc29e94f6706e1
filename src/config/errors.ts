/**
 * Configuration errors: every problem found in a KubeSchedulerConfiguration, with where it is (file, line/column when
 * known, field path such as `profiles[0].plugins.score.enabled[2].weight`), what is wrong, and what to do about it.
 * Loading collects all problems it can find and throws one ConfigError holding the list.
 */
import { MAX_REPORTED_ISSUES } from '../kube/input.js';


export interface ConfigIssue {
  /** The file (or other source name) the configuration came from. */
  file: string;
  /** Field path in the KubeSchedulerConfiguration, e.g. `profiles[0].plugins.score.enabled[1].name`; '' for the whole document. */
  fieldPath: string;
  /** What is wrong. */
  message: string;
  /** What to do about it ('' when there is nothing to add). */
  hint: string;
  /** 1-based position in the file when known. */
  line?: number;
  column?: number;
}

/** Renders one issue as a single human-readable line. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}` + (issue.column !== undefined ? `:${issue.column}` : '');
  const parts = [where];
  if (issue.fieldPath !== '') parts.push(issue.fieldPath);
  const text = issue.hint !== '' ? `${issue.message}; ${issue.hint}` : issue.message;
  return `${parts.join(': ')}: ${text}`;
}

/** Issues listed in full by format() and the message; the rest are counted (a file can hold thousands). */
export const MAX_LISTED_ISSUES = MAX_REPORTED_ISSUES;

/** The first MAX_LISTED_ISSUES issues formatted, then "… and N more". */
function listIssues(issues: readonly ConfigIssue[]): string[] {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
  if (issues.length > lines.length) lines.push(`… and ${issues.length - lines.length} more`);
  return lines;
}

export class ConfigError extends Error {
  /** Every problem found, in document order of discovery (at least one). */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    if (issues.length === 0) throw new Error('ConfigError needs at least one issue');
    super(listIssues(issues).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** The source of the configuration (the first issue's file). */
  get file(): string {
    return this.issues[0]!.file;
  }

  /** The field path of the first issue. */
  get fieldPath(): string {
    return this.issues[0]!.fieldPath;
  }

  /** The hint of the first issue. */
  get hint(): string {
    return this.issues[0]!.hint;
  }

  /** The bare message of the first issue (Error.message holds the full formatted text of all issues). */
  get detail(): string {
    return this.issues[0]!.message;
  }

  /** One line per issue; a count header when there are several. */
  format(): string {
    if (this.issues.length === 1) return formatIssue(this.issues[0]!);
    const lines = listIssues(this.issues);
    return [`${this.file}: ${this.issues.length} errors in the scheduler configuration:`, ...lines.map((l) => `  ${l}`)].join('\n');
  }
}

/** Levenshtein distance (insert, delete, substitute; case-insensitive comparison is left to the caller). */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  const cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    for (let j = 0; j <= b.length; j++) prev[j] = cur[j]!;
  }
  return prev[b.length]!;
}

/** The closest candidate to `name` if it is plausibly a typo of it (distance at most max(2, len/3)), else undefined. */
export function closestMatch(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: skip the quadratic computation for hopeless candidates.
    if (Math.abs(c.length - lower.length) > limit) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  if (bestDistance <= limit) return best;
  // A longer or shorter spelling of a valid name ("leaseDurationSeconds" for "leaseDuration").
  return candidates.find((c) => {
    const cl = c.toLowerCase();
    return Math.min(cl.length, lower.length) >= 4 && (cl.startsWith(lower) || lower.startsWith(cl));
  });
}

/** `did you mean "X"? ` (or nothing) followed by the list of valid names. */
export function suggestionHint(name: string, candidates: readonly string[], listLabel: string): string {
  const match = closestMatch(name, candidates);
  const prefix = match !== undefined ? `did you mean "${match}"? ` : '';
  return `${prefix}${listLabel}: ${candidates.join(', ')}`;
}
