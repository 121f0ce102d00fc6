/**
 * The training loop, apart from the model and the optimizer: shuffle, gather
 * and normalize a batch, forward, loss, backward, penalties, optimizer step;
 * validate after each epoch and let the callbacks decide whether to go on.
 */
import { Augmenter, type AugmentConfig } from '../data/augment';
import type { Dataset } from '../data/mnist';
import type { Normalizer } from '../data/normalize';
import { allocU32, allocU8 } from '../kernels/memory';
import { BatchBuffers } from '../nn/layer';
import type { Loss } from '../nn/losses';
import type { Model } from '../nn/model';
import type { Optimizer } from '../optim/optimizer';
import { UserError } from '../util/errors';
import { Rng } from '../util/rng';
import type { BatchInfo, Callback, CallbackState, EpochLog, TrainerControl } from './callbacks';
import { evaluate } from './evaluate';
import { argmaxRow } from './metrics';
import { clipGradNorm } from './clip';
import { Diagnostics } from './diagnostics';
import { addPenalties } from './penalties';
import { scheduledRate, type ScheduleConfig } from '../optim/schedule';

export interface TrainOptions {
  epochs: number;
  batchSize: number | 'full'; // 'full': batch gradient descent, one step an epoch over the whole training set
  learningRate: number; // the base rate, which the schedule varies by epoch
  schedule: ScheduleConfig;
  l1: number;
  l2: number;
  clipNorm: number | false;
  augment: AugmentConfig | false;
  seed: number;
}

export interface FitResult {
  history: EpochLog[];
  stopReason: string;
  trainSeconds: number;
  warnings: string[];
  interrupted: boolean; // stopped by requestStop: the weights are those of the last complete epoch
  diverged: boolean; // the loss stopped being finite (stopReason says where); the weights are those from before
}

/**
 * Everything a run needs to go on from the end of an epoch exactly as if it had
 * never stopped: the weights, the optimizer's moments and step count, every
 * generator, the order the next shuffle starts from, the callbacks' state (early
 * stopping's best weights, the plateau count) and the metrics so far.
 */
export interface TrainState {
  epoch: number; // epochs completed
  params: Float32Array;
  optimizer: { t: number; buffers: Record<string, Float32Array> };
  order: Uint32Array;
  rng: { shuffle: number[]; dropout: number[]; augment: number[] | null };
  lrScale: number; // what reduce-on-plateau has multiplied the schedule by (each epoch's rate follows from it)
  callbacks: Record<string, CallbackState>;
  history: EpochLog[];
  warnings: string[];
  warned: string[];
  trainSeconds: number;
}

// Yield to the event loop this often (milliseconds), so signals and progress timers are served:
// a stop request then waits at most this long (a pruned trial of nn tune stops sooner), and
// a yield costs about 10-30 us, so at 5 ms it costs under 1%.
const YIELD_MS = 5;
// A full batch goes through the network in chunks of this many samples, whose gradients are
// averaged into the step's (the same gradient as one pass over all, in a bounded memory).
const FULL_BATCH_CHUNK = 1000;

export class Trainer {
  private readonly shuffleRng: Rng;
  /** The learning rate in use; callbacks (reduce on plateau) may lower it between epochs. */
  readonly control: TrainerControl;

  constructor(
    readonly model: Model,
    readonly optimizer: Optimizer,
    readonly loss: Loss,
    readonly opts: TrainOptions,
    readonly callbacks: Callback[] = [],
  ) {
    this.shuffleRng = Rng.derive(opts.seed, 'shuffle');
    this.control = { lr: opts.learningRate, scale: 1 };
    model.setFusedOutput(loss.fusedWith !== null && loss.fusedWith === model.outputActivation);
  }

  private stopWhy: string | null = null;

  /** Ends training at the next batch boundary; the epoch under way is dropped (its start is the last checkpoint). */
  requestStop(why: string): void {
    this.stopWhy = why;
  }

