/**
 * npm run bench -- --together: two trainings of W at once on the machine's cores,
 * with every pairing of thread counts (1+1, 2+2, 1+2), each epoch time against a
 * lone one-thread run's measured in the same session. What a user meets who trains
 * while the tests run, and what every pair of trials of nn tune is.
 */
import { spawn } from 'node:child_process';
import type { RunResult } from './runs';

export interface TogetherRow {
  pairing: string;
  threads: number;
  medianEpoch: number;
  ratio: number; // to the lone one-thread run
}

/** One run of ours as a child process (bench.ts --child), asynchronous so two can overlap. */
function runChild(script: string, epochs: number, threads: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, '--child', '--epochs', String(epochs), '--threads', String(threads)]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) reject(new Error(`nn bench run failed (exit ${code}): ${err.trim()}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

export async function together(script: string, epochs: number, log: (s: string) => void): Promise<{ lone: number; rows: TogetherRow[] }> {
  const lone = (await runChild(script, epochs, 1)).medianEpoch;
  log(`alone, 1 thread: ${lone.toFixed(3)} s/epoch`);
  const rows: TogetherRow[] = [];
  for (const [a, b] of [
    [1, 1],
    [2, 2],
    [1, 2],
  ]) {
    const both = await Promise.all([runChild(script, epochs, a), runChild(script, epochs, b)]);
    both.forEach((r, i) => {
      const threads = i === 0 ? a : b;
      rows.push({ pairing: `${a} + ${b} threads`, threads, medianEpoch: r.medianEpoch, ratio: +(r.medianEpoch / lone).toFixed(3) });
      log(`together (${a} + ${b} threads), the ${threads}-thread run: ${r.medianEpoch.toFixed(3)} s/epoch, ${(r.medianEpoch / lone).toFixed(2)}x the lone one-thread run`);
    });
  }
  return { lone, rows };
}
