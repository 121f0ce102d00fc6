/**
 * A pruner answers "stop this trial here?" after each epoch, from the metric
 * the trial reported and what every trial of the study reported at that epoch.
 */
import type { Direction } from '../trial';

/** A trial's report at one epoch. */
export interface Report {
  number: number; // the trial
  value: number; // its metric (NaN when it was not finite)
}

export interface Pruner {
  /**
   * Whether trial `n`, which reported `value` at `epoch`, stops there. `atEpoch` holds every
   * trial's report at that epoch, n's included. Returns why when it stops, else null.
   */
  decide(n: number, epoch: number, value: number, atEpoch: readonly Report[]): string | null;
}

/** Best first, NaN last. */
export function byMerit(direction: Direction): (a: number, b: number) => number {
  const sign = direction === 'maximize' ? -1 : 1;
  return (a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : sign * (a - b));
}

/** A metric value for a message. */
export function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(+v.toPrecision(5));
}