  /**
   * Trains from scratch, or from `resume` (a state that onCheckpoint gave after an epoch);
   * onCheckpoint gets the state after every complete epoch.
   */
  async fit(ds: Dataset, train: Uint32Array, val: Uint32Array, norm: Normalizer, resume?: TrainState, onCheckpoint?: (s: TrainState) => void): Promise<FitResult> {
    const { model, optimizer, loss, opts } = this;
    const params = model.params;
    const C = model.outDim;
    const D = ds.dim;
    const n = train.length;
    const S = opts.batchSize === 'full' ? n : opts.batchSize; // samples a step
    const chunk = opts.batchSize === 'full' ? Math.min(FULL_BATCH_CHUNK, n) : S; // samples a forward pass
    const batches = Math.ceil(n / S);
    const acc = chunk < S ? new Float32Array(params.grad.length) : null; // the step's gradient, over chunks
    const order = allocU32(train.length);
    order.set(train);
    const xBufs = new BatchBuffers(D);
    const gBufs = new BatchBuffers(C);
    const labelBufs = new BatchBuffers(1, allocU8);
    const history: EpochLog[] = [];
    let stopReason = opts.epochs === 1 ? 'finished its 1 epoch' : `finished all ${opts.epochs} epochs`;
    let trainSeconds = 0;
    const info: BatchInfo = { epoch: 0, batch: 0, batches, loss: 0, accuracy: 0 }; // one object, updated per batch
    const diag = new Diagnostics(model, batches);
    const side = Math.round(Math.sqrt(D));
    if (opts.augment && side * side !== D) throw new UserError(`data.augment: expected square images; these have ${D} pixels`);
    const aug = opts.augment ? new Augmenter(opts.augment, opts.seed, side) : null;
    const warnings: string[] = [];
    const lastGood = new Float32Array(params.data.length); // the weights at the start of the epoch
    let diverged = '';
    let interrupted = false;
    let first = 1;
    if (resume) {
      params.data.set(resume.params);
      optimizer.setState(resume.optimizer);
      order.set(resume.order);
      this.shuffleRng.setState(resume.rng.shuffle);
      model.dropoutLanes.setState(resume.rng.dropout);
      if (aug && resume.rng.augment) aug.setState(resume.rng.augment);
      this.control.scale = resume.lrScale;
      for (const cb of this.callbacks) if (cb.stateName && resume.callbacks[cb.stateName]) cb.setState?.(resume.callbacks[cb.stateName]);
      history.push(...resume.history);
      warnings.push(...resume.warnings);
      diag.given = resume.warned;
      trainSeconds = resume.trainSeconds;
      first = resume.epoch + 1;
    }
    const state = (epoch: number): TrainState => ({
      epoch,
      params: params.data,
      optimizer: optimizer.getState(),
      order,
      rng: { shuffle: this.shuffleRng.getState(), dropout: model.dropoutLanes.getState(), augment: aug ? aug.getState() : null },
      lrScale: this.control.scale,
      callbacks: Object.fromEntries(this.callbacks.filter((cb) => cb.stateName && cb.getState).map((cb) => [cb.stateName!, cb.getState!()])),
      history,
      warnings,
      warned: diag.given,
      trainSeconds,
    });

    for (let epoch = first; epoch <= opts.epochs && !this.stopWhy; epoch++) {
      this.control.lr = scheduledRate(opts.schedule, opts.learningRate, epoch, opts.epochs) * this.control.scale;
      for (const cb of this.callbacks) cb.onEpochBegin?.(epoch, batches);
      this.shuffleRng.shuffle(order);
      diag.beginEpoch();
      lastGood.set(params.data);
      const t0 = performance.now();
      let lastYield = t0;
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let bi = 0; bi < batches; bi++) {
        const stepStart = bi * S;
        const stepSize = Math.min(S, n - stepStart);
        let stepLoss = 0;
        const sampled = diag.sampled(bi);
        acc?.fill(0);
        for (let start = stepStart; start < stepStart + stepSize; start += chunk) {
          const B = Math.min(chunk, stepStart + stepSize - start);
          const x = xBufs.get(B);
          const labels = labelBufs.get(B);
          if (aug) aug.batch(ds.images, order, start, B, norm, x);
          else norm.gather(ds.images, order, start, B, x, Math.min(chunk, n - start - B));
          for (let r = 0; r < B; r++) labels[r] = ds.labels[order[start + r]];

          const p = model.forward(x, B, true, norm.shift);
          if (sampled) diag.afterForward(B);
          stepLoss += loss.forward(p, labels, B, C) * B;
          for (let r = 0; r < B; r++) if (argmaxRow(p, r, C) === labels[r]) correct++;
          const g = gBufs.get(B);
          loss.backward(p, labels, B, C, g);
          model.backward(g, B); // sets every gradient (no zeroing pass: each parameter is used once)
          if (acc) addScaled(acc, params.grad, B / stepSize); // the mean over the step is the chunks' weighted mean
        }
        if (acc) params.grad.set(acc);
        if (!Number.isFinite(stepLoss)) {
          diverged = `training loss became ${stepLoss / stepSize} at epoch ${epoch}, step ${bi + 1}: the learning rate is probably too high (kept the weights from the start of epoch ${epoch})`;
          break;
        }
        const penalty = addPenalties(params, opts.l1, opts.l2);
        if (opts.clipNorm) clipGradNorm(params.trainGrad, opts.clipNorm);
        if (sampled) diag.beforeStep();
        optimizer.step(params.trainData, params.trainGrad, this.control.lr);
        if (sampled) diag.afterStep();

        lossSum += stepLoss + penalty * stepSize;
        seen += stepSize;
        info.epoch = epoch;
        info.batch = bi + 1;
        info.loss = lossSum / seen;
        info.accuracy = correct / seen;
        for (const cb of this.callbacks) cb.onBatchEnd?.(info);
        if (performance.now() - lastYield > YIELD_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
        if (this.stopWhy) break;
      }
      if (this.stopWhy) {
        params.data.set(lastGood); // drop the epoch under way: the last complete one is what a resume continues from
        interrupted = true;
        stopReason = `${this.stopWhy} during epoch ${epoch}; kept the weights of epoch ${epoch - 1}`;
        break;
      }
      if (diverged) {
        params.data.set(lastGood);
        stopReason = diverged;
        break;
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      const v = evaluate(model, loss, ds, val, norm);
      const log: EpochLog = {
        epoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        val_loss: v.loss,
        val_accuracy: v.accuracy,
        lr: this.control.lr,
        seconds,
        samplesPerSecond: n / seconds,
        diagnostics: diag.endEpoch(),
      };
      history.push(log);
      let stop: string | void = undefined;
      for (const cb of this.callbacks) stop = cb.onEpochEnd?.(log, this.control) || stop;
      for (const w of diag.warnings(log.diagnostics!, epoch)) {
        warnings.push(w);
        for (const cb of this.callbacks) cb.onWarning?.(w);
      }
      onCheckpoint?.(state(epoch));
      if (stop) {
        stopReason = stop;
        break;
      }
    }
    if (this.stopWhy && !interrupted) {
      interrupted = true; // asked between epochs: the last checkpoint is complete
      stopReason = `${this.stopWhy} after epoch ${history.length}`;
    }
    if (!interrupted) for (const cb of this.callbacks) cb.onTrainEnd?.(); // (a resumed run restores the best weights at its end)
    return { history, stopReason, trainSeconds, warnings, interrupted, diverged: diverged !== '' };
  }
}

/** a += s · b */
function addScaled(a: Float32Array, b: Float32Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] += s * b[i];
}
