/**
 * End to end through the real built program: `node bin/nn ...` in a fresh
 * temp folder (so runs/ lands there), with a tiny config that trains in about
 * a second: 784-32-10 with dropout, 5% of each split, 2 epochs.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { paint } from '../../src/cli/color';
import { confusedPairs } from '../../src/cli/format';
import { tempDir } from '../helpers/tmp';

const REPO = path.resolve(__dirname, '../..');
const BIN = path.join(REPO, 'bin/nn');
const SAMPLES = path.join(REPO, 'data/samples');
const SLOW = 30_000; // per test that trains; each run takes about a second

const TINY_YAML = `# tiny: a quick run for the end-to-end tests
model:
  layers:
    - { type: dense, units: 32, activation: relu }
    - { type: dropout, rate: 0.1 }
    - { type: dense, units: 10, activation: softmax }
data:
  subset: 0.05
training:
  epochs: 2
  optimizer: { type: adam, learningRate: 0.003 }
`;

// 5% of the 80/10/10 split of 70,000 images (56000/7000/7000).
const SIZES = { train: 2800, val: 350, test: 350 };
// The tiny run reaches about 0.86-0.89 test accuracy across seeds (0.874 with seed 42);
// chance is 0.10 and a trainer that does not learn stays far below this floor.
const ACCURACY_FLOOR = 0.8;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

let work: string; // cwd of every nn run
let empty: string; // a folder with no runs/

function nn(args: string[], cwd = work): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts the run failed with `code` and exactly one stderr line "error: ..." with no stack trace; returns that line. */
function oneLineError(r: Result, code = 2): string {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr).not.toContain('    at ');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith('error: '), lines[0]).toBe(true);
  expect(r.stderr.endsWith('\n')).toBe(true);
  return lines[0];
}

function ok(r: Result): Result {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

const inWork = (...p: string[]) => path.join(work, ...p);
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(inWork(...p), 'utf8'));

// ---- a safetensors reader of our own, independent of src/io/safetensors.ts

interface ParsedSafetensors {
  header: Record<string, any>;
  metadata: Record<string, string>;
  tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array }>;
}

