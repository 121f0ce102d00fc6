/**
 * The model file: safetensors with tensors layers.<i>.weight (Out, In) and
 * layers.<i>.bias (Out), and metadata from which any tool can rebuild the
 * network: format version, the resolved model config, the normalization, and
 * the input image size.
 */
import type { ModelConfig } from '../config/schema';
import type { Normalization } from '../data/normalize';
import { ACTIVATIONS } from '../nn/activations';
import { INITS } from '../nn/init';
import { Model } from '../nn/model';
import { QDense } from '../nn/qdense';
import { UserError } from '../util/errors';
import { readSafetensorsFile, writeSafetensorsFile, type AnyTensor, type Tensor } from './safetensors';

export const MODEL_FORMAT = 1;

export interface SavedModel {
  model: Model;
  config: ModelConfig;
  normalization: Normalization;
  rows: number;
  cols: number;
  /** How an int8 model (nn quantize) was made; undefined for a float one. */
  quantization?: Quantization;
}

/** The `quantization` metadata of an int8 model file. */
export interface Quantization {
  weights: string;
  activations: string;
  /** 'pixels': the first layer takes pixel bytes 0..255, the normalization folded into it; 'normalized': as the float model. */
  input: 'pixels' | 'normalized';
}

/**
 * An int8 model (nn quantize): each dense layer's weight as I8 (Out, In) beside its weight_scale
 * (Out) and bias, the other layers' tensors as in a float file; metadata as saveModel's, with the
 * normalization the int8 model takes and `quantization`.
 */
export function saveQuantizedModel(path: string, saved: SavedModel): void {
  const { model } = saved;
  if (!saved.quantization || !model.int8) throw new Error('saveQuantizedModel: the model is not int8');
  const qdense = new Map(model.allLayers().filter((l): l is QDense => l instanceof QDense).map((l) => [`${l.name}.weight_scale`, l]));
  const tensors: Array<[string, AnyTensor]> = [];
  for (const v of model.params.views) {
    const q = qdense.get(v.name);
    if (q) tensors.push([`${q.name}.weight`, { shape: [q.outDim, q.inDim], data: q.weights }]);
    tensors.push([v.name, { shape: v.shape, data: v.data }]);
  }
  writeSafetensorsFile(path, tensors, {
    format: String(MODEL_FORMAT),
    producer: 'nn',
    config: JSON.stringify(model.config),
    normalization: JSON.stringify(saved.normalization),
    input: JSON.stringify({ rows: saved.rows, cols: saved.cols }),
    quantization: JSON.stringify(saved.quantization),
  });
}

export function saveModel(path: string, model: Model, normalization: Normalization, rows: number, cols: number): void {
  const tensors: Array<[string, Tensor]> = model.params.views.map((v) => [v.name, v.transposed ? transpose(v.data, v.shape) : { shape: v.shape, data: v.data }]);
  writeSafetensorsFile(path, tensors, {
    format: String(MODEL_FORMAT),
    producer: 'nn',
    config: JSON.stringify(model.config),
    normalization: JSON.stringify(normalization),
    input: JSON.stringify({ rows, cols }),
  });
}

// Metadata is checked by hand rather than with the config schema: predict loads
// models, and the schema library alone would double its start-up time.
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

