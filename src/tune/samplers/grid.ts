/** Grid search: trial n takes the n-th combination of the grid, in a fixed order (space.ts, gridPoints). */
import { gridPoints, type Param, type Params } from '../space';
import type { Sampler } from './sampler';

export class GridSampler implements Sampler {
  private readonly points: Params[];

  constructor(base: unknown, space: Param[]) {
    this.points = gridPoints(base, space);
  }

  get size(): number {
    return this.points.length;
  }

  propose(n: number): Params | null {
    return n < this.points.length ? this.points[n] : null;
  }
}
