/** nn predict: classify real images of handwritten digits. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { Normalizer } from '../../data/normalize';
import { loadModel } from '../../io/modelfile';
import { resolveModelPath } from '../../io/run';
import { UserError } from '../../util/errors';
import { intOption } from '../options';

export function predictCommand(): Command {
  return new Command('predict')
    .description('classify PNG or JPEG images of handwritten digits (any size; dark ink on light paper or the reverse)')
    .argument('<images...>', 'image files')
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .addOption(new Option('-k, --top <k>', 'show the k most likely digits').argParser(intOption('--top', 1)).default(1))
    .option('--json', 'print a JSON array of {image, digit, confidence, probabilities}')
    .option('--save-input <dir>', 'also write the 28x28 image each prediction was made from, as PNG')
    .action(async (images: string[], opts: { model?: string; top: number; json?: boolean; saveInput?: string }) => {
      // sharp (behind io/image) loads only when predict runs
      const { loadDigit, writeGrayPng } = require('../../io/image') as typeof import('../../io/image');
      const modelPath = resolveModelPath(opts.model);
      const { model, normalization, rows, cols } = loadModel(modelPath);
      if (rows !== 28 || cols !== 28) throw new UserError(`${modelPath}: model expects ${rows}x${cols} inputs; predict prepares 28x28 digit images`);
      const norm = new Normalizer(normalization, rows * cols);
      // every image is read and checked before anything is written: a bad one leaves no files behind
      const digits = [];
      for (const image of images) digits.push(await loadDigit(image));
      if (opts.saveInput) fs.mkdirSync(opts.saveInput, { recursive: true });
      const results = [];
      for (const [k, image] of images.entries()) {
        const digit = digits[k];
        const p = model.forward(norm.apply(digit.pixels), 1, false);
        const probabilities = Array.from(p, (v) => Number(v.toFixed(6)));
        const ranked = probabilities.map((v, d) => [d, v] as const).sort((a, b) => b[1] - a[1]);
        results.push({ image, digit: ranked[0][0], confidence: ranked[0][1], probabilities, ranked: ranked.slice(0, opts.top) });
        if (opts.saveInput) await writeGrayPng(digit.pixels, 28, 28, path.join(opts.saveInput, `${path.parse(image).name}.28x28.png`));
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(results.map(({ ranked: _r, ...r }) => r)) + '\n');
        return;
      }
      for (const r of results) {
        const rest = r.ranked.slice(1).map(([d, v]) => `${d} ${(100 * v).toFixed(1)}%`).join(', ');
        process.stdout.write(`${r.image}: ${r.digit} (${(100 * r.confidence).toFixed(1)}%)${rest ? `  next: ${rest}` : ''}\n`);
      }
    });
}
