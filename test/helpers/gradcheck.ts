/**
 * Central finite differences against analytic gradients.
 * Float32 parameters limit precision: with h = 1e-3 the rounding error of a
 * loss near 1 is about 1e-7 / 1e-3 = 1e-4, so the tolerance is
 * |analytic - numeric| <= ATOL + RTOL * max(|analytic|, |numeric|).
 */
export const H = 1e-3;
export const ATOL = 2e-4;
export const RTOL = 2e-2;

export interface Mismatch {
  index: number;
  analytic: number;
  numeric: number;
}

/**
 * Perturbs x[i] for each i in `indices` and compares (f(x+h) - f(x-h)) / 2h with grad[i].
 * `signature`, when given, describes the piecewise-linear regime (which ReLU units
 * are on); an index whose ±h evaluations are in different regimes crossed a kink,
 * where finite differences are meaningless, and is skipped (and counted).
 */
export function checkGradient(
  x: Float32Array,
  grad: ArrayLike<number>,
  f: () => number,
  indices: Iterable<number>,
  signature?: () => string,
  skipped: number[] = [],
): Mismatch[] {
  const bad: Mismatch[] = [];
  for (const i of indices) {
    const orig = x[i];
    x[i] = orig + H;
    const up = f();
    const sigUp = signature?.();
    x[i] = orig - H;
    const down = f();
    const sigDown = signature?.();
    x[i] = orig;
    if (sigUp !== sigDown) {
      skipped.push(i);
      continue;
    }
    const numeric = (up - down) / (2 * H);
    const analytic = grad[i];
    if (!(Math.abs(analytic - numeric) <= ATOL + RTOL * Math.max(Math.abs(analytic), Math.abs(numeric)))) bad.push({ index: i, analytic, numeric });
  }
  return bad;
}

/** Every index, or an evenly spread sample of at most `max` of them. */
export function sampleIndices(n: number, max = 200): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = n / max;
  return Array.from({ length: max }, (_, k) => Math.floor(k * step + step / 2));
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = (((s >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return a;
}
