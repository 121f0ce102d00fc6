/**
 * Adam (Kingma & Ba 2015), with bias correction:
 *   m ← β1 m + (1 - β1) g;   v ← β2 v + (1 - β2) g²
 *   p ← p - lr · (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + ε)
 * With weightDecay > 0 it is AdamW (Loshchilov & Hutter 2019): p ← p · (1 - lr · weightDecay)
 * first, a decay kept out of the moments (unlike training.l2, which adds to the gradient).
 */
import { kernels } from '../kernels';
import { Optimizer } from './optimizer';

export class Adam extends Optimizer {
  private readonly m = this.buffer('m');
  private readonly v = this.buffer('v');

  constructor(size: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8, readonly weightDecay = 0) {
    super(size);
  }

  protected update(p: Float32Array, g: Float32Array, lr: number): void {
    const { m, v, beta1, beta2, epsilon } = this;
    const c1 = 1 / (1 - beta1 ** this.t); // bias corrections divide (ConvNetJS multiplied: a known bug)
    const c2 = 1 / (1 - beta2 ** this.t);
    kernels.adam(p, g, m, v, lr, beta1, beta2, epsilon, c1, c2, 1 - lr * this.weightDecay);
  }
}
