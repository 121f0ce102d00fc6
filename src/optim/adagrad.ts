/**
 * AdaGrad (Duchi et al. 2011): each parameter's step shrinks with the sum of its squared gradients.
 *   s ← s + g²;   p ← p - lr g / (sqrt(s) + ε)
 */
import { Optimizer } from './optimizer';

export class AdaGrad extends Optimizer {
  private readonly s: Float32Array;

  constructor(size: number, readonly epsilon = 1e-10, initialAccumulator = 0) {
    super(size);
    this.s = this.buffer('sum', initialAccumulator);
  }

  protected update(p: Float32Array, g: Float32Array, lr: number): void {
    const { s, epsilon } = this;
    const n = p.length;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      s[i] += gi * gi;
      p[i] -= (lr * gi) / (Math.sqrt(s[i]) + epsilon);
    }
  }
}
