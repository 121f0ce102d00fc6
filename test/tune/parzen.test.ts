/**
 * The Parzen estimators of TPE against Optuna 3.1's `_ParzenEstimator` with the
 * TPESampler defaults, and against hand-worked cases.
 *
 * The Optuna values (ARGSORT, WEIGHTS, NUMERIC, CATEGORICAL at the end of this
 * file) are printed by test/tune/reference/optuna_parzen.py with the installed
 * Optuna 3.1.0 and numpy 1.24.2; to regenerate them:
 *   /usr/bin/python3 test/tune/reference/optuna_parzen.py
 * and paste its blocks of the same names here. Tolerances: log densities (and
 * log masses of a cell) to 1e-9 absolute, categorical probabilities to 1e-12,
 * kernel means, sigmas and weights to 1e-12 (both sides are float64; the
 * error functions differ in the last digits).
 * Other reference values are from mpmath at 40 digits (Python), e.g. erfc(4):
 *   from mpmath import mp, mpf, erfc; mp.dps = 40; erfc(mpf(4))
 */
import { describe, expect, it } from 'vitest';
import { numpyArgsort } from '../../src/tune/samplers/parzen/argsort';
import { numericKernels } from '../../src/tune/samplers/parzen/bandwidths';
import { ChoiceParzen } from '../../src/tune/samplers/parzen/choice';
import { erf, erfc, logGaussMass } from '../../src/tune/samplers/parzen/gauss';
import { NumericParzen } from '../../src/tune/samplers/parzen/numeric';
import { defaultWeights, mixtureWeights } from '../../src/tune/samplers/parzen/weights';
import { lineOf, type ParamSpec } from '../../src/tune/space';
import { Rng } from '../../src/util/rng';

