/**
 * What a study leaves in its folder, from the trials its database holds:
 *   best.yaml        the best trial's complete resolved config (seed included): nn train --config best.yaml reproduces it
 *   trials.csv       a row per trial: state, metric, test accuracy, epochs, seconds, params
 *   history.svg      each trial's metric over the study's time, and the running best
 *   parallel.svg     parallel coordinates: each complete trial's params against its metric
 *   importance.svg   how much of the metric each param explains (importance.ts)
 * (each picture also as PNG). Written atomically; the pictures at the end only.
 */
import * as path from 'node:path';
import YAML from 'yaml';
import { writeFileAtomic } from '../io/atomic';
import type { TuneSpec } from './file';
import type { TrialRecord } from './storage/store';
import { showValue } from './space';
import { bestOf, directionOf } from './trial';

export async function writeStudyFiles(dir: string, spec: TuneSpec, trials: TrialRecord[], pictures: boolean): Promise<string[]> {
  const direction = directionOf(spec.metric);
  const files: string[] = [];
  const best = bestOf(trials, direction);
  if (best) {
    const head =
      `# The best trial of study ${spec.name} (${spec.file}): trial ${best.number}, ${spec.metric} ${best.value}` +
      (best.testAccuracy !== null ? `, test accuracy ${best.testAccuracy}` : '') +
      `.\n# Its complete config, seed included: nn train --config best.yaml trains it again, to the same weights.\n`;
    writeFileAtomic(path.join(dir, 'best.yaml'), head + YAML.stringify(best.config, { lineWidth: 0 }));
    files.push(path.join(dir, 'best.yaml'));
  }
  writeFileAtomic(path.join(dir, 'trials.csv'), trialsCsv(trials, spec));
  files.push(path.join(dir, 'trials.csv'));
  if (pictures && trials.some((t) => t.state === 'complete' || t.reports.size > 0)) {
    const { writeChart } = require('../io/charts') as typeof import('../io/charts');
    const charts = require('./charts') as typeof import('./charts');
    const { paramImportance } = require('./importance') as typeof import('./importance');
    await writeChart(dir, 'history', charts.historySpec(trials, spec.metric, direction));
    files.push(path.join(dir, 'history.svg'));
    const complete = trials.filter((t) => t.state === 'complete');
    if (complete.length >= 2) {
      await writeChart(dir, 'parallel', charts.parallelSpec(complete, spec.space, spec.metric));
      files.push(path.join(dir, 'parallel.svg'));
      const importance = paramImportance(complete, spec.space, spec.seed);
      if (importance.length) {
        await writeChart(dir, 'importance', charts.importanceSpec(importance, spec.metric));
        files.push(path.join(dir, 'importance.svg'));
      }
    }
  }
  return files;
}

export function trialsCsv(trials: TrialRecord[], spec: TuneSpec): string {
  const paths = spec.space.map((p) => p.path);
  const head = ['number', 'state', spec.metric, 'test_accuracy', 'best_epoch', 'epochs', 'seconds', 'attempts', ...paths, 'reason'];
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'number' ? String(v) : showValue(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = trials.map((t) =>
    [t.number, t.state, t.value, t.testAccuracy, t.bestEpoch, t.epochs, t.seconds === null ? null : +t.seconds.toFixed(2), t.attempts, ...paths.map((p) => t.params[p]), t.reason].map(cell).join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}
