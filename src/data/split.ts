/**
 * Seeded, stratified train/validation/test split over indices of the pooled dataset.
 * Each class is divided in the same proportions, and the split sizes are exact
 * (56,000/7,000/7,000 for 80/10/10 of 70,000).
 */
import { Rng } from '../util/rng';
import { NUM_CLASSES } from './mnist';

export interface Split {
  train: Uint32Array;
  val: Uint32Array;
  test: Uint32Array;
}

/** Integers proportional to `weights` that sum exactly to `total` (largest remainder). */
export function apportion(total: number, fractions: number[]): number[] {
  const ideal = fractions.map((f) => total * f);
  const out = ideal.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = ideal.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  return out;
}

/**
 * Splits `indices` into parts with the given fractions, stratified by label.
 * Per-class counts are rounded so that both each class's total and each part's total are exact.
 */
export function stratifiedSplit(labels: Uint8Array, indices: Uint32Array, fractions: number[], rng: Rng): Uint32Array[] {
  const K = fractions.length;
  const byClass: number[][] = Array.from({ length: NUM_CLASSES }, () => []);
  for (const i of indices) byClass[labels[i]].push(i);
  const totals = apportion(indices.length, fractions);

  // counts[c][k]: floors first, then hand out the remainders by largest fractional part.
  const counts = byClass.map((members) => fractions.map((f) => Math.floor(members.length * f)));
  const rowLeft = byClass.map((m, c) => m.length - counts[c].reduce((a, b) => a + b, 0));
  const colLeft = totals.map((t, k) => t - counts.reduce((a, row) => a + row[k], 0));
  const cells: Array<[number, number, number]> = [];
  byClass.forEach((m, c) => fractions.forEach((f, k) => cells.push([m.length * f - Math.floor(m.length * f), c, k])));
  cells.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  for (const [, c, k] of cells) {
    if (rowLeft[c] > 0 && colLeft[k] > 0) {
      counts[c][k]++;
      rowLeft[c]--;
      colLeft[k]--;
    }
  }
  // Whatever the greedy pass could not place goes to any part that still has room.
  for (let c = 0; c < NUM_CLASSES; c++) {
    for (let k = 0; k < K && rowLeft[c] > 0; k++) {
      const give = Math.min(rowLeft[c], colLeft[k]);
      counts[c][k] += give;
      rowLeft[c] -= give;
      colLeft[k] -= give;
    }
  }

  const parts: number[][] = Array.from({ length: K }, () => []);
  byClass.forEach((members, c) => {
    rng.shuffle(members);
    let at = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < counts[c][k]; j++) parts[k].push(members[at++]);
    }
  });
  return parts.map((p) => {
    const a = Uint32Array.from(p);
    rng.shuffle(a); // so that no part is ordered by class
    return a;
  });
}

export type SplitSpec = 'official' | number[];

export function makeSplit(labels: Uint8Array, n: number, officialTrain: number, spec: SplitSpec, seed: number): Split {
  const rng = Rng.derive(seed, 'split');
  if (spec === 'official') {
    const pool = new Uint32Array(officialTrain);
    for (let i = 0; i < officialTrain; i++) pool[i] = i;
    const [train, val] = stratifiedSplit(labels, pool, [0.9, 0.1], rng);
    const test = new Uint32Array(n - officialTrain);
    for (let i = 0; i < test.length; i++) test[i] = officialTrain + i;
    return { train, val, test };
  }
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const [train, val, test] = stratifiedSplit(labels, all, spec, rng);
  return { train, val, test };
}
