/**
 * Explanations as a user gets them: a synthetic network whose answer depends on
 * known pixels gets its attributions (integrated gradients, and the plain
 * gradient) on those pixels only; the picture nn predict --explain writes shows
 * them there; the command writes one picture per image and refuses bad options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { Normalizer } from '../../src/data/normalize';
import { explanationImage, SCALE } from '../../src/explain/heatmap';
import { IntegratedGradients } from '../../src/explain/saliency';
import { encodeRgbPng } from '../../src/io/png';
import { Model } from '../../src/nn/model';
import { randomArray } from '../helpers/gradcheck';
import { buildDist, REPO, runNn, trainIn } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const D = 784;
const inS = (j: number) => Math.floor(j / 28) >= 10 && Math.floor(j / 28) < 15 && j % 28 >= 5 && j % 28 < 10; // a 5x5 block
const inT = (j: number) => Math.floor(j / 28) >= 18 && Math.floor(j / 28) < 23 && j % 28 >= 15 && j % 28 < 20; // another, ignored

/** 784-16-10: the first layer sees only the pixels of S (its other weights are 0). */
function synthetic(): Model {
  const cfg = resolveConfig({ model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
  const m = new Model(cfg.model, D, 1);
  m.params.data.set(randomArray(m.params.data.length, 7, 0.3));
  const W1 = m.params.get('layers.0.weight').data; // (In, Out)
  for (let j = 0; j < D; j++) if (!inS(j)) W1.fill(0, j * 16, (j + 1) * 16);
  for (let j = 0; j < D; j++) if (inS(j)) for (let u = 0; u < 16; u++) W1[j * 16 + u] = Math.abs(W1[j * 16 + u]) + 0.05; // every unit fires on S
  return m;
}

const image = Uint8Array.from({ length: D }, (_, j) => (inS(j) || inT(j) ? 200 : 0));

describe('explanations of a network that looks at known pixels', () => {
  const m = synthetic();
  const ig = new IntegratedGradients(m, new Normalizer({ mode: 'scale', mean: 0, std: 1 }, D));
  for (const [what, map] of [
    ['integrated gradients', (c: number) => ig.map(image, c)],
    ['the plain gradient', (c: number) => ig.map(image, c, true)],
  ] as const) {
    it(`${what}: on the pixels it looks at, 0 on the ink it ignores and on blank paper`, () => {
      for (const c of [0, 4, 9]) {
        const a = map(c);
        for (let j = 0; j < D; j++) if (!inS(j)) expect(a[j]).toBe(0);
        expect(Array.from(a).filter((v, j) => inS(j) && v !== 0).length).toBe(25);
        expect(Math.max(...Array.from(a, Math.abs))).toBeCloseTo(1, 6);
      }
    });
  }

  it('the picture shows the input on the left and heat only on those pixels on the right', () => {
    const img = explanationImage(image, ig.map(image, 3), 28);
    expect([img.width, img.height]).toEqual([2 * 28 * SCALE + SCALE, 28 * SCALE]);
    const at = (panel: number, j: number) => {
      const x = panel * (28 * SCALE + SCALE) + (j % 28) * SCALE + 3;
      const y = Math.floor(j / 28) * SCALE + 3;
      return Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    };
    for (let j = 0; j < D; j++) {
      expect(at(0, j)).toEqual([image[j], image[j], image[j]]); // the input as it is
      const [r, g, b] = at(1, j);
      if (!inS(j)) expect([r, g, b]).toEqual([70, 70, 70].map((v) => (image[j] ? v : 0))); // grey: the input showing through, no heat
    }
    expect(Array.from({ length: D }, (_, j) => j).filter((j) => inS(j) && new Set(at(1, j)).size > 1).length).toBeGreaterThan(20); // coloured
  });

  it('encodes the picture as an RGB PNG that decodes to the same pixels', async () => {
    const img = explanationImage(image, ig.map(image, 3), 28);
    const { data, info } = await sharp(encodeRgbPng(img.data, img.width, img.height)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([img.width, img.height, 3]);
    expect(Buffer.compare(data, Buffer.from(img.data))).toBe(0);
  });
});

describe('nn predict --explain', () => {
  let work: string;
  const nn = (args: string[]) => runNn(work, args, 60_000);
  beforeAll(() => {
    buildDist();
    work = tempDir('nn-explain-');
    trainIn(work, 'tiny', { data: { subset: 0.05 }, model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs: 1 } }, 'run');
  }, 120_000);

  it('writes a picture for each image and names it in the JSON', async () => {
    const r = nn(['predict', path.join(REPO, 'data/samples'), '--model', 'run', '--explain', 'why', '--jsonl']);
    expect(r.status, r.stderr).toBe(0);
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(10);
    for (const rec of records) {
      expect(rec.explanation).toBe(path.join('why', path.basename(rec.image).replace(/\.png$/, '.explain.png')));
      const meta = await sharp(path.join(work, rec.explanation)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([570, 280, 3]);
    }
  });

  it('refuses --class out of range, and --class/--method/--steps without --explain, in one line, exit 2', () => {
    const sample = path.join(REPO, 'data/samples/digit-3.png');
    const a = nn(['predict', sample, '--model', 'run', '--explain', 'x', '--class', '10']);
    expect([a.status, a.stderr]).toEqual([2, 'error: --class 10: the model has 10 classes, 0 to 9\n']);
    const b = nn(['predict', sample, '--model', 'run', '--steps', '16']);
    expect([b.status, b.stderr]).toEqual([2, 'error: --class, --method and --steps go with --explain DIR\n']);
    expect(fs.existsSync(path.join(work, 'x'))).toBe(false);
  });
});
