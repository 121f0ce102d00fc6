/**
 * nn export --format onnx against ONNX Runtime (onnxruntime-node, a test-only
 * dependency): three trained models (a plain MLP with dropout and per-pixel standardized
 * inputs, one with batch normalization, ELU and leaky ReLU, and one with a
 * residual block of tanh and sigmoid) exported by the command line and run by
 * ONNX Runtime on the 10,000 official test images, x/255 as given to users:
 * every probability within 1e-5 of nn's own forward pass, and the same 10,000
 * predictions. Where Debian's python3-onnx is installed, onnx.checker passes.
 * The same three as int8 (nn export --int8, and nn export of nn quantize's file): ONNX Runtime,
 * with its default graph optimizations, against nn's own int8 forward pass: the same 10,000
 * predictions, and the probabilities within INT8_TOL.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readIdxFile } from '../../src/data/idx';
import { defaultDataDir } from '../../src/data/mnist';
import { Normalizer } from '../../src/data/normalize';
import { loadModel, type SavedModel } from '../../src/io/modelfile';
import { quantizeModel } from '../../src/quantize/quantize';
import { allocF32 } from '../../src/kernels/memory';
import { buildDist, runNn, trainIn } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const TOL = 1e-5;
// int8: ReLU networks are computed bit for bit as nn does (the export reproduces its normalization of
// bytes and its rounding). ONNX Runtime's ELU, leaky ReLU, sigmoid, tanh and batch normalization differ
// from nn's in the last bits, which now and then moves an input across the rounding boundary between
// two int8 levels: one level of one input (measured worst 0.0026).
const INT8_TOL: Record<string, number> = { mlp: TOL, batchnorm: 0.01, residual: 0.01 };

const MODELS: Record<string, unknown> = {
  mlp: {
    data: { subset: 0.05, normalize: 'standardize', perPixel: true },
    model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    training: { epochs: 1 },
  },
  batchnorm: {
    data: { subset: 0.05, normalize: 'scale' },
    model: { layers: [{ type: 'dense', units: 48, activation: 'elu' }, { type: 'batchnorm' }, { type: 'dense', units: 32, activation: 'leaky_relu', alpha: 0.05 }, { type: 'batchnorm' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    training: { epochs: 1 },
  },
  residual: {
    data: { subset: 0.05 },
    model: { layers: [{ type: 'dense', units: 32, activation: 'tanh' }, { type: 'residual', layers: [{ type: 'dense', units: 32, activation: 'sigmoid' }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 32, activation: 'tanh' }] }, { type: 'dense', units: 10, activation: 'softmax' }] },
    training: { epochs: 1 },
  },
};

let work: string;
const nn = (args: string[]) => runNn(work, args);

beforeAll(() => {
  buildDist();
  work = tempDir('nn-export-');
  for (const [name, cfg] of Object.entries(MODELS)) {
    trainIn(work, name, cfg, `runs/${name}`);
    const e = nn(['export', '--model', `runs/${name}`, '--format', 'onnx']);
    if (e.status !== 0) throw new Error(`nn export ${name}: ${e.stderr}`);
    // int8: the batch-norm model straight from the float one; the others through nn quantize's file
    const steps = name === 'batchnorm' ? [['export', '--model', `runs/${name}`, '--int8']] : [['quantize', '--model', `runs/${name}`], ['export', '--model', `runs/${name}/model.int8.safetensors`]];
    for (const args of steps) {
      const r = nn(args);
      if (r.status !== 0) throw new Error(`nn ${args.join(' ')}: ${r.stderr}`);
    }
  }
}, 240_000);

const images = readIdxFile(path.join(defaultDataDir(), 't10k-images-idx3-ubyte'));
const N = images.dims[0];
const D = 784;

/** nn's own probabilities (N, 10) for the official test images, through the model as nn eval runs it. */
function nnProbabilities(file: string | SavedModel): Float32Array {
  const saved = typeof file === 'string' ? loadModel(file) : file;
  const norm = new Normalizer(saved.normalization, D, saved.model.takesInputShift);
  const B = 500;
  const x = allocF32(B * D);
  const idx = Uint32Array.from({ length: N }, (_, i) => i);
  const out = new Float32Array(N * 10);
  for (let s = 0; s < N; s += B) {
    norm.gather(images.data, idx, s, B, x);
    out.set(saved.model.forward(x, B, false, norm.shift), s * 10);
  }
  return out;
}

const argmax = (p: Float32Array, r: number) => {
  let best = 0;
  for (let c = 1; c < 10; c++) if (p[r * 10 + c] > p[r * 10 + best]) best = c;
  return best;
};

