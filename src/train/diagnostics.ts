/**
 * Diagnostics for the problems the guide warns about, per epoch and per dense layer:
 *
 *   gradNorm     the L2 norm of the layer's weight gradient
 *   updateRatio  ‖Δw‖ / ‖w‖ of one optimizer step (about 1e-3 is the usual healthy size);
 *                maxUpdateRatio the largest of those (explosions are spikes)
 *   deadRelu     for ReLU layers, the share of units that were 0 for every sample seen
 *
 * Measured on about SAMPLES steps spread over each epoch (its first, then evenly), so they
 * cost little (each costs a few passes over the parameters); gradNorm and updateRatio are
 * means over those steps, and deadRelu counts the samples of those steps' batches. The trainer turns the numbers into
 * warnings, once per run each, in plain words with the remedy.
 */
import { Dense } from '../nn/dense';
import type { Model } from '../nn/model';
import type { ParamView } from '../nn/params';

export const SAMPLES = 10;
// A layer's gradient this many times smaller than the largest layer's: vanishing.
const VANISHING_RATIO = 1e-3;
// A gradient norm above this (or not finite), or a step larger than the weights it changes: exploding.
const EXPLODING_NORM = 1e3;
const EXPLODING_RATIO = 1;
// More than this share of a ReLU layer's units dead for a whole epoch: dying ReLUs.
const DEAD_SHARE = 0.5;

export interface LayerDiagnostics {
  layer: string; // e.g. "layers.0"
  gradNorm: number;
  updateRatio: number;
  maxUpdateRatio: number;
  deadRelu?: number;
}

interface Tracked {
  dense: Dense;
  weight: ParamView;
  before: Float32Array; // the weights before a sampled step
  alive: Uint8Array | null; // ReLU units seen above 0 this epoch
  gradSum: number;
  ratioSum: number;
  ratioMax: number;
}

export class Diagnostics {
  private readonly layers: Tracked[];
  private samples = 0;
  private readonly warned = new Set<string>();
  private readonly every: number;

  constructor(model: Model, stepsPerEpoch: number) {
    this.every = Math.max(1, Math.floor(stepsPerEpoch / SAMPLES));
    this.layers = model
      .allLayers()
      .filter((l): l is Dense => l instanceof Dense)
      .map((dense) => {
        const weight = model.params.get(`${dense.name}.weight`);
        return { dense, weight, before: new Float32Array(weight.data.length), alive: dense.activation === 'relu' ? new Uint8Array(dense.outDim) : null, gradSum: 0, ratioSum: 0, ratioMax: 0 };
      });
  }

  beginEpoch(): void {
    this.samples = 0;
    for (const t of this.layers) {
      t.gradSum = 0;
      t.ratioSum = 0;
      t.ratioMax = 0;
      t.alive?.fill(0);
    }
  }

  /** Whether step `step` (0-based in its epoch) is measured. */
  sampled(step: number): boolean {
    return step % this.every === 0;
  }

  /** After a sampled step's forward pass: which ReLU units were above 0. */
  afterForward(B: number): void {
    for (const t of this.layers) {
      if (!t.alive) continue;
      const a = t.dense.output();
      const N = t.dense.outDim;
      for (let k = 0; k < B * N; k++) if (a[k] > 0) t.alive[k % N] = 1;
    }
  }

  /** Before a sampled step's update: gradient norms, and the weights to compare with. */
  beforeStep(): void {
    for (const t of this.layers) {
      t.gradSum += norm(t.weight.grad);
      t.before.set(t.weight.data);
    }
  }

  /** After it: the update's size relative to the weights. */
  afterStep(): void {
    this.samples++;
    for (const t of this.layers) {
      const w = t.weight.data;
      let d = 0;
      for (let i = 0; i < w.length; i++) d += (w[i] - t.before[i]) ** 2;
      const r = Math.sqrt(d) / (norm(t.before) || 1);
      t.ratioSum += r;
      t.ratioMax = Number.isNaN(r) || r > t.ratioMax ? r : t.ratioMax;
    }
  }

  endEpoch(): LayerDiagnostics[] {
    const n = Math.max(1, this.samples);
    return this.layers.map((t) => {
      const d: LayerDiagnostics = { layer: t.dense.name, gradNorm: t.gradSum / n, updateRatio: t.ratioSum / n, maxUpdateRatio: t.ratioMax };
      if (t.alive) d.deadRelu = 1 - t.alive.reduce((a, v) => a + v, 0) / t.alive.length;
      return d;
    });
  }

  /** The warnings given so far (by key), for checkpoints: a resumed run does not repeat them. */
  get given(): string[] {
    return [...this.warned];
  }

  set given(keys: string[]) {
    this.warned.clear();
    for (const k of keys) this.warned.add(k);
  }

  /** Warnings the numbers call for that this run has not given yet. */
  warnings(layers: LayerDiagnostics[], epoch: number): string[] {
    const out: string[] = [];
    const say = (key: string, text: string) => {
      if (this.warned.has(key)) return;
      this.warned.add(key);
      out.push(text);
    };
    const biggest = Math.max(...layers.map((l) => (Number.isFinite(l.gradNorm) ? l.gradNorm : 0)));
    for (const l of layers) {
      if (!Number.isFinite(l.gradNorm) || l.gradNorm > EXPLODING_NORM || !(l.maxUpdateRatio <= EXPLODING_RATIO)) {
        say('exploding', `exploding gradients: at epoch ${epoch} ${l.layer}'s gradient norm is ${fmt(l.gradNorm)} and a step changed its weights by up to ${fmt(100 * l.maxUpdateRatio)}% of their size; lower the learning rate, or set training.clipNorm (e.g. 1)`);
      } else if (biggest > 0 && l.gradNorm < VANISHING_RATIO * biggest) {
        say('vanishing', `vanishing gradients: ${l.layer}'s gradient norm (${fmt(l.gradNorm)}) is ${fmt(biggest / l.gradNorm)} times smaller than the largest layer's at epoch ${epoch}, so it barely learns; use relu (or leaky_relu, elu) instead of sigmoid or tanh, he init, or fewer layers`);
      }
      if (l.deadRelu !== undefined && l.deadRelu > DEAD_SHARE) {
        say(`dead:${l.layer}`, `dying ReLUs: ${Math.round(100 * l.deadRelu)}% of ${l.layer}'s units gave 0 for every sample of epoch ${epoch}; lower the learning rate, or use leaky_relu or elu, or he init`);
      }
    }
    return out;
  }
}

function norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}
