/** Classification metrics from outputs and confusion matrices. */

export function argmaxRow(p: Float32Array, row: number, C: number): number {
  let best = 0;
  let bestV = p[row * C];
  for (let c = 1; c < C; c++) {
    if (p[row * C + c] > bestV) {
      bestV = p[row * C + c];
      best = c;
    }
  }
  return best;
}

export interface ClassMetrics {
  digit: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Per-class precision, recall and F1 from a [true][predicted] confusion matrix (0 where undefined). */
export function perClassMetrics(confusion: number[][]): ClassMetrics[] {
  const C = confusion.length;
  return confusion.map((row, c) => {
    const tp = row[c];
    const actual = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < C; r++) predicted += confusion[r][c];
    const precision = predicted ? tp / predicted : 0;
    const recall = actual ? tp / actual : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { digit: c, precision, recall, f1, support: actual };
  });
}
