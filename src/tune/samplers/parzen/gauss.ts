/**
 * The standard normal distribution's mass of an interval, for truncated
 * Gaussian kernels: their normalizing constant (the mass inside [lo, hi]) and,
 * for discrete params, the mass of a value's cell. Computed as Optuna 3.1's
 * `_truncnorm._log_gauss_mass` does, by cases, so that neither a tail nor a
 * narrow cell loses its digits to cancellation: an interval in one tail is
 * taken in the right tail, as a difference of erfc's (small numbers, no 1 - 1);
 * one across 0 as a sum of two erf's of the same sign.
 */

const SQRT1_2 = Math.SQRT1_2;

/** log(Phi(b) - Phi(a)) for a <= b, Phi the standard normal CDF; -Infinity if the mass underflows. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logGaussMass(-b, -a); // the left tail, mirrored
  if (a > 0) return Math.log(0.5 * (erfc(a * SQRT1_2) - erfc(b * SQRT1_2)));
  return Math.log(0.5 * (erf(b * SQRT1_2) + erf(-a * SQRT1_2)));
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

/**
 * The complementary error function 1 - erf(x), to full relative precision in
 * the right tail: below 2 as 1 - erf(x) (erfc(2) = 0.0047, so at most ~2
 * digits are lost); from 2 on by the continued fraction
 *   erfc(x) = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + ...))))
 * evaluated by the modified Lentz method (a few dozen terms at x = 2, fewer
 * beyond); 0 once e^(-x^2) underflows (x > 27).
 */
export function erfc(x: number): number {
  if (!(x >= 2)) return 1 - erf(x); // also NaN
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let j = 1; j < 500; j++) {
    const a = j / 2;
    d = x + a * d;
    d = 1 / (d === 0 ? tiny : d);
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}
