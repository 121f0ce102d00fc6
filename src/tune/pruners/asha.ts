/**
 * Asynchronous successive halving (Li et al. 2018, "A System for Massively
 * Parallel Hyperparameter Tuning", Algorithm 2). Rungs sit at epochs
 * minEpochs · η^k (η the reduction factor). A trial that reaches a rung is
 * promoted, i.e. goes on, only if it is among the top ⌊n/η⌋ of the n trials
 * that have reached that rung so far, itself included; otherwise it stops.
 * The paper's workers would park a trial that is not (yet) in the top part and
 * promote it later if enough worse trials arrive; a stopped process cannot be
 * parked, so, as Optuna's SuccessiveHalvingPruner does, the best trial so far
 * goes on even while fewer than η trials have reached the rung (top ⌊n/η⌋ is
 * then empty). Ties go on.
 */
import type { Direction } from '../trial';
import { byMerit, fmt, type Pruner, type Report } from './pruner';

export class AshaPruner implements Pruner {
  constructor(readonly minEpochs: number, readonly reductionFactor: number, readonly direction: Direction) {}

  /** The rung index of `epoch`, or -1 when it is not a rung. */
  rungOf(epoch: number): number {
    for (let k = 0, r = this.minEpochs; r <= epoch; k++, r *= this.reductionFactor) if (r === epoch) return k;
    return -1;
  }

  decide(n: number, epoch: number, value: number, atEpoch: readonly Report[]): string | null {
    const k = this.rungOf(epoch);
    if (k < 0) return null;
    const values = atEpoch.map((r) => r.value).sort(byMerit(this.direction));
    const top = Math.max(1, Math.floor(values.length / this.reductionFactor));
    const cutoff = values[top - 1];
    if (byMerit(this.direction)(value, cutoff) <= 0) return null; // as good as the last one promoted
    return `asha: at rung ${k} (epoch ${epoch}), not in the top ${top} of the ${values.length} trials there (${fmt(value)}; the cut is ${fmt(cutoff)})`;
  }
}
