/**
 * Callbacks plug into the trainer's loop. Early stopping is one: it watches a
 * validation metric, stops after `patience` epochs without an improvement of
 * at least `minDelta`, and can restore the weights of the best epoch.
 */
import type { Params } from '../nn/params';
import type { LayerDiagnostics } from './diagnostics';

export interface EpochLog {
  epoch: number; // 1-based
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  lr: number;
  seconds: number; // training time of this epoch (without validation)
  samplesPerSecond: number;
  diagnostics?: LayerDiagnostics[]; // per dense layer: gradient norm, update ratio, dead ReLUs
}

export interface BatchInfo {
  epoch: number;
  batch: number; // 1-based
  batches: number;
  loss: number; // running mean over the epoch so far
  accuracy: number;
}

/** What a callback may change in the running trainer. */
export interface TrainerControl {
  lr: number; // the learning rate of the coming epoch
  scale: number; // what reduce-on-plateau has multiplied the schedule's rate by so far (1 until then)
}

export interface Callback {
  onEpochBegin?(epoch: number, batches: number): void;
  onBatchEnd?(info: BatchInfo): void;
  /** Return a reason string to stop training after this epoch. */
  onEpochEnd?(log: EpochLog, control: TrainerControl): string | void;
  onTrainEnd?(): void;
  /** A problem the diagnostics found (vanishing or exploding gradients, dying ReLUs), once per run each. */
  onWarning?(message: string): void;
  /** Callbacks with state say so under a name, for checkpoints: JSON values, and Float32Arrays as tensors. */
  readonly stateName?: string;
  getState?(): CallbackState;
  setState?(s: CallbackState): void;
}

export interface CallbackState {
  values: Record<string, number>;
  tensors: Record<string, Float32Array>;
}

export interface EarlyStoppingOptions {
  monitor: 'val_loss' | 'val_accuracy';
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

export class EarlyStopping implements Callback {
  readonly stateName = 'earlyStopping';
  best = NaN;
  bestEpoch = 0;
  wait = 0;
  private readonly snapshot: Float32Array | null;

  constructor(private readonly opts: EarlyStoppingOptions, private readonly params: Params) {
    this.snapshot = opts.restoreBest ? new Float32Array(params.data.length) : null;
  }

  private improved(v: number): boolean {
    if (Number.isNaN(this.best)) return true;
    return this.opts.monitor === 'val_loss' ? v < this.best - this.opts.minDelta : v > this.best + this.opts.minDelta;
  }

  onEpochEnd(log: EpochLog): string | void {
    const v = log[this.opts.monitor];
    if (this.improved(v)) {
      this.best = v;
      this.bestEpoch = log.epoch;
      this.wait = 0;
      this.snapshot?.set(this.params.data);
      return;
    }
    this.wait++;
    if (this.wait >= Math.max(1, this.opts.patience)) {
      return `early stopping: ${this.opts.monitor} did not improve by more than ${this.opts.minDelta} for ${this.wait} epoch(s) after epoch ${this.bestEpoch}`;
    }
  }

  onTrainEnd(): void {
    if (this.snapshot && this.bestEpoch > 0) this.params.data.set(this.snapshot);
  }

  getState(): CallbackState {
    return { values: { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait }, tensors: this.snapshot ? { snapshot: this.snapshot } : {} };
  }

  setState(s: CallbackState): void {
    this.best = s.values.best;
    this.bestEpoch = s.values.bestEpoch;
    this.wait = s.values.wait;
    if (this.snapshot && s.tensors.snapshot) this.snapshot.set(s.tensors.snapshot);
  }
}

export interface ReduceLROnPlateauOptions {
  monitor: 'val_loss' | 'val_accuracy';
  factor: number; // new lr = lr * factor
  patience: number; // epochs without improvement before reducing
  minDelta: number;
  minLr: number;
}

/**
 * Lowers the learning rate when the monitored metric stops improving (as Keras'
 * ReduceLROnPlateau): after `patience` epochs without an improvement larger than
 * minDelta, lr becomes max(lr * factor, minLr) and the count starts again.
 */
export class ReduceLROnPlateau implements Callback {
  readonly stateName = 'reduceLROnPlateau';
  private best = NaN;
  private wait = 0;

  constructor(private readonly opts: ReduceLROnPlateauOptions) {}

  onEpochEnd(log: EpochLog, control: TrainerControl): void {
    const v = log[this.opts.monitor];
    const better = Number.isNaN(this.best) || (this.opts.monitor === 'val_loss' ? v < this.best - this.opts.minDelta : v > this.best + this.opts.minDelta);
    if (better) {
      this.best = v;
      this.wait = 0;
      return;
    }
    if (++this.wait >= Math.max(1, this.opts.patience)) {
      const lr = Math.max(control.lr * this.opts.factor, this.opts.minLr);
      control.scale *= lr / control.lr; // the schedule's later rates are lowered alike
      control.lr = lr;
      this.wait = 0;
    }
  }

  getState(): CallbackState {
    return { values: { best: this.best, wait: this.wait }, tensors: {} };
  }

  setState(s: CallbackState): void {
    this.best = s.values.best;
    this.wait = s.values.wait;
  }
}
