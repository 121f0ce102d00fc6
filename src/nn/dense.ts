/**
 * Dense (fully connected) layer with its activation: a = f(x · Wᵀ + b).
 * The weights are stored transposed, Wt (In, Out), so that every product runs
 * along contiguous rows of Out; model files hold PyTorch's (Out, In).
 */
import { kernels } from '../kernels';
import { SPARSE_MIN_WEIGHTS, SPARSE_MIN_ZEROS, toSparse, zeroShare, type SparseWeights } from '../kernels/sparse';
import { activationBackward, activationForward, type ActivationName, type ActivationOptions } from './activations';
import { BatchBuffers, type Layer } from './layer';
import type { ParamSpec, Params, ParamView } from './params';

export class Dense implements Layer {
  readonly kind = 'dense';
  private W!: ParamView; // Wt (In, Out)
  private b!: ParamView; // (Out)
  private x: Float32Array | null = null; // (B, In) saved input
  private shift: Float32Array | null = null; // (In) saved input shift, or none
  private a: Float32Array | null = null; // (B, Out) saved output
  private readonly out: BatchBuffers;
  private readonly dx: BatchBuffers;
  private sparse: SparseWeights | null = null; // a pruned layer's non-zero weights, for single images
  /**
   * When true, backward receives dL/dz (pre-activation) instead of dL/da: the loss
   * has already folded the activation's derivative in (softmax + cross-entropy).
   */
  gradIsPreActivation = false;

  constructor(
    readonly index: number,
    readonly inDim: number,
    readonly outDim: number,
    readonly activation: ActivationName,
    readonly actOpts: ActivationOptions,
    /** Its parameters' names start with this: layers.<index>, or layers.<i>.layers.<j> inside a residual block. */
    readonly name = `layers.${index}`,
  ) {
    this.out = new BatchBuffers(outDim);
    this.dx = new BatchBuffers(inDim);
  }

  paramSpecs(): ParamSpec[] {
    return [
      { name: `${this.name}.weight`, shape: [this.inDim, this.outDim], decay: true, transposed: true },
      { name: `${this.name}.bias`, shape: [this.outDim], decay: false },
    ];
  }

  bind(params: Params): void {
    this.W = params.get(`${this.name}.weight`);
    this.b = params.get(`${this.name}.bias`);
  }

  /**
   * With a shift (In), the input is x + shift in every row, computed as W·x + (b + W·shift):
   * x keeps its zeros, which the product skips (folded normalization: data/normalize.ts).
   */
  forward(x: Float32Array, B: number, _training: boolean, shift: Float32Array | null = null): Float32Array {
    const y = this.out.get(B);
    // ReLU is fused into the product's epilogue; other activations run after it
    const fused = this.activation === 'relu';
    if (this.sparse && B === 1) kernels.sparseForward(x, this.sparse, this.W.data, this.b.data, y, B, fused, shift);
    else kernels.linearForward(x, this.W.data, this.b.data, y, B, this.inDim, this.outDim, fused, shift);
    if (!fused) activationForward(this.activation, y, B, this.outDim, this.actOpts);
    this.x = x;
    this.shift = shift;
    this.a = y;
    return y;
  }

  /**
   * For a model that only answers from now on (its weights no longer change): single images go through
   * the sparse product when this layer is pruned enough for it to pay (kernels/sparse.ts). Whether it does.
   */
  answerSparse(): boolean {
    const Wt = this.W.data;
    if (Wt.length < SPARSE_MIN_WEIGHTS || zeroShare(Wt) < SPARSE_MIN_ZEROS) return false;
    this.sparse = toSparse(Wt, this.inDim, this.outDim);
    return true;
  }

  /** The last forward pass's output a = f(z) (B, Out). */
  output(): Float32Array {
    return this.a!;
  }

  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    const x = this.x!;
    if (!this.gradIsPreActivation) activationBackward(this.activation, this.a!, dy, B, this.outDim, this.actOpts);
    // inputs x + shift: dW = Σ_b dy (x + shift)ᵀ = Σ_b dy xᵀ + db shiftᵀ
    kernels.linearBackwardWeight(dy, x, this.W.grad, this.b.grad, B, this.inDim, this.outDim, this.shift);
    if (!needInputGrad) return null;
    const dx = this.dx.get(B);
    kernels.linearBackwardInput(dy, this.W.data, dx, B, this.inDim, this.outDim);
    return dx;
  }
}
