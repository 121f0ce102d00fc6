/**
 * Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kégl 2011),
 * univariate, with Optuna 3.1's TPESampler defaults (consider_prior,
 * prior_weight 1, consider_magic_clip, consider_endpoints=False,
 * default_gamma, default_weights, n_ei_candidates 24), but with its
 * constant_liar on (off by default there).
 *
 * Until `startupTrials` trials have finished (complete or pruned) a proposal is
 * random search's, exactly. After that the finished trials are ranked and split:
 * the best n_good = min(ceil(N / 10), 25) of the N are the good group, the rest
 * the bad one (one split for all params, as the paper's threshold y* is one
 * quantile of all results). Each group is then put back in trial order, as
 * Optuna keeps it: the weights of a Parzen estimator's kernels depend on the
 * age of their trials (parzen/weights.ts). Each param that applies (walking
 * the space) gets a Parzen estimator l(x) of its values in the good trials and
 * g(x) of its values in the bad ones (parzen/numeric.ts, parzen/choice.ts), so
 * a conditional param learns only from the trials it applied to (and has only
 * the prior for l when none of those is good). Of `candidates` draws from l,
 * each rounded to a value of the param first (to its step, to an integer), the
 * one with the largest l(x) / g(x) wins (the expected improvement grows with
 * that ratio, paper eq. 4).
 *
 * Trials not yet finished (running, waiting, interrupted) are the "constant
 * liar": their params are known and their value is not, so they count as the
 * worst of all, in the bad group, and a parallel worker is steered away from
 * what the others are already trying. (Optuna's constant_liar takes running
 * trials only; here a trial waiting to run again counts as running.) Failed
 * trials are ignored.
 */
import { Rng } from '../../util/rng';
import { lineOf, sameValue, walkSpace, type Line, type Param, type Params } from '../space';
import { better, type Direction, type TrialState, type TrialView } from '../trial';
import { ChoiceParzen } from './parzen/choice';
import { NumericParzen } from './parzen/numeric';
import { RandomSampler } from './random';
import type { Sampler } from './sampler';

export interface TpeOptions {
  seed: number;
  startupTrials: number;
  direction: Direction;
  candidates?: number; // draws from l(x) per param and proposal (Optuna's n_ei_candidates); 24 if not given
}

/** States of trials whose params are drawn but whose value is still to come. */
const PENDING: readonly TrialState[] = ['waiting', 'running', 'interrupted'];

/**
 * How many of n ranked finished trials form the good group: Optuna's
 * default_gamma, min(ceil(0.1 n), 25), the best 10%, at most 25. (n / 10 here,
 * which gives the same as Optuna's 0.1 * n for every n up to 100,000.)
 */
export function goodCount(n: number): number {
  return Math.min(Math.ceil(n / 10), 25);
}

/**
 * Finished trials best first: complete ones by value (NaN last), then pruned
 * ones, those that reached a later epoch first, then by their value at it
 * (NaN last), those without any report last; ties by trial number.
 */
export function rankTrials(trials: readonly TrialView[], direction: Direction): TrialView[] {
  type Key = { trial: TrialView; tier: number; epoch: number; value: number }; // tier: 0 complete, 1 pruned, 2 pruned without reports
  const keys: Key[] = [];
  for (const t of trials) {
    if (t.state === 'complete') keys.push({ trial: t, tier: 0, epoch: 0, value: t.value ?? NaN });
    else if (t.state === 'pruned') {
      let epoch = 0;
      for (const e of t.reports.keys()) epoch = Math.max(epoch, e);
      keys.push(epoch > 0 ? { trial: t, tier: 1, epoch, value: t.reports.get(epoch)! } : { trial: t, tier: 2, epoch: 0, value: NaN });
    }
  }
  keys.sort(
    (a, b) =>
      a.tier - b.tier ||
      b.epoch - a.epoch ||
      (better(a.value, b.value, direction) ? -1 : better(b.value, a.value, direction) ? 1 : 0) ||
      a.trial.number - b.trial.number,
  );
  return keys.map((k) => k.trial);
}

/**
 * The good and bad groups: the best goodCount(N) of the N finished trials, and
 * the rest with the pending ones (the liars); each in trial order (Optuna's
 * `np.sort` of the indices of each group, in `_split_observation_pairs`).
 */
