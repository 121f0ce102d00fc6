/**
 * The model behind the API: one loaded model file, and what a prediction
 * returns. Images go through `nn predict`'s own pipeline (io/image.ts:
 * decode, ink polarity, crop, fit into 20x20, centre by mass), so a PNG gets
 * the same digit and probabilities from the page, the API and the command
 * line. Pixels given as numbers are taken as the 28x28 input itself, white ink
 * on black, as MNIST stores it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Normalizer } from '../data/normalize';
import { IntegratedGradients } from '../explain/saliency';
import { digitFromBytes } from '../io/image';
import { loadModel, type SavedModel } from '../io/modelfile';
import { Classifier } from '../predict/classify';
import { UserError } from '../util/errors';
import { badRequest } from './http-error';

export interface PredictionAnswer {
  digit: number;
  confidence: number;
  probabilities: number[];
  /** the 28x28 input the model saw, row-major 0..255 */
  input: number[];
  /** each pixel's share of the guessed digit's score (integrated gradients from a black image), divided by the largest: -1..1 */
  saliency: number[];
  top?: Array<{ digit: number; probability: number }>;
}

export interface ModelInfo {
  path: string;
  layers: string[];
  parameters: number;
  testAccuracy: number | null;
}

export class Predictor {
  private readonly saved: SavedModel;
  private readonly classifier: Classifier;
  private readonly explainer: IntegratedGradients;
  readonly D: number;
  readonly info: ModelInfo;
  /** The model file's modification time when it was loaded (a newer file is loaded again). */
  readonly loadedMtime: number;

  /** Loads the model file; a bad one is a UserError naming it. */
  constructor(readonly modelPath: string) {
    this.saved = loadModel(modelPath); // a missing or bad file: one line naming it
    this.loadedMtime = fs.statSync(modelPath).mtimeMs;
    const { model, normalization, rows, cols } = this.saved;
    if (rows !== 28 || cols !== 28) throw new UserError(`${modelPath}: model expects ${rows}x${cols} inputs; nn serve prepares 28x28 digit images`);
    this.D = rows * cols;
    this.classifier = new Classifier(model, normalization, this.D);
    this.explainer = new IntegratedGradients(model, new Normalizer(normalization, this.D));
    this.info = { path: modelPath, layers: describeLayers(this.saved), parameters: model.parameterCount, testAccuracy: testAccuracyBeside(modelPath, this.saved.quantization !== undefined) };
  }

  /** An uploaded PNG or JPEG (`name` stands for it in messages). */
  async fromImage(bytes: Buffer, name: string): Promise<Uint8Array> {
    try {
      return (await digitFromBytes(name, bytes)).pixels;
    } catch (e) {
      if (e instanceof UserError) throw badRequest(/no ink/.test(e.message) ? 'no_ink' : 'bad_image', e.message);
      throw e;
    }
  }

  /** 784 numbers 0..255 (rounded to whole grey levels), as the model's input. */
  fromPixels(v: unknown, field: string): Uint8Array {
    if (!Array.isArray(v)) throw badRequest('bad_pixels', `${field}: expected an array of ${this.D} numbers 0..255 (28x28, row-major, white ink on black)`);
    if (v.length !== this.D) throw badRequest('bad_pixels', `${field}: expected ${this.D} numbers (28x28), got ${v.length}`);
    const out = new Uint8Array(this.D);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 255) throw badRequest('bad_pixels', `${field}[${i}]: expected a number from 0 to 255, got ${JSON.stringify(x)}`);
      out[i] = Math.round(x);
    }
    return out;
  }

  predict(pixels: Uint8Array, top = 0): PredictionAnswer {
    const p = this.classifier.classify(pixels);
    const sal = this.explainer.map(pixels, p.digit);
    const answer: PredictionAnswer = {
      digit: p.digit,
      confidence: p.confidence,
      probabilities: p.probabilities,
      input: Array.from(pixels),
      saliency: Array.from(sal, (s) => Math.round(s * 1e4) / 1e4),
    };
    if (top > 0) answer.top = p.ranked.slice(0, top).map(([digit, probability]) => ({ digit, probability }));
    return answer;
  }
}

function describeLayers(s: SavedModel): string[] {
  const int8 = s.quantization ? 'int8 ' : '';
  return s.config.layers.map((l) => {
    switch (l.type) {
      case 'dense':
        return `${int8}dense ${l.units} ${l.activation}`;
      case 'dropout':
        return `dropout ${l.rate}`;
      case 'batchnorm':
        return 'batchnorm';
      case 'residual':
        return `residual (${l.layers.map((b) => (b.type === 'dense' ? `${int8}dense ${b.units} ${b.activation}` : b.type)).join(', ')})`;
    }
  });
}

/** The test accuracy in the run's metrics.json beside the model (an int8 model's: in quantization.json, from nn quantize), when there is one. */
function testAccuracyBeside(modelPath: string, int8: boolean): number | null {
  try {
    const dir = path.dirname(modelPath);
    if (int8) {
      const q = JSON.parse(fs.readFileSync(path.join(dir, 'quantization.json'), 'utf8')) as { int8Accuracy?: unknown };
      return typeof q.int8Accuracy === 'number' ? q.int8Accuracy : null;
    }
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { test?: { accuracy?: unknown } };
    return typeof m.test?.accuracy === 'number' ? m.test.accuracy : null;
  } catch {
    return null;
  }
}
