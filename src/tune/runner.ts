/**
 * A trial is a child process running the real trainer:
 *   nn train --config trials/<n>/config.json --out trials/<n> --force --json --threads 1 --trial
 * (or `--resume trials/<n>` when an interrupted attempt left a checkpoint of this
 * very config), so a crash, a divergence or running out of memory in one trial
 * never takes the study down. Its epochs arrive as JSON lines while it trains;
 * stopping it (pruned, or the study interrupted) is a SIGTERM, which the trainer
 * answers at the next batch. It runs in a process group of its own, so a Ctrl-C
 * at the terminal reaches the study, which decides; and it stops by itself when
 * the study's process goes away (the IPC channel closes: `--trial`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { CHECKPOINT_FILE } from '../io/checkpoint';
import type { Metric } from './file';
import { sameValue } from './space';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'nn');
const STDERR_LINES = 20; // kept for the reason a trial failed

/** One epoch as the trainer reports it (nn train --json). */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  seconds: number;
}

export type TrialExit =
  | { kind: 'complete'; value: number; testAccuracy: number; bestEpoch: number | null; epochs: number }
  | { kind: 'stopped'; why: 'pruned' | 'interrupted' } // we asked it to stop
  | { kind: 'failed'; reason: string } // it ended with an error of its own (bad config, divergence, out of memory): not retried
  | { kind: 'died'; reason: string }; // killed by a signal it did not ask for, or gone without a word: retried

export interface TrialProcess {
  readonly pid: number;
  /** Ends the trial at its next batch (SIGTERM); `done` then resolves with `stopped`. */
  stop(why: 'pruned' | 'interrupted'): void;
  /** Ends it now (SIGKILL). */
  kill(): void;
  readonly done: Promise<TrialExit>;
  readonly resumed: boolean;
}

/**
 * Starts trial `dir` on `config` (its complete resolved config). `onEpoch` gets each epoch's
 * record as it comes, with the study's metric.
 */
export function startTrial(dir: string, config: unknown, metric: Metric, onEpoch: (r: EpochRecord, value: number) => void): TrialProcess {
  const resume = canResume(dir, config);
  if (!resume) {
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }
  const where = resume ? ['--resume', dir] : ['--config', path.join(dir, 'config.json'), '--out', dir, '--force'];
  const child = spawn(process.execPath, [BIN, 'train', ...where, '--json', '--threads', '1', '--trial'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true, // its own process group: the terminal's Ctrl-C goes to the study alone
    env: { ...process.env, NO_COLOR: '1' },
  });
  let asked: 'pruned' | 'interrupted' | null = null;
  let result: Record<string, any> | null = null;
  const errLines: string[] = [];
  lines(child.stdout!, (line) => {
    let r: Record<string, any>;
    try {
      r = JSON.parse(line);
    } catch {
      return; // not ours
    }
    if (r.type === 'epoch') onEpoch(r as unknown as EpochRecord, Number(r[metric]));
    else if (r.type === 'result') result = r;
  });
  lines(child.stderr!, (line) => {
    errLines.push(line);
    if (errLines.length > STDERR_LINES) errLines.shift();
  });
  const done = new Promise<TrialExit>((resolve) => {
    child.on('error', (e) => resolve({ kind: 'failed', reason: `could not start nn train: ${e.message}` }));
    child.on('close', (code, signal) => resolve(classify(code, signal, asked, result, errLines, metric)));
  });
  return {
    pid: child.pid ?? -1,
    resumed: resume,
    stop(why) {
      if (asked) return;
      asked = why;
      child.kill('SIGTERM');
    },
    kill() {
      child.kill('SIGKILL');
    },
    done,
  };
}

/** How the process ended, in the study's terms. */
function classify(code: number | null, signal: NodeJS.Signals | null, asked: 'pruned' | 'interrupted' | null, result: Record<string, any> | null, err: string[], metric: Metric): TrialExit {
  const said = err.filter((l) => l.startsWith('error: ')).pop()?.slice('error: '.length);
  if (asked && (code === 143 || code === 0 || signal === 'SIGTERM')) return { kind: 'stopped', why: asked };
  if (code === 0 && result) {
    const value = metric === 'val_accuracy' ? result.val?.accuracy : result.val?.loss;
    return { kind: 'complete', value: Number(value), testAccuracy: Number(result.test?.accuracy), bestEpoch: result.bestEpoch ?? null, epochs: Number(result.epochs) };
  }
  if (err.some((l) => /heap out of memory|Allocation failed|Out of memory/i.test(l))) return { kind: 'failed', reason: 'ran out of memory' };
  if (said && (code === 1 || code === 2)) return { kind: 'failed', reason: said };
  if (signal) return { kind: 'died', reason: `killed by ${signal}` };
  if (code === 130 || code === 143) return { kind: 'died', reason: `stopped by ${code === 130 ? 'SIGINT' : 'SIGTERM'} from outside the study` };
  return { kind: 'died', reason: `exited with code ${code}${said ? `: ${said}` : ''}` };
}

/**
 * An attempt that was interrupted after some epochs left a checkpoint: the next attempt goes
 * on from it (nn train --resume gives the very weights a run never stopped would), provided it
 * is this trial's config.
 */
function canResume(dir: string, config: unknown): boolean {
  const cfg = path.join(dir, 'config.json');
  if (!fs.existsSync(path.join(dir, CHECKPOINT_FILE)) || !fs.existsSync(cfg)) return false;
  try {
    return sameValue(JSON.parse(fs.readFileSync(cfg, 'utf8')), config);
  } catch {
    return false;
  }
}

/** Calls fn with each complete line of a stream. */
function lines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      fn(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  });
  stream.on('end', () => rest && fn(rest));
}
