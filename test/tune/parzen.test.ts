/**
 * The Parzen estimators of TPE against hand-worked cases. Reference values from
 * mpmath at 40 digits (Python), e.g. for the mixture of two observations 0.2, 0.3
 * on [0, 1] (sigmas 0.25, 0.25 after the clip, the prior N(0.5, 1)):
 *   from mpmath import mp, mpf, npdf, ncdf, log; mp.dps = 40
 *   comps = [(mpf('0.2'), mpf('0.25')), (mpf('0.3'), mpf('0.25')), (mpf('0.5'), mpf(1))]
 *   log(sum(npdf(x, m, s) / (ncdf(1, m, s) - ncdf(0, m, s)) for m, s in comps) / 3)
 * Float64 throughout: densities agree to 1e-12 relative (log densities to 1e-12
 * absolute), erf to 1e-14 relative.
 */
import { describe, expect, it } from 'vitest';
import { ChoiceParzen, NumericParzen, erf } from '../../src/tune/samplers/parzen';
import { Rng } from '../../src/util/rng';

/** Simpson's rule over [a, b] with k (even) intervals. */
function integrate(f: (x: number) => number, a: number, b: number, k = 4000): number {
  const h = (b - a) / k;
  let s = f(a) + f(b);
  for (let i = 1; i < k; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

describe('erf', () => {
  it('matches mpmath to 1e-14 relative, is odd, and is 1 from 6 on', () => {
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
});

describe('NumericParzen: truncated Gaussian mixture', () => {
  it('the density of observations 0.2, 0.3 on [0, 1] with the prior matches the hand-worked mixture (1e-12)', () => {
    const est = new NumericParzen([0.3, 0.2], 0, 1);
    // sorted means with the prior's; gaps to neighbours 0.2 and 0.2, raised to the clip 1 / min(100, 1 + 3) = 0.25
    expect(Array.from(est.mus)).toEqual([0.2, 0.3, 0.5]);
    expect(Array.from(est.sigmas)).toEqual([0.25, 0.25, 1]);
    expect(est.prior).toBe(2);
    const ref: Array<[number, number]> = [
      [0, 0.086552976305018739462],
      [0.25, 0.4634852069885013609],
      [0.9, -1.0001649359513518702],
      [1, -1.1317517557422600921],
    ];
    for (const [x, want] of ref) expect(Math.abs(est.logPdf(x) - want)).toBeLessThan(1e-12);
  });

  it('with no observations it is the prior alone: N((lo + hi) / 2, hi - lo) truncated to [lo, hi]', () => {
    const est = new NumericParzen([], 0, 10);
    expect(Array.from(est.mus)).toEqual([5]);
    expect(Array.from(est.sigmas)).toEqual([10]);
    // mpmath: log(npdf(x, 5, 10) / (ncdf(10, 5, 10) - ncdf(0, 5, 10)))
    expect(Math.abs(est.logPdf(0) - -2.3866072925030961065)).toBeLessThan(1e-12);
    expect(Math.abs(est.logPdf(2.5) - -2.2928572925030961065)).toBeLessThan(1e-12);
  });

  it('bandwidth: the larger gap to a neighbour (the ends and the prior mean count), clipped to [(hi - lo) / min(100, 1 + M), hi - lo]', () => {
    // [0, 10], observations 9, 1, 1.2, prior mean 5: M = 4 components, clip below at 10 / 5 = 2
    const a = new NumericParzen([9, 1, 1.2], 0, 10);
    expect(Array.from(a.mus)).toEqual([1, 1.2, 5, 9]);
    expect(a.prior).toBe(2);
    const want = [2 /* max(1 - 0, 1.2 - 1) = 1, raised to 2 */, 5 - 1.2, 10 /* the prior: hi - lo */, 9 - 5];
    a.sigmas.forEach((s, i) => expect(s).toBeCloseTo(want[i], 14));

    // 200 observations at 3: M = 201, so the clip is 10 / 100; the inner ones have gap 0 on both sides
    const b = new NumericParzen(new Array(200).fill(3), 0, 10);
    expect(b.sigmas[0]).toBe(3); // gap to lo
    for (let i = 1; i < 199; i++) expect(b.sigmas[i]).toBe(0.1);
    expect(b.sigmas[199]).toBe(2); // gap to the prior mean 5
    expect(b.sigmas[200]).toBe(10);

    // an observation at the prior's mean comes first; the prior keeps hi - lo
    const c = new NumericParzen([5], 0, 10);
    expect(c.prior).toBe(1);
    expect(Array.from(c.sigmas)).toEqual([5, 10]);

    // points outside the line are taken at the nearer end
    expect(Array.from(new NumericParzen([-3, 12], 0, 10).mus)).toEqual([0, 5, 10]);
  });

  it('integrates to 1 over [lo, hi] (Simpson, 1e-9), however narrow its kernels', () => {
    for (const est of [new NumericParzen([0.2, 0.3], 0, 1), new NumericParzen(new Array(200).fill(3), 0, 10), new NumericParzen([-9, -9.2, -4, -2.5], -9.21, -2.3)]) {
      expect(Math.abs(integrate((x) => Math.exp(est.logPdf(x)), est.lo, est.hi) - 1)).toBeLessThan(1e-9);
    }
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
});

describe('ChoiceParzen: counts plus the prior', () => {
  it('value k weighs its observations plus 1/K; draws follow the weights (within 4 standard errors)', () => {
    const est = new ChoiceParzen([2, 0, 1, 0]); // observations a, a, c of a, b, c, d
    expect(Array.from(est.weights)).toEqual([2.25, 0.25, 1.25, 0.25]);
    [2.25, 0.25, 1.25, 0.25].forEach((w, k) => expect(Math.abs(est.logPmf(k) - Math.log(w / 4))).toBeLessThan(1e-15));
    expect(Array.from(new ChoiceParzen([0, 0, 0]).weights).map((w) => w * 3)).toEqual([1, 1, 1]); // no observations: uniform

    const rng = new Rng(8);
    const n = 40000;
    const seen = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) seen[est.sample(rng)]++;
    seen.forEach((c, k) => {
      const p = Math.exp(est.logPmf(k));
      expect(Math.abs(c / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
  });
});
