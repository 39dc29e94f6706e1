/**
 * How far V8 lets the JavaScript heap grow past what the last full garbage collection kept, before it runs the next
 * one. V8 picks a factor of up to 4× on its own when collecting is cheap compared with allocating. Much of what berth
 * allocates outlives a scavenge and then dies in the old generation: a request object waits for its Binding
 * behind a hundred others, and a pending pod is replaced by its bound version. So at 5 000 nodes a heap with about
 * 100 MB alive grew to over 300 MB between full collections, and that growth was most of berth's peak RSS.
 * A factor of 1.5 makes a full collection more frequent, and each one costs about as much as before.
 * docs/benchmarks.md, "Peak memory", has the measurements.
 */
import v8 from 'node:v8';

/** berth run's default for --heap-growth-percent. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

/** The V8 flag, as node's command line would spell it (either spelling counts). */
const V8_FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Sets V8's heap growing factor to 1 + percent/100 (0: V8's own choice). V8 reads it each time it sizes the heap,
 * so setting it at start works. A value given to node itself (`node --heap-growing-percent=N`) wins.
 * Returns the percent in force, or undefined when node's own flag decides it.
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv, setFlags = v8.setFlagsFromString): number | undefined {
  if (execArgv.some((arg) => V8_FLAG.test(arg))) return undefined;
  if (!Number.isSafeInteger(percent) || percent < 0) throw new RangeError(`heap growth percent must be an integer of at least 0, not ${percent}`);
  setFlags(`--heap-growing-percent=${percent}`);
  return percent;
}
