/**
 * SGD, with momentum and Nesterov momentum as settings (PyTorch's formulation):
 *   v ← μ v + g;   p ← p - lr v            (momentum)
 *   p ← p - lr (g + μ v)                     (Nesterov)
 * With μ = 0 this is plain gradient descent: p ← p - lr g.
 */
import { kernels } from '../kernels';
import { Optimizer } from './optimizer';

export class SGD extends Optimizer {
  private readonly v: Float32Array | null;

  constructor(size: number, readonly momentum = 0, readonly nesterov = false) {
    super(size);
    this.v = momentum > 0 ? this.buffer('velocity') : null;
  }

  protected update(p: Float32Array, g: Float32Array, lr: number): void {
    kernels.sgd(p, g, this.v, lr, this.momentum, this.nesterov);
  }
}
