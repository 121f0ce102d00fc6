/**
 * A trial's life, as the study records it:
 *   waiting ──claim──▶ running ──▶ complete | pruned | failed
 *      ▲                  │
 *      └── died (process or machine gone; retried up to a limit), interrupted (Ctrl-C; runs again on resume)
 * `waiting` holds a trial whose params are drawn but that no worker runs: one
 * that died, or was interrupted. Finished trials (complete, pruned, failed)
 * never run again.
 */
import type { Params } from './space';

export const TRIAL_STATES = ['waiting', 'running', 'complete', 'pruned', 'failed', 'interrupted'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

export const FINISHED: readonly TrialState[] = ['complete', 'pruned', 'failed'];

/** What samplers and pruners see of a trial. */
export interface TrialView {
  number: number;
  state: TrialState;
  params: Params;
  value: number | null; // the metric of the model it ended with (complete trials)
  /** The metric each epoch reported, by epoch (1-based). */
  reports: Map<number, number>;
}

/** Whether the metric is better high (accuracy) or low (loss). */
export type Direction = 'maximize' | 'minimize';

/** a better than b in `direction` (NaN is worse than anything). */
export function better(a: number, b: number, direction: Direction): boolean {
  if (Number.isNaN(b)) return !Number.isNaN(a);
  return direction === 'maximize' ? a > b : a < b;
}

/** val_accuracy is better high, val_loss low. */
export function directionOf(metric: 'val_accuracy' | 'val_loss'): Direction {
  return metric === 'val_accuracy' ? 'maximize' : 'minimize';
}

/** The best complete trial, or null. */
export function bestOf<T extends TrialView>(trials: readonly T[], direction: Direction): T | null {
  let best: T | null = null;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === null || Number.isNaN(t.value)) continue;
    if (!best || better(t.value, best.value!, direction)) best = t;
  }
  return best;
}
