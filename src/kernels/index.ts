/** The kernel backend, picked once at start-up. 'naive' is the reference; 'ts' the fast default. */
import * as naive from './naive';
import * as ts from './ts';

export interface Kernels {
  name: string;
  linearForward(X: Float32Array, W: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number): void;
  linearBackwardInput(dY: Float32Array, W: Float32Array, dX: Float32Array, B: number, In: number, Out: number): void;
  linearBackwardWeight(dY: Float32Array, X: Float32Array, dW: Float32Array, db: Float32Array, B: number, In: number, Out: number): void;
}

export const BACKENDS: Record<string, Kernels> = {
  naive: {
    name: 'naive',
    linearForward: naive.linearForwardNaive,
    linearBackwardInput: naive.linearBackwardInputNaive,
    linearBackwardWeight: naive.linearBackwardWeightNaive,
  },
  ts: { name: 'ts', linearForward: ts.linearForward, linearBackwardInput: ts.linearBackwardInput, linearBackwardWeight: ts.linearBackwardWeight },
};

export let kernels: Kernels = BACKENDS.ts;

export function useBackend(name: string): void {
  const k = BACKENDS[name];
  if (!k) throw new Error(`unknown backend ${name}`);
  kernels = k;
}
