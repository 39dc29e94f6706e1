/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by file, and inclusive time of the
 * heaviest functions, as shares of the sampled time (idle excluded).
 *
 *   node dist/bench/profileSummary.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: profileSummary FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from samples × time deltas.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const shortUrl = (url: string): string => url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
const fnKey = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const isIdle = (n: ProfileNode): boolean => ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName) && n.callFrame.url === '';

let busy = 0;
let idle = 0;
let gc = 0;
const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusiveByFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  if (n.callFrame.functionName === '(idle)') {
    idle += us;
    continue;
  }
  if (n.callFrame.functionName === '(garbage collector)') gc += us;
  busy += us;
  selfByFn.set(fnKey(n), (selfByFn.get(fnKey(n)) ?? 0) + us);
  const f = isIdle(n) ? n.callFrame.functionName : shortUrl(n.callFrame.url) || '(native)';
  selfByFile.set(f, (selfByFile.get(f) ?? 0) + us);
  // Inclusive: every distinct function on the stack gets the sample once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = fnKey(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusiveByFn.set(k, (inclusiveByFn.get(k) ?? 0) + us);
  }
}

const pct = (us: number): string => `${((us * 100) / busy).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}\n`);
};
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s, GC ${(gc / 1e6).toFixed(2)} s (${pct(gc)} of busy)\n`);
print('self time by file', selfByFile);
print('self time by function', selfByFn);
print('inclusive time by function', inclusiveByFn);
