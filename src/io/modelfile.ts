/**
 * The model file: safetensors with tensors layers.<i>.weight (Out, In) and
 * layers.<i>.bias (Out), and metadata from which any tool can rebuild the
 * network: format version, the resolved model config, the normalization, and
 * the input image size.
 */
import { z } from 'zod';
import { layerSchema, type ModelConfig } from '../config/schema';
import { formatIssue } from '../config/load';
import type { Normalization } from '../data/normalize';
import { INITS } from '../nn/init';
import { Model } from '../nn/model';
import { UserError } from '../util/errors';
import { readSafetensorsFile, writeSafetensorsFile, type Tensor } from './safetensors';

export const MODEL_FORMAT = 1;

export interface SavedModel {
  model: Model;
  config: ModelConfig;
  normalization: Normalization;
  rows: number;
  cols: number;
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

const metaModel = z.strictObject({ init: z.enum(INITS), initStd: z.number().positive(), layers: z.array(layerSchema).min(1) });
const metaNorm = z.strictObject({
  mode: z.enum(['scale', 'standardize']),
  mean: z.union([z.number(), z.array(z.number())]),
  std: z.union([z.number().positive(), z.array(z.number().positive())]),
});
const metaInput = z.strictObject({ rows: z.number().int().positive(), cols: z.number().int().positive() });

function parseMeta<T>(path: string, key: string, text: string | undefined, schema: z.ZodType<T>): T {
  if (text === undefined) throw new UserError(`${path}: metadata has no "${key}"; expected a model file written by nn train`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${path}: metadata "${key}" is not valid JSON`);
  }
  const r = schema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new UserError(`${path}: metadata ${key}: ${formatIssue(r.error.issues[0])}`);
  return r.data;
}

/** (R, C) -> (C, R): our (In, Out) weights to the file's (Out, In), and back. */
function transpose(data: Float32Array, [R, C]: number[]): Tensor {
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = data[r * C + c];
  return { shape: [C, R], data: out };
}

export function loadModel(path: string): SavedModel {
  const { tensors, metadata } = readSafetensorsFile(path);
  const format = Number(metadata.format);
  if (!Number.isInteger(format) || format < 1) throw new UserError(`${path}: metadata has no valid "format" version; expected a model file written by nn train`);
  if (format > MODEL_FORMAT) throw new UserError(`${path}: model format ${format} is newer than this program reads (${MODEL_FORMAT}); upgrade nn`);
  const config = parseMeta(path, 'config', metadata.config, metaModel) as ModelConfig;
  const normalization = parseMeta(path, 'normalization', metadata.normalization, metaNorm) as Normalization;
  const { rows, cols } = parseMeta(path, 'input', metadata.input, metaInput);
  const D = rows * cols;
  for (const k of ['mean', 'std'] as const) {
    const v = normalization[k];
    if (Array.isArray(v) && v.length !== D) throw new UserError(`${path}: normalization ${k} has ${v.length} values; expected ${D}, one per pixel`);
  }
  const model = new Model(config, D, 0);
  for (const v of model.params.views) {
    const t = tensors.get(v.name);
    if (!t) throw new UserError(`${path}: tensor ${v.name} is missing; the architecture in its metadata needs it`);
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
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new UserError(`${path}: unexpected tensor ${name}; the architecture in its metadata has no such parameter`);
  }
  return { model, config, normalization, rows, cols };
}
