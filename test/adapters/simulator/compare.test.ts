import { describe, expect, it } from 'vitest';
import { runSimulate } from '../../../src/cli/main.js';
import type { Comparison } from '../../../src/adapters/simulator/compare.js';
import { renderHtml } from '../../../src/adapters/simulator/html.js';
import type { SimulationResult } from '../../../src/adapters/simulator/simulate.js';

const EXAMPLE = new URL('../../../examples/image-locality/', import.meta.url).pathname;

async function compare(output: 'table' | 'json'): Promise<string> {
  let text = '';
  const flags = { config: `${EXAMPLE}weight-high.yaml`, compareConfig: `${EXAMPLE}weight-low.yaml`, output, seed: 1 };
  expect(await runSimulate([`${EXAMPLE}cluster.yaml`], flags, (s) => (text += s))).toBe(0);
  return text;
}

describe('simulate --compare-config', () => {
  it('lists the replicas a lower ImageLocality weight moves off the image node, and the shares that follow', async () => {
    const c = JSON.parse(await compare('json')) as Comparison;
    expect(c.pods).toBe(6);
    // Under weight 10 every replica is on node-1 (README: the ImageLocality trap); under weight 1 three leave it.
    expect(c.moved.map((m) => [m.pod, m.from, m.to])).toEqual([
      ['serving/model-server-2', 'node-1', 'node-2'],
      ['serving/model-server-3', 'node-1', 'node-3'],
      ['serving/model-server-5', 'node-1', 'node-3'],
    ]);
    expect(c.nodes.map((n) => [n.node, n.cpu.from, n.cpu.to])).toEqual([
      ['node-1', 60, 30],
      ['node-2', 0, 10],
      ['node-3', 0, 20],
    ]);
  });

  it('prints the moves and the share changes for people', async () => {
    const text = await compare('table');
    expect(text).toContain('3/6 pending pods would land elsewhere:');
    expect(text).toMatch(/serving\/model-server-2\s+node-1 → node-2\s+949 → 829 \(-120\)/);
    expect(text).toMatch(/\*\s+node-1\s+60% → 30% \(-30\)/);
  });

  it('refuses --output html, which has no comparison view', async () => {
    const flags = { compareConfig: `${EXAMPLE}weight-low.yaml`, output: 'html' as const, seed: 1 };
    await expect(runSimulate([`${EXAMPLE}cluster.yaml`], flags, () => undefined)).rejects.toThrow(/--compare-config prints a table or JSON/);
  });
});

describe('simulate --output html', () => {
  it('escapes text from the cluster, so a message cannot open an element', () => {
    const result: SimulationResult = {
      decisions: [{ pod: 'ns/p', profile: 's', node: null, message: '<img src=x onerror=alert(1)>', attempts: 1, totalScore: null, feasibleNodes: null, evaluatedNodes: null, contributions: [], preempted: [] }],
      nodes: [],
      skipped: [],
      evicted: [],
      events: [],
      warnings: [],
    };
    const html = renderHtml(result, { source: 'a & b', config: 'c.yaml' });
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).not.toContain('<img');
    expect(html).toContain('Snapshot: a &#38; b');
  });
});