function parseSafetensors(buf: Buffer): ParsedSafetensors {
  expect(buf.length).toBeGreaterThan(8);
  const n = Number(buf.readBigUInt64LE(0));
  expect(8 + n).toBeLessThanOrEqual(buf.length);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const dataStart = 8 + n;
  const tensors = new Map<string, { dtype: string; shape: number[]; data: Float32Array }>();
  let covered = 0;
  for (const [name, t] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    expect(t.dtype).toBe('F32');
    const [begin, end] = t.data_offsets as [number, number];
    const count = (t.shape as number[]).reduce((a, b) => a * b, 1);
    expect(end - begin, name).toBe(count * 4);
    expect(dataStart + end).toBeLessThanOrEqual(buf.length);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(i * 4);
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data });
    covered += end - begin;
  }
  expect(dataStart + covered, 'the tensors fill the data buffer exactly').toBe(buf.length);
  return { header, metadata: header.__metadata__ ?? {}, tensors };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(buf.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

let first: Result; // the first `nn train --config tiny.yaml`

beforeAll(() => {
  // Build src/ into dist/ so the program under test is the current source.
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: REPO, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p . failed:\n${tsc.stdout}${tsc.stderr}`);
  work = tempDir('nn-cli-test-');
  empty = tempDir('nn-cli-empty-');
  fs.writeFileSync(inWork('tiny.yaml'), TINY_YAML);
  first = nn(['train', '--config', 'tiny.yaml']);
}, 120_000);

describe('nn train', () => {
  it('exits 0 and prints one line per epoch, the stop reason and the test accuracy', () => {
    ok(first);
    const lines = first.stdout.split('\n');
    expect(lines[0]).toBe(`training tiny.yaml -> ${path.join('runs', 'tiny')}`);
    expect(first.stdout).toContain(`split ${SIZES.train}/${SIZES.val}/${SIZES.test} (train/val/test)`);
    const epochs = lines.filter((l) => l.startsWith('epoch '));
    expect(epochs).toHaveLength(2);
    expect(epochs[0]).toMatch(/^epoch 1\/2  loss \d+\.\d{4}  acc \d+\.\d\d%  val_loss \d+\.\d{4}  val_acc \d+\.\d\d%  \d+\.\ds  \d+ samples\/s$/);
    expect(epochs[1]).toMatch(/^epoch 2\/2  /);
    expect(first.stdout).toContain('stopped: finished all 2 epochs\n');
    expect(first.stdout).toMatch(/^test: accuracy \d+\.\d\d%  loss \d+\.\d{4}  on 350 images/m);
    expect(first.stdout).toContain(`wrote ${path.join('runs', 'tiny', 'model.safetensors')}`);
    expect(first.stderr).toBe(''); // CI: no progress bars
  });

  it('writes the run folder with its four files, and points runs/.latest at it', () => {
    for (const f of ['model.safetensors', 'metrics.json', 'metrics.csv', 'config.json']) {
      expect(fs.existsSync(inWork('runs', 'tiny', f)), f).toBe(true);
    }
    expect(fs.realpathSync(fs.readFileSync(inWork('runs', '.latest'), 'utf8').trim())).toBe(fs.realpathSync(inWork('runs', 'tiny')));
    expect(fs.existsSync(path.join(REPO, 'runs', 'tiny'))).toBe(false); // nothing in the repo
  });

  it('draws curves.svg and confusion.svg, each with a PNG, from the run\'s numbers', async () => {
    const curves = fs.readFileSync(inWork('runs', 'tiny', 'curves.svg'), 'utf8');
    expect(curves.startsWith('<svg')).toBe(true);
    for (const title of ['Loss', 'Accuracy', 'Learning rate', 'validation']) expect(curves).toContain(title);
    const confusion = fs.readFileSync(inWork('runs', 'tiny', 'confusion.svg'), 'utf8');
    expect(confusion).toContain('Test confusion matrix');
    // every count of the matrix is written in its cell
    const m = readJson('runs', 'tiny', 'metrics.json');
    const diagonal: number[] = m.test.confusion.map((row: number[], i: number) => row[i]);
    for (const c of diagonal) expect(confusion).toContain(`>${c}</text>`);
    const sharp = require('sharp') as typeof import('sharp');
    for (const f of ['curves.png', 'confusion.png']) expect((await sharp(inWork('runs', 'tiny', f)).metadata()).format, f).toBe('png');
  });

  it('config.json is the resolved config, defaults included', () => {
    const c = readJson('runs', 'tiny', 'config.json');
    expect(c.seed).toBe(42);
    expect(c.data).toEqual({ split: [0.8, 0.1, 0.1], normalize: 'standardize', perPixel: false, subset: 0.05, augment: false });
    expect(c.training.epochs).toBe(2);
    expect(c.training.batchSize).toBe(64);
    expect(c.training.optimizer).toEqual({ type: 'adam', learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    expect(c.model.layers).toHaveLength(3);
  });

  it('metrics.json records the epochs, split sizes, test confusion and speed', () => {
    const m = readJson('runs', 'tiny', 'metrics.json');
    expect(m.epochs).toHaveLength(2);
    m.epochs.forEach((e: any, i: number) => {
      expect(e.epoch).toBe(i + 1);
      for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds']) {
        expect(typeof e[k], k).toBe('number');
        expect(Number.isFinite(e[k]), k).toBe(true);
      }
      expect(e.accuracy).toBeGreaterThan(0);
      expect(e.accuracy).toBeLessThanOrEqual(1);
      expect(e.lr).toBe(0.003);
    });
    expect(m.epochs[1].loss).toBeLessThan(m.epochs[0].loss); // it learns
    expect(m.epochsRun).toBe(2);
    expect([1, 2]).toContain(m.bestEpoch);
    expect(m.stopReason).toBe('finished all 2 epochs');
    expect(m.split).toMatchObject({ mode: '0.8/0.1/0.1', seed: 42, ...SIZES });
    expect(m.val.samples).toBe(SIZES.val);
    expect(m.test.samples).toBe(SIZES.test);
    const confusion: number[][] = m.test.confusion;
    expect(confusion).toHaveLength(10);
    for (const row of confusion) expect(row).toHaveLength(10);
    const total = confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(SIZES.test);
    const correct = confusion.reduce((a, row, i) => a + row[i], 0);
    expect(m.test.accuracy).toBeCloseTo(correct / total, 6);
    expect(m.samplesPerSecond).toBeGreaterThan(0);
    expect(first.stdout).toContain(`test: accuracy ${pct(m.test.accuracy)}`);
  });

  it(`reaches a test accuracy above ${ACCURACY_FLOOR}`, () => {
    const m = readJson('runs', 'tiny', 'metrics.json');
    expect(m.test.accuracy).toBeGreaterThan(ACCURACY_FLOOR);
    expect(m.val.accuracy).toBeGreaterThan(ACCURACY_FLOOR);
  });

  it('metrics.csv has a header and one row per epoch matching metrics.json', () => {
    const m = readJson('runs', 'tiny', 'metrics.json');
    const rows = fs.readFileSync(inWork('runs', 'tiny', 'metrics.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second');
    expect(rows).toHaveLength(3);
    const cells = rows[2].split(',').map(Number);
    expect(cells.slice(0, 5)).toEqual([2, m.epochs[1].loss, m.epochs[1].accuracy, m.epochs[1].val_loss, m.epochs[1].val_accuracy]);
  });

  it('model.safetensors is valid safetensors with the layer tensors and metadata', () => {
    const st = parseSafetensors(fs.readFileSync(inWork('runs', 'tiny', 'model.safetensors')));
    const shapes = Object.fromEntries([...st.tensors].map(([k, t]) => [k, t.shape]));
    expect(shapes).toEqual({
      'layers.0.weight': [32, 784],
      'layers.0.bias': [32],
      'layers.2.weight': [10, 32],
      'layers.2.bias': [10],
    });
    for (const [name, t] of st.tensors) {
      expect(t.data.every(Number.isFinite), name).toBe(true);
    }
    const w = st.tensors.get('layers.0.weight')!.data;
    expect(w.some((v) => v !== 0)).toBe(true);
    expect(st.metadata.format).toBe('1');
    const config = JSON.parse(st.metadata.config);
    expect(config.layers).toEqual([
      { type: 'dense', units: 32, activation: 'relu' },
      { type: 'dropout', rate: 0.1 },
      { type: 'dense', units: 10, activation: 'softmax' },
    ]);
    const norm = JSON.parse(st.metadata.normalization);
    expect(norm.mode).toBe('standardize');
    expect(norm.mean).toBeGreaterThan(0);
    expect(norm.std).toBeGreaterThan(0);
    expect(JSON.parse(st.metadata.input)).toEqual({ rows: 28, cols: 28 });
  });

  it(
    'a second run does not overwrite: it goes to runs/tiny-2, with identical weights (same seed)',
    () => {
      const before = fs.readFileSync(inWork('runs', 'tiny', 'model.safetensors'));
      const r = ok(nn(['train', '--config', 'tiny.yaml']));
      expect(r.stdout.split('\n')[0]).toBe(`training tiny.yaml -> ${path.join('runs', 'tiny-2')}`);
      expect(fs.readFileSync(inWork('runs', 'tiny', 'model.safetensors')).equals(before)).toBe(true);
      const second = fs.readFileSync(inWork('runs', 'tiny-2', 'model.safetensors'));
      expect(second.equals(before), 'same seed and config must give the same bytes').toBe(true);
      const a = readJson('runs', 'tiny', 'metrics.json');
      const b = readJson('runs', 'tiny-2', 'metrics.json');
      expect(b.epochs.map((e: any) => [e.loss, e.val_loss])).toEqual(a.epochs.map((e: any) => [e.loss, e.val_loss]));
      expect(b.test.confusion).toEqual(a.test.confusion);
      expect(fs.readFileSync(inWork('runs', '.latest'), 'utf8')).toContain('tiny-2');
    },
    SLOW,
  );

  it(
    '--out onto an existing run needs --force; without it, exit 2 and the run is untouched',
    () => {
      const model = inWork('runs', 'tiny', 'model.safetensors');
      const before = fs.readFileSync(model);
      const line = oneLineError(nn(['train', '--config', 'tiny.yaml', '--out', 'runs/tiny']));
      expect(line).toBe('error: runs/tiny: already holds a run; pass --force to overwrite it, or choose another --out');
      expect(fs.readFileSync(model).equals(before)).toBe(true);
      expect(fs.existsSync(inWork('runs', 'tiny', 'metrics.csv'))).toBe(true);

      // With --force it trains again into the same folder (metrics.csv, removed here, comes back).
      fs.rmSync(inWork('runs', 'tiny', 'metrics.csv'));
      const r = ok(nn(['train', '--config', 'tiny.yaml', '--out', 'runs/tiny', '--force']));
      expect(r.stdout.split('\n')[0]).toBe('training tiny.yaml -> runs/tiny');
      expect(fs.existsSync(inWork('runs', 'tiny', 'metrics.csv'))).toBe(true);
      expect(fs.readFileSync(model).equals(before)).toBe(true); // deterministic, so the same bytes again
      expect(fs.existsSync(inWork('runs', 'tiny-3'))).toBe(false);
    },
    SLOW,
  );

  it(
    '--seed 7 gives different weights (and a different split); --epochs overrides the config',
    () => {
      const r = ok(nn(['train', '--config', 'tiny.yaml', '--seed', '7', '--epochs', '1', '--out', 'runs/seed7']));
      expect(r.stdout.split('\n').filter((l) => l.startsWith('epoch '))).toHaveLength(1);
      const m = readJson('runs', 'seed7', 'metrics.json');
      expect(m.split.seed).toBe(7);
      expect(m.epochs).toHaveLength(1);
      expect(readJson('runs', 'seed7', 'config.json').seed).toBe(7);
      const a = parseSafetensors(fs.readFileSync(inWork('runs', 'tiny', 'model.safetensors'))).tensors.get('layers.0.weight')!.data;
      const b = parseSafetensors(fs.readFileSync(inWork('runs', 'seed7', 'model.safetensors'))).tensors.get('layers.0.weight')!.data;
      expect(b.length).toBe(a.length);
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      expect(same / a.length).toBeLessThan(0.01);
    },
    SLOW,
  );
});

describe('nn eval', () => {
  // By now the most recent run is runs/seed7 (1 epoch, seed 7).
  it('without flags uses the most recent run and prints accuracy, a confusion matrix and a per-class table', () => {
    const r = ok(nn(['eval']));
    const m = readJson('runs', 'seed7', 'metrics.json');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`model: ${path.join('runs', 'seed7', 'model.safetensors')}`);
    expect(r.stdout).toContain(`test: 350 samples  accuracy ${pct(m.test.accuracy)}  loss ${m.test.loss.toFixed(4)}`);
    expect(r.stdout).toContain('confusion matrix (rows: true digit, columns: predicted)');
    const header = lines.findIndex((l) => /^true\\pred\s+0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s+8\s+9$/.test(l));
    expect(header).toBeGreaterThan(0);
    const rows = lines.slice(header + 1, header + 11).map((l) => l.trim().split(/\s+/).map(Number));
    expect(rows.map((row) => row[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows.map((row) => row.slice(1))).toEqual(m.test.confusion);
    const table = lines.findIndex((l) => /^digit\s+precision\s+recall\s+f1\s+support$/.test(l));
    expect(table).toBeGreaterThan(header);
    const perClass = lines.slice(table + 1, table + 11);
    perClass.forEach((l, d) => expect(l).toMatch(new RegExp(`^${d}\\s+[01]\\.\\d{4}\\s+[01]\\.\\d{4}\\s+[01]\\.\\d{4}\\s+\\d+$`)));
    expect(r.stderr).toBe('');
  });

  it('--json prints one JSON object whose accuracy matches the run metrics', () => {
    const r = ok(nn(['eval', '--json', '--model', 'runs/tiny']));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const e = JSON.parse(r.stdout);
    expect(Object.keys(e).sort()).toEqual(['accuracy', 'confusion', 'loss', 'mostConfused', 'perClass', 'samples', 'split']);
    expect(e.split).toBe('test');
    expect(e.samples).toBe(SIZES.test);
    const m = readJson('runs', 'tiny', 'metrics.json');
    expect(Math.abs(e.accuracy - m.test.accuracy)).toBeLessThan(1e-6);
    expect(Math.abs(e.loss - m.test.loss)).toBeLessThan(1e-5);
    expect(e.confusion).toEqual(m.test.confusion);
    expect(e.perClass).toHaveLength(10);
    e.perClass.forEach((c: any, d: number) => {
      expect(Object.keys(c).sort()).toEqual(['digit', 'f1', 'precision', 'recall']);
      expect(c.digit).toBe(d);
      const tp = e.confusion[d][d];
      const actual = e.confusion[d].reduce((a: number, b: number) => a + b, 0);
      expect(c.recall).toBeCloseTo(tp / actual, 9);
    });
  });

  it('--json on the most recent run equals that run’s metrics too', () => {
    const e = JSON.parse(ok(nn(['eval', '--json'])).stdout);
    expect(Math.abs(e.accuracy - readJson('runs', 'seed7', 'metrics.json').test.accuracy)).toBeLessThan(1e-6);
  });

  it('--split val and --split train measure the other parts', () => {
    const m = readJson('runs', 'tiny', 'metrics.json');
    const val = JSON.parse(ok(nn(['eval', '--json', '--split', 'val', '--model', 'runs/tiny/model.safetensors'])).stdout);
    expect(val.split).toBe('val');
    expect(val.samples).toBe(SIZES.val);
    expect(Math.abs(val.accuracy - m.val.accuracy)).toBeLessThan(1e-6);
    const train = JSON.parse(ok(nn(['eval', '--json', '--split', 'train', '--model', 'runs/tiny'])).stdout);
    expect(train.samples).toBe(SIZES.train);
    const text = ok(nn(['eval', '--split', 'val', '--model', 'runs/tiny'])).stdout;
    expect(text).toContain(`val: 350 samples  accuracy ${pct(m.val.accuracy)}`);
  });

  it('--split bogus is refused with the allowed choices', () => {
    const line = oneLineError(nn(['eval', '--split', 'bogus']));
    expect(line).toContain('Allowed choices are test, val, train');
  });

  it('in a folder with no runs: exit 2 and a hint to train', () => {
    const line = oneLineError(nn(['eval'], empty));
    expect(line).toContain('no trained model found');
    expect(line).toContain('nn train');
    expect(line).toContain('--model');
  });

  it('a model without its run config.json: exit 2 naming the missing file', () => {
    fs.mkdirSync(inWork('lone'), { recursive: true });
    fs.copyFileSync(inWork('runs', 'tiny', 'model.safetensors'), inWork('lone', 'model.safetensors'));
    const line = oneLineError(nn(['eval', '--model', 'lone']));
    expect(line).toMatch(/^error: lone\/config\.json: not found; /);
  });
});

describe('nn predict', () => {
  const digit = (d: number) => path.join(SAMPLES, `digit-${d}.png`);

  it('prints the digit for a sample image', () => {
    const r = ok(nn(['predict', '--model', 'runs/tiny', digit(1)]));
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    // The tiny model is ~99% sure of the sample 1; a broken preprocessing or forward pass is not.
    expect(lines[0]).toMatch(new RegExp(`^${escape(digit(1))}: 1 \\(\\d+\\.\\d%\\)$`));
  });

  it('uses the most recent run without --model', () => {
    const r = ok(nn(['predict', digit(4)]));
    expect(r.stdout).toMatch(/: \d \(\d+\.\d%\)\n$/);
  });

  it('--json gives an array of {image, digit, confidence, probabilities}', () => {
    const r = ok(nn(['predict', '--json', '--model', 'runs/tiny', digit(1), digit(4)]));
    const out = JSON.parse(r.stdout);
    expect(Array.isArray(out)).toBe(true);
    expect(out).toHaveLength(2);
    for (const [i, p] of out.entries()) {
      expect(Object.keys(p).sort()).toEqual(['confidence', 'digit', 'image', 'probabilities']);
      expect(p.image).toBe(digit([1, 4][i]));
      expect(p.probabilities).toHaveLength(10);
      const sum = p.probabilities.reduce((a: number, b: number) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-4);
      for (const v of p.probabilities) expect(v).toBeGreaterThanOrEqual(0);
      const max = Math.max(...p.probabilities);
      expect(p.confidence).toBe(max);
      expect(p.digit).toBe(p.probabilities.indexOf(max));
    }
    expect(out[0].digit).toBe(1);
    expect(out[1].digit).toBe(4); // also ~99% with the tiny model
  });

  it('--top 3 shows the next two most likely digits', () => {
    const r = ok(nn(['predict', '--top', '3', '--model', 'runs/tiny', digit(1)]));
    const m = /^.*: (\d) \((\d+\.\d)%\)  next: (\d) (\d+\.\d)%, (\d) (\d+\.\d)%\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [, d1, p1, d2, p2, d3, p3] = m!;
    expect(new Set([d1, d2, d3]).size).toBe(3);
    expect(Number(p1)).toBeGreaterThanOrEqual(Number(p2));
    expect(Number(p2)).toBeGreaterThanOrEqual(Number(p3));
  });

  it('--save-input writes the 28x28 image the prediction was made from', () => {
    ok(nn(['predict', '--save-input', 'seen', '--model', 'runs/tiny', digit(3)]));
    const png = fs.readFileSync(inWork('seen', 'digit-3.28x28.png'));
    expect(pngSize(png)).toEqual({ width: 28, height: 28 });
  });

  it('a missing image: exit 2, one line naming it', () => {
    const line = oneLineError(nn(['predict', '--model', 'runs/tiny', 'nope.png']));
    expect(line).toBe('error: nope.png: file or folder not found');
  });

  it('a text file posing as an image: exit 2, one line naming it', () => {
    fs.writeFileSync(inWork('text.png'), 'hello, not a picture\n');
    const line = oneLineError(nn(['predict', '--model', 'runs/tiny', 'text.png']));
    expect(line).toMatch(/^error: text\.png: not an image/);
  });

  it('--model pointing at a file that is not safetensors: exit 2, one line naming it', () => {
    const line = oneLineError(nn(['predict', '--model', 'tiny.yaml', digit(1)]));
    expect(line).toMatch(/^error: tiny\.yaml: not a safetensors file/);
    fs.writeFileSync(inWork('short.safetensors'), 'abc');
    expect(oneLineError(nn(['predict', '--model', 'short.safetensors', digit(1)]))).toMatch(/^error: short\.safetensors: not a safetensors file/);
    expect(oneLineError(nn(['predict', '--model', 'missing.safetensors', digit(1)]))).toMatch(/^error: missing\.safetensors: /);
  });

  it('--top 0 is refused', () => {
    expect(oneLineError(nn(['predict', '--top', '0', digit(1)]))).toContain('expected a whole number >= 1');
  });
});

describe('bad input and usage', () => {
  it('a misspelt config key: exit 2, one line naming the key with a suggestion', () => {
    fs.writeFileSync(inWork('typo.yaml'), TINY_YAML.replace('epochs: 2', 'epochs: 2\n  bathSize: 32'));
    const r = nn(['train', '--config', 'typo.yaml']);
    expect(oneLineError(r)).toBe('error: typo.yaml: training.bathSize: unknown key; did you mean "batchSize"?');
    expect(r.stdout).toBe('');
    expect(fs.existsSync(inWork('runs', 'typo'))).toBe(false);
  });

  it('an impossible value: exit 2, one line', () => {
    fs.writeFileSync(inWork('lr0.yaml'), TINY_YAML.replace('learningRate: 0.003', 'learningRate: 0'));
    expect(oneLineError(nn(['train', '--config', 'lr0.yaml']))).toBe('error: lr0.yaml: training.optimizer.learningRate: expected a number > 0; got 0');
  });

  it('a YAML syntax error: exit 2, one line with line:column', () => {
    fs.writeFileSync(inWork('broken.yaml'), 'model:\n  layers:\n    - { type: dense, units: 10\n');
    expect(oneLineError(nn(['train', '--config', 'broken.yaml']))).toMatch(/^error: broken\.yaml:4:1: YAML syntax error: /);
  });

  it('a YAML alias bomb: exit 2, one line naming the file', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let k = 1; k < 8; k++) levels.push(`${'abcdefgh'[k]}: &${'abcdefgh'[k]} [${Array(9).fill('*' + 'abcdefgh'[k - 1]).join(',')}]`);
    fs.writeFileSync(inWork('bomb.yaml'), levels.join('\n') + '\n');
    const line = oneLineError(nn(['train', '--config', 'bomb.yaml']));
    expect(line).toMatch(/^error: bomb\.yaml: YAML error: .*alias/);
  });

  it('a layer too large to train: exit 2 naming the key, the memory it needs and the limit, no run folder', () => {
    fs.writeFileSync(inWork('huge.yaml'), TINY_YAML.replace('units: 32', 'units: 1000000000'));
    const line = oneLineError(nn(['train', '--config', 'huge.yaml', '--out', 'huge-run']));
    expect(line).toMatch(/^error: huge\.yaml: model\.layers\[0\]\.units: 1000000000 units make the network need about [\d.]+ TiB of memory to train .*the limit is 4\.0 GiB/);
    expect(fs.existsSync(inWork('huge-run'))).toBe(false);
  });

  it('a missing config file: exit 2', () => {
    expect(oneLineError(nn(['train', '--config', 'nope.yaml']))).toBe('error: nope.yaml: config file not found');
    // the default config is configs/mlp.yaml relative to the current folder
    expect(oneLineError(nn(['train'], empty))).toBe(`error: ${path.join('configs', 'mlp.yaml')}: config file not found`);
  });

  it('a bad --seed value: exit 2', () => {
    expect(oneLineError(nn(['train', '--config', 'tiny.yaml', '--seed', '-1']))).toContain("option '--seed <n>' argument '-1' is invalid");
  });

  it('an unknown option: non-zero with "Did you mean --epochs?"', () => {
    const r = nn(['train', '--epoch', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--epoch'");
    expect(r.stderr).toContain('Did you mean --epochs?');
    expect(r.stderr).not.toContain('    at ');
  });

  it('an unknown command: non-zero with "Did you mean train?"', () => {
    const r = nn(['trian']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'trian'");
    expect(r.stderr).toContain('Did you mean train?');
    expect(r.stderr).not.toContain('    at ');
  });

  it('--help exits 0 and lists the three commands', () => {
    const r = ok(nn(['--help']));
    for (const c of ['train', 'eval', 'predict']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const t = ok(nn(['train', '--help']));
    for (const o of ['--config', '--out', '--seed', '--epochs', '--force']) expect(t.stdout).toContain(o);
  });

  it('--version prints the package version', () => {
    const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    expect(ok(nn(['--version'])).stdout.trim()).toBe(version);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('output that fits where it goes', () => {
  it('--json: JSON Lines on stdout (an object per epoch, then the result), messages on stderr', () => {
    fs.writeFileSync(path.join(work, 'tiny-json.yaml'), TINY_YAML);
    const r = ok(nn(['train', '--config', 'tiny-json.yaml', '--json', '--out', 'json-run']));
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => x.type)).toEqual(['epoch', 'epoch', 'result']);
    expect(records[0]).toMatchObject({ epoch: 1 });
    expect(typeof records[1].val_accuracy).toBe('number');
    expect(records[2].test.accuracy).toBeGreaterThan(ACCURACY_FLOOR);
    expect(r.stderr).toContain('training tiny-json.yaml -> json-run');
  }, SLOW);

  it('--quiet: nothing on stdout or stderr, the run still written', () => {
    fs.writeFileSync(path.join(work, 'tiny-quiet.yaml'), TINY_YAML);
    const r = ok(nn(['train', '--config', 'tiny-quiet.yaml', '--quiet', '--out', 'quiet-run']));
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(fs.existsSync(path.join(work, 'quiet-run', 'model.safetensors'))).toBe(true);
  }, SLOW);

  it('colors only on a terminal, and never with NO_COLOR', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(paint('error:', 31, tty)).toBe('\x1b[31merror:\x1b[0m');
      expect(paint('error:', 31, pipe)).toBe('error:');
      process.env.NO_COLOR = '1';
      expect(paint('error:', 31, tty)).toBe('error:');
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});

describe('bad inputs through the program: one line, exit 2, nothing written', () => {
  /** An IDX file: magic, sizes, then the bytes. */
  const idx = (type: number, dims: number[], data: Uint8Array) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head.writeUInt32BE(0x0800 | dims.length, 0);
    dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([head, Buffer.from(data)]);
  };
  /** A folder of MNIST-format files with images of side rows x cols (train n, test n), labels as given. */
  const dataset = (name: string, rows: number, cols: number, n: number, label = (i: number) => i % 10) => {
    const dir = inWork(name);
    fs.mkdirSync(dir, { recursive: true });
    const images = new Uint8Array(n * rows * cols).map((_, i) => (i * 37) % 256);
    const labels = Uint8Array.from({ length: n }, (_, i) => label(i));
    for (const set of ['train', 't10k']) {
      fs.writeFileSync(path.join(dir, `${set}-images-idx3-ubyte`), idx(8, [n, rows, cols], images));
      fs.writeFileSync(path.join(dir, `${set}-labels-idx1-ubyte`), idx(8, [n], labels));
    }
    return dir;
  };
  const before = () => fs.readdirSync(work).sort();
  const digit = (d: number) => path.join(SAMPLES, `digit-${d}.png`);

  /** A copy of runs/tiny whose config points at the data folder `data`. */
  const runOn = (name: string, data: string) => {
    const dir = inWork(name);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(inWork('runs', 'tiny', 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const cfg = readJson('runs', 'tiny', 'config.json');
    cfg.data.dir = inWork(data);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    return path.join(name, 'model.safetensors');
  };

  it('nn eval of a 28x28 model on images of another size', () => {
    dataset('small14', 14, 14, 40);
    const model = runOn('on14', 'small14');
    const was = before();
    const line = oneLineError(nn(['eval', '--model', model]));
    expect(line).toBe(`error: ${inWork('small14')}: images are 14x14 but ${model} expects 28x28`);
    expect(before()).toEqual(was);
  });

  it('nn eval on images of the same pixel count but another shape (16x49)', () => {
    dataset('odd', 16, 49, 40);
    const model = runOn('onOdd', 'odd');
    expect(oneLineError(nn(['eval', '--model', model]))).toBe(`error: ${inWork('odd')}: images are 16x49 but ${model} expects 28x28`);
  });

  it('a data folder with a label out of range, through nn train', () => {
    dataset('badlabel', 28, 28, 40, (i) => (i === 17 ? 12 : i % 10));
    fs.writeFileSync(inWork('badlabel.yaml'), TINY_YAML.replace('data:\n', 'data:\n  dir: badlabel\n'));
    const was = before();
    const line = oneLineError(nn(['train', '--config', 'badlabel.yaml']));
    expect(line).toMatch(/^error: .*badlabel.*: label 12 at index 17 is out of range; expected 0\.\.9$/);
    expect(before()).toEqual(was); // no run folder
  });

  it('weights with an infinite value, through nn eval', () => {
    const file = inWork('runs', 'tiny', 'model.safetensors');
    const bytes = Buffer.from(fs.readFileSync(file));
    const n = Number(bytes.readBigUInt64LE(0));
    bytes.writeFloatLE(Infinity, 8 + n + 4 * 3);
    fs.writeFileSync(inWork('inf.safetensors'), bytes);
    expect(oneLineError(nn(['eval', '--model', 'inf.safetensors']))).toMatch(/^error: inf\.safetensors: .*non-finite value \(Infinity\) at index 3/);
  });

  it('nn predict with no image: one line naming the missing argument', () => {
    expect(oneLineError(nn(['predict', '--model', 'runs/tiny']))).toBe("error: missing required argument 'images'");
  });

  it('nn predict --save-input writes nothing when an image is bad', () => {
    const line = oneLineError(nn(['predict', '--model', 'runs/tiny', '--save-input', 'seen-bad', digit(3), 'nope.png']));
    expect(line).toBe('error: nope.png: file or folder not found');
    expect(fs.existsSync(inWork('seen-bad'))).toBe(false);
  });
});

describe('nn eval --errors and the most-confused pairs', () => {
  it('writes a contact sheet of exactly the misclassified images and names the most-confused pairs', async () => {
    const r = ok(nn(['eval', '--model', 'runs/tiny', '--errors', 'errs']));
    const m = readJson('runs', 'tiny', 'metrics.json');
    const wrong = m.test.confusion.reduce((a: number, row: number[], t: number) => a + row.reduce((b, c, g) => b + (g === t ? 0 : c), 0), 0);
    expect(r.stdout).toContain(`wrote ${path.join('errs', 'errors.png')}: the ${wrong} misclassified test images, labelled truth → guess`);
    const sharp = require('sharp') as typeof import('sharp');
    const meta = await sharp(inWork('errs', 'errors.png')).metadata();
    // 15 per row, 62 x 78 pixel cells and a 6-pixel margin (see io/contactsheet.ts)
    expect(meta.width).toBe(Math.min(15, wrong) * 62 + 6);
    expect(meta.height).toBe(Math.ceil(wrong / 15) * 78 + 6);
    // the first pair named is the largest off-diagonal count of the matrix
    let best = { t: 0, g: 0, c: -1 };
    m.test.confusion.forEach((row: number[], t: number) => row.forEach((c, g) => g !== t && c > best.c && (best = { t, g, c })));
    expect(r.stdout).toMatch(new RegExp(`most confused: \\d read as \\d \\(${best.c}\\)`));
  });

  it('confusedPairs: off-diagonal cells, largest first', () => {
    const c = Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, g) => (t === g ? 50 : 0)));
    c[4][9] = 7;
    c[9][4] = 3;
    c[7][1] = 7;
    expect(confusedPairs(c, 2)).toEqual([{ truth: 4, guess: 9, count: 7 }, { truth: 7, guess: 1, count: 7 }]);
    expect(confusedPairs(c, 5)).toHaveLength(3);
  });
});
