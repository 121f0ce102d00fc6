/**
 * The Parzen estimator of a choice param among K values: Optuna 3.1's
 * `_ParzenEstimator._calculate_categorical_params` with the TPESampler
 * defaults (consider_prior, prior_weight 1), mixed with the weights of
 * weights.ts.
 *
 * Each of the n observations is a kernel that puts prior_weight / (n + 1) on
 * every value plus 1 on the value it took, normalized to sum to 1 (so its own
 * value gets (1 + c) / (1 + K c), c = 1 / (n + 1), and each other value
 * c / (1 + K c)); the prior's kernel is uniform, 1/K each. The probability of
 * value k is the weighted sum of the kernels at k. With few observations the
 * smoothing is strong (one good trial of 4 values: 3/8 for its value and 5/24
 * for each other, where counts plus 1/K would give 5/8 and 1/8), and it fades
 * as n grows.
 */
import type { Rng } from '../../../util/rng';
import { PRIOR_WEIGHT, mixtureWeights } from './weights';

export class ChoiceParzen {
  readonly probs: Float64Array; // (K) probability of each value
  private readonly logP: Float64Array; // (K) their logs

  /** `observations`: the index of the value each observation took, oldest trial first; `k`: how many values there are. */
  constructor(observations: ArrayLike<number>, k: number) {
    const n = observations.length;
    const weights = mixtureWeights(n);
    const c = PRIOR_WEIGHT / (n + 1);
    const rowSum = k * c + 1; // of an observation's kernel before normalizing
    const probs = new Float64Array(k);
    for (let v = 0; v < k; v++) probs[v] = weights[n] * (1 / k); // the prior's kernel
    for (let i = 0; i < n; i++) {
      for (let v = 0; v < k; v++) probs[v] += weights[i] * ((c + (v === observations[i] ? 1 : 0)) / rowSum);
    }
    this.probs = probs;
    this.logP = probs.map(Math.log);
  }

  logPmf(k: number): number {
    return this.logP[k];
  }

  /** One draw: the index of a value, by the probabilities (Optuna draws a kernel, then a value from it: the same distribution). */
  sample(rng: Rng): number {
    let u = rng.next();
    for (let k = 0; k < this.probs.length - 1; k++) {
      u -= this.probs[k];
      if (u < 0) return k;
    }
    return this.probs.length - 1;
  }
}