/** Simpson's rule over [a, b] with k (even) intervals. */
function integrate(f: (x: number) => number, a: number, b: number, k = 4000): number {
  const h = (b - a) / k;
  let s = f(a) + f(b);
  for (let i = 1; i < k; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/** The largest absolute difference of two equally long lists (Infinity if their lengths differ). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('erf, erfc and the Gaussian mass of an interval', () => {
  it('erf matches mpmath to 1e-14 relative, is odd, and is 1 from 6 on', () => {
    const ref: Array<[number, number]> = [
      [0.1, 0.1124629160182848922],
      [0.5, 0.52049987781304653768],
      [1, 0.84270079294971486934],
      [2, 0.99532226501895273416],
      [3, 0.99997790950300141456],
      [4.5, 0.99999999980338395585],
      [5.9, 0.9999999999999999281],
    ];
    for (const [x, want] of ref) {
      expect(Math.abs(erf(x) / want - 1)).toBeLessThan(1e-14);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(6)).toBe(1);
    expect(erf(70)).toBe(1);
  });

  it('erfc matches mpmath to 1e-13 relative, deep into the right tail', () => {
    const ref: Array<[number, number]> = [
      [0.5, 0.47950012218695346232],
      [1.5, 0.033894853524689272933],
      [2, 0.0046777349810472658379],
      [2.5, 0.00040695201744495893956],
      [4, 1.5417257900280018852e-8],
      [6, 2.1519736712498913117e-17],
      [10, 2.088487583762544757e-45],
      [20, 5.3958656116079009289e-176],
      [26, 5.6631924088561428465e-296],
    ];
    for (const [x, want] of ref) expect(Math.abs(erfc(x) / want - 1)).toBeLessThan(1e-13);
  });

  it('log(Phi(b) - Phi(a)) matches mpmath to 1e-12 absolute: across 0, in either tail, narrow cells (1e-11 for one 0.001 wide at 8 sigmas)', () => {
    // mpmath: log(ncdf(b) - ncdf(a)), or log((erfc(a / sqrt(2)) - erfc(b / sqrt(2))) / 2) far in the tail
    const ref: Array<[number, number, number, number]> = [
      [-1, 1, -0.38171514630212607227, 1e-12],
      [-0.3, 2.5, -0.49151044063838562399, 1e-12],
      [3, 3.1, -7.8693184710766534996, 1e-12],
      [-9, -8, -35.013618593437148117, 1e-12],
      [8, 8.001, -39.830691311854976826, 1e-11], // a difference of two erfc's 0.8% apart: their 1e-14 errors grow 100-fold
      [20, 20.5, -203.91719446460898133, 1e-12],
      [30, 31, -454.32124395634325204, 1e-12],
      [-0.05, 0.05, -3.2219402234264528006, 1e-12],
      [1e-3, 2e-3, -7.8266949788533820161, 1e-12],
    ];
    for (const [a, b, want, tol] of ref) expect(Math.abs(logGaussMass(a, b) - want)).toBeLessThan(tol);
  });
});

describe("numpy's argsort, which decides the order of equal means", () => {
  it('gives numpy 1.24\'s order exactly: stable up to 16 elements, not beyond, and its heapsort fallback', () => {
    for (const [a, want] of ARGSORT) expect(Array.from(numpyArgsort(a))).toEqual(want);
    expect(Array.from(numpyArgsort([]))).toEqual([]);
    expect(Array.from(numpyArgsort([2, NaN, 1]))).toEqual([2, 0, 1]); // NaN last
  });
});

describe('mixture weights: Optuna 3.1 default_weights, the prior weighing 1', () => {
  it('1 each below 25 observations; from 25 on, linspace(1/n, 1, n - 25) for the oldest, then 25 ones (hand-worked, n = 30)', () => {
    expect(Array.from(defaultWeights(0))).toEqual([]);
    expect(Array.from(defaultWeights(24))).toEqual(new Array(24).fill(1));
    expect(Array.from(defaultWeights(25))).toEqual(new Array(25).fill(1));
    expect(Array.from(defaultWeights(26))).toEqual([1 / 26, ...new Array(25).fill(1)]); // a ramp of one: its start
    // n = 30: a ramp of 5 from 1/30 to 1 in 4 equal steps of (1 - 1/30) / 4 = 29/120
    const ramp = [1 / 30, 1 / 30 + 29 / 120, 1 / 30 + 58 / 120, 1 / 30 + 87 / 120, 1];
    expect(maxDiff(defaultWeights(30).subarray(0, 5), ramp)).toBeLessThan(1e-15);
    expect(Array.from(defaultWeights(30).subarray(5))).toEqual(new Array(25).fill(1));
    // normalized with the prior's 1, last: n = 3 gives four quarters
    expect(Array.from(mixtureWeights(3))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(mixtureWeights(0))).toEqual([1]);
  });

  it('match Optuna\'s default_weights and _calculate_weights (1e-15)', () => {
    for (const [n, raw, normalized] of WEIGHTS) {
      expect(maxDiff(defaultWeights(n), raw)).toBeLessThan(1e-15);
      expect(maxDiff(mixtureWeights(n), normalized)).toBeLessThan(1e-15);
    }
  });
});

describe('NumericParzen: truncated Gaussian mixture', () => {
  it('matches Optuna 3.1 on plain, log, stepped and int lines, with 0, 1, 2, ... 40 observations: kernels (1e-12), log_pdf (1e-9)', () => {
    for (const c of NUMERIC) {
      // our line for the param is Optuna's (_calculate_parzen_bounds) ...
      const line = lineOf(c.spec);
      expect(Math.abs(line.lo - c.lo), c.name).toBeLessThan(1e-12);
      expect(Math.abs(line.hi - c.hi), c.name).toBeLessThan(1e-12);
      expect(line.step, c.name).toBe(c.step);
      // ... its kernels Optuna's, in Optuna's order (observations, then the prior) ...
      const est = new NumericParzen(c.observations.map((v) => line.point(v)), line.lo, line.hi, line.step);
      expect(maxDiff(est.mus, c.mus), c.name).toBeLessThan(1e-12);
      expect(maxDiff(est.sigmas, c.sigmas), c.name).toBeLessThan(1e-12);
      expect(maxDiff(est.weights, c.weights), c.name).toBeLessThan(1e-12);
      // ... and so is its log density (or log mass of the value's cell) at values of the param
      const got = c.at.map((v) => est.logPdf(line.point(v)));
      expect(maxDiff(got, c.logPdf), c.name).toBeLessThan(1e-9);
    }
  });

  it('with no observations it is the prior alone: N((lo + hi) / 2, hi - lo) truncated to [lo, hi] (mpmath, 1e-12)', () => {
    const est = new NumericParzen([], 0, 10);
    expect(Array.from(est.mus)).toEqual([5]);
    expect(Array.from(est.sigmas)).toEqual([10]);
    // mpmath: log(npdf(x, 5, 10) / (ncdf(10, 5, 10) - ncdf(0, 5, 10)))
    expect(Math.abs(est.logPdf(0) - -2.3866072925030961064655)).toBeLessThan(1e-12);
    expect(Math.abs(est.logPdf(2.5) - -2.2928572925030961064655)).toBeLessThan(1e-12);
  });

  it('the density of observations 0.2, 0.3 on [0, 1] matches the hand-worked mixture (mpmath, 1e-12)', () => {
    // sigmas: 0.3 is the last mean but for the prior's (0.5), 0.2 the first: each takes the gap to its
    // one inner neighbour, 0.1, raised to the clip 1 / min(100, 1 + 3) = 0.25; the prior N(0.5, 1); weights 1/3
    //   from mpmath import mp, mpf, npdf, ncdf, log; mp.dps = 40
    //   comps = [(mpf('0.2'), mpf('0.25')), (mpf('0.3'), mpf('0.25')), (mpf('0.5'), mpf(1))]
    //   log(sum(npdf(x, m, s) / (ncdf(1, m, s) - ncdf(0, m, s)) for m, s in comps) / 3)
    const est = new NumericParzen([0.3, 0.2], 0, 1);
    expect(Array.from(est.mus)).toEqual([0.3, 0.2, 0.5]);
    expect(Array.from(est.sigmas)).toEqual([0.25, 0.25, 1]);
    const ref: Array<[number, number]> = [
      [0, 0.086552976305018739462],
      [0.25, 0.46348520698850136090],
      [0.9, -1.0001649359513518702],
      [1, -1.1317517557422600921],
    ];
    for (const [x, want] of ref) expect(Math.abs(est.logPdf(x) - want)).toBeLessThan(1e-12);
    expect(est.logPdf(1.01)).toBe(-Infinity);
  });

  it('bandwidths: the larger gap to a neighbour, the first and last mean only their inner gap, clipped to [(hi - lo) / min(100, 1 + M), hi - lo]', () => {
    // [0, 10], observations 9, 1, 1.2, the prior's mean 5: M = 4 kernels, the clip from 10 / 5 = 2.
    // Sorted 1, 1.2, 5, 9: 1 takes 0.2 (not the gap 1 to lo), raised to 2; 1.2 max(0.2, 3.8);
    // 9 takes 4 (not the gap 1 to hi); the prior hi - lo
    const a = numericKernels([9, 1, 1.2], 0, 10);
    expect(Array.from(a.mus)).toEqual([9, 1, 1.2, 5]);
    const want = [4, 2, 3.8, 10];
    a.sigmas.forEach((s, i) => expect(s).toBeCloseTo(want[i], 14));

    // 200 observations at 3: M = 201, so the clip is 10 / 100. Sorted, the first 3 has gap 0 to its
    // inner neighbour, the last 3 the gap 2 to the prior's mean, the others 0 on both sides
    const b = numericKernels(new Array(200).fill(3), 0, 10);
    const obs = Array.from(b.sigmas.subarray(0, 200));
    expect(obs.filter((s) => s === 2).length).toBe(1);
    expect(obs.filter((s) => s === 0.1).length).toBe(199);
    expect(b.sigmas[200]).toBe(10);

    // an observation at the prior's mean sorts before it (numpy's insertion sort is stable up to 16
    // means): it is the first of 2 means, so it takes the gap 0 to the prior, raised to 10 / 3
    const c = numericKernels([5], 0, 10);
    expect(Array.from(c.sigmas)).toEqual([10 / 3, 10]);

    // points outside the line are taken at the nearer end
    expect(Array.from(numericKernels([-3, 12], 0, 10).mus)).toEqual([0, 10, 5]);
  });

  it('its density integrates to 1 over [lo, hi] (Simpson, 1e-9), however narrow its kernels; the cells of a grid hold all its mass (1e-12)', () => {
    const many = Array.from({ length: 60 }, (_, i) => -9 + ((i * 0.618) % 1) * 6.7);
    for (const est of [new NumericParzen([0.2, 0.3], 0, 1), new NumericParzen(new Array(200).fill(3), 0, 10), new NumericParzen(many, -9.21, -2.3)]) {
      expect(Math.abs(integrate((x) => Math.exp(est.logPdf(x)), est.lo, est.hi, 20000) - 1)).toBeLessThan(1e-9);
    }
    // ints 0..20 by 2: cells of width 2 around 0, 2, ..., 20 on [-1, 21]
    const line = lineOf({ type: 'int', low: 0, high: 20, log: false, step: 2 });
    const est = new NumericParzen([4, 4, 4, 18, 0, 20, 10], line.lo, line.hi, line.step);
    let total = 0;
    for (let v = 0; v <= 20; v += 2) total += Math.exp(est.logPdf(v));
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
  });

  it('draws lie in [lo, hi] and have the mixture mean (mpmath: 0.381330; within 4 standard errors)', () => {
    const est = new NumericParzen([0.2, 0.3], 0, 1);
    const rng = new Rng(5);
    const n = 20000;
    let s = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = est.sample(rng);
      if (!(x >= 0 && x <= 1)) outside++;
      s += x;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / n - 0.38132966180993793)).toBeLessThan((4 * 0.24524002102320205) / Math.sqrt(n));
  });

  it('draws pick kernels by their weights: with the ramp, the oldest observations are drawn from least (within 4 standard errors)', () => {
    // 40 observations: the 20 oldest at 0.1, the 20 newest at 0.9, kernels narrow (sigma 0.8 / 41 clipped to 1 / 41)
    const est = new NumericParzen([...new Array(20).fill(0.1), ...new Array(20).fill(0.9)], 0, 1);
    const old = est.weights.subarray(0, 20).reduce((s, w) => s + w, 0); // the ramp covers the 15 oldest
    const rng = new Rng(9);
    const n = 20000;
    let low = 0;
    for (let i = 0; i < n; i++) if (est.sample(rng) < 0.5) low++;
    // the prior puts half of its mass below 0.5; the kernels at 0.1 and 0.9 almost none on the far side
    const p = old + est.weights[40] / 2;
    expect(Math.abs(low / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    expect(old).toBeLessThan(0.4);
  });
});

describe('ChoiceParzen: Optuna 3.1 categorical kernels', () => {
  it('one observation of 4 values: its kernel 3/4 on its value and 1/12 elsewhere (prior_weight / (n + 1) = 1/2 each, plus 1, normalized), mixed half and half with the uniform prior', () => {
    const est = new ChoiceParzen([2], 4);
    const want = [5 / 24, 5 / 24, 3 / 8, 5 / 24]; // (1/12 + 1/4) / 2 and (3/4 + 1/4) / 2
    expect(maxDiff(est.probs, want)).toBeLessThan(1e-15);
    want.forEach((p, k) => expect(Math.abs(est.logPmf(k) - Math.log(p))).toBeLessThan(1e-14));
    expect(Array.from(new ChoiceParzen([], 3).probs).map((p) => p * 3)).toEqual([1, 1, 1]); // no observations: uniform
  });

  it('matches Optuna 3.1 with 0, 1, 2, 5 and 30 observations (the ramp) (1e-12)', () => {
    for (const [name, obs, want] of CATEGORICAL) expect(maxDiff(new ChoiceParzen(obs, 4).probs, want), name).toBeLessThan(1e-12);
  });

  it('draws follow the probabilities (within 4 standard errors)', () => {
    const est = new ChoiceParzen([1, 1, 3, 1, 0], 4);
    const rng = new Rng(8);
    const n = 40000;
    const seen = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) seen[est.sample(rng)]++;
    seen.forEach((c, k) => {
      const p = est.probs[k];
      expect(Math.abs(c / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
  });
});

// ---- from test/tune/reference/optuna_parzen.py (Optuna 3.1.0 with #5110's fix of its truncated normal's logpdf, numpy 1.24.2) ----

const ARGSORT: Array<[number[], number[]]> = [
  [[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 1.0, 2.0], [20, 21, 19, 18, 17, 16, 15, 14, 13, 12, 11, 0, 8, 7, 6, 5, 4, 3, 2, 1, 9, 10]],
  [[3.0, 1.0, 3.0, 2.0, 1.0, 3.0, 2.0, 1.0], [1, 4, 7, 3, 6, 0, 2, 5]],
  [[0.0, 10.0, 1.0, 11.0, 2.0, 19.0, 3.0, 18.0, 4.0, 19.0, 5.0, 18.0, 6.0, 17.0, 7.0, 17.0, 8.0, 16.0, 9.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 15.0, 14.0, 14.0, 13.0, 13.0, 12.0, 12.0, 16.0, 11.0], [0, 19, 2, 20, 4, 21, 6, 22, 8, 23, 10, 24, 12, 25, 14, 26, 16, 27, 18, 28, 1, 29, 3, 39, 36, 37, 35, 34, 33, 32, 31, 30, 17, 38, 15, 13, 11, 7, 9, 5]],
  [[0.0, 3.0, 1.0, 0.0, 3.0, 3.0, 3.0, 3.0, 1.0, 3.0, 1.0, 2.0, 0.0, 3.0, 2.0, 0.0, 0.0, 0.0, 2.0, 1.0, 2.0, 3.0, 3.0, 2.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0], [0, 24, 17, 16, 15, 12, 29, 3, 8, 27, 10, 26, 25, 28, 2, 19, 18, 23, 20, 14, 11, 4, 21, 22, 13, 1, 5, 9, 6, 7]],
];

const WEIGHTS: Array<[number, number[], number[]]> = [
  [0, [], [1.0]],
  [1, [1.0], [0.5, 0.5]],
  [3, [1.0, 1.0, 1.0], [0.25, 0.25, 0.25, 0.25]],
  [24, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04]],
  [25, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464, 0.038461538461538464]],
  [26, [0.038461538461538464, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0014771048744460856, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823, 0.03840472673559823]],
  [27, [0.037037037037037035, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.00136986301369863, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014, 0.036986301369863014]],
  [30, [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0011661807580174927, 0.009620991253644314, 0.018075801749271137, 0.026530612244897955, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776]],
  [40, [0.025, 0.09464285714285714, 0.16428571428571428, 0.23392857142857143, 0.3035714285714286, 0.3732142857142857, 0.4428571428571429, 0.5125000000000001, 0.5821428571428572, 0.6517857142857143, 0.7214285714285714, 0.7910714285714286, 0.8607142857142858, 0.9303571428571429, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0007421150278293136, 0.002809435462496687, 0.00487675589716406, 0.006944076331831434, 0.009011396766498809, 0.011078717201166181, 0.013146037635833555, 0.01521335807050093, 0.017280678505168304, 0.019347998939835676, 0.02141531937450305, 0.023482639809170425, 0.025549960243837797, 0.02761728067850517, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542]],
];

const NUMERIC: Array<{
  name: string;
  spec: Exclude<ParamSpec, { type: 'choice' }>;
  observations: number[];
  lo: number;
  hi: number;
  step: number | undefined;
  mus: number[];
  sigmas: number[];
  weights: number[];
  at: number[];
  logPdf: number[];
}> = [
  {
    name: 'no observations: the prior alone',
    spec: { type: 'float', low: 0.0, high: 10.0, log: false },
    observations: [],
    lo: 0.0, hi: 10.0, step: undefined,
    mus: [5.0],
    sigmas: [10.0],
    weights: [1.0],
    at: [0.0, 2.5, 5.0, 10.0],
    logPdf: [-2.386607292503096, -2.292857292503096, -2.261607292503096, -2.386607292503096],
  },
  {
    name: '1 observation',
    spec: { type: 'float', low: 0.0, high: 1.0, log: false },
    observations: [0.3],
    lo: 0.0, hi: 1.0, step: undefined,
    mus: [0.3, 0.5],
    sigmas: [0.3333333333333333, 1.0],
    weights: [0.5, 0.5],
    at: [0.0, 0.3, 0.31, 0.9, 1.0],
    logPdf: [-0.04101120076166298, 0.2314452340785046, 0.2319681747761675, -0.46322155643933666, -0.6118003296950344],
  },
  {
    name: '2 observations',
    spec: { type: 'float', low: 0.0, high: 1.0, log: false },
    observations: [0.3, 0.2],
    lo: 0.0, hi: 1.0, step: undefined,
    mus: [0.3, 0.2, 0.5],
    sigmas: [0.25, 0.25, 1.0],
    weights: [0.3333333333333333, 0.3333333333333333, 0.3333333333333333],
    at: [0.0, 0.25, 0.9, 1.0],
    logPdf: [0.08655297630501879, 0.46348520698850126, -1.000164935951352, -1.1317517557422603],
  },
  {
    name: 'a lone observation near an end',
    spec: { type: 'float', low: 0.0, high: 10.0, log: false },
    observations: [9.5, 1.0, 1.2],
    lo: 0.0, hi: 10.0, step: undefined,
    mus: [9.5, 1.0, 1.2, 5.0],
    sigmas: [4.5, 2.0, 3.8, 10.0],
    weights: [0.25, 0.25, 0.25, 0.25],
    at: [0.5, 1.1, 5.0, 9.9],
    logPdf: [-1.957692224208508, -1.9221491854386943, -2.4388209665524476, -2.686545023972269],
  },
  {
    name: "ties, and observations at the prior's mean",
    spec: { type: 'float', low: 0.0, high: 10.0, log: false },
    observations: [5.0, 3.0, 5.0, 5.0, 3.0, 8.0],
    lo: 0.0, hi: 10.0, step: undefined,
    mus: [5.0, 3.0, 5.0, 5.0, 3.0, 8.0, 5.0],
    sigmas: [2.0, 1.25, 1.25, 1.25, 2.0, 3.0, 10.0],
    weights: [0.14285714285714285, 0.14285714285714285, 0.14285714285714285, 0.14285714285714285, 0.14285714285714285, 0.14285714285714285, 0.14285714285714285],
    at: [3.0, 4.0, 5.0, 8.0],
    logPdf: [-1.9637731643025835, -1.7297434937479734, -1.7052280265840802, -2.8892577983839365],
  },
  {
    name: 'a log line',
    spec: { type: 'float', low: 0.0001, high: 0.1, log: true },
    observations: [0.003, 0.01, 0.0002, 0.003],
    lo: -9.210340371976182, hi: -2.3025850929940455, step: undefined,
    mus: [-5.809142990314027, -4.605170185988091, -8.517193191416236, -5.809142990314027, -5.756462732485113],
    sigmas: [2.7080502011022096, 1.1512925464970227, 2.7080502011022096, 1.1512925464970227, 6.907755278982137],
    weights: [0.2, 0.2, 0.2, 0.2, 0.2],
    at: [0.0001, 0.001, 0.003, 0.05, 0.1],
    logPdf: [-2.3791532877314974, -1.8370784414961132, -1.5706078441483728, -2.455413652565127, -2.8744379355141096],
  },
  {
    name: 'a stepped line',
    spec: { type: 'float', low: 0.0, high: 1.0, log: false, step: 0.1 },
    observations: [0.5, 0.2, 0.5, 0.9, 0.0],
    lo: -0.05, hi: 1.05, step: 0.1,
    mus: [0.5, 0.2, 0.5, 0.9, 0.0, 0.5],
    sigmas: [0.3, 0.3, 0.15714285714285717, 0.4, 0.2, 1.1],
    weights: [0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666],
    at: [0.0, 0.1, 0.5, 0.6, 1.0],
    logPdf: [-2.304380049390144, -2.2555703207880193, -2.1512416362077262, -2.2619777135331782, -3.0673007393844394],
  },
  {
    name: 'an int line',
    spec: { type: 'int', low: 1, high: 9, log: false, step: 1 },
    observations: [5.0, 2.0, 9.0, 5.0],
    lo: 0.5, hi: 9.5, step: 1,
    mus: [5.0, 2.0, 9.0, 5.0, 5.0],
    sigmas: [3.0, 3.0, 4.0, 1.5, 9.0],
    weights: [0.2, 0.2, 0.2, 0.2, 0.2],
    at: [1.0, 2.0, 5.0, 6.0, 9.0],
    logPdf: [-2.563977520708479, -2.3549724928518785, -1.8818855982687681, -1.977448673387754, -2.586763820451879],
  },
  {
    name: 'a log int line',
    spec: { type: 'int', low: 16, high: 1024, log: true, step: 1 },
    observations: [128.0, 16.0, 300.0, 1024.0],
    lo: 2.740840023925201, hi: 6.931959967678954, step: undefined,
    mus: [4.852030263919617, 2.772588722239781, 5.703782474656201, 6.931471805599453, 4.836399995802077],
    sigmas: [0.851752210736584, 2.063811273562296, 1.2276893309432522, 1.2276893309432522, 4.191119943753753],
    weights: [0.2, 0.2, 0.2, 0.2, 0.2],
    at: [16.0, 17.0, 128.0, 500.0, 1024.0],
    logPdf: [-2.0126386808771493, -1.999181599353972, -1.2551179856008898, -1.2926477993695116, -1.4418159621414282],
  },
  {
    name: '30 observations: the ramp',
    spec: { type: 'float', low: -1.0, high: 1.0, log: false },
    observations: [-0.166, 0.441, -1.0, -0.395, -0.706, -0.815, -0.627, -0.309, -0.206, 0.078, -0.162, 0.37, -0.591, 0.756, -0.945, 0.341, -0.165, 0.117, -0.719, -0.604, 0.601, 0.937, -0.373, 0.385, 0.753, 0.789, -0.83, -0.922, -0.66, 0.756],
    lo: -1.0, hi: 1.0, step: undefined,
    mus: [-0.166, 0.441, -1.0, -0.395, -0.706, -0.815, -0.627, -0.309, -0.206, 0.078, -0.162, 0.37, -0.591, 0.756, -0.945, 0.341, -0.165, 0.117, -0.719, -0.604, 0.601, 0.937, -0.373, 0.385, 0.753, 0.789, -0.83, -0.922, -0.66, 0.756, 0.0],
    sigmas: [0.0625, 0.15999999999999998, 0.0625, 0.19599999999999995, 0.0625, 0.09599999999999997, 0.0625, 0.10300000000000001, 0.10300000000000001, 0.078, 0.162, 0.0625, 0.19599999999999995, 0.0625, 0.0625, 0.22400000000000003, 0.0625, 0.22400000000000003, 0.09599999999999997, 0.0625, 0.15999999999999998, 0.14800000000000002, 0.064, 0.0625, 0.15200000000000002, 0.14800000000000002, 0.09200000000000008, 0.09200000000000008, 0.0625, 0.0625, 2.0],
    weights: [0.0011661807580174927, 0.009620991253644314, 0.018075801749271137, 0.026530612244897955, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776, 0.034985422740524776],
    at: [-1.0, -0.5, 0.0, 0.3, 1.0],
    logPdf: [-0.46448638574921697, -1.193019702984819, -1.243564335849706, -0.9959200723585049, -1.5439572295227695],
  },
  {
    name: '40 observations on an int line: the ramp, ties past 16',
    spec: { type: 'int', low: 0, high: 8, log: false, step: 2 },
    observations: [6.0, 2.0, 2.0, 6.0, 8.0, 0.0, 2.0, 6.0, 8.0, 4.0, 8.0, 0.0, 6.0, 2.0, 4.0, 0.0, 8.0, 2.0, 4.0, 4.0, 2.0, 0.0, 2.0, 6.0, 8.0, 6.0, 2.0, 6.0, 0.0, 0.0, 4.0, 4.0, 2.0, 6.0, 8.0, 4.0, 0.0, 0.0, 2.0, 2.0],
    lo: -1.0, hi: 9.0, step: 2,
    mus: [6.0, 2.0, 2.0, 6.0, 8.0, 0.0, 2.0, 6.0, 8.0, 4.0, 8.0, 0.0, 6.0, 2.0, 4.0, 0.0, 8.0, 2.0, 4.0, 4.0, 2.0, 0.0, 2.0, 6.0, 8.0, 6.0, 2.0, 6.0, 0.0, 0.0, 4.0, 4.0, 2.0, 6.0, 8.0, 4.0, 0.0, 0.0, 2.0, 2.0, 4.0],
    sigmas: [0.23809523809523808, 2.0, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 2.0, 2.0, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 2.0, 0.23809523809523808, 0.23809523809523808, 2.0, 0.23809523809523808, 0.23809523809523808, 2.0, 2.0, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 2.0, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 0.23809523809523808, 10.0],
    weights: [0.0007421150278293136, 0.002809435462496687, 0.00487675589716406, 0.006944076331831434, 0.009011396766498809, 0.011078717201166181, 0.013146037635833555, 0.01521335807050093, 0.017280678505168304, 0.019347998939835676, 0.02141531937450305, 0.023482639809170425, 0.025549960243837797, 0.02761728067850517, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542, 0.029684601113172542],
    at: [0.0, 2.0, 4.0, 6.0, 8.0],
    logPdf: [-1.5126796280678652, -1.3103655190031747, -1.6364394979996264, -1.7843856979880615, -1.914689252639757],
  },
];

const CATEGORICAL: Array<[string, number[], number[]]> = [
  ['no observations', [], [0.25, 0.25, 0.25, 0.25]],
  ['1 observation', [2], [0.20833333333333334, 0.20833333333333334, 0.37500000000000006, 0.20833333333333334]],
  ['2 observations', [2, 0], [0.32142857142857145, 0.17857142857142855, 0.3214285714285714, 0.17857142857142855]],
  ['5 observations', [1, 1, 3, 1, 0], [0.225, 0.425, 0.12499999999999997, 0.225]],
  ['30 observations: the ramp', [1, 3, 0, 0, 1, 1, 2, 0, 1, 2, 2, 0, 3, 1, 3, 3, 1, 0, 3, 0, 3, 0, 2, 0, 3, 3, 1, 0, 1, 0], [0.3237234485630987, 0.25426072469804256, 0.16026655560183256, 0.26174927113702623]],
];
