/**
 * A folder of real MNIST test digits as PNG files, for timing `nn predict` on
 * many images (npm run bench -- --predict-folder) and for its tests. Each is
 * drawn as data/make-samples.js draws the samples, as a user's scan would be:
 * dark ink on white paper, 4x larger (112x112). The digits are the official
 * test file's first `count`, none of which a model trained with
 * `data.split: official` has seen. Names are `<index>-<label>.png`, the index
 * zero-padded so that sorted order is file order and the label is at hand for
 * checking the guesses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { readIdxFile } from '../data/idx';
import { defaultDataDir } from '../data/mnist';

export const SCALE = 4;

/** Writes `count` PNGs into `dir` (created if needed); returns their paths in sorted order. */
export async function writeDigitFolder(dir: string, count: number): Promise<string[]> {
  const data = defaultDataDir();
  const images = readIdxFile(path.join(data, 't10k-images-idx3-ubyte'));
  const labels = readIdxFile(path.join(data, 't10k-labels-idx1-ubyte'));
  const [n, rows, cols] = images.dims;
  if (count > n) throw new Error(`writeDigitFolder: the test file holds ${n} images, not ${count}`);
  fs.mkdirSync(dir, { recursive: true });
  const D = rows * cols;
  const files: string[] = [];
  const write = async (i: number): Promise<void> => {
    const paper = Buffer.from(images.data.subarray(i * D, (i + 1) * D).map((v) => 255 - v));
    await sharp(paper, { raw: { width: cols, height: rows, channels: 1 } })
      .resize(cols * SCALE, rows * SCALE, { kernel: 'cubic' })
      .png()
      .toFile(files[i]);
  };
  const width = String(count - 1).length;
  for (let i = 0; i < count; i++) files.push(path.join(dir, `${String(i).padStart(width, '0')}-${labels.data[i]}.png`));
  // a few at a time: sharp works on libuv's thread pool. (16 at a time, once, after ten minutes of benchmarks on
  // a loaded machine, the bench process died in a segmentation fault here: libvips is known to crash under pressure now and then.)
  for (let i = 0; i < count; i += 4) await Promise.all(files.slice(i, i + 4).map((_, k) => write(i + k)));
  return files;
}
