/** nn predict: classify real images of handwritten digits, one or thousands. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../../util/errors';
import { paint } from '../color';
import { intOption } from '../options';

// Images read at once. Plain grey PNGs are decoded on this thread, so this only
// overlaps reading with the rest; images left to sharp run on libuv's 4 threads.
const IN_FLIGHT = 8;
// Printed lines are gathered and written together (a write per line costs a system call
// on a pipe): once 64 kB wait, or when a line comes this long after the first waiting one.
const FLUSH_MS = 100;
const FLUSH_BYTES = 1 << 16;

const BAD_FILES = `
Folders are searched below them for .png, .jpg and .jpeg files; quoted patterns ('digits/*.png',
'scans/**/*.jpg') are expanded by nn predict. Results come in the order of the arguments, each
folder's and pattern's files in sorted order.

A path that does not exist, a folder with no images and a pattern that matches none stop the run
before anything is read or written. An image that cannot be classified (not an image, corrupt,
blank) is reported on stderr in its place and skipped, the others are classified, and the exit
code is 2 at the end.`;

export function predictCommand(): Command {
  return new Command('predict')
    .description('classify PNG or JPEG images of handwritten digits (any size; dark ink on light paper or the reverse)')
    .argument('<images...>', "image files, folders of them, or quoted patterns such as 'digits/*.png'")
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .addOption(new Option('-k, --top <k>', 'show the k most likely digits').argParser(intOption('--top', 1)).default(1))
    .addOption(new Option('--json', 'print a JSON array of {image, digit, confidence, probabilities}').conflicts('jsonl'))
    .option('--jsonl', 'print one JSON object {image, digit, confidence, probabilities} per line (JSON Lines)')
    .option('--save-input <dir>', 'also write the 28x28 image each prediction was made from, as PNG')
    .option('--explain <dir>', 'also write, for each image, a PNG of its 28x28 input beside a map of the pixels that decided it')
    .addOption(new Option('--method <name>', 'with --explain: integrated gradients (from a black image) or the plain gradient').choices(['integrated-gradients', 'gradient']).default('integrated-gradients'))
    .addOption(new Option('--steps <n>', "with --explain: integrated gradients' steps").argParser(intOption('--steps', 1)).default(64))
    .addOption(new Option('--class <k>', 'with --explain: explain this digit instead of the guess').argParser(intOption('--class', 0)))
    .addHelpText('after', BAD_FILES)
    .action(async (args: string[], opts: { model?: string; top: number; json?: boolean; jsonl?: boolean; saveInput?: string; explain?: string; method: string; steps: number; class?: number }) => {
      // required here, not above: nn train and nn tune need none of this
      const { loadDigit, writeGrayPng } = require('../../io/image') as typeof import('../../io/image');
      const { listImages } = require('../../io/inputs') as typeof import('../../io/inputs');
      const { loadModel } = require('../../io/modelfile') as typeof import('../../io/modelfile');
      const { resolveModelPath } = require('../../io/run') as typeof import('../../io/run');
      const { Classifier } = require('../../predict/classify') as typeof import('../../predict/classify');
      const { orderedMap } = require('../../predict/ordered') as typeof import('../../predict/ordered');

      const modelPath = resolveModelPath(opts.model);
      const { model, normalization, rows, cols } = loadModel(modelPath);
      if (rows !== 28 || cols !== 28) throw new UserError(`${modelPath}: model expects ${rows}x${cols} inputs; predict prepares 28x28 digit images`);
      const classifier = new Classifier(model, normalization, rows * cols);
      const inputs = listImages(args);
      if (opts.saveInput) checkSaveNames(inputs, opts.saveInput);
      if (opts.class !== undefined && opts.class >= model.outDim) throw new UserError(`--class ${opts.class}: the model has ${model.outDim} classes, 0 to ${model.outDim - 1}`);
      if (!opts.explain && (opts.class !== undefined || opts.method !== 'integrated-gradients' || opts.steps !== 64)) throw new UserError('--class, --method and --steps go with --explain DIR');
      let explainer: import('../../explain/saliency').IntegratedGradients | null = null;
      if (opts.explain) {
        checkSaveNames(inputs, opts.explain);
        const { IntegratedGradients } = require('../../explain/saliency') as typeof import('../../explain/saliency');
        const { Normalizer } = require('../../data/normalize') as typeof import('../../data/normalize');
        explainer = new IntegratedGradients(model, new Normalizer(normalization, rows * cols), opts.steps);
      }

      const out = new Output();
      if (opts.json) out.add('[');
      let written = 0;
      let failed = 0;
      let firstError: unknown;
      const savedDirs = new Set<string>();
      const makeDirOf = (file: string) => {
        const dir = path.dirname(file);
        if (!savedDirs.has(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          savedDirs.add(dir);
        }
      };
      for await (const r of orderedMap(inputs, IN_FLIGHT, (inp) => loadDigit(inp.path))) {
        const inp = inputs[written + failed];
        if (!r.ok) {
          if (!(r.error instanceof UserError)) throw r.error; // a bug, not a bad file: stop
          failed++;
          firstError ??= r.error;
          if (inputs.length > 1) {
            out.flush();
            process.stderr.write(`${paint('error:', 31)} ${r.error.message} (skipped)\n`);
          }
          continue;
        }
        const p = classifier.classify(r.value.pixels);
        if (opts.saveInput) {
          const file = path.join(opts.saveInput, inp.saveAs);
          makeDirOf(file);
          await writeGrayPng(r.value.pixels, 28, 28, file);
        }
        let explanation: string | undefined;
        if (explainer) {
          explanation = path.join(opts.explain!, inp.saveAs.replace(/\.28x28\.png$/, '.explain.png'));
          makeDirOf(explanation);
          writeExplanation(explanation, r.value.pixels, explainer.map(r.value.pixels, opts.class ?? p.digit, opts.method === 'gradient'), rows);
        }
        const record = { image: inp.path, digit: p.digit, confidence: p.confidence, probabilities: p.probabilities, ...(explanation ? { explanation } : {}) };
        if (opts.json) out.add(`${written ? ',' : ''}\n${JSON.stringify(record)}`);
        else if (opts.jsonl) out.add(`${JSON.stringify(record)}\n`);
        else {
          const rest = p.ranked.slice(1, opts.top).map(([d, v]) => `${d} ${(100 * v).toFixed(1)}%`).join(', ');
          out.add(`${inp.path}: ${p.digit} (${(100 * p.confidence).toFixed(1)}%)${rest ? `  next: ${rest}` : ''}\n`);
        }
        written++;
      }
      if (opts.json) out.add(written ? '\n]\n' : ']\n');
      out.flush();
      if (failed && inputs.length === 1) throw firstError;
      if (failed) throw new UserError(`${failed} of ${inputs.length} images could not be classified (each is named above); the other ${written} were`);
    });
}

/** The input beside its explanation map, as an RGB PNG written atomically. */
function writeExplanation(file: string, pixels: Uint8Array, map: Float32Array, side: number): void {
  const { explanationImage } = require('../../explain/heatmap') as typeof import('../../explain/heatmap');
  const { encodeRgbPng } = require('../../io/png') as typeof import('../../io/png');
  const { writeFileAtomic } = require('../../io/atomic') as typeof import('../../io/atomic');
  const img = explanationImage(pixels, map, side);
  writeFileAtomic(file, encodeRgbPng(img.data, img.width, img.height));
}

/** Two images saved under one name would overwrite each other: refuse before anything is written. */
function checkSaveNames(inputs: Array<{ path: string; saveAs: string }>, dir: string): void {
  const seen = new Map<string, string>();
  for (const inp of inputs) {
    const other = seen.get(inp.saveAs);
    if (other !== undefined) throw new UserError(`--save-input: ${other} and ${inp.path} would both be saved as ${path.join(dir, inp.saveAs)}; save them in separate runs`);
    seen.set(inp.saveAs, inp.path);
  }
}

/** stdout, gathered: written when it grows large, when a line comes FLUSH_MS after the first waiting one, before an error line, and at the end. */
class Output {
  private parts: string[] = [];
  private bytes = 0;
  private since = 0;

  add(s: string): void {
    if (!this.parts.length) this.since = performance.now();
    this.parts.push(s);
    this.bytes += s.length;
    if (this.bytes >= FLUSH_BYTES || performance.now() - this.since >= FLUSH_MS) this.flush();
  }

  flush(): void {
    if (!this.parts.length) return;
    process.stdout.write(this.parts.join(''));
    this.parts = [];
    this.bytes = 0;
  }
}
