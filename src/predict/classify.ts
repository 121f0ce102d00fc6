/**
 * One 28x28 digit through a loaded model: normalized into a buffer reused for
 * every image (predict may see thousands), then a forward pass of one row.
 *
 * One row at a time on purpose: the kernels sum in an order that depends on
 * the batch (WebAssembly: two halves of the inputs for small batches, tiles of
 * four rows for large ones), so a digit's probabilities would differ in their
 * last bits depending on which images shared its batch (measured: batches of
 * 64 changed 4,658 of 6,000 outputs against one at a time). An image gets the
 * same answer alone as in a folder; batching would save about 5 ms per 1,000
 * images (784-128-64-10: 10 ms one at a time, 5.5 ms in batches of 256).
 */
import { Normalizer, type Normalization } from '../data/normalize';
import { allocF32 } from '../kernels/memory';
import type { Model } from '../nn/model';

export interface Prediction {
  digit: number;
  confidence: number;
  /** (C) rounded to 6 decimals, as printed */
  probabilities: number[];
  /** (digit, probability) most likely first */
  ranked: Array<readonly [number, number]>;
}

export class Classifier {
  private readonly norm: Normalizer;
  private readonly x: Float32Array; // (1, D)

  /** sparse: false keeps pruned layers on the dense product (for the benchmark that compares them). */
  constructor(private readonly model: Model, normalization: Normalization, readonly D: number, sparse = true) {
    this.norm = new Normalizer(normalization, D);
    this.x = allocF32(D);
    if (sparse) model.answerSparse(); // a pruned model's large layers: only their non-zero weights
  }

  classify(pixels: Uint8Array): Prediction {
    const p = this.model.forward(this.norm.apply(pixels, this.x), 1, false);
    const probabilities = Array.from(p, (v) => Number(v.toFixed(6)));
    const ranked = probabilities.map((v, d) => [d, v] as const).sort((a, b) => b[1] - a[1]);
    return { digit: ranked[0][0], confidence: ranked[0][1], probabilities, ranked };
  }
}
