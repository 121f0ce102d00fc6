/**
 * A residual block (He et al. 2016): y = x + block(x), for a block of layers that
 * keeps the width. The identity path carries the gradient around the block
 * unchanged, dx = dy + block'(dy), which is why deep stacks of these still train.
 */
import { BatchBuffers, type Layer } from './layer';
import type { ParamSpec, Params } from './params';

export class Residual implements Layer {
  readonly kind = 'residual';
  readonly outDim: number;
  private readonly out: BatchBuffers;
  private readonly dyCopy: BatchBuffers;

  constructor(readonly index: number, readonly inDim: number, readonly layers: Layer[]) {
    this.outDim = inDim;
    this.out = new BatchBuffers(inDim);
    this.dyCopy = new BatchBuffers(inDim);
  }

  paramSpecs(): ParamSpec[] {
    return this.layers.flatMap((l) => l.paramSpecs());
  }

  bind(params: Params): void {
    for (const l of this.layers) l.bind(params);
  }

  forward(x: Float32Array, B: number, training: boolean): Float32Array {
    let h = x;
    for (const l of this.layers) h = l.forward(h, B, training);
    const y = this.out.get(B);
    for (let k = 0; k < B * this.inDim; k++) y[k] = x[k] + h[k];
    return y;
  }

  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    // the block's layers may overwrite the gradient they are given: keep dy for the identity path
    const g0 = this.dyCopy.get(B);
    g0.set(dy.subarray(0, B * this.inDim));
    let g: Float32Array | null = g0;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i].backward(g, B, i > 0 || needInputGrad);
    if (!needInputGrad) return null;
    for (let k = 0; k < B * this.inDim; k++) dy[k] += g![k];
    return dy;
  }
}
