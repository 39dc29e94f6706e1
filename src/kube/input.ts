/**
 * The limits berth puts on the files it reads (snapshots and scheduler configurations alike), and the reader that
 * enforces the size limit. They are generous for real input and keep hostile or accidental input from exhausting
 * memory or the terminal: an error names the limit and what to do instead.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isScalar, visit, type Document } from 'yaml';

const MiB = 2 ** 20;

/** Largest file read: a snapshot of a million small objects as JSON is ~220 MB. */
export const MAX_FILE_BYTES = 256 * MiB;
/**
 * Largest YAML document parsed: the YAML library holds ~100 bytes of syntax tree per byte of YAML, so this keeps a
 * document within the default heap. JSON (kubectl get -o json) is read without that cost, up to MAX_FILE_BYTES.
 */
export const MAX_YAML_DOCUMENT_BYTES = 24 * MiB;
/** YAML alias expansions per document (the YAML library's maxAliasCount; its default is 100). */
export const MAX_YAML_ALIASES = 10_000;
/** Errors listed in full; the rest are counted ("… and N more"). */
export const MAX_REPORTED_ISSUES = 100;

export class InputFileError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly hint: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'InputFileError';
  }
}

export function formatBytesLimit(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${bytes} bytes`;
}

/**
 * Reads a UTF-8 text file of at most `limit` bytes. Reads in chunks rather than trusting the file's size, so pipes
 * and process substitutions (<(kubectl get ...)) are bounded as well.
 */
export function readInputFile(file: string, limit = MAX_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new InputFileError(file, `cannot read: ${errorCode(err)}`, 'check the path');
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(16 * MiB, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) {
        throw new InputFileError(file, `larger than ${formatBytesLimit(limit)}, the most berth reads from one file`, 'split it into several files');
      }
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    throw new InputFileError(file, `cannot read: ${errorCode(err)}`, 'check the path');
  } finally {
    closeSync(fd);
  }
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * The first YAML document in `text` (documents split at "---" / "..." marker lines) larger than `limit` bytes, with
 * the line it starts on, or undefined. One scan, no parsing: it runs before the YAML library builds a tree.
 */
export function oversizedYamlDocument(text: string, limit = MAX_YAML_DOCUMENT_BYTES): { line: number; bytes: number } | undefined {
  // A UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair 4 for 2 units).
  if (text.length * 3 <= limit) return undefined;
  const marker = /^(?:---|\.\.\.)(?:[ \t].*)?$/gm;
  let start = 0;
  const check = (end: number): { line: number; bytes: number } | undefined => {
    const bytes = Buffer.byteLength(text.slice(start, end), 'utf8');
    if (bytes <= limit) return undefined;
    let line = 1;
    for (let i = text.indexOf('\n'); i >= 0 && i < start; i = text.indexOf('\n', i + 1)) line++;
    return { line, bytes };
  };
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    const over = check(m.index);
    if (over) return over;
    start = m.index + m[0].length;
  }
  return check(text.length);
}

/**
 * Repeated keys in the mappings of a parsed YAML document, in document order: the YAML library's own uniqueKeys check
 * compares each key with every earlier one (20 000 keys: 20 s), this one keeps a set per mapping. Merge keys (<<) may
 * repeat, as the YAML library allows.
 */
export function duplicateKeys(doc: Document): Array<{ key: string; offset: number }> {
  const out: Array<{ key: string; offset: number }> = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.value === '<<') continue;
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`;
        if (seen.has(id)) out.push({ key: String(pair.key.value), offset: pair.key.range?.[0] ?? 0 });
        else seen.add(id);
      }
    },
  });
  return out;
}