function parseMeta(path: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new UserError(`${path}: metadata has no "${key}"; expected a model file written by nn train`);
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${path}: metadata "${key}" is not valid JSON`);
  }
}

function checkModelConfig(path: string, v: unknown): ModelConfig {
  const bad = (where: string, what: string): never => {
    throw new UserError(`${path}: metadata config${where}: ${what}`);
  };
  if (!isObj(v)) return bad('', 'expected a mapping');
  if (!(INITS as readonly unknown[]).includes(v.init)) bad('.init', `expected one of ${INITS.join(', ')}`);
  if (!isNum(v.initStd) || v.initStd <= 0) bad('.initStd', 'expected a number > 0');
  if (!Array.isArray(v.layers) || v.layers.length === 0) return bad('.layers', 'expected a non-empty list');
  const check = (l: unknown, at: string, inBlock: boolean): void => {
    if (!isObj(l)) return bad(at, 'expected a mapping');
    if (l.type === 'dense') {
      if (!isCount(l.units)) bad(`${at}.units`, 'expected a whole number >= 1');
      if (!(ACTIVATIONS as readonly unknown[]).includes(l.activation)) bad(`${at}.activation`, `expected one of ${ACTIVATIONS.join(', ')}`);
      if (l.alpha !== undefined && (!isNum(l.alpha) || l.alpha < 0 || (l.activation === 'leaky_relu' && l.alpha >= 1))) bad(`${at}.alpha`, 'expected a number >= 0 (below 1 for leaky_relu)');
    } else if (l.type === 'dropout') {
      if (!isNum(l.rate) || l.rate < 0 || l.rate >= 1) bad(`${at}.rate`, 'expected a number in [0, 1)');
    } else if (l.type === 'batchnorm') {
      if (!isNum(l.momentum) || l.momentum <= 0 || l.momentum > 1) bad(`${at}.momentum`, 'expected a number in (0, 1]');
      if (!isNum(l.epsilon) || l.epsilon <= 0) bad(`${at}.epsilon`, 'expected a number > 0');
    } else if (l.type === 'residual' && !inBlock) {
      if (!Array.isArray(l.layers) || l.layers.length === 0) return bad(`${at}.layers`, 'expected a non-empty list');
      l.layers.forEach((b: unknown, j: number) => check(b, `${at}.layers[${j}]`, true));
    } else bad(`${at}.type`, inBlock ? 'expected dense, dropout or batchnorm' : 'expected dense, dropout, batchnorm or residual');
  };
  v.layers.forEach((l: unknown, i: number) => check(l, `.layers[${i}]`, false));
  const last = v.layers[v.layers.length - 1] as Obj;
  if (last.type !== 'dense') bad('.layers', 'expected a dense last layer');
  return v as unknown as ModelConfig;
}

function checkNormalization(path: string, v: unknown, D: number): Normalization {
  const bad = (what: string): never => {
    throw new UserError(`${path}: metadata normalization: ${what}`);
  };
  if (!isObj(v)) return bad('expected a mapping');
  if (v.mode !== 'scale' && v.mode !== 'standardize') bad('mode: expected scale or standardize');
  for (const k of ['mean', 'std'] as const) {
    const x = v[k];
    if (Array.isArray(x)) {
      if (x.length !== D) bad(`${k} has ${x.length} values; expected ${D}, one per pixel`);
      if (!x.every((e) => isNum(e) && (k === 'mean' || e > 0))) bad(`${k}: expected finite numbers${k === 'std' ? ' > 0' : ''}`);
    } else if (!isNum(x) || (k === 'std' && x <= 0)) bad(`${k}: expected a number${k === 'std' ? ' > 0' : ''} or one per pixel`);
  }
  return v as unknown as Normalization;
}

/** (R, C) -> (C, R): our (In, Out) weights to the file's (Out, In), and back. */
function transpose(data: Float32Array, [R, C]: number[]): Tensor {
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = data[r * C + c];
  return { shape: [C, R], data: out };
}

export function loadModel(path: string): SavedModel {
  const tensors = readSafetensorsFile(path);
  const { metadata } = tensors;
  const format = Number(metadata.format);
  if (!Number.isInteger(format) || format < 1) throw new UserError(`${path}: metadata has no valid "format" version; expected a model file written by nn train`);
  if (format > MODEL_FORMAT) throw new UserError(`${path}: model format ${format} is newer than this program reads (${MODEL_FORMAT}); upgrade nn`);
  const config = checkModelConfig(path, parseMeta(path, 'config', metadata.config));
  const input = parseMeta(path, 'input', metadata.input);
  if (!isObj(input) || !isCount(input.rows) || !isCount(input.cols)) throw new UserError(`${path}: metadata input: expected {"rows": n, "cols": n}`);
  const rows = input.rows as number;
  const cols = input.cols as number;
  const D = rows * cols;
  const normalization = checkNormalization(path, parseMeta(path, 'normalization', metadata.normalization), D);
  let quantization: Quantization | undefined;
  if (metadata.quantization !== undefined) {
    const q = parseMeta(path, 'quantization', metadata.quantization);
    if (!isObj(q) || (q.input !== 'pixels' && q.input !== 'normalized')) throw new UserError(`${path}: metadata quantization: expected {"input": "pixels" or "normalized", ...}`);
    quantization = q as unknown as Quantization;
  }
  // the file's weights replace any initial ones
  const model = new Model(config, D, 0, false, quantization ? { pixelInput: quantization.input === 'pixels' } : null);
  const int8 = new Set<string>();
  for (const l of model.allLayers()) {
    if (!(l instanceof QDense)) continue;
    const name = `${l.name}.weight`;
    const t = tensors.int8.get(name);
    if (!t) throw new UserError(`${path}: tensor ${name} is missing${tensors.tensors.has(name) ? ' as int8 (I8): it is float32' : ''}; the int8 architecture in its metadata needs it`);
    if (t.shape.join(',') !== `${l.outDim},${l.inDim}`) throw new UserError(`${path}: tensor ${name} has shape [${t.shape.join(', ')}]; the architecture in its metadata needs [${l.outDim}, ${l.inDim}]`);
    l.setWeights(t.data);
    int8.add(name);
  }
  for (const name of tensors.int8.keys()) {
    if (!int8.has(name)) throw new UserError(`${path}: unexpected int8 tensor ${name}${quantization ? '' : ' in a float model (its metadata has no "quantization")'}`);
  }
  for (const v of model.params.views) {
    const t = tensors.tensors.get(v.name);
    if (!t) throw new UserError(`${path}: tensor ${v.name} is missing${tensors.int8.has(v.name) ? ' as float32 (F32): it is int8' : ''}; the architecture in its metadata needs it`);
    const fileShape = v.transposed ? [...v.shape].reverse() : v.shape;
    if (t.shape.join(',') !== fileShape.join(',')) {
      throw new UserError(`${path}: tensor ${v.name} has shape [${t.shape.join(', ')}]; the architecture in its metadata needs [${fileShape.join(', ')}]`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new UserError(`${path}: tensor ${v.name} holds a non-finite value (${t.data[i]}) at index ${i}`);
    }
    v.data.set(v.transposed ? transpose(t.data, fileShape).data : t.data);
  }
  const expected = new Set(model.params.views.map((v) => v.name));
  for (const name of tensors.tensors.keys()) {
    if (!expected.has(name) && !int8.has(name)) throw new UserError(`${path}: unexpected tensor ${name}; the architecture in its metadata has no such parameter`);
  }
  return { model, config, normalization, rows, cols, quantization };
}
