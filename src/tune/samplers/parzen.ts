/**
 * Parzen estimators: the density of one group of observations of one param, as
 * TPE draws candidates from it and scores them by it (Bergstra et al. 2011, sec. 4;
 * the practical choices are Optuna 3.1's defaults unless said otherwise).
 *
 * Numeric params, on their line [lo, hi]: a mixture of Gaussians truncated to
 * [lo, hi], one at each observation plus a broad prior (mean (lo + hi) / 2,
 * sigma hi - lo), all of equal weight (prior_weight 1; Optuna's ramp that
 * down-weights observations older than the newest 25 is left out). An
 * observation's sigma is the larger gap to its neighbours in sorted order, the
 * prior's mean and the interval's ends counting as neighbours, clipped to
 * [(hi - lo) / min(100, 1 + M), hi - lo] with M the number of components (the
 * "magic clip"): crowded observations still spread over ~1/M of the line.
 *
 * Choice params: value k weighs the count of observations of k plus 1/K (the
 * prior's weight 1 spread evenly over the K values).
 */
import type { Rng } from '../../util/rng';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

export class NumericParzen {
  readonly mus: Float64Array; // (M) component means on the line, sorted; M = observations + 1 (the prior)
  readonly sigmas: Float64Array; // (M) bandwidths, beside their means
  readonly prior: number; // index of the prior among the M components
  private readonly logNorm: Float64Array; // (M) log(weight / (sigma sqrt(2 pi) Z)), Z the component's mass inside [lo, hi]

  /** `points`: the observations on the line; ones outside [lo, hi] are taken at the nearer end. */
  constructor(points: ArrayLike<number>, readonly lo: number, readonly hi: number) {
    const n = points.length;
    const m = n + 1;
    const width = hi - lo;
    const mid = (lo + hi) / 2;
    const mus = new Float64Array(m);
    for (let i = 0; i < n; i++) mus[i] = Math.min(hi, Math.max(lo, points[i]));
    mus.subarray(0, n).sort();
    // the prior goes after any observation equal to its mean, so a tie has one answer
    let k = n;
    while (k > 0 && mus[k - 1] > mid) {
      mus[k] = mus[k - 1];
      k--;
    }
    mus[k] = mid;

    const sigmas = new Float64Array(m);
    const minSigma = width / Math.min(100, 1 + m);
    for (let i = 0; i < m; i++) {
      const left = mus[i] - (i > 0 ? mus[i - 1] : lo);
      const right = (i < m - 1 ? mus[i + 1] : hi) - mus[i];
      sigmas[i] = Math.min(width, Math.max(minSigma, Math.max(left, right)));
    }
    sigmas[k] = width;

    // every mean lies in [lo, hi] and sigma <= hi - lo, so Z >= Phi(1) - 1/2 = 0.34 and the
    // two erf terms below have the same sign: no cancellation, and log Z is accurate
    const logNorm = new Float64Array(m);
    const logM = Math.log(m);
    for (let i = 0; i < m; i++) {
      const z = 0.5 * (erf((hi - mus[i]) / (sigmas[i] * Math.SQRT2)) + erf((mus[i] - lo) / (sigmas[i] * Math.SQRT2)));
      logNorm[i] = -logM - Math.log(sigmas[i]) - LOG_SQRT_2PI - Math.log(z);
    }
    this.mus = mus;
    this.sigmas = sigmas;
    this.prior = k;
    this.logNorm = logNorm;
  }

  /** log of the mixture's density at x in [lo, hi] (log-sum-exp over the components). */
  logPdf(x: number): number {
    const { mus, sigmas, logNorm } = this;
    let max = -Infinity;
    for (let i = 0; i < mus.length; i++) {
      const d = (x - mus[i]) / sigmas[i];
      max = Math.max(max, logNorm[i] - 0.5 * d * d);
    }
    let sum = 0;
    for (let i = 0; i < mus.length; i++) {
      const d = (x - mus[i]) / sigmas[i];
      sum += Math.exp(logNorm[i] - 0.5 * d * d - max);
    }
    return max + Math.log(sum);
  }

  /**
   * One draw: a component at random (equal weights), then its Gaussian until the
   * draw falls in [lo, hi]; each try lands inside with probability >= 0.34 (see Z).
   */
  sample(rng: Rng): number {
    const i = rng.int(this.mus.length);
    for (;;) {
      const x = this.mus[i] + this.sigmas[i] * rng.normal();
      if (x >= this.lo && x <= this.hi) return x;
    }
  }
}

export class ChoiceParzen {
  readonly weights: Float64Array; // (K) observations of value k + 1/K
  private readonly logP: Float64Array; // (K) log probability of value k
  private readonly total: number; // observations + 1

  /** `counts`: (K) how many observations took each value. */
  constructor(counts: ArrayLike<number>) {
    const kk = counts.length;
    this.weights = new Float64Array(kk);
    let total = 0;
    for (let k = 0; k < kk; k++) total += this.weights[k] = counts[k] + 1 / kk;
    this.total = total;
    this.logP = this.weights.map((w) => Math.log(w / total));
  }

  logPmf(k: number): number {
    return this.logP[k];
  }

  /** One draw: the index of a value. */
  sample(rng: Rng): number {
    let u = rng.next() * this.total;
    for (let k = 0; k < this.weights.length - 1; k++) {
      u -= this.weights[k];
      if (u < 0) return k;
    }
    return this.weights.length - 1;
  }
}

/**
 * The error function, from the series erf(x) = 2/sqrt(pi) e^(-x^2) sum_j (2x^2)^j x / (1 3 ... (2j+1)),
 * whose terms are all positive (no cancellation): relative error ~1e-15 for |x| < 6
 * (at most ~130 terms); beyond 6, erf is 1 to double precision (erfc(6) = 2e-17).
 */
export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x >= 6) return 1;
  if (!(x > 0)) return x; // 0, or NaN
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let j = 1; term > sum * 1e-17; j++) {
    term *= (2 * x2) / (2 * j + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}
