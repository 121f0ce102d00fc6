/**
 * A trained model as an ONNX graph (opset 17, IR version 8: what ONNX Runtime
 * 1.30 and Debian 12's python3-onnx 1.13 both read), built with the official
 * schema compiled for protobufjs (the npm package onnx-proto), not by hand.
 *
 * The input is what a user has: `input`, float32 [N, 784], pixels 0..1 (x/255),
 * white ink on black as MNIST stores them. The model's normalization is folded
 * into the graph (Sub and Div by its mean and std, per pixel or global; none for
 * plain scaling), so nothing else needs to know it. Outputs: `probabilities`
 * [N, 10] (the output layer's activation, softmax for classifiers) and `logits`
 * (the output layer before it). Dense layers are Gemm over the weights as nn
 * stores them (In, Out); dropout is gone at inference; batch normalization is
 * BatchNormalization on its running statistics; a residual block adds its input
 * to its output. The producer, its version and the model config are in the file.
 *
 * An int8 model (nn quantize) exports its dense layers as integer arithmetic that gives exactly
 * what nn computes (nn/qdense.ts): the input row's scale s = max(ReduceMax(|x|) / 127, 1e-30),
 * q = Cast<int8>(Clip(Round(x * (1 / s)), -127, 127)) (after ReLU: / 255, uint8 in [0, 255]),
 * MatMulInteger(q, W int8 (In, Out)) to int32,
 * then (Cast<float> · weight_scale) · s + bias. A first layer that takes pixel bytes rounds x to
 * them instead, q = Cast<uint8>(Clip(Round(x), 0, 255)), s = 1 (its input, x / 255 in the graph,
 * divided by the int8 model's normalization 1/255).
 */
import { onnx } from 'onnx-proto';
import type { SavedModel } from '../io/modelfile';
import { BatchNorm } from '../nn/batchnorm';
import { Dense } from '../nn/dense';
import { Dropout } from '../nn/dropout';
import type { Layer } from '../nn/layer';
import { QDense } from '../nn/qdense';
import { Residual } from '../nn/residual';

export const OPSET = 17;
export const IR_VERSION = 8;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { INT8, UINT8 } = onnx.TensorProto.DataType;

/** The bytes of the .onnx file. */
export function exportOnnx(saved: SavedModel, producerVersion: string): Uint8Array {
  const g = new GraphBuilder(saved);
  const D = saved.rows * saved.cols;
  let x = 'input';
  const { mean, std } = saved.normalization;
  if (saved.quantization) {
    // the pixel bytes again, then nn's own normalization of bytes, (p - 255 mean) / (255 std) with both
    // in float32 (data/normalize.ts), so that the first int8 layer rounds exactly the values nn rounds
    x = g.node('Round', [g.node('Mul', [x, g.scalar(255)], 'input.scaled')], 'input.bytes');
    const per = (v: number | number[]) => (typeof v === 'number' ? [Math.fround(255 * v)] : v.map((e) => Math.fround(255 * e)));
    const offset = per(mean);
    const divisor = per(std);
    if (offset.some((v) => v !== 0)) x = g.node('Sub', [x, g.constant('normalization.offset', offset, [offset.length])], 'normalize.sub');
    if (divisor.some((v) => v !== 1)) x = g.node('Div', [x, g.constant('normalization.divisor', divisor, [divisor.length])], 'normalize.div');
  } else if (saved.normalization.mode !== 'scale' || mean !== 0 || std !== 1) {
    // the model was trained on (x - mean) / std; x here is already x/255
    x = g.node('Sub', [x, g.constant('normalization.mean', typeof mean === 'number' ? [mean] : mean, [typeof mean === 'number' ? 1 : D])], 'normalize.sub');
    x = g.node('Div', [x, g.constant('normalization.std', typeof std === 'number' ? [std] : std, [typeof std === 'number' ? 1 : D])], 'normalize.div');
  }
  const layers = saved.model.layers;
  for (let i = 0; i < layers.length - 1; i++) x = g.layer(layers[i], x);
  const last = layers[layers.length - 1] as Dense | QDense;
  const logits = last instanceof QDense ? g.qlinear(last, x, 'logits') : g.gemm(last, x, 'logits');
  g.activation(last, logits, 'probabilities');
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'nn',
    producerVersion,
    docString: `A from-scratch MNIST network trained by nn${saved.quantization ? ', quantized to int8' : ''}. input: float32 [N, 784], pixels 0..1 (x/255), white ink on black, row-major 28x28. Outputs: probabilities and logits [N, 10].`,
    metadataProps: [
      { key: 'nn.config', value: JSON.stringify(saved.config) },
      { key: 'nn.normalization', value: JSON.stringify(saved.normalization) },
      { key: 'nn.input', value: JSON.stringify({ rows: saved.rows, cols: saved.cols, scale: '0..1 (x/255)' }) },
      ...(saved.quantization ? [{ key: 'nn.quantization', value: JSON.stringify(saved.quantization) }] : []),
    ],
    graph: onnx.GraphProto.create({
      name: 'nn',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', D)],
      output: [valueInfo('probabilities', saved.model.outDim), valueInfo('logits', saved.model.outDim)],
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(name: string, width: number): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } } };
}

