#!/usr/bin/env node
// Writes data/samples/digit-<d>.png: for each digit, the first image of that class
// in the default config's test split (seed 42, 80/10/10), so no sample was seen in
// training. They are drawn as a user's scan would be: dark ink on white paper, 4x larger.
// Usage (after npm ci): node data/make-samples.js
const path = require('node:path');
const fs = require('node:fs');
const sharp = require('sharp');
const { loadDataset } = require('../dist/data/mnist');
const { makeSplit } = require('../dist/data/split');

async function main() {
  const ds = loadDataset();
  const { test } = makeSplit(ds.labels, ds.n, ds.officialTrain, [0.8, 0.1, 0.1], 42);
  const out = path.join(__dirname, 'samples');
  fs.mkdirSync(out, { recursive: true });
  for (let d = 0; d < 10; d++) {
    const i = test.find((k) => ds.labels[k] === d);
    const ink = ds.images.subarray(i * ds.dim, (i + 1) * ds.dim);
    const paper = Buffer.from(ink.map((v) => 255 - v));
    const file = path.join(out, `digit-${d}.png`);
    await sharp(paper, { raw: { width: ds.cols, height: ds.rows, channels: 1 } })
      .resize(ds.cols * 4, ds.rows * 4, { kernel: 'cubic' })
      .png()
      .toFile(file);
    console.log(`${file}  (pooled image #${i}, label ${d})`);
  }
}
main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
