/**
 * AdaGrad (Duchi et al. 2011): each parameter's step shrinks with the sum of its squared gradients.
 *   s ← s + g²;   p ← p - lr g / (sqrt(s) + ε)
 */
import { kernels } from '../kernels';
import { Optimizer } from './optimizer';

export class AdaGrad extends Optimizer {
  private readonly s: Float32Array;

  constructor(size: number, readonly epsilon = 1e-10, initialAccumulator = 0) {
    super(size);
    this.s = this.buffer('sum', initialAccumulator);
  }

  protected update(p: Float32Array, g: Float32Array, lr: number): void {
    kernels.adagrad(p, g, this.s, lr, this.epsilon);
  }
}
