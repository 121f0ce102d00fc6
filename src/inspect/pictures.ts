/**
 * nn inspect's pictures: the first layer's weights as a grid of 28x28 images
 * (what each hidden unit looks for: red where ink raises its input, blue where
 * ink lowers it, each unit on its own scale), and the histograms of weights and
 * activations per layer (Vega-Lite, as the run's other charts). Each as PNG and SVG.
 */
import * as path from 'node:path';
import { writeChart } from '../io/charts';
import { writeFileAtomic } from '../io/atomic';
import { encodeRgbPng } from '../io/png';
import type { Histogram, InspectReport } from './inspect';

/** Writes weights.png/svg and histograms.png/svg into dir; returns the files. */
export async function writeInspectPictures(dir: string, r: InspectReport): Promise<string[]> {
  const files: string[] = [];
  if (r.firstWeights && r.firstWeights.inputs === 784) {
    const png = weightGrid(r.firstWeights.data, r.firstWeights.units);
    writeFileAtomic(path.join(dir, 'weights.png'), png.bytes);
    // the SVG holds the same picture, for pages and documents that take SVG
    writeFileAtomic(path.join(dir, 'weights.svg'), `<svg xmlns="http://www.w3.org/2000/svg" width="${png.width}" height="${png.height}"><title>First layer: the 784 weights of each of its ${r.firstWeights.units} units as a 28x28 picture (red: ink raises the unit's input, blue: lowers it)</title><image width="${png.width}" height="${png.height}" href="data:image/png;base64,${png.bytes.toString('base64')}"/></svg>\n`);
    files.push('weights.png', 'weights.svg');
  }
  const rows = r.layers.flatMap((l) => [...bins(l.name, 'weights', l.weights), ...bins(l.name, `activations (${r.images} test images)`, l.activations)]);
  if (rows.length) {
    await writeChart(dir, 'histograms', histogramSpec(rows));
    files.push('histograms.png', 'histograms.svg');
  }
  return files.map((f) => path.join(dir, f));
}

function bins(layer: string, what: string, h: Histogram | null): Array<Record<string, unknown>> {
  if (!h) return [];
  const w = (h.hi - h.lo) / h.counts.length;
  return h.counts.map((count, i) => ({ layer, what, x0: h.lo + i * w, x1: h.lo + (i + 1) * w, count }));
}

function histogramSpec(rows: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    title: 'Weights and activations per layer',
    data: { values: rows },
    facet: { row: { field: 'layer', type: 'nominal', title: null }, column: { field: 'what', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 260,
      height: 110,
      mark: { type: 'rect', color: '#4c78a8' },
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: 'value', scale: { zero: false } },
        x2: { field: 'x1' },
        y: { field: 'count', type: 'quantitative', scale: { type: 'symlog' }, title: 'count' },
      },
    },
  };
}

/** Each unit's 784 weights as 28x28, on its own scale (largest |w| full colour), in a grid. */
function weightGrid(W: Float32Array, units: number): { bytes: Buffer; width: number; height: number } {
  const scale = units > 256 ? 2 : 3;
  const tile = 28 * scale;
  const gap = 2;
  const cols = Math.ceil(Math.sqrt(units));
  const rowsN = Math.ceil(units / cols);
  const width = cols * (tile + gap) + gap;
  const height = rowsN * (tile + gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let u = 0; u < units; u++) {
    let max = 0;
    for (let j = 0; j < 784; j++) max = Math.max(max, Math.abs(W[j * units + u]));
    const ox = gap + (u % cols) * (tile + gap);
    const oy = gap + Math.floor(u / cols) * (tile + gap);
    for (let j = 0; j < 784; j++) {
      const v = max > 0 ? W[j * units + u] / max : 0; // -1..1
      const c = v >= 0 ? [255, Math.round(255 * (1 - v)), Math.round(255 * (1 - v))] : [Math.round(255 * (1 + v)), Math.round(255 * (1 + v)), 255];
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) rgb.set(c, ((oy + Math.floor(j / 28) * scale + dy) * width + ox + (j % 28) * scale + dx) * 3);
      }
    }
  }
  return { bytes: encodeRgbPng(rgb, width, height), width, height };
}
