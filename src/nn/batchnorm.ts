/**
 * Batch normalization (Ioffe & Szegedy 2015) over each feature: in training,
 * x̂ = (x − mean) / sqrt(var + ε) with the batch's mean and (biased) variance,
 * y = γ x̂ + β, and running averages of mean and (unbiased) variance move by
 * `momentum` towards the batch's, as in PyTorch; at evaluation the running
 * statistics stand in for the batch's. γ (weight) and β (bias) are trained; the
 * running statistics are buffers, saved with the model under PyTorch's names.
 */
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
  private readonly invStd: Float64Array; // 1 / sqrt(var + ε) of the last training batch, per feature

  constructor(readonly index: number, readonly inDim: number, readonly momentum: number, readonly epsilon: number, readonly name = `layers.${index}`) {
    this.outDim = inDim;
    this.out = new BatchBuffers(inDim);
    this.xhat = new BatchBuffers(inDim);
    this.invStd = new Float64Array(inDim);
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
    const g = this.gamma.data, b = this.beta.data;
    if (!training) {
      for (let j = 0; j < N; j++) {
        const s = g[j] / Math.sqrt(this.runVar.data[j] + this.epsilon);
        const m = this.runMean.data[j];
        for (let r = 0; r < B; r++) y[r * N + j] = (x[r * N + j] - m) * s + b[j];
      }
      return y;
    }
    const xh = this.xhat.get(B);
    for (let j = 0; j < N; j++) {
      let mean = 0;
      for (let r = 0; r < B; r++) mean += x[r * N + j];
      mean /= B;
      let v = 0;
      for (let r = 0; r < B; r++) v += (x[r * N + j] - mean) ** 2;
      const variance = v / B;
      const inv = 1 / Math.sqrt(variance + this.epsilon);
      this.invStd[j] = inv;
      for (let r = 0; r < B; r++) {
        const h = (x[r * N + j] - mean) * inv;
        xh[r * N + j] = h;
        y[r * N + j] = g[j] * h + b[j];
      }
      const mo = this.momentum;
      this.runMean.data[j] = (1 - mo) * this.runMean.data[j] + mo * mean;
      this.runVar.data[j] = (1 - mo) * this.runVar.data[j] + mo * (B > 1 ? v / (B - 1) : variance);
    }
    return y;
  }

  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    const N = this.inDim;
    const xh = this.xhat.get(B);
    const g = this.gamma.data;
    const dg = this.gamma.grad, db = this.beta.grad;
    // per feature: dβ = Σ dy, dγ = Σ dy x̂, dx = γ/σ (dy − mean(dy) − x̂ mean(dy x̂)); dy becomes dx in place
    for (let j = 0; j < N; j++) {
      let sum = 0, dot = 0;
      for (let r = 0; r < B; r++) {
        sum += dy[r * N + j];
        dot += dy[r * N + j] * xh[r * N + j];
      }
      db[j] = sum;
      dg[j] = dot;
      if (!needInputGrad) continue;
      const k = g[j] * this.invStd[j];
      for (let r = 0; r < B; r++) dy[r * N + j] = k * (dy[r * N + j] - sum / B - (xh[r * N + j] * dot) / B);
    }
    return needInputGrad ? dy : null;
  }
}
