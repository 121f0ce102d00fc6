/**
 * Where the Gaussian kernels of a numeric Parzen estimator sit and how wide
 * they are: Optuna 3.1's `_ParzenEstimator._calculate_numerical_params` with
 * the TPESampler defaults (univariate, consider_prior, consider_magic_clip,
 * consider_endpoints=False).
 *
 * - One kernel at each observation, in the order given (the trials' order),
 *   then the prior's at the middle of the line, (lo + hi) / 2.
 * - The means are sorted (numpy's argsort, whose order for equal means decides
 *   which of them gets which gap: see argsort.ts), and each gets as its sigma
 *   the larger of its gaps to its two neighbours, the line's ends lo and hi
 *   standing in for the missing neighbour of the first and the last one...
 * - ...except that, with consider_endpoints=False and at least 2 means (the
 *   prior's included), the first and the last mean take the gap to their one
 *   inner neighbour only: a lone observation near an end is not made wide by
 *   the empty stretch beyond it.
 * - The "magic clip": every sigma is brought into
 *   [(hi - lo) / min(100, 1 + M), hi - lo], M the number of kernels, so that
 *   crowded observations still spread over about 1/M of the line.
 * - The prior's sigma is then hi - lo, whatever its gaps.
 */
import { numpyArgsort } from './argsort';

export interface Kernels {
  mus: Float64Array; // (n + 1) means: the observations' in the order given, then the prior's
  sigmas: Float64Array; // (n + 1) their bandwidths
}

/**
 * The kernels for observations `points` on the line [lo, hi]. A point outside
 * the line (a study whose range was narrowed) is taken at the nearer end;
 * Optuna would use it as it is.
 */
export function numericKernels(points: ArrayLike<number>, lo: number, hi: number): Kernels {
  const n = points.length;
  const m = n + 1;
  const width = hi - lo;
  const mus = new Float64Array(m);
  for (let i = 0; i < n; i++) mus[i] = Math.min(hi, Math.max(lo, points[i]));
  mus[n] = 0.5 * (lo + hi);

  const order = numpyArgsort(mus);
  const sorted = Float64Array.from(order, (i) => mus[i]);
  const sigmas = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    const left = sorted[r] - (r > 0 ? sorted[r - 1] : lo);
    const right = (r < m - 1 ? sorted[r + 1] : hi) - sorted[r];
    let sigma = Math.max(left, right);
    if (m >= 2 && r === 0) sigma = right; // consider_endpoints=False
    if (m >= 2 && r === m - 1) sigma = left;
    sigmas[order[r]] = sigma;
  }

  const minSigma = width / Math.min(100, 1 + m);
  for (let i = 0; i < m; i++) sigmas[i] = Math.min(width, Math.max(minSigma, sigmas[i]));
  sigmas[n] = width;
  return { mus, sigmas };
}
