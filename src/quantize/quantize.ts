/**
 * Post-training quantization of a trained model to int8 (nn quantize).
 *
 * Weights: each dense layer's W (Out, In) to int8, symmetric, one scale per output unit:
 * sw_o = max_i |W_oi| / 127, q_oi = round(W_oi / sw_o) in [-127, 127]. One scale per unit rather
 * than per layer because units' weights differ in range (on a trained 784-128-64-10 the largest
 * |w| of a unit ranges over 6x in layer 0), and a single scale would give the small ones few levels.
 *
 * Activations: dynamic, each input row quantized by its own largest magnitude as it comes
 * (nn/qdense.ts), not calibrated on training images: nothing to calibrate, no calibration set to
 * choose, and a row's scale fits that row (a faint digit keeps its levels); it costs one pass over
 * the row for its maximum. After a ReLU (or sigmoid) the row has no negative values, and it goes to
 * 0..255 instead of -127..127: a bit more. The integer sums are exact, so an image's answer depends
 * on nothing else in its batch.
 *
 * The first layer, when it is dense and the normalization global (one mean and one std), takes the
 * pixel bytes as they are: x = (p / 255 - mean) / std folded into it, W' = W / (255 std) (the
 * same factor for every weight of a row, so it costs no precision) and b' = b - (mean / std) Σ_i W_oi
 * (from the float weights: the blank background contributes exactly what it did). MNIST's pixels
 * are already 8-bit, so the first layer's input loses nothing to quantization, and blank pixels are
 * 0, which the kernel skips. With per-pixel statistics the fold would scale some columns 100x (the
 * border's std is 0.01), so such models keep their normalization and quantize the input like any other.
 */
import type { Normalization } from '../data/normalize';
import type { Quantization, SavedModel } from '../io/modelfile';
import { Dense } from '../nn/dense';
import { Model } from '../nn/model';
import { QDense } from '../nn/qdense';

/** The normalization of an int8 model that takes pixel bytes: x = (p / 255 - 0) / (1 / 255) = p. */
export const PIXEL_BYTES: Normalization = { mode: 'scale', mean: 0, std: 1 / 255 };

/** Round to nearest, halves away from zero, clamped to [-127, 127]. */
function toInt8(v: number): number {
  return Math.max(-127, Math.min(127, Math.sign(v) * Math.round(Math.abs(v))));
}

/** W (Out, In) from a dense layer's Wt (In, Out), as float64. */
function weightsOf(model: Model, l: Dense): Float64Array {
  const wt = model.params.get(`${l.name}.weight`).data;
  const { inDim: In, outDim: Out } = l;
  const w = new Float64Array(Out * In);
  for (let i = 0; i < In; i++) for (let o = 0; o < Out; o++) w[o * In + i] = wt[i * Out + o];
  return w;
}

/** Per row of W (Out, In): its scale and int8 weights. */
export function quantizeRows(w: Float64Array, In: number, Out: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(Out * In);
  const scale = new Float32Array(Out);
  for (let o = 0; o < Out; o++) {
    let m = 0;
    for (let i = 0; i < In; i++) m = Math.max(m, Math.abs(w[o * In + i]));
    const s = m > 0 ? Math.fround(m / 127) : 1;
    scale[o] = s;
    for (let i = 0; i < In; i++) q[o * In + i] = toInt8(w[o * In + i] / s);
  }
  return { q, scale };
}

export function quantizeModel(saved: SavedModel): SavedModel {
  if (saved.quantization) throw new Error('quantizeModel: the model is already int8');
  const { model: float, normalization: norm } = saved;
  const fold = float.layers[0] instanceof Dense && typeof norm.mean === 'number' && typeof norm.std === 'number';
  const model = new Model(float.config, float.inDim, 0, false, { pixelInput: fold });
  const qdense = new Map(model.allLayers().filter((l): l is QDense => l instanceof QDense).map((l) => [l.name, l]));
  // every float tensor with a name in the int8 model (biases, batch normalization) as it is
  for (const v of model.params.views) if (float.params.byName.has(v.name)) v.data.set(float.params.get(v.name).data);
  for (const l of float.allLayers()) {
    if (!(l instanceof Dense)) continue;
    const target = qdense.get(l.name)!;
    const w = weightsOf(float, l);
    const bias = model.params.get(`${l.name}.bias`).data;
    if (fold && l === float.layers[0]) {
      const mean = norm.mean as number;
      const std = norm.std as number;
      for (let o = 0; o < l.outDim; o++) {
        let sum = 0;
        for (let i = 0; i < l.inDim; i++) sum += w[o * l.inDim + i];
        bias[o] -= (mean / std) * sum;
      }
      for (let k = 0; k < w.length; k++) w[k] /= 255 * std;
    }
    const { q, scale } = quantizeRows(w, l.inDim, l.outDim);
    target.setWeights(q);
    model.params.get(`${l.name}.weight_scale`).data.set(scale);
  }
  const quantization: Quantization = {
    weights: 'int8, symmetric, one scale per output unit (weight_scale)',
    activations: `${fold ? 'first layer: the pixel bytes 0..255 as they are; others: ' : ''}one scale per input row, computed as it comes (dynamic): 0..255 after ReLU or sigmoid, else int8 (symmetric)`,
    input: fold ? 'pixels' : 'normalized',
  };
  return { model, config: saved.config, normalization: fold ? PIXEL_BYTES : norm, rows: saved.rows, cols: saved.cols, quantization };
}
