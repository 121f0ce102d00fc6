/**
 * Gradual pruning's sparsity over training (Zhu & Gupta 2017, "To prune, or not
 * to prune", eq. 1): from s_i at step t0 to the final s_f after n pruning steps
 * spaced Δt apart, fast at first while redundant weights abound, then slower:
 *
 *   s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n Δt))^3,   t0 <= t <= t0 + n Δt
 *
 * and s_f after. Masks are recomputed only at t0 + k Δt.
 */
export interface PruningSchedule {
  initial: number; // s_i
  final: number; // s_f
  start: number; // t0, in optimizer steps
  every: number; // Δt
  updates: number; // n
}

/** The sparsity the schedule asks for at step t (before t0: none). */
export function sparsityAt(s: PruningSchedule, t: number): number {
  if (t < s.start) return 0;
  const span = s.updates * s.every;
  if (span === 0 || t >= s.start + span) return s.final;
  const k = Math.floor((t - s.start) / s.every) * s.every; // the last update at or before t
  return s.final + (s.initial - s.final) * (1 - k / span) ** 3;
}

/**
 * The schedule for a fine-tuning run of `epochs` epochs of `batches` steps: four mask updates an epoch, pruning
 * from the first step to two thirds of the run, so the last third recovers at the final sparsity.
 */
export function fineTuneSchedule(final: number, epochs: number, batches: number): PruningSchedule {
  const every = Math.max(1, Math.round(batches / 4));
  const updates = Math.max(1, Math.floor((2 / 3) * epochs * batches / every));
  return { initial: 0, final, start: 0, every, updates };
}
