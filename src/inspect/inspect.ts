/**
 * What a trained network looks like inside, for nn inspect: per layer, its
 * parameters, how many of its weights are exactly zero (pruning shows here), their
 * norm and a histogram of their values; and, on the first 2,000 images of the
 * run's own test split, a histogram of each hidden layer's outputs and the share
 * of its units that never fire (ReLU, leaky ReLU and ELU units whose input stays
 * at or below 0: dead units). The core computes; pictures.ts draws.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRawConfig, resolveConfig } from '../config/load';
import { Normalizer } from '../data/normalize';
import type { SavedModel } from '../io/modelfile';
import { allocF32 } from '../kernels/memory';
import { BatchNorm } from '../nn/batchnorm';
import { Dense } from '../nn/dense';
import type { Layer } from '../nn/layer';
import { QDense } from '../nn/qdense';
import { Residual } from '../nn/residual';
import { prepareData } from '../train/pipeline';

export const ACTIVATION_IMAGES = 2000;
const BINS = 40;

export interface Histogram {
  lo: number;
  hi: number;
  counts: number[]; // BINS equal bins from lo to hi
}

export interface LayerReport {
  name: string;
  kind: string; // "dense 128 relu", "batchnorm", ...
  parameters: number;
  /** weights exactly 0, as a share of the weights (dense layers) */
  zeroWeights: number | null;
  weightNorm: number | null; // L2
  weights: Histogram | null;
  /** on the test images: the layer's outputs */
  activations: Histogram | null;
  /** on the test images: units whose activation never exceeded 0 (ReLU-like layers) */
  deadUnits: number | null;
  units: number | null;
}

export interface InspectReport {
  model: string;
  parameters: number;
  layers: LayerReport[];
  /** how many test images the activations come from (0: no run config beside the model) */
  images: number;
  /** the first dense layer's weights, (In, Out), for the picture of what each unit looks for */
  firstWeights: { data: Float32Array; inputs: number; units: number } | null;
}

type DenseLike = Dense | QDense;
const isDense = (l: Layer): l is DenseLike => l instanceof Dense || l instanceof QDense;

export function inspectModel(modelPath: string, saved: SavedModel): InspectReport {
  const { model } = saved;
  const flat: Layer[] = model.allLayers().filter((l) => !(l instanceof Residual));
  const dense = flat.filter(isDense);
  // Wt (In, Out) as floats: an int8 layer's dequantized (q · its unit's scale)
  const weightsOf = (l: DenseLike) => (l instanceof QDense ? l.dequantize() : model.params.get(`${l.name}.weight`).data);
  const { stats: acts, images } = activationStats(modelPath, saved, dense);
  const layers: LayerReport[] = flat.map((l) => {
    const specs = l.paramSpecs().filter((s) => !s.buffer);
    const parameters = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0) + (l instanceof QDense ? l.inDim * l.outDim : 0);
    if (!isDense(l)) return { name: (l as unknown as { name?: string }).name ?? `layers.${(l as unknown as { index: number }).index}`, kind: l instanceof BatchNorm ? 'batchnorm' : l.kind, parameters, zeroWeights: null, weightNorm: null, weights: null, activations: null, deadUnits: null, units: null };
    const w = weightsOf(l);
    let zeros = 0;
    let sq = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i] === 0) zeros++;
      sq += w[i] * w[i];
    }
    const a = acts.get(l);
    return { name: l.name, kind: `${l instanceof QDense ? 'int8 ' : ''}dense ${l.outDim} ${l.activation}`, parameters, zeroWeights: zeros / w.length, weightNorm: Math.sqrt(sq), weights: histogram(w), activations: a?.histogram ?? null, deadUnits: a?.dead ?? null, units: l.outDim };
  });
  const first = model.layers[0];
  return {
    model: modelPath,
    parameters: layers.reduce((n, l) => n + l.parameters, 0),
    layers,
    images,
    firstWeights: isDense(first) ? { data: weightsOf(first), inputs: first.inDim, units: first.outDim } : null,
  };
}

function histogram(v: ArrayLike<number>): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  if (!(hi > lo)) hi = lo + 1;
  const counts = new Array<number>(BINS).fill(0);
  const k = BINS / (hi - lo);
  for (let i = 0; i < v.length; i++) counts[Math.min(BINS - 1, Math.floor((v[i] - lo) * k))]++;
  return { lo, hi, counts };
}

/** Each hidden dense layer's outputs on the run's test images (none without the run's config.json). */
function activationStats(modelPath: string, saved: SavedModel, dense: DenseLike[]): { stats: Map<DenseLike, { histogram: Histogram; dead: number | null }>; images: number } {
  const stats = new Map<DenseLike, { histogram: Histogram; dead: number | null }>();
  const cfgPath = path.join(path.dirname(modelPath), 'config.json');
  if (!fs.existsSync(cfgPath)) return { stats, images: 0 };
  const config = resolveConfig(readRawConfig(cfgPath), cfgPath);
  const { ds, split } = prepareData(config);
  if (ds.dim !== saved.model.inDim) return { stats, images: 0 };
  const idx = split.test.subarray(0, ACTIVATION_IMAGES);
  const hidden = dense.slice(0, -1);
  const values = new Map(hidden.map((l) => [l, new Float32Array(idx.length * l.outDim)]));
  const norm = new Normalizer(saved.normalization, ds.dim, saved.model.takesInputShift);
  const B = 500;
  const x = allocF32(B * ds.dim);
  for (let s = 0; s < idx.length; s += B) {
    const n = Math.min(B, idx.length - s);
    norm.gather(ds.images, idx, s, n, x);
    saved.model.forward(x, n, false, norm.shift);
    for (const l of hidden) values.get(l)!.set(l.output().subarray(0, n * l.outDim), s * l.outDim);
  }
  for (const l of hidden) {
    const v = values.get(l)!;
    let dead: number | null = null;
    if (l.activation === 'relu' || l.activation === 'leaky_relu' || l.activation === 'elu') {
      const fired = new Uint8Array(l.outDim);
      for (let i = 0; i < v.length; i++) if (v[i] > 0) fired[i % l.outDim] = 1;
      dead = fired.reduce((a, f) => a + (f ? 0 : 1), 0) / l.outDim;
    }
    stats.set(l, { histogram: histogram(v), dead });
  }
  return { stats, images: idx.length };
}