export function splitTrials(trials: readonly TrialView[], direction: Direction): { good: TrialView[]; bad: TrialView[] } {
  const ranked = rankTrials(trials, direction);
  const n = goodCount(ranked.length);
  const byNumber = (a: TrialView, b: TrialView) => a.number - b.number;
  return { good: ranked.slice(0, n).sort(byNumber), bad: ranked.slice(n).concat(trials.filter((t) => PENDING.includes(t.state))).sort(byNumber) };
}

/** Where the trials that the param at `path` applied to put it on its line (values that are not finite there are skipped). */
export function pointsOf(path: string, line: Line, trials: readonly TrialView[]): Float64Array {
  const out: number[] = [];
  for (const t of trials) {
    if (!(path in t.params)) continue;
    const u = line.point(t.params[path] as number);
    if (Number.isFinite(u)) out.push(u);
  }
  return Float64Array.from(out);
}

/** Which of its `values` the trials that the choice at `path` applied to took (indices, in the trials' order; values not among them are skipped). */
export function choicesOf(path: string, values: unknown[], trials: readonly TrialView[]): Int32Array {
  const out: number[] = [];
  for (const t of trials) {
    if (!(path in t.params)) continue;
    const k = values.findIndex((v) => sameValue(v, t.params[path]));
    if (k >= 0) out.push(k);
  }
  return Int32Array.from(out);
}

export class TpeSampler implements Sampler {
  private readonly random: RandomSampler;
  private readonly seed: number;
  private readonly startupTrials: number;
  private readonly direction: Direction;
  private readonly candidates: number;

  constructor(private readonly base: unknown, private readonly space: Param[], opts: TpeOptions) {
    this.random = new RandomSampler(base, space, opts.seed);
    this.seed = opts.seed;
    this.startupTrials = opts.startupTrials;
    this.direction = opts.direction;
    this.candidates = opts.candidates ?? 24;
    if (!(Number.isInteger(this.candidates) && this.candidates >= 1)) throw new Error(`tpe: candidates must be a whole number >= 1; got ${this.candidates}`);
  }

  propose(n: number, trials: readonly TrialView[]): Params {
    const finished = trials.filter((t) => t.state === 'complete' || t.state === 'pruned').length;
    if (finished < this.startupTrials) return this.random.propose(n);
    const { good, bad } = splitTrials(trials, this.direction);
    return walkSpace(this.base, this.space, (p) => this.draw(p, Rng.derive(this.seed, `tpe/${n}/${p.path}`), good, bad)).params;
  }

  /** The candidate of l with the best log l(x) - log g(x) (the first of equals, as numpy's argmax). */
  private draw(p: Param, rng: Rng, good: TrialView[], bad: TrialView[]): unknown {
    if (p.spec.type === 'choice') {
      const k = p.spec.values.length;
      const l = new ChoiceParzen(choicesOf(p.path, p.spec.values, good), k);
      const g = new ChoiceParzen(choicesOf(p.path, p.spec.values, bad), k);
      let best = -1;
      let bestScore = -Infinity;
      for (let c = 0; c < this.candidates; c++) {
        const k = l.sample(rng);
        const score = l.logPmf(k) - g.logPmf(k);
        if (best < 0 || score > bestScore) [best, bestScore] = [k, score];
      }
      return p.spec.values[best];
    }
    const line = lineOf(p.spec);
    if (!(line.hi > line.lo)) return line.value(line.lo); // a float with low = high: nothing to choose
    const l = new NumericParzen(pointsOf(p.path, line, good), line.lo, line.hi, line.step);
    const g = new NumericParzen(pointsOf(p.path, line, bad), line.lo, line.hi, line.step);
    let best = NaN;
    let bestScore = -Infinity;
    for (let c = 0; c < this.candidates; c++) {
      // as Optuna: the draw is made a value of the param (rounded, clipped), and that value is scored
      const value = line.value(l.sample(rng));
      const x = line.point(value);
      const score = l.logPdf(x) - g.logPdf(x);
      if (c === 0 || score > bestScore) [best, bestScore] = [value, score];
    }
    return best;
  }
}
