import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/mnist';
import { idx } from '../helpers/idx';
import { tempDir } from '../helpers/tmp';

/** A tiny MNIST-format dataset folder: n images of 2x2 with the given labels. */
function tinyDataset(dir: string, trainLabels: number[], testLabels: number[], gz = false) {
  const w = (name: string, bytes: Uint8Array) => fs.writeFileSync(path.join(dir, name + (gz ? '.gz' : '')), gz ? zlib.gzipSync(bytes) : bytes);
  w('train-images-idx3-ubyte', idx([trainLabels.length, 2, 2], trainLabels.flatMap((l) => [l, l, l, l])));
  w('train-labels-idx1-ubyte', idx([trainLabels.length], trainLabels));
  w('t10k-images-idx3-ubyte', idx([testLabels.length, 2, 2], testLabels.flatMap((l) => [l, 0, 0, l])));
  w('t10k-labels-idx1-ubyte', idx([testLabels.length], testLabels));
}

describe('loadDataset', () => {
  it('loads the real MNIST: 70,000 images of 28x28, the training files first', () => {
    const ds = loadDataset();
    expect(ds.n).toBe(70000);
    expect(ds.officialTrain).toBe(60000);
    expect([ds.rows, ds.cols, ds.dim]).toEqual([28, 28, 784]);
    expect(ds.images.length).toBe(70000 * 784);
    // the official files' first labels: train 5, 0, 4, 1; t10k 7, 2, 1, 0
    expect(Array.from(ds.labels.subarray(0, 4))).toEqual([5, 0, 4, 1]);
    expect(Array.from(ds.labels.subarray(60000, 60004))).toEqual([7, 2, 1, 0]);
  });

  it('loads any folder of MNIST-format files, gzipped or not, and pools them', () => {
    for (const gz of [false, true]) {
      const dir = tempDir('nn-ds-');
      tinyDataset(dir, [1, 2, 3], [4, 5], gz);
      const ds = loadDataset(dir);
      expect(ds.n).toBe(5);
      expect(ds.officialTrain).toBe(3);
      expect(Array.from(ds.labels)).toEqual([1, 2, 3, 4, 5]);
      expect(Array.from(ds.images.subarray(12, 16))).toEqual([4, 0, 0, 4]);
    }
  });

  it('answers a missing folder, a missing file, mismatched counts and bad labels with one line', () => {
    expect(() => loadDataset('/no/such/folder')).toThrow(/data\.dir: folder \/no\/such\/folder does not exist/);
    const dir = tempDir('nn-ds-');
    expect(() => loadDataset(dir)).toThrow(/no train-images-idx3-ubyte/);
    tinyDataset(dir, [1, 2, 3], [4, 5]);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([2], [1, 2]));
    expect(() => loadDataset(dir)).toThrow(/2 labels for 3 images/);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([3], [1, 12, 3]));
    expect(() => loadDataset(dir)).toThrow(/label 12 at index 1 is out of range; expected 0\.\.9/);
  });
});