describe('nn export --format onnx, run by ONNX Runtime on the 10,000 official test images', () => {
  for (const name of Object.keys(MODELS)) {
    it(`${name}: every probability within ${TOL} of nn's, the same 10,000 predictions`, async () => {
      const file = path.join(work, 'runs', name, 'model.onnx');
      const session = await ort.InferenceSession.create(file);
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['probabilities', 'logits']);
      const input = Float32Array.from(images.data, (v) => v / 255);
      const r = await session.run({ input: new ort.Tensor('float32', input, [N, D]) });
      const theirs = r.probabilities.data as Float32Array;
      const ours = nnProbabilities(path.join(work, 'runs', name, 'model.safetensors'));
      let worst = 0;
      let differ = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
      for (let k = 0; k < N; k++) if (argmax(ours, k) !== argmax(theirs, k)) differ++;
      expect(worst).toBeLessThanOrEqual(TOL);
      expect(differ).toBe(0);
      // logits are the output layer before softmax: softmax(logits) = probabilities
      const logits = r.logits.data as Float32Array;
      const row = Array.from(logits.subarray(0, 10));
      const m = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      row.forEach((v, c) => expect(Math.exp(v - m) / z).toBeCloseTo(theirs[c], 5));
      // the test is not trivially passed by an untrained model
      let right = 0;
      const labels = readIdxFile(path.join(defaultDataDir(), 't10k-labels-idx1-ubyte')).data;
      for (let k = 0; k < N; k++) if (argmax(theirs, k) === labels[k]) right++;
      expect(right / N).toBeGreaterThan(0.6);
    }, 120_000);
  }

  for (const name of Object.keys(MODELS)) {
    it(`${name}, int8: the same 10,000 predictions as nn's int8 model, every probability within ${INT8_TOL[name]}`, async () => {
      const file = path.join(work, 'runs', name, 'model.int8.onnx');
      const session = await ort.InferenceSession.create(file); // default optimizations, as users run it
      const input = Float32Array.from(images.data, (v) => v / 255);
      const r = await session.run({ input: new ort.Tensor('float32', input, [N, D]) });
      const theirs = r.probabilities.data as Float32Array;
      const floatFile = path.join(work, 'runs', name, 'model.safetensors');
      const ours = nnProbabilities(name === 'batchnorm' ? quantizeModel(loadModel(floatFile)) : path.join(work, 'runs', name, 'model.int8.safetensors'));
      let worst = 0;
      let differ = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
      for (let k = 0; k < N; k++) if (argmax(ours, k) !== argmax(theirs, k)) differ++;
      expect(differ).toBe(0);
      expect(worst).toBeLessThanOrEqual(INT8_TOL[name]);
      // int8, not the float graph: MatMulInteger on int8 weights, and answers of its own
      const { onnx } = await import('onnx-proto');
      const m = onnx.ModelProto.decode(fs.readFileSync(file));
      expect(m.graph!.node.filter((n) => n.opType === 'MatMulInteger').length).toBeGreaterThanOrEqual(3);
      expect(m.graph!.node.some((n) => n.opType === 'Gemm')).toBe(false);
      expect(m.graph!.initializer.find((t) => t.name === 'layers.0.weight')!.dataType).toBe(onnx.TensorProto.DataType.INT8);
      const floats = nnProbabilities(floatFile);
      let moved = 0;
      for (let i = 0; i < ours.length; i++) moved = Math.max(moved, Math.abs(ours[i] - floats[i]));
      expect(moved).toBeGreaterThan(TOL);
    }, 120_000);
  }

  it('carries the producer and the config', async () => {
    const { onnx } = await import('onnx-proto');
    const m = onnx.ModelProto.decode(fs.readFileSync(path.join(work, 'runs/batchnorm/model.onnx')));
    expect(m.producerName).toBe('nn');
    expect(m.producerVersion).toBe(require('../../package.json').version);
    expect(Number(m.opsetImport[0].version)).toBe(17);
    const cfg = JSON.parse(m.metadataProps.find((p) => p.key === 'nn.config')!.value!);
    expect(cfg.layers[1].type).toBe('batchnorm');
    expect(m.graph!.node.map((n) => n.opType)).toEqual(expect.arrayContaining(['Gemm', 'Elu', 'BatchNormalization', 'LeakyRelu', 'Softmax']));
    expect(m.graph!.node.some((n) => n.opType === 'Dropout')).toBe(false);
  });

  const hasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasOnnx)(`passes onnx.checker.check_model (full check)${hasOnnx ? '' : ' (skipped: /usr/bin/python3 has no onnx module; apt-get install -y python3-onnx)'}`, () => {
    for (const name of Object.keys(MODELS)) {
      for (const f of ['model.onnx', 'model.int8.onnx']) {
        const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', path.join(work, 'runs', name, f)], { encoding: 'utf8' });
        expect(r.stdout.trim(), r.stderr).toBe('ok');
      }
    }
  });

  it('refuses a missing model or an unknown format in one line, exit 2, nothing written', () => {
    const a = nn(['export', '--model', 'missing.safetensors']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/^error: missing\.safetensors: file not found\n$/);
    const b = nn(['export', '--model', 'runs/mlp', '--format', 'tflite', '--out', 'x.tflite']);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(work, 'x.tflite'))).toBe(false);
  });
});
