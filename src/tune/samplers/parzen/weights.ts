/**
 * The weights of a Parzen estimator's components: one per observation and one
 * for the prior, as Optuna 3.1's TPESampler sets them (`default_weights` in
 * samplers/_tpe/sampler.py, `_ParzenEstimator._calculate_weights` in
 * parzen_estimator.py), for numeric and choice params alike, and for the good
 * group as for the bad one.
 *
 * The observations are in the order of their trials (trial number, running
 * trials included where they fall): with fewer than 25 each weighs 1; with n
 * of 25 or more the newest 25 weigh 1 and the n - 25 older ones a ramp from
 * 1/n (the oldest) up to 1, numpy's linspace(1/n, 1, n - 25), so old trials
 * fade out of a long study. The prior weighs prior_weight = 1. The whole is
 * normalized to sum to 1.
 */

/** Optuna's prior_weight. */
export const PRIOR_WEIGHT = 1;

/** Optuna 3.1's default_weights(n): the unnormalized weights of n observations, oldest first. */
export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  const ramp = n - 25;
  if (ramp <= 0) return w;
  // numpy's linspace(start, 1, ramp): start + i step, step = (1 - start) / (ramp - 1), the last one exactly 1
  const start = 1 / n;
  const step = (1 - start) / (ramp - 1);
  for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? start : i === ramp - 1 ? 1 : i * step + start;
  return w;
}

/** (n + 1) normalized weights: the n observations' (oldest first), then the prior's last, as Optuna orders them. */
export function mixtureWeights(n: number): Float64Array {
  const w = new Float64Array(n + 1);
  w.set(defaultWeights(n));
  w[n] = PRIOR_WEIGHT;
  let sum = 0;
  for (let i = 0; i <= n; i++) sum += w[i];
  for (let i = 0; i <= n; i++) w[i] /= sum;
  return w;
}
