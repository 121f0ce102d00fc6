/**
 * Which pixels decided a guess: integrated gradients (Sundararajan, Taly & Yan
 * 2017, "Axiomatic Attribution for Deep Networks", eq. 1 and its Riemann sum,
 * section 3). For the class score z_c (the output layer's value before softmax)
 * and the black image as baseline (blank paper in MNIST's polarity):
 *
 *   a_j = p_j · (1/m) Σ_{k=1..m} ∂z_c/∂p_j (k/m · p)
 *
 * over the raw 0..255 pixels p. The attributions add up to z_c(p) - z_c(black)
 * (completeness; the paper advises 20 to 300 steps for 5%: m = 64 here,
 * within 2.3% on a trained 784-128-64-10 for the ten sample digits, except
 * where that difference is itself near 0), blank pixels get exactly 0, and a negative a_j is ink that
 * argued against the guess. The plain gradient (Simonyan et al. 2014) is the
 * building block, and on MNIST it is mostly noise over the blank border, whose
 * weights barely trained. Each gradient runs the network as at inference
 * (dropout off, batch normalization on its running statistics).
 */
import type { Normalizer } from '../data/normalize';
import { allocF32 } from '../kernels/memory';
import { BatchNorm } from '../nn/batchnorm';
import type { Layer } from '../nn/layer';
import type { Model } from '../nn/model';
import { Residual } from '../nn/residual';

export const IG_STEPS = 64;

export class IntegratedGradients {
  private readonly x: Float32Array; // (steps, D) the inputs along the path, normalized
  private readonly g: Float32Array; // (steps, C) d z_c / d z per row
  private readonly raw: Float32Array; // (D) one point of the path, raw intensities
  private readonly slope: Float32Array; // (D) d x / d p = 1 / (255 std)

  // the buffers live in the shared memory, allocated once: a server explains thousands of images
  constructor(
    private readonly model: Model,
    private readonly norm: Normalizer,
    readonly steps = IG_STEPS,
  ) {
    const D = model.inDim;
    this.x = allocF32(steps * D);
    this.g = allocF32(steps * model.outDim);
    this.raw = new Float32Array(D);
    this.slope = new Float32Array(D);
    const { std } = norm.spec;
    for (let j = 0; j < D; j++) this.slope[j] = 1 / (255 * (typeof std === 'number' ? std : std[j]));
  }

  /** a (D): each pixel's share of z_c(p) - z_c(black). */
  attributions(pixels: Uint8Array, c: number): Float32Array {
    const { steps: m, model, x, g, raw } = this;
    const D = model.inDim;
    for (let k = 1; k <= m; k++) {
      for (let j = 0; j < D; j++) raw[j] = (k / m) * pixels[j];
      this.norm.applyFloat(raw, x, (k - 1) * D);
    }
    g.fill(0);
    for (let k = 0; k < m; k++) g[k * model.outDim + c] = 1;
    const dx = scoreGradients(model, x, m, g, this.norm.shift);
    const a = new Float32Array(D);
    for (let j = 0; j < D; j++) {
      if (pixels[j] === 0) continue; // p_j - baseline_j = 0
      let sum = 0;
      for (let k = 0; k < m; k++) sum += dx[k * D + j];
      a[j] = (pixels[j] * this.slope[j] * sum) / m;
    }
    return a;
  }

  /**
   * The plain gradient d z_c / d p_j at the image itself (Simonyan et al. 2014): where a change of
   * each pixel would move the score most, blank pixels included (on MNIST, mostly noise over the border).
   */
  gradient(pixels: Uint8Array, c: number): Float32Array {
    const { model, x, g, raw } = this;
    const D = model.inDim;
    for (let j = 0; j < D; j++) raw[j] = pixels[j];
    this.norm.applyFloat(raw, x, 0);
    g.fill(0, 0, model.outDim);
    g[c] = 1;
    const dx = scoreGradients(model, x.subarray(0, D), 1, g.subarray(0, model.outDim), this.norm.shift);
    const out = new Float32Array(D);
    for (let j = 0; j < D; j++) out[j] = dx[j] * this.slope[j];
    return out;
  }

  /** The attributions (or with `plain`, the gradient) divided by the largest magnitude: -1..1 per pixel (all 0 for a blank image). */
  map(pixels: Uint8Array, c: number, plain = false): Float32Array {
    const a = plain ? this.gradient(pixels, c) : this.attributions(pixels, c);
    let max = 0;
    for (let j = 0; j < a.length; j++) max = Math.max(max, Math.abs(a[j]));
    if (max > 0) for (let j = 0; j < a.length; j++) a[j] /= max;
    return a;
  }
}

/**
 * d(Σ_c g_bc z_bc) / d x_b for B normalized rows x (B, D) at once, with g (B, C) given
 * on the output layer's values before its activation: with a one-hot g, the gradient of
 * a class score. g must be in the shared memory (allocF32) and is overwritten. The
 * returned buffer belongs to the model (valid until its next pass); its parameter
 * gradients are overwritten on the way (it is not training).
 */
export function scoreGradients(model: Model, x: Float32Array, B: number, g: Float32Array, shift: Float32Array | null = null): Float32Array {
  model.forward(x, B, false, shift);
  const fused = model.lastGradIsPreActivation;
  model.setFusedOutput(true); // the gradient given is taken before the output activation
  try {
    return inputGradient(model.layers, g, B);
  } finally {
    model.setFusedOutput(fused);
  }
}

// A residual block's copy of the gradient for its identity path, per batch size, made once.
const skips = new WeakMap<Residual, Map<number, Float32Array>>();

/** Backpropagates g (B rows) from the last layer to the input, as inference computes. */
function inputGradient(layers: Layer[], g: Float32Array, B: number): Float32Array {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    if (l instanceof BatchNorm) g = l.backwardEval(g, B);
    else if (l instanceof Residual) {
      let byB = skips.get(l);
      if (!byB) skips.set(l, (byB = new Map()));
      let skip = byB.get(B);
      if (!skip) byB.set(B, (skip = allocF32(B * l.inDim)));
      skip.set(g); // y = x + block(x): dx = dy + block'(dy)
      const inner = inputGradient(l.layers, g, B);
      for (let j = 0; j < skip.length; j++) skip[j] += inner[j];
      g = skip;
    } else g = l.backward(g, B, true)!;
  }
  return g;
}
