/**
 * A sequential network built from the config's model section. It owns the
 * layers and the flat parameter block; it knows nothing about optimizers,
 * losses or training loops.
 */
import type { BlockLayerConfig, LayerConfig, ModelConfig } from '../config/schema';
import { UserError } from '../util/errors';
import { Rng, Rng4 } from '../util/rng';
import { defaultAlpha, type ActivationName } from './activations';
import { BatchNorm } from './batchnorm';
import { Dense } from './dense';
import { Dropout } from './dropout';
import { initWeights } from './init';
import type { Layer } from './layer';
import { Params } from './params';
import { QDense } from './qdense';
import { Residual } from './residual';

export class Model {
  readonly layers: Layer[] = [];
  readonly params: Params;
  readonly outDim: number;
  readonly outputActivation: ActivationName;
  private readonly last: Dense | QDense;
  /** The generator every dropout layer draws from, in order (its state goes into checkpoints). */
  readonly dropoutLanes: Rng4;

  /**
   * With `int8`, the dense layers are int8 layers (nn/qdense.ts) for a quantized model file to fill;
   * with int8.pixelInput, the first takes pixel bytes (its normalization folded into it: quantize/).
   */
  constructor(readonly config: ModelConfig, readonly inDim: number, seed: number, initialize = true, readonly int8: { pixelInput: boolean } | null = null) {
    const dropoutRng = new Rng4(Rng.derive(seed, 'dropout'));
    this.dropoutLanes = dropoutRng;
    // one layer from its config, taking `width` inputs; name prefixes its parameters
    // whether the layer being built can only see values >= 0 (an int8 layer then quantizes them to 0..255)
    let nonNegative = false;
    const build = (l: LayerConfig | BlockLayerConfig, i: number, width: number, name: string): Layer => {
      switch (l.type) {
        case 'dense': {
          const opts = { alpha: l.alpha ?? defaultAlpha(l.activation) };
          const mode = int8?.pixelInput && name === 'layers.0' ? 1 : nonNegative ? 2 : 0;
          nonNegative = l.activation === 'relu' || l.activation === 'sigmoid' || l.activation === 'softmax';
          if (int8) return new QDense(i, width, l.units, l.activation, opts, name, mode);
          return new Dense(i, width, l.units, l.activation, opts, name);
        }
        case 'batchnorm':
          nonNegative = false;
          return new BatchNorm(i, width, l.momentum, l.epsilon, name);
        case 'dropout':
          return new Dropout(i, width, l.rate, dropoutRng);
        case 'residual': {
          const inner: Layer[] = [];
          let w = width;
          l.layers.forEach((b, j) => {
            const layer = build(b, j, w, `${name}.layers.${j}`);
            inner.push(layer);
            w = layer.outDim;
          });
          if (w !== width) throw new UserError(`model.layers[${i}]: a residual block must keep its width (output = input + block(input)); it takes ${width} values and its layers give ${w}`);
          nonNegative = false; // input + block(input): not known to be >= 0
          return new Residual(i, width, inner);
        }
      }
    };
    let width = inDim;
    config.layers.forEach((l, i) => {
      const layer = build(l, i, width, `layers.${i}`);
      this.layers.push(layer);
      width = layer.outDim;
    });
    this.outDim = width;
    const last = this.layers[this.layers.length - 1];
    if (!(last instanceof Dense || last instanceof QDense)) throw new Error('the last layer must be dense'); // the schema checks this first
    this.last = last;
    this.outputActivation = last.activation;
    this.params = new Params(this.layers.flatMap((l) => l.paramSpecs()));
    for (const l of this.layers) l.bind(this.params);
    if (initialize) this.initialize(Rng.derive(seed, 'init'));
  }

  /** Trained parameters: the float ones, and an int8 model's int8 weights (which live outside the flat block). */
  get parameterCount(): number {
    return this.params.trainable + this.allLayers().reduce((n, l) => n + (l instanceof QDense ? l.inDim * l.outDim : 0), 0);
  }

  /**
   * For a model loaded only to answer (predict, serve): its pruned layers take single images through
   * the sparse product where that pays (nn/dense.ts). Returns how many do.
   */
  answerSparse(): number {
    return this.allLayers().filter((l) => l instanceof Dense && l.answerSparse()).length;
  }

  /** Every layer, with the layers inside residual blocks in their place. */
  allLayers(): Layer[] {
    return this.layers.flatMap((l) => (l instanceof Residual ? [l, ...l.layers] : [l]));
  }

  private initialize(rng: Rng): void {
    for (const l of this.allLayers()) {
      if (l instanceof Dense) {
        initWeights(this.config.init, this.params.get(`${l.name}.weight`).data, l.inDim, l.outDim, rng, this.config.initStd);
        this.params.get(`${l.name}.bias`).data.fill(0);
      } else if (l instanceof BatchNorm) {
        l.initialize();
      }
    }
  }

  /** The loss folds the output activation into its gradient (softmax + cross-entropy). */
  setFusedOutput(fused: boolean): void {
    this.last.gradIsPreActivation = fused;
  }

  get lastGradIsPreActivation(): boolean {
    return this.last.gradIsPreActivation;
  }

  /** Whether forward can take a shift of its inputs (the first layer is dense; see Dense.forward). */
  get takesInputShift(): boolean {
    return this.layers[0] instanceof Dense;
  }

  /**
   * x (B, In) -> outputs (B, C). The returned buffer belongs to the last layer.
   * With a shift (In), the network's input is x + shift in every row (folded normalization).
   */
  forward(x: Float32Array, B: number, training: boolean, shift: Float32Array | null = null): Float32Array {
    const first = this.layers[0];
    if (shift && !(first instanceof Dense)) throw new Error('an input shift needs a dense first layer');
    let h = first instanceof Dense ? first.forward(x, B, training, shift) : first.forward(x, B, training);
    for (let i = 1; i < this.layers.length; i++) h = this.layers[i].forward(h, B, training);
    return h;
  }

  /** Backpropagates dL/d(output) (or dL/dz of the output layer when fused), setting params.grad. */
  backward(grad: Float32Array, B: number): void {
    let g: Float32Array | null = grad;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i].backward(g, B, i > 0);
  }
}
