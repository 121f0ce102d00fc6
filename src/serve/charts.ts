/**
 * Charts for the pages: the same Vega-Lite specs that draw a run's curves.svg
 * and confusion.svg and a study's history.svg and parallel.svg, compiled here
 * to Vega, so the page needs only Vega's runtime and each chart is defined
 * once for the files and the browser. Plus one of its own: several runs'
 * curves overlaid.
 */
import { confusionSpec, curvesSpec } from '../io/charts';
import type { EpochLog } from '../train/callbacks';
import type { EpochRow } from './runs';

type Spec = Record<string, unknown>;

/** The Vega spec of a Vega-Lite one (data inline), drawn in the page by vega.View. */
export function toVega(spec: Spec): unknown {
  const vl = require('vega-lite') as typeof import('vega-lite');
  return vl.compile(spec as never).spec;
}

export function runCharts(history: EpochRow[], confusion: number[][] | null): { curves: unknown; confusion: unknown } {
  return {
    curves: history.length ? toVega(curvesSpec(history as EpochLog[])) : null,
    confusion: confusion ? toVega(confusionSpec(confusion)) : null,
  };
}

/** Validation loss and accuracy of several runs on one pair of charts, one colour per run (training dashed). */
export function overlaySpec(runs: Array<{ name: string; history: EpochRow[] }>): Spec {
  const rows = runs.flatMap(({ name, history }) =>
    history.flatMap((h) => [
      { run: name, epoch: h.epoch, metric: 'loss', split: 'validation', value: h.val_loss },
      { run: name, epoch: h.epoch, metric: 'loss', split: 'training', value: h.loss },
      { run: name, epoch: h.epoch, metric: 'accuracy', split: 'validation', value: h.val_accuracy },
      { run: name, epoch: h.epoch, metric: 'accuracy', split: 'training', value: h.accuracy },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values: rows },
    columns: 2,
    facet: { field: 'metric', type: 'nominal', sort: ['loss', 'accuracy'], title: null },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: { size: 16 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false } },
        color: { field: 'run', type: 'nominal' },
        strokeDash: { field: 'split', type: 'nominal', sort: ['validation', 'training'] },
        tooltip: [{ field: 'run' }, { field: 'split' }, { field: 'epoch' }, { field: 'value', format: '.4f' }],
      },
    },
  };
}
