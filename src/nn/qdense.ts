/**
 * A dense layer with int8 weights (nn quantize): a = f(((q(x) · Wᵀ) ⊙ sw) · sx + b). W (Out, In) is
 * int8, symmetric, one scale sw per output unit (the parameter weight_scale); each input row is
 * quantized as it comes (kernels/index.ts, qlinearForward) with its own scale: to int8, or to
 * 0..255 when the layer before cannot give negative values (ReLU, sigmoid: a bit more precision),
 * or, for a first layer that takes pixel bytes, the bytes as they are. Inference only: backward gives the
 * gradient with respect to the input through the dequantized weights (the rounding of the input
 * taken as the identity, the straight-through estimate), for saliency maps, and no weight gradients.
 */
import { kernels } from '../kernels';
import { packInt8, padOutputs, type PackedInt8, type QuantMode } from '../kernels/int8';
import { allocF32 } from '../kernels/memory';
import { activationBackward, activationForward, type ActivationName, type ActivationOptions } from './activations';
import { BatchBuffers, type Layer } from './layer';
import type { ParamSpec, Params, ParamView } from './params';

export class QDense implements Layer {
  readonly kind = 'qdense';
  private scale!: ParamView; // (Out)
  private b!: ParamView; // (Out)
  private q: Int8Array; // (Out, In), as the file holds it
  // the weights packed for the kernels, with the scales and biases padded to whole tiles (the kernels
  // read whole tiles): made on the first pass, once the file's values are in (an int8 model does not train)
  private packed: { W: PackedInt8; scale: Float32Array; bias: Float32Array } | null = null;
  private dequantized: Float32Array | null = null; // Wt (In, Out) for backward, made on first use
  private a: Float32Array | null = null;
  private readonly out: BatchBuffers;
  private readonly dx: BatchBuffers;
  gradIsPreActivation = false;

  constructor(
    readonly index: number,
    readonly inDim: number,
    readonly outDim: number,
    readonly activation: ActivationName,
    readonly actOpts: ActivationOptions,
    readonly name: string,
    /** How its input rows become integers: signed, pixel bytes 0..255 taken exactly, or unsigned (inputs >= 0). */
    readonly inputMode: QuantMode,
  ) {
    this.q = new Int8Array(outDim * inDim);
    this.out = new BatchBuffers(outDim);
    this.dx = new BatchBuffers(inDim);
  }

  paramSpecs(): ParamSpec[] {
    return [
      { name: `${this.name}.weight_scale`, shape: [this.outDim], decay: false, buffer: true },
      { name: `${this.name}.bias`, shape: [this.outDim], decay: false },
    ];
  }

  bind(params: Params): void {
    this.scale = params.get(`${this.name}.weight_scale`);
    this.b = params.get(`${this.name}.bias`);
  }

  /** The int8 weights (Out, In). */
  get weights(): Int8Array {
    return this.q;
  }

  setWeights(q: Int8Array): void {
    if (q.length !== this.q.length) throw new Error(`${this.name}: ${q.length} weights for a ${this.outDim}x${this.inDim} layer`);
    this.q.set(q);
    this.packed = null;
    this.dequantized = null;
  }

  forward(x: Float32Array, B: number, _training: boolean): Float32Array {
    const y = this.out.get(B);
    if (!this.packed) {
      const W = packInt8(this.q, this.inDim, this.outDim);
      this.packed = { W, scale: padOutputs(this.scale.data, W.OutP), bias: padOutputs(this.b.data, W.OutP) };
    }
    const { W, scale, bias } = this.packed;
    const fused = this.activation === 'relu';
    kernels.qlinearForward(x, W, scale, bias, y, B, this.inputMode, fused);
    if (!fused) activationForward(this.activation, y, B, this.outDim, this.actOpts);
    this.a = y;
    return y;
  }

  output(): Float32Array {
    return this.a!;
  }

  backward(dy: Float32Array, B: number, needInputGrad: boolean): Float32Array | null {
    if (!this.gradIsPreActivation) activationBackward(this.activation, this.a!, dy, B, this.outDim, this.actOpts);
    if (!needInputGrad) return null;
    const dx = this.dx.get(B);
    kernels.linearBackwardInput(dy, this.dequantize(), dx, B, this.inDim, this.outDim);
    return dx;
  }

  /** The weights as floats, q · sw, as Dense holds them: Wt (In, Out). Made once, on first use. */
  dequantize(): Float32Array {
    if (!this.dequantized) {
      const { inDim: In, outDim: Out, q } = this;
      const s = this.scale.data;
      const wt = allocF32(In * Out);
      for (let o = 0; o < Out; o++) for (let i = 0; i < In; i++) wt[i * Out + o] = q[o * In + i] * s[o];
      this.dequantized = wt;
    }
    return this.dequantized;
  }
}
