/**
 * Batch normalization (Ioffe & Szegedy 2015) over each feature: in training,
 * x̂ = (x − mean) / sqrt(var + ε) with the batch's mean and (biased) variance,
 * y = γ x̂ + β, and running averages of mean and (unbiased) variance move by
 * `momentum` towards the batch's, as in PyTorch; at evaluation the running
 * statistics stand in for the batch's. γ (weight) and β (bias) are trained; the
 * running statistics are buffers, saved with the model under PyTorch's names.
 * The loops are kernels (WebAssembly SIMD where it runs; naive.ts has the reference).
 */
import { kernels } from '../kernels';
import { allocF32 } from '../kernels/memory';
import { BatchBuffers, type Layer } from './layer';
import type { ParamSpec, Params, ParamView } from './params';

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly outDim: number;
  private gamma!: ParamView;
  private beta!: ParamView;
  private runMean!: ParamView;
  private runVar!: ParamView;
  private readonly out: BatchBuffers;
  private readonly xhat: BatchBuffers;
  private readonly invStd: Float32Array; // (N) 1 / sqrt(var + ε) of the last training batch

  constructor(readonly index: number, readonly inDim: number, readonly momentum: number, readonly epsilon: number, readonly name = `layers.${index}`) {
    this.outDim = inDim;
    this.out = new BatchBuffers(inDim);
    this.xhat = new BatchBuffers(inDim);
    this.invStd = allocF32(inDim);
  }

  paramSpecs(): ParamSpec[] {
    const p = this.name;
    return [
      { name: `${p}.weight`, shape: [this.inDim], decay: false },
      { name: `${p}.bias`, shape: [this.inDim], decay: false },
      { name: `${p}.running_mean`, shape: [this.inDim], decay: false, buffer: true },
      { name: `${p}.running_var`, shape: [this.inDim], decay: false, buffer: true },
    ];
  }

  bind(params: Params): void {
    const p = this.name;
    this.gamma = params.get(`${p}.weight`);
    this.beta = params.get(`${p}.bias`);
    this.runMean = params.get(`${p}.running_mean`);
    this.runVar = params.get(`${p}.running_var`);
  }

  /** γ = 1, β = 0, running mean 0 and variance 1: the identity to start with. */
  initialize(): void {
    this.gamma.data.fill(1);
    this.beta.data.fill(0);
    this.runMean.data.fill(0);
    this.runVar.data.fill(1);
  }

  forward(x: Float32Array, B: number, training: boolean): Float32Array {
    const N = this.inDim;
    const y = this.out.get(B);
    const [g, b, rm, rv] = [this.gamma.data, this.beta.data, this.runMean.data, this.runVar.data];
    if (!training) kernels.batchnormEval(x, y, g, b, rm, rv, B, N, this.epsilon);
    else kernels.batchnormTrain(x, y, this.xhat.get(B), this.invStd, g, b, rm, rv, B, N, this.momentum, this.epsilon);
    return y;
  }

  // per feature: dβ = Σ dy, dγ = Σ dy x̂, dx = γ/σ (dy − mean(dy) − x̂ mean(dy x̂)); dy becomes dx in place
  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    kernels.batchnormBackward(dy, this.xhat.get(B), this.invStd, this.gamma.data, this.gamma.grad, this.beta.grad, B, this.inDim, needInputGrad);
    return needInputGrad ? dy : null;
  }

  /** dx = dy γ / sqrt(running var + ε) in place: the input gradient of the evaluation forward (for saliency maps). */
  backwardEval(dy: Float32Array, B: number): Float32Array {
    const N = this.inDim;
    const [g, rv] = [this.gamma.data, this.runVar.data];
    for (let j = 0; j < N; j++) {
      const s = g[j] / Math.sqrt(rv[j] + this.epsilon);
      for (let r = 0; r < B; r++) dy[r * N + j] *= s;
    }
    return dy;
  }
}
