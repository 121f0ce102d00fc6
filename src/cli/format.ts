/** Plain-text tables for the terminal. */
import type { Evaluation } from '../train/evaluate';
import { perClassMetrics } from '../train/metrics';

export function table(rows: string[][], alignRight = true): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (alignRight && c > 0 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

export function confusionTable(confusion: number[][]): string {
  const C = confusion.length;
  const head = ['true\\pred', ...Array.from({ length: C }, (_, c) => String(c))];
  return table([head, ...confusion.map((row, t) => [String(t), ...row.map(String)])]);
}

export function perClassTable(confusion: number[][]): string {
  const rows = [['digit', 'precision', 'recall', 'f1', 'support']];
  for (const m of perClassMetrics(confusion)) rows.push([String(m.digit), m.precision.toFixed(4), m.recall.toFixed(4), m.f1.toFixed(4), String(m.support)]);
  return table(rows);
}

export function evaluationReport(split: string, e: Evaluation): string {
  const pairs = confusedPairs(e.confusion, 5);
  return [
    `${split}: ${e.samples} samples  accuracy ${(100 * e.accuracy).toFixed(2)}%  loss ${e.loss.toFixed(4)}`,
    '',
    'confusion matrix (rows: true digit, columns: predicted)',
    confusionTable(e.confusion),
    '',
    perClassTable(e.confusion),
    '',
    pairs.length ? `most confused: ${pairs.map((p) => `${p.truth} read as ${p.guess} (${p.count})`).join(', ')}` : 'most confused: none (no mistakes)',
  ].join('\n');
}

/** The off-diagonal cells of a confusion matrix, largest first: which true digit is most often read as which. */
export function confusedPairs(confusion: number[][], top: number): Array<{ truth: number; guess: number; count: number }> {
  const cells = confusion.flatMap((row, truth) => row.map((count, guess) => ({ truth, guess, count }))).filter((c) => c.truth !== c.guess && c.count > 0);
  return cells.sort((a, b) => b.count - a.count || a.truth - b.truth || a.guess - b.guess).slice(0, top);
}
