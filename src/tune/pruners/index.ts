/** The pruner a tune file names. */
import type { PrunerSpec } from '../file';
import type { Direction } from '../trial';
import { AshaPruner } from './asha';
import { MedianPruner } from './median';
import type { Pruner } from './pruner';

const never: Pruner = { decide: () => null };

export function makePruner(spec: PrunerSpec, direction: Direction): Pruner {
  switch (spec.type) {
    case 'asha':
      return new AshaPruner(spec.minEpochs, spec.reductionFactor, direction);
    case 'median':
      return new MedianPruner(spec.minEpochs, spec.minTrials, direction);
    case 'none':
      return never;
  }
}
