/**
 * L1 and L2 weight penalties, as Keras defines them: l1 Σ|w| + l2 Σw² over
 * weights (biases are not penalized). Adds their gradient, l1 sign(w) + 2 l2 w,
 * into the parameter gradients and returns the penalty.
 */
import type { Params } from '../nn/params';

export function addPenalties(params: Params, l1: number, l2: number): number {
  if (l1 === 0 && l2 === 0) return 0;
  let penalty = 0;
  for (const v of params.views) {
    if (!v.decay) continue;
    const w = v.data;
    const g = v.grad;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i];
      penalty += l1 * Math.abs(wi) + l2 * wi * wi;
      g[i] += l1 * Math.sign(wi) + 2 * l2 * wi;
    }
  }
  return penalty;
}
