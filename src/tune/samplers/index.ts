/** The sampler a tune file's method names. */
import type { TuneSpec } from '../file';
import type { Direction } from '../trial';
import { GridSampler } from './grid';
import { RandomSampler } from './random';
import type { Sampler } from './sampler';
import { TpeSampler } from './tpe';

export function makeSampler(spec: Pick<TuneSpec, 'method' | 'base' | 'space' | 'seed' | 'startupTrials'>, direction: Direction): Sampler {
  switch (spec.method) {
    case 'grid':
      return new GridSampler(spec.base, spec.space);
    case 'random':
      return new RandomSampler(spec.base, spec.space, spec.seed);
    case 'tpe':
      return new TpeSampler(spec.base, spec.space, { seed: spec.seed, startupTrials: spec.startupTrials, direction });
  }
}
