/**
 * npm run bench -- --tune FILE: the same search run by nn tune and by the shared
 * peer optuna_tune.py (Optuna 3.1's TPE and successive halving driving PyTorch),
 * one after the other on the same cores, with the same tune file, budget and
 * workers; each ends with a RESULT line of the same fields: trials finished
 * (complete, pruned, failed), the best validation metric, the best trial's test
 * accuracy, and the wall time from start to exit.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TuneResult {
  tool: string;
  trials_total: number;
  trials_complete: number;
  trials_pruned: number;
  trials_failed: number;
  best_value: number | null;
  best_test_acc: number | null;
  wall_s: number;
  trials_per_minute: number;
  [k: string]: unknown;
}

interface Budget {
  timeout?: string;
  trials?: number;
  workers?: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<{ code: number | null; wall: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env });
    let out = '';
    let err = '';
    let rest = '';
    const feed = (d: Buffer) => {
      rest += d;
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    };
    p.stdout.on('data', (d) => ((out += d), feed(d)));
    p.stderr.on('data', (d) => ((err += d), feed(d)));
    p.on('close', (code) => resolve({ code, wall: (performance.now() - t0) / 1000, out, err }));
  });
}

const budgetArgs = (b: Budget) => [...(b.timeout ? ['--timeout', b.timeout] : []), ...(b.trials ? ['--trials', String(b.trials)] : []), ...(b.workers ? ['--workers', String(b.workers)] : [])];

/** nn tune on `file` in a temporary study folder (or in `keep`, left there), read from its --json lines. */
export async function runNnTune(bin: string, file: string, b: Budget, log: (s: string) => void, keep?: string): Promise<TuneResult> {
  if (keep && fs.existsSync(keep)) throw new Error(`${keep}: already exists; --keep wants a folder that is not there yet`);
  const dir = keep ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-tune-'));
  try {
    const out = keep ?? path.join(dir!, 'study');
    const r = await run(process.execPath, [bin, 'tune', '--config', file, '--out', out, '--json', ...budgetArgs(b)], process.env, (l) => {
      if (l.startsWith('{"type":"trial"')) {
        const t = JSON.parse(l);
        log(`  nn tune: trial ${t.number} ${t.state}${t.val_accuracy ? ` ${t.val_accuracy.toFixed(4)}` : ''} after epoch ${t.epochs}${t.seconds ? ` ${t.seconds.toFixed(1)}s` : ''} ${JSON.stringify(t.params)}`);
      }
    });
    const last = r.out.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !last.startsWith('{"type":"study"')) throw new Error(`nn tune failed (exit ${r.code}): ${r.err.trim().split('\n').slice(-2).join(' | ')}`);
    const s = JSON.parse(last);
    const finished = s.states.complete + s.states.pruned + s.states.failed;
    return {
      tool: 'nn tune',
      trials_total: finished,
      trials_complete: s.states.complete,
      trials_pruned: s.states.pruned,
      trials_failed: s.states.failed,
      best_value: s.best ? +s.best.val_accuracy.toFixed(5) : null,
      best_test_acc: s.best?.testAccuracy === null || !s.best ? null : +s.best.testAccuracy.toFixed(5),
      best_params: s.best?.params ?? null,
      wall_s: +r.wall.toFixed(1),
      trials_per_minute: +((finished / r.wall) * 60).toFixed(2),
    };
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The shared peer optuna_tune.py on the same file and budget. */
export async function runOptuna(peers: string, python: string, file: string, b: Budget, mnistDir: string, log: (s: string) => void): Promise<TuneResult> {
  const script = path.join(peers, 'optuna_tune.py');
  if (!fs.existsSync(script)) throw new Error(`${script}: the Optuna peer is not there (set NN_PEERS_DIR to the folder of the peer scripts)`);
  const env = { ...process.env, MNIST_DIR: mnistDir, OPENBLAS_NUM_THREADS: '1' };
  const r = await run(python, [script, file, ...budgetArgs(b)], env, (l) => {
    const m = /\] trial (\d+) (\w+)(.*?) ([\d.]+)s (.*)$/.exec(l);
    if (m) {
      const value = /val_accuracy ([\d.]+)/.exec(m[3])?.[1];
      const epochs = /after epoch (\d+)|epoch \d+\/(\d+)/.exec(m[3]);
      log(`  optuna: trial ${m[1]} ${m[2]}${value ? ` ${value}` : ''}${epochs ? ` after epoch ${epochs[1] ?? epochs[2]}` : ''} ${m[4]}s ${m[5]}`);
    }
  });
  const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`optuna_tune.py failed (exit ${r.code}): ${r.err.trim().split('\n').slice(-2).join(' | ')}`);
  const j = JSON.parse(line.slice(7));
  return { tool: `Optuna ${j.optuna} + PyTorch ${j.torch}`, ...j, trials_total: j.trials_total };
}