class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];

  constructor(private readonly saved: SavedModel) {}

  constant(name: string, values: ArrayLike<number>, dims: number[]): string {
    const data = Float32Array.from(values);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  param(name: string): string {
    const v = this.saved.model.params.get(name);
    return this.constant(name, v.data, v.shape); // as nn holds it: dense weights (In, Out)
  }

  private readonly scalars = new Map<number, string>();
  /** A float32 scalar, once per value. */
  scalar(v: number): string {
    let name = this.scalars.get(v);
    if (!name) this.scalars.set(v, (name = this.constant(`const.${this.scalars.size}`, [v], [])));
    return name;
  }

  node(op: string, inputs: string[], output: string, attribute: onnx.IAttributeProto[] = []): string {
    this.nodes.push({ opType: op, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  layer(l: Layer, x: string): string {
    if (l instanceof Dense) return this.activation(l, this.gemm(l, x, `${l.name}.linear`), `${l.name}.out`);
    if (l instanceof QDense) return this.activation(l, this.qlinear(l, x, `${l.name}.linear`), `${l.name}.out`);
    if (l instanceof Dropout) return x; // identity at inference
    if (l instanceof BatchNorm) {
      const p = l.name;
      return this.node('BatchNormalization', [x, this.param(`${p}.weight`), this.param(`${p}.bias`), this.param(`${p}.running_mean`), this.param(`${p}.running_var`)], `${p}.out`, [floatAttr('epsilon', l.epsilon)]);
    }
    if (l instanceof Residual) {
      let h = x;
      for (const inner of l.layers) h = this.layer(inner, h);
      return this.node('Add', [x, h], `layers.${l.index}.out`);
    }
    throw new Error(`ONNX export: layer kind ${l.kind} is not handled`);
  }

  /** y = x W + b, with W as nn stores it, (In, Out). */
  gemm(l: Dense, x: string, out: string): string {
    return this.node('Gemm', [x, this.param(`${l.name}.weight`), this.param(`${l.name}.bias`)], out);
  }

  /** An int8 dense layer before its activation, as nn computes it (see the top of this file). */
  qlinear(l: QDense, x: string, out: string): string {
    const p = `${l.name}.q`;
    const { inDim: In, outDim: Out, weights: q } = l;
    const wt = new Int8Array(In * Out); // (In, Out): MatMulInteger's B
    for (let o = 0; o < Out; o++) for (let i = 0; i < In; i++) wt[i * Out + o] = q[o * In + i];
    this.initializers.push({ name: `${l.name}.weight`, dims: [In, Out], dataType: INT8, rawData: new Uint8Array(wt.buffer) });
    let qx: string;
    let rowScale: string | null;
    if (l.inputMode === 1) {
      // pixel bytes: x rounded as it is, s = 1
      const r = this.node('Clip', [this.node('Round', [x], `${p}.round`), this.scalar(0), this.scalar(255)], `${p}.clip`);
      qx = this.node('Cast', [r], `${p}.input`, [intAttr('to', UINT8)]);
      rowScale = null;
    } else {
      // signed (0): int8 by the row's largest magnitude; unsigned (2): 0..255 by its largest value
      const signed = l.inputMode === 0;
      const amax = this.node('ReduceMax', [this.node('Abs', [x], `${p}.abs`)], `${p}.max`, [intsAttr('axes', [1]), intAttr('keepdims', 1)]);
      const s = this.node('Max', [this.node('Div', [amax, this.scalar(signed ? 127 : 255)], `${p}.scale_raw`), this.scalar(1e-30)], `${p}.scale`);
      // x times 1/s, as the kernel (Reciprocal: ONNX Runtime's optimizer turns x * Div(1, s) back into x / s)
      const inv = this.node('Reciprocal', [s], `${p}.inverse`);
      const r = this.node('Clip', [this.node('Round', [this.node('Mul', [x, inv], `${p}.div`)], `${p}.round`), this.scalar(signed ? -127 : 0), this.scalar(signed ? 127 : 255)], `${p}.clip`);
      qx = this.node('Cast', [r], `${p}.input`, [intAttr('to', signed ? INT8 : UINT8)]);
      rowScale = s;
    }
    const acc = this.node('MatMulInteger', [qx, `${l.name}.weight`], `${p}.sum`);
    // (f32(sum) * weight_scale) * s, in this order: ONNX Runtime 1.30 fuses f32(sum) * (s * weight_scale)
    // into MatMulIntegerToFloat, which takes one s for the whole batch (measured: 17 of 10,000 answers changed)
    let y = this.node('Mul', [this.node('Cast', [acc], `${p}.sumf`, [intAttr('to', FLOAT)]), this.param(`${l.name}.weight_scale`)], `${p}.unit_scaled`);
    if (rowScale) y = this.node('Mul', [y, rowScale], `${p}.scaled`);
    return this.node('Add', [y, this.param(`${l.name}.bias`)], out);
  }

  activation(l: Dense | QDense, x: string, out: string): string {
    const a = l.actOpts.alpha ?? 0;
    switch (l.activation) {
      case 'linear':
        return this.node('Identity', [x], out);
      case 'relu':
        return this.node('Relu', [x], out);
      case 'leaky_relu':
        return this.node('LeakyRelu', [x], out, [floatAttr('alpha', a)]);
      case 'elu':
        return this.node('Elu', [x], out, [floatAttr('alpha', a)]);
      case 'sigmoid':
        return this.node('Sigmoid', [x], out);
      case 'tanh':
        return this.node('Tanh', [x], out);
      case 'softmax':
        return this.node('Softmax', [x], out, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
    }
  }
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function intsAttr(name: string, ints: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}

function floatAttr(name: string, f: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
