/**
 * NodeUtilization's formulas: pure functions of fractions of a node's capacity (0 = idle, 1 = the whole machine).
 * They follow scheduler-plugins' Trimaran (pkg/trimaran: TargetLoadPacking, LoadVariationRiskBalancing); the
 * "NodeUtilization" section of docs/design.md derives them and works examples through, which the unit tests check.
 *
 * Every input is a fraction: `used` is the measured use (mean over the source's window), `demand` what the
 * measurement cannot show yet (the incoming pod's requests plus those of pods placed since the sample was taken).
 */
import { MAX_NODE_SCORE, MIN_NODE_SCORE } from '../../../plugin.js';

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * A fraction in percent, rounded to 1e-9 so that sums of fractions compare as the decimal numbers they stand for
 * (100 × (0.35 + 0.05) is 40.00000000000001 in binary floating point, which must still be "at the target").
 */
export function percentOf(fraction: number): number {
  return Math.round(fraction * 100 * 1e9) / 1e9;
}

/**
 * TargetLoadPacking's score from the predicted use in percent, `predicted` = percentOf(used + demand), against the
 * target T (percent, 0 < T ≤ 100): it rises linearly from T (an idle node) to 100 at the target; just past the
 * target it drops to T and falls linearly to 0 at 100 %; past 100 % it is 0. So nodes fill up to the target before
 * a fresh node is taken, and a node past it is avoided the more the further past it is.
 *
 *   predicted ≤ T:         score = round((100 − T) × predicted / T + T)
 *   T < predicted ≤ 100:   score = round(T × (100 − predicted) / (100 − T))
 *   predicted > 100:       score = 0
 */
export function targetLoadPackingScore(predictedPercent: number, targetPercent: number): number {
  const p = Math.max(0, predictedPercent);
  if (p > 100) return MIN_NODE_SCORE;
  if (p > targetPercent) return Math.round((targetPercent * (100 - p)) / (100 - targetPercent));
  return Math.round(((100 - targetPercent) * p) / targetPercent + targetPercent);
}

/** One resource's measurement for LoadVariationRiskBalancing, as fractions of capacity. */
export interface RiskInput {
  /** Mean use over the window. */
  readonly used: number;
  /** Standard deviation of the use over the window. */
  readonly stddev: number;
  /** Requests the measurement cannot show yet (the pod's and recently placed pods'). */
  readonly demand: number;
}

/** LoadVariationRiskBalancing's parameters (Trimaran's safeVarianceMargin and safeVarianceSensitivity). */
export interface RiskParams {
  /** Multiplies the deviation term (≥ 0). */
  readonly margin: number;
  /** Root taken of the deviation before the margin (> 0): 2 magnifies small deviations. */
  readonly sensitivity: number;
}

/**
 * One resource's risk score, unrounded:
 *   μ = clamp(clamp(used) + demand),  σ = clamp(margin × clamp(stddev)^(1/sensitivity)),
 *   risk = (μ + σ) / 2,  score = 100 × (1 − risk)
 * where clamp bounds to [0, 1]. An idle, steady node scores 100; a full node that swings by its whole capacity 0.
 */
export function riskScore(input: RiskInput, params: RiskParams): number {
  const mu = clamp01(clamp01(input.used) + Math.max(0, input.demand));
  const sigma = clamp01(params.margin * clamp01(input.stddev) ** (1 / params.sensitivity));
  return MAX_NODE_SCORE * (1 - (mu + sigma) / 2);
}

/**
 * LoadVariationRiskBalancing's node score: the worst (lowest) of the resources' risk scores, rounded. With no
 * resource measured there is nothing to score: undefined (the plugin then gives the neutral score).
 */
export function loadVariationRiskBalancingScore(resources: readonly RiskInput[], params: RiskParams): number | undefined {
  if (resources.length === 0) return undefined;
  return Math.round(Math.min(...resources.map((r) => riskScore(r, params))));
}

/** The filter's test: true when measured use plus demand passes `thresholdPercent` of the node's capacity. */
export function passesThreshold(used: number, demand: number, thresholdPercent: number): boolean {
  return percentOf(Math.max(0, used) + Math.max(0, demand)) > thresholdPercent;
}
