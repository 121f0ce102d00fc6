/**
 * Weight initializers. Biases start at zero.
 *  he:     N(0, 2 / fan_in)                         (He et al. 2015; for ReLU)
 *  xavier: U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010; Keras' default)
 *  normal: N(0, std²), std 0.01 by default            (the textbook NumPy net)
 */
import type { Rng } from '../util/rng';

export const INITS = ['he', 'xavier', 'normal'] as const;
export type InitName = (typeof INITS)[number];

export function initWeights(name: InitName, w: Float32Array, fanIn: number, fanOut: number, rng: Rng, std = 0.01): void {
  switch (name) {
    case 'he': {
      const s = Math.sqrt(2 / fanIn);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * s;
      return;
    }
    case 'xavier': {
      const l = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * l;
      return;
    }
    case 'normal':
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
      return;
  }
}
