/**
 * npm run bench -- --pruned: a pruned model answering one image at a time, as nn predict and nn serve
 * do, with its large pruned layers on the sparse product (kernels/sparse.ts) against the dense one.
 * Trains configs/mlp.yaml and the wide network (the same with 1,024 units in both hidden layers, 2
 * epochs: the times do not depend on the accuracy), prunes each hidden layer by magnitude to 50, 80,
 * 90 and 95% as nn prune does (without its fine-tuning, which changes which weights are 0, not how
 * many), and times the classifier (normalize, forward, softmax) on 1,000 test images, dense and
 * sparse alternating, median of 9, in µs per image, on one thread.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureKernels } from '../kernels';
import { loadModel } from '../io/modelfile';
import { Dense } from '../nn/dense';
import type { Model } from '../nn/model';
import { Classifier } from '../predict/classify';
import { smallestMagnitudes } from '../prune/magnitude';
import { evaluateRun } from '../train/evaluate-run';
import { median, trainMlpAndWide } from './runs';

const IMAGES = 1000;
const REPEATS = 9;
export const SPARSITIES = [0, 0.5, 0.8, 0.9, 0.95];

export interface PrunedBench {
  model: string;
  rows: Array<{ sparsity: number; sparseLayers: number; denseUs: number; sparseUs: number; ratio: number; sameAnswers: number }>;
}

/** Each hidden dense layer's smallest weights set to 0, to the share s (the output layer kept, as nn prune). */
function prune(model: Model, s: number): void {
  const dense = model.allLayers().filter((l): l is Dense => l instanceof Dense);
  for (const l of dense.slice(0, -1)) {
    const w = model.params.get(`${l.name}.weight`).data;
    for (const i of smallestMagnitudes(w, Math.round(s * w.length))) w[i] = 0;
  }
}

export function benchPruned(say: (s: string) => void): PrunedBench[] {
  configureKernels({ threads: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-pruned-'));
  try {
    trainMlpAndWide(dir, 2, say);
    const out: PrunedBench[] = [];
    for (const name of ['mlp', 'wide']) {
      const file = path.join(dir, 'runs', name, 'model.safetensors');
      const { ds, indices } = evaluateRun(file, 'test');
      const images = Array.from({ length: IMAGES }, (_, k) => ds.images.subarray(indices[k] * ds.dim, (indices[k] + 1) * ds.dim));
      const rows: PrunedBench['rows'] = [];
      for (const s of SPARSITIES) {
        const a = loadModel(file);
        const b = loadModel(file);
        prune(a.model, s);
        b.model.params.data.set(a.model.params.data);
        const sparse = new Classifier(a.model, a.normalization, ds.dim, false);
        const sparseLayers = a.model.answerSparse(); // what the classifier of nn predict does
        const dense = new Classifier(b.model, b.normalization, ds.dim, false);
        let same = 0;
        for (const img of images) if (sparse.classify(img).digit === dense.classify(img).digit) same++;
        const time = (c: Classifier) => {
          const t0 = process.hrtime.bigint();
          for (const img of images) c.classify(img);
          return Number(process.hrtime.bigint() - t0) / 1e3 / IMAGES;
        };
        const td: number[] = [];
        const ts: number[] = [];
        for (let r = 0; r < 2; r++) time(dense), time(sparse);
        for (let r = 0; r < REPEATS; r++) {
          td.push(time(dense));
          ts.push(time(sparse));
        }
        const row = { sparsity: s, sparseLayers, denseUs: +median(td).toFixed(2), sparseUs: +median(ts).toFixed(2), ratio: +(median(ts) / median(td)).toFixed(3), sameAnswers: same };
        rows.push(row);
        say(`${name} ${(100 * s).toFixed(0)}%: dense ${row.denseUs} µs, sparse ${row.sparseUs} µs an image (${row.ratio}), ${sparseLayers} sparse layer(s)`);
      }
      out.push({ model: name === 'mlp' ? 'configs/mlp.yaml (784-128-64-10)' : 'wide (784-1024-1024-10)', rows });
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
