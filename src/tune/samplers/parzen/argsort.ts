/**
 * numpy's default argsort (`np.argsort(a)`, kind 'quicksort'), step for step,
 * so that equal values come out in the order numpy puts them in.
 *
 * Optuna 3.1 sorts the means of a Parzen estimator with it before it gives each
 * one the distance to its neighbours as its bandwidth (`_calculate_numerical_params`),
 * and the order of equal means matters there: of two observations at the same
 * point, the one sorted first gets the gap to the left and the other the gap to
 * the right, and the prior, whose mean is the middle of the line, may sit among
 * observations equal to it. numpy's quicksort is not stable: up to 16 elements
 * it is an insertion sort (equal values keep their order), beyond that it
 * partitions around a median of 3 and equal values can move past each other.
 *
 * This is numpy's `aquicksort_` (numpy/core/src/npysort/quicksort.cpp, the same
 * in numpy 1.17 to 1.24, which is what runs for float64 there; from 1.25 on, a
 * CPU with AVX-512 takes another path): an introsort, quicksort partitions
 * while more than 16 elements remain, then insertion sort, and heapsort
 * (`aheapsort_`, npysort_heapsort.h) for a range that partitioning did not
 * shrink fast enough (2 log2(n) levels).
 */

/** The indices that sort `v` ascending (NaN last), in numpy's order for equal values. */
export function numpyArgsort(v: ArrayLike<number>): Int32Array {
  const n = v.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // numpy's DOUBLE_LT: a < b, with NaN greater than anything else
  const less = (a: number, b: number) => a < b || (b !== b && a === a);
  const swap = (i: number, j: number) => {
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  };
  const SMALL = 15; // numpy's SMALL_QUICKSORT: ranges of up to 16 elements go to insertion sort
  const stack: number[] = []; // pairs (left, right) of ranges still to sort, with their depth budgets
  const depths: number[] = [];
  let pl = 0;
  let pr = n - 1;
  let depth = 2 * msb(n);
  for (;;) {
    if (depth < 0) {
      heapsort(v, idx, pl, pr - pl + 1, less);
    } else {
      while (pr - pl > SMALL) {
        // median of 3 to idx[pm], then moved next to the right end as the pivot
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[idx[pm]], v[idx[pl]])) swap(pm, pl);
        if (less(v[idx[pr]], v[idx[pm]])) swap(pr, pm);
        if (less(v[idx[pm]], v[idx[pl]])) swap(pm, pl);
        const vp = v[idx[pm]];
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do pi++;
          while (less(v[idx[pi]], vp));
          do pj--;
          while (less(vp, v[idx[pj]]));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // the larger side waits on the stack; the smaller one is sorted next
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push(--depth);
      }
      for (let i = pl + 1; i <= pr; i++) {
        const vi = idx[i];
        const x = v[vi];
        let j = i;
        while (j > pl && less(x, v[idx[j - 1]])) {
          idx[j] = idx[j - 1];
          j--;
        }
        idx[j] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    depth = depths.pop()!;
  }
  return idx;
}

/** numpy's npy_get_msb: floor(log2(n)) for n >= 1 (0 for n <= 1). */
function msb(n: number): number {
  let depth = 0;
  for (n >>= 1; n > 0; n >>= 1) depth++;
  return depth;
}

/** numpy's aheapsort_ on idx[start .. start + n - 1] (1-based heap indices, as numpy writes it). */
function heapsort(v: ArrayLike<number>, idx: Int32Array, start: number, n: number, less: (a: number, b: number) => boolean): void {
  const a = (k: number) => idx[start + k - 1];
  const set = (k: number, x: number) => {
    idx[start + k - 1] = x;
  };
  // put tmp at heap position i of a heap of m, sifting it down past larger children
  const siftDown = (i: number, tmp: number, m: number) => {
    for (let j = i << 1; j <= m; ) {
      if (j < m && less(v[a(j)], v[a(j + 1)])) j++;
      if (!less(v[tmp], v[a(j)])) break;
      set(i, a(j));
      i = j;
      j += j;
    }
    set(i, tmp);
  };
  for (let l = n >> 1; l > 0; l--) siftDown(l, a(l), n);
  for (let m = n; m > 1; m--) {
    const tmp = a(m);
    set(m, a(1));
    siftDown(1, tmp, m - 1);
  }
}
