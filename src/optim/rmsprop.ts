/**
 * RMSprop (Hinton's lecture 6e): divide by a running root mean square of gradients.
 *   s ← ρ s + (1 - ρ) g²;   p ← p - lr g / (sqrt(s) + ε)
 */
import { kernels } from '../kernels';
import { Optimizer } from './optimizer';

export class RMSprop extends Optimizer {
  private readonly s = this.buffer('square_avg');

  constructor(size: number, readonly rho = 0.9, readonly epsilon = 1e-8) {
    super(size);
  }

  protected update(p: Float32Array, g: Float32Array, lr: number): void {
    kernels.rmsprop(p, g, this.s, lr, this.rho, this.epsilon);
  }
}
