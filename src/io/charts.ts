/**
 * Pictures of a run, drawn by Vega-Lite (rendered to SVG in Node by Vega, no
 * browser): curves.svg (training and validation loss and accuracy, and the
 * learning rate, per epoch) and confusion.svg (the test confusion matrix as a
 * heat map with counts), each also as PNG (sharp renders the SVG). Written
 * atomically like every file of a run.
 */
import * as path from 'node:path';
import type { EpochLog } from '../train/callbacks';
import { writeFileAtomic } from './atomic';

type Spec = Record<string, unknown>;

export function curvesSpec(history: EpochLog[]): Spec {
  const rows = history.flatMap((h) => [
    { epoch: h.epoch, metric: 'loss', split: 'training', value: h.loss },
    { epoch: h.epoch, metric: 'loss', split: 'validation', value: h.val_loss },
    { epoch: h.epoch, metric: 'accuracy', split: 'training', value: h.accuracy },
    { epoch: h.epoch, metric: 'accuracy', split: 'validation', value: h.val_accuracy },
  ]);
  const panel = (metric: string, title: string) => ({
    title,
    width: 260,
    height: 180,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: null },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    hconcat: [
      { data: { values: rows }, ...panel('loss', 'Loss') },
      { data: { values: rows }, ...panel('accuracy', 'Accuracy') },
      {
        title: 'Learning rate',
        width: 200,
        height: 180,
        data: { values: history.map((h) => ({ epoch: h.epoch, lr: h.lr })) },
        mark: { type: 'line', point: true, color: 'gray' },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'lr', type: 'quantitative', title: 'learning rate', scale: { type: 'log' }, axis: { format: '.0e' } },
        },
      },
    ],
  };
}

export function confusionSpec(confusion: number[][]): Spec {
  const cells = confusion.flatMap((row, t) => row.map((count, p) => ({ truth: t, guess: p, count })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    title: 'Test confusion matrix',
    width: 320,
    height: 320,
    data: { values: cells },
    encoding: {
      x: { field: 'guess', type: 'ordinal', title: 'predicted digit', axis: { labelAngle: 0 } },
      y: { field: 'truth', type: 'ordinal', title: 'true digit' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { type: 'symlog', scheme: 'blues' }, title: 'images' } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.count > 100', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** The SVG a Vega-Lite spec draws. */
export async function renderSvg(spec: Spec): Promise<string> {
  const vega = require('vega') as typeof import('vega');
  const vl = require('vega-lite') as typeof import('vega-lite');
  const view = new vega.View(vega.parse(vl.compile(spec as never).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Writes name.svg and name.png into dir. */
export async function writeChart(dir: string, name: string, spec: Spec): Promise<void> {
  const svg = await renderSvg(spec);
  writeFileAtomic(path.join(dir, `${name}.svg`), svg);
  const sharp = require('sharp') as typeof import('sharp');
  writeFileAtomic(path.join(dir, `${name}.png`), await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
}

/** curves.svg/png and confusion.svg/png of a run. */
export async function writeRunCharts(dir: string, history: EpochLog[], confusion: number[][]): Promise<void> {
  await writeChart(dir, 'curves', curvesSpec(history));
  await writeChart(dir, 'confusion', confusionSpec(confusion));
}
