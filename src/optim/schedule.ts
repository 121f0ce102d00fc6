/**
 * Learning-rate schedules, one rate per epoch (as Keras' LearningRateScheduler
 * and PyTorch's epoch-stepped schedulers): the rate of epoch e (1-based) of E,
 * from the optimizer's base rate L.
 *
 *   constant      L
 *   step          L · gamma^floor(k / stepSize)
 *   exponential   L · gamma^k
 *   cosine        minLr + (L − minLr) · (1 + cos(π k / K)) / 2
 *
 * where k = e − 1 − W counts the epochs after a linear warmup of W epochs
 * (rates L/W, 2L/W, ..., L), and K = E − W. Reduce-on-plateau multiplies
 * whatever the schedule gives (see callbacks.ts).
 */
import type { Config } from '../config/schema';

export type ScheduleConfig = Config['training']['schedule'];

export function scheduledRate(s: ScheduleConfig, base: number, epoch: number, epochs: number): number {
  const W = s.warmupEpochs;
  if (epoch <= W) return (base * epoch) / W;
  const k = epoch - 1 - W;
  const K = Math.max(1, epochs - W);
  switch (s.type) {
    case 'constant':
      return base;
    case 'step':
      return base * s.gamma ** Math.floor(k / s.stepSize);
    case 'exponential':
      return base * s.gamma ** k;
    case 'cosine':
      return s.minLr + ((base - s.minLr) * (1 + Math.cos((Math.PI * k) / K))) / 2;
  }
}
