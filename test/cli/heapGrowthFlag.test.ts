import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// berth run hands --heap-growth-percent to limitHeapGrowth before it touches the cluster. The real function would
// change this test process's V8 flags, so it is replaced by a spy; berth then stops at the missing kubeconfig.
vi.mock('../../src/cli/heapGrowth.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/cli/heapGrowth.js')>();
  return { ...real, limitHeapGrowth: vi.fn((percent: number) => percent) };
});

const { limitHeapGrowth, DEFAULT_HEAP_GROWTH_PERCENT } = await import('../../src/cli/heapGrowth.js');
const { main } = await import('../../src/cli/main.js');

const CONFIG = join(import.meta.dirname, '../../examples/jupyterhub/user-scheduler.yaml');
const MISSING_KUBECONFIG = join(import.meta.dirname, 'no-such-kubeconfig');

async function run(...extra: string[]): Promise<number> {
  const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await main(['run', '-c', CONFIG, '--kubeconfig', MISSING_KUBECONFIG, '--no-leader-elect', ...extra], () => undefined);
  } finally {
    quiet.mockRestore();
  }
}

describe('berth run --heap-growth-percent', () => {
  afterEach(() => vi.mocked(limitHeapGrowth).mockClear());

  it('sets V8 heap growing factor from the flag, 50 % by default, before it connects', async () => {
    expect(await run()).toBe(2);
    expect(limitHeapGrowth).toHaveBeenCalledWith(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(DEFAULT_HEAP_GROWTH_PERCENT).toBe(50);
    vi.mocked(limitHeapGrowth).mockClear();
    expect(await run('--heap-growth-percent', '0')).toBe(2);
    expect(limitHeapGrowth).toHaveBeenCalledWith(0);
  });
});
