/**
 * Base optimizer: owns the step count and its state buffers (one per moment,
 * each as long as the flat parameter block). Each optimizer implements only
 * its update, one flat loop over parameters and gradients.
 */
import { allocF32 } from '../kernels/memory';

export abstract class Optimizer {
  t = 0; // steps taken
  protected readonly state: Record<string, Float32Array> = {};

  constructor(readonly size: number) {}

  protected buffer(name: string, fill = 0): Float32Array {
    const b = allocF32(this.size);
    if (fill !== 0) b.fill(fill);
    this.state[name] = b;
    return b;
  }

  /** One update of p (flat parameters) from g (their gradients) at learning rate lr. */
  step(p: Float32Array, g: Float32Array, lr: number): void {
    this.t++;
    this.update(p, g, lr);
  }

  protected abstract update(p: Float32Array, g: Float32Array, lr: number): void;

  /** State to save in a checkpoint. */
  getState(): { t: number; buffers: Record<string, Float32Array> } {
    return { t: this.t, buffers: this.state };
  }

  setState(s: { t: number; buffers: Record<string, Float32Array> }): void {
    this.t = s.t;
    for (const [k, v] of Object.entries(s.buffers)) this.state[k].set(v);
  }
}
