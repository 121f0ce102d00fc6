/**
 * The median stopping rule (Golovin et al. 2017, Google Vizier; Optuna's
 * MedianPruner): from epoch minEpochs on, stop a trial whose metric is worse
 * than the median of what earlier trials (lower numbers) reported at the same
 * epoch, once at least minTrials of them did.
 */
import type { Direction } from '../trial';
import { byMerit, fmt, type Pruner, type Report } from './pruner';

export class MedianPruner implements Pruner {
  constructor(readonly minEpochs: number, readonly minTrials: number, readonly direction: Direction) {}

  decide(n: number, epoch: number, value: number, atEpoch: readonly Report[]): string | null {
    if (epoch < this.minEpochs) return null;
    const earlier = atEpoch.filter((r) => r.number < n && !Number.isNaN(r.value)).map((r) => r.value);
    if (earlier.length < this.minTrials) return null;
    earlier.sort((a, b) => a - b);
    const m = earlier.length;
    const median = m % 2 ? earlier[(m - 1) / 2] : (earlier[m / 2 - 1] + earlier[m / 2]) / 2;
    if (byMerit(this.direction)(value, median) <= 0) return null; // as good as the median, or better
    return `median: at epoch ${epoch}, ${fmt(value)} is worse than the median ${fmt(median)} of ${m} earlier trials`;
  }
}
