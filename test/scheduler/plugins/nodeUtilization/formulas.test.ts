// NodeUtilization's formulas against numbers worked by hand (the same as docs/design.md, "NodeUtilization").
import { describe, expect, it } from 'vitest';
import {
  loadVariationRiskBalancingScore,
  passesThreshold,
  percentOf,
  riskScore,
  targetLoadPackingScore,
} from '../../../../src/scheduler/plugins/nodeUtilization/formulas.js';

describe('TargetLoadPacking', () => {
  // Target 40 %: an idle node scores 40, the score rises to 100 at the target, drops to 40 just past it and falls
  // to 0 at 100 %.
  it.each([
    [0, 40], // (100 − 40) × 0 / 40 + 40
    [20, 70], // 60 × 20 / 40 + 40 = 70
    [40, 100], // at the target
    [70, 20], // 40 × (100 − 70) / 60 = 20
    [95, 3], // 40 × 5 / 60 = 3.33 → 3
    [100, 0],
    [105, 0], // past the machine
  ])('predicted %i percent scores %i', (predicted, score) => {
    expect(targetLoadPackingScore(predicted, 40)).toBe(score);
  });

  it('rounds halves up as Go math.Round does for positive values', () => {
    // 60 × 25 / 40 + 40 = 77.5 → 78
    expect(targetLoadPackingScore(25, 40)).toBe(78);
  });

  it('a target of 100 scores every node up to 100 % alike; negative predictions count as idle', () => {
    expect(targetLoadPackingScore(100, 100)).toBe(100);
    expect(targetLoadPackingScore(50, 100)).toBe(100);
    expect(targetLoadPackingScore(101, 100)).toBe(0);
    expect(targetLoadPackingScore(-5, 40)).toBe(40);
  });

  it('percentOf keeps sums of fractions at the decimal value they stand for', () => {
    expect(100 * (0.1 + 0.2)).not.toBe(30); // 30.000000000000004 in binary floating point
    expect(percentOf(0.1 + 0.2)).toBe(30);
    expect(targetLoadPackingScore(100 * (0.1 + 0.2), 30)).toBe(30); // just past the target
    expect(targetLoadPackingScore(percentOf(0.1 + 0.2), 30)).toBe(100); // at the target
  });
});

describe('LoadVariationRiskBalancing', () => {
  const params = { margin: 1, sensitivity: 1 };

  it('risk = (μ + σ) / 2, score = 100 × (1 − risk), per resource', () => {
    // CPU: mean 30 %, stddev 10 %, demand 10 % → μ 0.4, σ 0.1, risk 0.25 → 75.
    expect(riskScore({ used: 0.3, stddev: 0.1, demand: 0.1 }, params)).toBeCloseTo(75, 10);
    // Memory: mean 50 %, stddev 5 %, demand 12.5 % → μ 0.625, σ 0.05, risk 0.3375 → 66.25.
    expect(riskScore({ used: 0.5, stddev: 0.05, demand: 0.125 }, params)).toBeCloseTo(66.25, 10);
  });

  it('the node scores its worst resource, rounded', () => {
    const cpu = { used: 0.3, stddev: 0.1, demand: 0.1 };
    const memory = { used: 0.5, stddev: 0.05, demand: 0.125 };
    expect(loadVariationRiskBalancingScore([cpu, memory], params)).toBe(66);
    expect(loadVariationRiskBalancingScore([cpu], params)).toBe(75);
    expect(loadVariationRiskBalancingScore([], params)).toBeUndefined();
  });

  it('sensitivity takes a root of the deviation; margin scales it; both bounded to [0, 1]', () => {
    // sensitivity 2: σ = √0.1 = 0.316228; risk = (0.4 + 0.316228) / 2 = 0.358114 → 64.19.
    expect(riskScore({ used: 0.3, stddev: 0.1, demand: 0.1 }, { margin: 1, sensitivity: 2 })).toBeCloseTo(64.1886, 3);
    // margin 3: σ = 0.3; risk = 0.35 → 65.
    expect(riskScore({ used: 0.3, stddev: 0.1, demand: 0.1 }, { margin: 3, sensitivity: 1 })).toBeCloseTo(65, 10);
    // margin 20: σ capped at 1; μ capped at 1: the worst risk is 1 → 0.
    expect(riskScore({ used: 0.95, stddev: 0.1, demand: 0.2 }, { margin: 20, sensitivity: 1 })).toBeCloseTo(0, 10);
    // An idle steady node: 100.
    expect(riskScore({ used: 0, stddev: 0, demand: 0 }, params)).toBe(100);
    // Measured use above the capacity counts as full before the demand is added.
    expect(riskScore({ used: 1.4, stddev: 0, demand: 0.1 }, params)).toBeCloseTo(50, 10);
  });
});

describe('the filter threshold', () => {
  it('rejects only past the threshold: measured use plus demand, in percent of capacity', () => {
    expect(passesThreshold(0.7, 0.1, 80)).toBe(false); // exactly 80 %
    expect(passesThreshold(0.71, 0.1, 80)).toBe(true); // 81 %
    // 100 × (0.1 + 0.2) is 30.000000000000004 in binary floating point: still at the threshold, not past it.
    expect(passesThreshold(0.1, 0.2, 30)).toBe(false);
  });
});
