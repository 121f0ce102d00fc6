/**
 * Inverted dropout: in training each unit is kept with probability 1 - rate and
 * scaled by 1 / (1 - rate), so at evaluation the layer is the identity and the
 * expected activation is the same in both.
 */
import { kernels } from '../kernels';
import { BatchBuffers, type Layer } from './layer';
import type { ParamSpec } from './params';
import type { Rng4 } from '../util/rng';

export class Dropout implements Layer {
  readonly kind = 'dropout';
  readonly outDim: number;
  private readonly masks: BatchBuffers; // (B, D): 0 or 1/(1 - rate)
  private readonly out: BatchBuffers;
  private mask: Float32Array | null = null;

  /** lanes: the model's dropout generator, shared by its dropout layers in order */
  constructor(readonly index: number, readonly inDim: number, readonly rate: number, readonly lanes: Rng4) {
    this.outDim = inDim;
    this.masks = new BatchBuffers(inDim);
    this.out = new BatchBuffers(inDim);
  }

  paramSpecs(): ParamSpec[] {
    return [];
  }

  bind(): void {}

  forward(x: Float32Array, B: number, training: boolean): Float32Array {
    if (!training || this.rate === 0) {
      this.mask = null;
      return x;
    }
    const n = B * this.inDim;
    const mask = this.masks.get(B);
    const y = this.out.get(B);
    const keep = 1 - this.rate;
    kernels.dropoutMask(this.lanes.words, x, mask, y, n, keep, 1 / keep);
    this.mask = mask;
    return y;
  }

  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    if (!needInputGrad) return null;
    const mask = this.mask;
    if (mask) kernels.mulInPlace(dy, mask, B * this.inDim);
    return dy;
  }
}
