/**
 * The pruners' decisions on hand-made sequences, against their papers' definitions:
 * ASHA (Li et al. 2018): at a rung (epochs minEpochs·η^k) a trial goes on only if it is in the
 * top ⌊n/η⌋ of the n trials that reached the rung, itself included (the best goes on while n < η);
 * the median rule (Golovin et al. 2017): stop when worse than the median of earlier trials at that epoch.
 */
import { describe, expect, it } from 'vitest';
import { AshaPruner } from '../../src/tune/pruners/asha';
import { MedianPruner } from '../../src/tune/pruners/median';
import type { Report } from '../../src/tune/pruners/pruner';

/** Feeds trials' reports at one epoch in arrival order; returns which went on. */
function arrivals(decide: (n: number, v: number, seen: Report[]) => string | null, values: number[]): boolean[] {
  const seen: Report[] = [];
  return values.map((v, n) => {
    seen.push({ number: n, value: v });
    return decide(n, v, seen) === null;
  });
}

describe('ASHA', () => {
  const asha = new AshaPruner(1, 3, 'maximize');

  it('rungs sit at minEpochs · η^k: 1, 3, 9, 27 for minEpochs 1 and η 3; 2, 4, 8 for 2 and 2', () => {
    expect([1, 2, 3, 4, 8, 9, 10, 27, 28].map((e) => asha.rungOf(e))).toEqual([0, -1, 1, -1, -1, 2, -1, 3, -1]);
    const b = new AshaPruner(2, 2, 'maximize');
    expect([1, 2, 3, 4, 6, 8, 16].map((e) => b.rungOf(e))).toEqual([-1, 0, -1, 1, -1, 2, 3]);
  });

  it('between rungs nobody stops, however bad', () => {
    expect(asha.decide(5, 2, 0.01, [{ number: 0, value: 0.99 }, { number: 5, value: 0.01 }])).toBeNull();
  });

  it('a trial goes on only in the top ⌊n/η⌋ of the n that reached the rung (the best alone while n < η)', () => {
    // arrival order at rung 0: 0.90 (n=1: best, on), 0.80 (n=2: top 1 is 0.90: stop), 0.95 (n=3: top 1: on),
    // 0.85 (n=4: top 1 is 0.95: stop), 0.92 (n=5: top 1: stop), 0.93 (n=6: top 2 = 0.95, 0.93: on),
    // 0.91 (n=7: top 2: stop), 0.97 (n=8: on), 0.94 (n=9: top 3 = 0.97, 0.95, 0.94: on)
    expect(arrivals((n, v, seen) => asha.decide(n, 1, v, seen), [0.9, 0.8, 0.95, 0.85, 0.92, 0.93, 0.91, 0.97, 0.94])).toEqual([true, false, true, false, false, true, false, true, true]);
  });

  it('ties with the cut go on; a NaN metric ranks last', () => {
    expect(asha.decide(3, 1, 0.9, [0.9, 0.9, 0.9].map((value, number) => ({ number, value })))).toBeNull();
    expect(asha.decide(1, 1, NaN, [{ number: 0, value: 0.1 }, { number: 1, value: NaN }])).toMatch(/not in the top 1 of the 2/);
    expect(asha.decide(1, 1, 0.1, [{ number: 0, value: NaN }, { number: 1, value: 0.1 }])).toBeNull();
  });

  it('minimizes a loss: lower is better', () => {
    const a = new AshaPruner(1, 2, 'minimize');
    // 0.5 (best alone: on), 0.7 (top 1 of 2 is 0.5: stop), 0.3 (top 1 of 3: on), 0.4 (top 2 of 4 = 0.3, 0.4: on)
    expect(arrivals((n, v, seen) => a.decide(n, 1, v, seen), [0.5, 0.7, 0.3, 0.4])).toEqual([true, false, true, true]);
  });

  it('says why it stopped a trial', () => {
    expect(asha.decide(1, 3, 0.8, [{ number: 0, value: 0.9 }, { number: 1, value: 0.8 }])).toBe('asha: at rung 1 (epoch 3), not in the top 1 of the 2 trials there (0.8; the cut is 0.9)');
  });
});

describe('median rule', () => {
  const median = new MedianPruner(2, 3, 'maximize');
  const earlier = (values: number[]) => values.map((value, number) => ({ number, value }));

  it('no stop before minEpochs, nor before minTrials earlier trials reported at that epoch', () => {
    expect(median.decide(9, 1, 0.0, earlier([0.9, 0.9, 0.9, 0.9]))).toBeNull(); // epoch 1 < minEpochs 2
    expect(median.decide(9, 2, 0.0, earlier([0.9, 0.9]))).toBeNull(); // two earlier trials < 3
  });

  it('stops below the median of earlier trials (odd and even counts), not at or above it', () => {
    expect(median.decide(9, 2, 0.79, earlier([0.7, 0.8, 0.9]))).toMatch(/worse than the median 0\.8 of 3 earlier trials/);
    expect(median.decide(9, 2, 0.8, earlier([0.7, 0.8, 0.9]))).toBeNull();
    expect(median.decide(9, 2, 0.84, earlier([0.7, 0.8, 0.9, 0.95]))).toMatch(/median 0\.85 of 4/); // (0.8 + 0.9) / 2
    expect(median.decide(9, 2, 0.86, earlier([0.7, 0.8, 0.9, 0.95]))).toBeNull();
  });

  it('only earlier trials count, and itself not', () => {
    const reports = [...earlier([0.1, 0.1, 0.1]), { number: 9, value: 0.5 }, { number: 12, value: 0.99 }, { number: 13, value: 0.99 }, { number: 14, value: 0.99 }];
    expect(median.decide(9, 2, 0.5, reports)).toBeNull(); // later trials 12-14 would make the median 0.99
  });

  it('minimizes a loss', () => {
    const m = new MedianPruner(1, 1, 'minimize');
    expect(m.decide(5, 1, 0.6, earlier([0.5]))).toMatch(/worse than the median 0\.5/);
    expect(m.decide(5, 1, 0.4, earlier([0.5]))).toBeNull();
  });
});
