/**
 * Random search (Bergstra & Bengio 2012): every param drawn independently,
 * uniformly on its line (log params uniformly in log space), a choice uniformly
 * among its values. Trial n's value of a param comes from a generator seeded by
 * (seed, n, the param's path) alone: a pure function of the trial number.
 */
import { Rng } from '../../util/rng';
import { lineOf, walkSpace, type Param, type Params } from '../space';
import type { Sampler } from './sampler';

/** One uniform draw of param p for trial n. */
export function randomValue(p: Param, seed: number, n: number): unknown {
  const rng = Rng.derive(seed, `random/${n}/${p.path}`);
  if (p.spec.type === 'choice') return p.spec.values[rng.int(p.spec.values.length)];
  const line = lineOf(p.spec);
  return line.value(line.lo + rng.next() * (line.hi - line.lo));
}

export class RandomSampler implements Sampler {
  constructor(private readonly base: unknown, private readonly space: Param[], private readonly seed: number) {}

  propose(n: number): Params {
    return walkSpace(this.base, this.space, (p) => randomValue(p, this.seed, n)).params;
  }
}
