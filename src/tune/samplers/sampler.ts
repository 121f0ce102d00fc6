/**
 * A sampler proposes the params of the next trial. Grid and random proposals
 * are pure functions of (seed, trial number), so they do not depend on how
 * many workers or machines share the study, and a resumed study never replays
 * them; TPE also reads the trials so far (running ones as provisional results).
 */
import type { Params } from '../space';
import type { TrialView } from '../trial';

export interface Sampler {
  /** The params of trial `n` given every trial the study holds, or null when there is nothing left to try (a grid used up). */
  propose(n: number, trials: readonly TrialView[]): Params | null;
}
