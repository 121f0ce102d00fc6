/**
 * nn quantize as a user runs it, and the int8 model through the other commands: nn eval reports
 * the accuracy nn quantize measured, --out gets the run's config.json, nn predict and nn serve
 * answer with it (serve with its int8 test accuracy), and bad requests get one line and exit 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/serve/server';
import { buildDist, REPO, runNn, trainIn } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { request } from '../serve/fixture';

const SAMPLES = path.join(REPO, 'data/samples');
let work: string;
const nn = (args: string[]) => runNn(work, args);

beforeAll(() => {
  buildDist();
  work = tempDir('nn-quantize-cli-');
  const cfg = {
    data: { subset: 0.1 },
    model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    training: { epochs: 2 },
  };
  trainIn(work, 'm', cfg, 'runs/m');
}, 180_000);

describe('nn quantize', () => {
  let report: { to: string; floatBytes: number; int8Bytes: number; floatAccuracy: number; int8Accuracy: number; samples: number; changed: number };

  it('writes model.int8.safetensors beside the model, a quarter of its size, and measures both', () => {
    const r = nn(['quantize', '--model', 'runs/m', '--json']);
    expect(r.status, r.stderr).toBe(0);
    report = JSON.parse(r.stdout);
    expect(report.to).toBe(path.join('runs', 'm', 'model.int8.safetensors'));
    expect(fs.statSync(path.join(work, report.to)).size).toBe(report.int8Bytes);
    expect(report.int8Bytes / report.floatBytes).toBeLessThan(0.3);
    expect(report.floatAccuracy).toBeGreaterThan(0.8); // a trained model, so the comparison means something
    expect(Math.abs(report.int8Accuracy - report.floatAccuracy)).toBeLessThan(0.01);
    expect(report.changed).toBeLessThan(0.01 * report.samples);
    expect(JSON.parse(fs.readFileSync(path.join(work, 'runs/m/quantization.json'), 'utf8'))).toEqual(report);
    const text = nn(['quantize', '--model', 'runs/m']);
    expect(text.stdout).toMatch(/^wrote runs\/m\/model\.int8\.safetensors: [\d.]+ kB, 2\d\.\d% of the float model's [\d.]+ kB\ntest accuracy on \d+ images: int8 [\d.]+%, float [\d.]+%; \d+ predictions differ\n$/);
  });

  it('gives nn eval a model it measures at the accuracy nn quantize reported', () => {
    const r = nn(['eval', '--model', 'runs/m/model.int8.safetensors', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.accuracy).toBe(report.int8Accuracy);
    expect(e.samples).toBe(report.samples);
    expect(Number.isFinite(e.loss)).toBe(true);
  });

  it('writes into --out with a copy of the run config, so nn eval finds the split there', () => {
    const r = nn(['quantize', '--model', 'runs/m', '--out', 'small', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(work, 'small/config.json'), 'utf8')).toBe(fs.readFileSync(path.join(work, 'runs/m/config.json'), 'utf8'));
    const e = nn(['eval', '--model', 'small/model.int8.safetensors', '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBe(report.int8Accuracy);
  });

  it('answers nn predict (with --explain) and nn serve with the int8 model', async () => {
    const p = nn(['predict', SAMPLES, '--model', 'runs/m/model.int8.safetensors', '--json', '--explain', 'why']);
    expect(p.status, p.stderr).toBe(0);
    const answers = JSON.parse(p.stdout) as Array<{ image: string; digit: number; probabilities: number[] }>;
    expect(answers).toHaveLength(10);
    const float = JSON.parse(nn(['predict', SAMPLES, '--model', 'runs/m', '--json']).stdout) as Array<{ digit: number }>;
    expect(answers.filter((a, i) => a.digit === float[i].digit).length).toBeGreaterThanOrEqual(9); // the float model's answers
    for (const a of answers) expect(a.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    expect(fs.readdirSync(path.join(work, 'why')).filter((f) => f.endsWith('.explain.png'))).toHaveLength(10);
    const server = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/m/model.int8.safetensors'), port: 0 });
    try {
      const model = await request(server.port, 'GET', '/api/model');
      expect(model.json.layers).toEqual(['int8 dense 64 relu', 'dropout 0.1', 'int8 dense 32 relu', 'int8 dense 10 softmax']);
      expect(model.json.parameters).toBe(784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10);
      expect(model.json.testAccuracy).toBe(report.int8Accuracy);
      for (const a of answers.slice(0, 3)) {
        const r = await request(server.port, 'POST', '/api/predict', { body: fs.readFileSync(a.image), headers: { 'Content-Type': 'image/png' } });
        expect(r.status).toBe(200);
        expect(r.json.digit).toBe(a.digit);
        expect(r.json.probabilities).toEqual(a.probabilities);
        expect(Math.max(...r.json.saliency.map(Math.abs))).toBeCloseTo(1, 3);
      }
    } finally {
      await server.close();
    }
  });

  it('refuses an int8 model, a missing one, and pruning an int8 one, in one line with exit 2', () => {
    for (const [args, re] of [
      [['quantize', '--model', 'runs/m/model.int8.safetensors'], /is already an int8 model/],
      [['quantize', '--model', 'nothing.safetensors'], /^error: nothing\.safetensors: file not found\n$/],
      [['prune', '--model', 'runs/m/model.int8.safetensors', '--sparsity', '0.5'], /is an int8 model, which does not train/],
    ] as Array<[string[], RegExp]>) {
      const r = nn(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
