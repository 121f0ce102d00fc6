/**
 * Magnitude pruning as a training callback: at each of the schedule's mask
 * updates, every dense layer's weights smaller in magnitude than its share of
 * the target sparsity are set to 0 and masked (layer by layer, each to the same
 * sparsity, as Zhu and Gupta do); after every optimizer step the masked weights
 * are set to 0 again, so they stay 0 while the others learn to make up for them.
 * The output layer, biases, batch normalization and the rest are not pruned.
 */
import type { Callback, EpochLog } from '../train/callbacks';
import type { Model } from '../nn/model';
import { Dense } from '../nn/dense';
import { sparsityAt, type PruningSchedule } from './schedule';

interface Target {
  name: string;
  w: Float32Array;
  pruned: Uint32Array; // the masked indices
}

export interface SparsityLog {
  epoch: number;
  sparsity: number; // of the pruned tensors together, at the epoch's end
  val_accuracy: number;
}

export class MagnitudePruning implements Callback {
  private targets: Target[] = [];
  private step = 0;
  readonly log: SparsityLog[] = [];

  constructor(private readonly schedule: (batches: number) => PruningSchedule) {}

  private plan: PruningSchedule | null = null;

  /** The model to prune (before training starts). */
  attach(model: Model): void {
    const dense = model.allLayers().filter((l): l is Dense => l instanceof Dense);
    // the output layer is kept whole: it is a sliver of the weights (650 of 109,386 parameters in 784-128-64-10), and with
    // 90% of it gone each digit would be read from six or seven units
    this.targets = dense
      .slice(0, -1)
      .map((l) => ({ name: `${l.name}.weight`, w: model.params.get(`${l.name}.weight`).data, pruned: new Uint32Array(0) }));
  }

  onEpochBegin(_epoch: number, batches: number): void {
    this.plan ??= this.schedule(batches);
    if (this.step === 0) this.update(); // (sparsity 0 at step 0: nothing yet)
  }

  onBatchEnd(): void {
    this.step++;
    for (const t of this.targets) for (let i = 0; i < t.pruned.length; i++) t.w[t.pruned[i]] = 0;
    const p = this.plan!;
    if (this.step >= p.start && (this.step - p.start) % p.every === 0 && this.step <= p.start + p.updates * p.every) this.update();
  }

  onEpochEnd(log: EpochLog): void {
    this.log.push({ epoch: log.epoch, sparsity: this.sparsity(), val_accuracy: log.val_accuracy });
  }

  /** The share of the pruned tensors' weights that are 0. */
  sparsity(): number {
    let zeros = 0;
    let n = 0;
    for (const t of this.targets) {
      for (let i = 0; i < t.w.length; i++) if (t.w[i] === 0) zeros++;
      n += t.w.length;
    }
    return n ? zeros / n : 0;
  }

  /** Masks, in each tensor, the round(s n) weights of smallest magnitude (ties by index). */
  private update(): void {
    const s = sparsityAt(this.plan!, this.step);
    for (const t of this.targets) {
      const k = Math.round(s * t.w.length);
      if (k <= t.pruned.length) continue; // masks only grow
      t.pruned = smallestMagnitudes(t.w, k);
      for (let i = 0; i < t.pruned.length; i++) t.w[t.pruned[i]] = 0;
    }
  }
}

/**
 * The indices of the k values of w smallest in magnitude, ties to the lower index, ascending: those
 * below the k-th smallest magnitude, then those equal to it in index order (a typed sort of the
 * magnitudes, not of indices by a comparator: 1M weights in well under a second).
 */
export function smallestMagnitudes(w: Float32Array, k: number): Uint32Array {
  const out = new Uint32Array(k);
  if (k === 0) return out;
  const cut = Float32Array.from(w, Math.abs).sort()[k - 1];
  let ties = k; // how many of those equal to cut are taken: k less those below it
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) < cut) ties--;
  let n = 0;
  for (let i = 0; i < w.length && n < k; i++) {
    const a = Math.abs(w[i]);
    if (a < cut || (a === cut && ties-- > 0)) out[n++] = i;
  }
  return out;
}
