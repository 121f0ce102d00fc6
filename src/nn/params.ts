/**
 * All parameters of a model in one flat Float32Array, and all gradients in
 * another of the same layout, so that an optimizer step is one flat loop and a
 * checkpoint is one copy. Each tensor is a named view into the block. Buffers
 * (batch norm's running statistics: saved with the model, not trained) come
 * after every trainable tensor, so the optimizer sees only the first
 * `trainable` values.
 */
import { allocF32 } from '../kernels/memory';

export interface ParamSpec {
  name: string; // e.g. layers.0.weight
  shape: number[]; // as stored here
  decay: boolean; // L1/L2 penalties apply (weights yes, biases no)
  transposed?: boolean; // stored as (In, Out); files and PyTorch hold (Out, In)
  buffer?: boolean; // not trained: the layer updates it itself
}

export interface ParamView extends ParamSpec {
  offset: number;
  size: number;
  data: Float32Array; // view into Params.data
  grad: Float32Array; // view into Params.grad
}

export class Params {
  readonly data: Float32Array;
  readonly grad: Float32Array;
  readonly views: ParamView[];
  readonly byName: Map<string, ParamView>;
  readonly trainable: number; // values before the buffers
  readonly trainData: Float32Array; // data[0, trainable): what the optimizer updates
  readonly trainGrad: Float32Array;

  constructor(specs: ParamSpec[]) {
    let total = 0;
    const ordered = [...specs.filter((s) => !s.buffer), ...specs.filter((s) => s.buffer)];
    const placed = ordered.map((s) => {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const p = { ...s, offset: total, size };
      total += size;
      return p;
    });
    this.data = allocF32(total);
    this.grad = allocF32(total);
    this.views = placed.map((p) => ({
      ...p,
      data: this.data.subarray(p.offset, p.offset + p.size),
      grad: this.grad.subarray(p.offset, p.offset + p.size),
    }));
    this.byName = new Map(this.views.map((v) => [v.name, v]));
    this.trainable = placed.filter((p) => !p.buffer).reduce((a, p) => a + p.size, 0);
    this.trainData = this.data.subarray(0, this.trainable);
    this.trainGrad = this.grad.subarray(0, this.trainable);
  }

  get(name: string): ParamView {
    const v = this.byName.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }
}
