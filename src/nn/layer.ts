/**
 * A layer: forward(x, training) saves what backward needs; backward(dy) sets
 * its parameters' gradients and returns dL/dx. Buffers are allocated once
 * per batch size and reused, so a training step allocates nothing.
 */
import { allocF32 } from '../kernels/memory';
import type { ParamSpec, Params } from './params';

export interface Layer {
  readonly kind: string;
  readonly inDim: number;
  readonly outDim: number;
  /** Parameters this layer needs; names are layers.<index>.<weight|bias>. */
  paramSpecs(): ParamSpec[];
  /** Called once, after the model has allocated its parameter block. */
  bind(params: Params): void;
  /** x (B, inDim) -> y (B, outDim). The returned buffer is owned by the layer. */
  forward(x: Float32Array, B: number, training: boolean): Float32Array;
  /**
   * dy (B, outDim) -> dx (B, inDim), setting its parameters' gradients in Params.grad.
   * The layer may overwrite dy. Returns null when needInputGrad is false (first layer).
   */
  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null;
}

/** Buffers of width `width`, one per batch size seen, reused across steps. */
export class BatchBuffers<T extends Float32Array | Uint8Array = Float32Array> {
  private readonly byBatch = new Map<number, T>();
  constructor(
    private readonly width: number,
    private readonly make: (n: number) => T = (n) => allocF32(n) as T,
  ) {}
  get(B: number): T {
    let buf = this.byBatch.get(B);
    if (!buf) {
      buf = this.make(B * this.width);
      this.byBatch.set(B, buf);
    }
    return buf;
  }
}
