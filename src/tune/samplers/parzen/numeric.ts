/**
 * The Parzen estimator of a numeric param: the density of one group of
 * observations (the good trials' or the bad ones') on the param's line, as
 * TPE draws candidates from it and scores them by it (Bergstra et al. 2011,
 * sec. 4), following Optuna 3.1's `_ParzenEstimator` with the TPESampler
 * defaults: a mixture of Gaussian kernels truncated to the line [lo, hi], one
 * at each observation and one prior kernel, with the bandwidths of
 * bandwidths.ts and the weights of weights.ts.
 *
 * The line is the param's own for a plain float; log space for log params
 * (ints: [ln(low - 0.5), ln(high + 0.5)]); for a float with a step and an int
 * without log, the grid widened by half a step at each end, and then (`step`
 * given) a value's score is not the density at it but the mixture's mass in
 * its cell [x - step/2, x + step/2] (within [lo, hi]), as Optuna 3.1's
 * log_pdf computes it for such params (its `q`). A log int has no cell in
 * Optuna 3.1: its score is the density at ln(k).
 *
 * Density: the true density of the truncated mixture, as the paper defines it.
 * Optuna 3.1's truncated normal logpdf (samplers/_tpe/_truncnorm.py) leaves out
 * the -log(sigma) of the change of scale, so there each kernel counts sigma_i
 * times its density and wide kernels (the prior's above all) outweigh narrow
 * ones; that is optuna/optuna#5109, fixed by #5110 (Optuna 3.5). We keep the
 * 1/sigma: our scores are 3.1's with that fix (test/tune/reference applies it
 * to 3.1 for the reference numbers). On the synthetic test of tpe.test.ts the
 * fix reaches the target in fewer trials than 3.1's rule.
 */
import type { Rng } from '../../../util/rng';
import { numericKernels } from './bandwidths';
import { logGaussMass } from './gauss';
import { mixtureWeights } from './weights';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

export class NumericParzen {
  readonly mus: Float64Array; // (n + 1) kernel means: the observations' in trial order, then the prior's
  readonly sigmas: Float64Array; // (n + 1) their bandwidths
  readonly weights: Float64Array; // (n + 1) their weights, summing to 1
  private readonly logMassIn: Float64Array; // (n + 1) log of each kernel's mass inside [lo, hi]
  private readonly cumulative: Float64Array; // (n + 1) running sums of the weights, to pick a kernel
  private readonly terms: Float64Array; // (n + 1) logPdf's per-kernel terms (kept: it is called for every candidate)

  /**
   * `points`: the observations on the line, oldest trial first; `step`: the
   * width of a value's cell on a discrete line (a float with a step, an int
   * without log), none on a continuous one.
   */
  constructor(points: ArrayLike<number>, readonly lo: number, readonly hi: number, readonly step?: number) {
    const { mus, sigmas } = numericKernels(points, lo, hi);
    this.mus = mus;
    this.sigmas = sigmas;
    this.weights = mixtureWeights(points.length);
    const m = mus.length;
    this.logMassIn = new Float64Array(m);
    this.cumulative = new Float64Array(m);
    this.terms = new Float64Array(m);
    let sum = 0;
    for (let i = 0; i < m; i++) {
      this.logMassIn[i] = logGaussMass((lo - mus[i]) / sigmas[i], (hi - mus[i]) / sigmas[i]);
      this.cumulative[i] = sum += this.weights[i];
    }
  }

  /**
   * The log of what TPE compares at x (a point of the line that stands for a
   * value: rounded to the grid for discrete params): with a step, the log of
   * the mixture's mass in x's cell; without, the log of the mixture's density
   * at x. -Infinity outside
   * [lo, hi]. A log-sum-exp over the kernels.
   */
  logPdf(x: number): number {
    const { mus, sigmas, weights, logMassIn, lo, hi, step, terms } = this;
    if (!(x >= lo && x <= hi)) return -Infinity;
    let max = -Infinity;
    for (let i = 0; i < mus.length; i++) {
      let t: number;
      if (step === undefined) {
        const d = (x - mus[i]) / sigmas[i];
        t = -0.5 * d * d - LOG_SQRT_2PI - Math.log(sigmas[i]) - logMassIn[i]; // (Optuna 3.1 leaves out the log sigma: see above)
      } else {
        const a = Math.max(x - step / 2, lo);
        const b = Math.min(x + step / 2, hi);
        t = logGaussMass((a - mus[i]) / sigmas[i], (b - mus[i]) / sigmas[i]) - logMassIn[i];
      }
      terms[i] = t += Math.log(weights[i]);
      if (t > max) max = t;
    }
    let sum = 0;
    for (let i = 0; i < terms.length; i++) sum += Math.exp(terms[i] - max);
    return max + Math.log(sum);
  }

  /**
   * One draw, a point of [lo, hi]: a kernel by the weights, then its Gaussian
   * until the draw falls inside. Every mean lies in [lo, hi] and every sigma is
   * at most hi - lo, so each try lands inside with probability at least
   * Phi(1) - 1/2 = 0.34. (Optuna draws by the inverse CDF of the truncated
   * Gaussian: the same distribution.)
   */
  sample(rng: Rng): number {
    const u = rng.next();
    let i = 0;
    while (i < this.cumulative.length - 1 && u >= this.cumulative[i]) i++;
    for (;;) {
      const x = this.mus[i] + this.sigmas[i] * rng.normal();
      if (x >= this.lo && x <= this.hi) return x;
    }
  }
}
