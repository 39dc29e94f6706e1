import { MAX_NODE_SCORE } from './types.js';

/**
 * Upstream DefaultNormalizeScore: scale to [0, maxPriority] by the highest score (integer division);
 * when every score is 0, all become maxPriority if `reverse`, else stay 0. With `reverse`, s → max − s.
 */
export function defaultNormalizeScore(scores: Float64Array, reverse: boolean, maxPriority = MAX_NODE_SCORE): void {
  let max = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > max) max = scores[i] as number;
  if (max === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((maxPriority * (scores[i] as number)) / max);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
