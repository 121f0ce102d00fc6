/**
 * nn tune end to end through the real program, on a tiny search (2% of the data,
 * 2-3 epochs a trial): the study folder and its files, best.yaml reproducing its
 * trial, params independent of the number of workers, and a study that survives
 * kill -9 of a trial, kill -9 of itself, and Ctrl-C.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTuneFile } from '../../src/tune/file';
import { RandomSampler } from '../../src/tune/samplers/random';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '../../bin/nn');
const SLOW = 120_000;
const env = { ...process.env, CI: 'true', NO_COLOR: '1' };

const BASE = `seed: 5
data: { subset: 0.02 }
model:
  layers:
    - { type: dense, units: 32, activation: relu }
    - { type: dropout, rate: 0.1 }
    - { type: dense, units: 10, activation: softmax }
training: { epochs: 2, optimizer: { type: adam, learningRate: 0.003 } }
`;
const TUNE = `base: base.yaml
method: random
trials: 4
workers: 2
seed: 9
space:
  training.optimizer.learningRate: { type: float, low: 3.0e-4, high: 3.0e-2, log: true }
  model.layers.0.units: { type: int, low: 8, high: 48, log: true }
  model.layers.1.rate: { type: float, low: 0.0, high: 0.4, step: 0.1 }
`;

let work: string;
beforeAll(() => {
  work = tempDir('nn-tune-');
  fs.writeFileSync(path.join(work, 'base.yaml'), BASE);
  fs.writeFileSync(path.join(work, 'tune.yaml'), TUNE);
});

function nn(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env, encoding: 'utf8', timeout: SLOW });
  if (r.error) throw r.error;
  return r;
}

/** Starts nn in the background; `watch` sees its stdout as it grows. */
function start(args: string[], watch: (out: string, p: ChildProcess) => void = () => {}): { p: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: work, env });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => {
    out += d;
    watch(out, p);
  });
  p.stderr!.on('data', (d) => (err += d));
  return { p, done: new Promise((resolve) => p.on('close', (code) => resolve({ code, out, err }))) };
}

/** trials.csv as objects. */
function csv(dir: string): Array<Record<string, string>> {
  const [head, ...rows] = fs.readFileSync(path.join(work, dir, 'trials.csv'), 'utf8').trim().split('\n');
  const keys = head.split(',');
  return rows.map((r) => Object.fromEntries(r.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.slice(0, keys.length).map((c, i) => [keys[i], c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')])));
}

/** The pids of the trial processes of study folder `dir` (as given to --out, relative to the work folder). */
function trialPids(dir: string, n?: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  const folder = n === undefined ? path.join(dir, 'trials') : path.join(dir, 'trials', String(n));
  return ps
    .split('\n')
    .filter((l) => l.includes('--trial') && l.includes(` ${folder}${path.sep}`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const PARAMS = ['training.optimizer.learningRate', 'model.layers.0.units', 'model.layers.1.rate'];

describe('nn tune: a tiny study end to end', () => {
  it('runs every trial, writes the study folder, and best.yaml trains to the recorded validation accuracy', () => {
    const r = nn(['tune', '--config', 'tune.yaml', '--out', 'study']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/study tune: 4 trials \(4 complete\) in /);
    expect(r.stdout).toContain(`train it again: nn train --config ${path.join('study', 'best.yaml')}`);
    const rows = csv('study');
    expect(rows.map((t) => t.number)).toEqual(['0', '1', '2', '3']);
    expect(rows.every((t) => t.state === 'complete')).toBe(true);
    for (const f of ['best.yaml', 'trials.csv', 'history.svg', 'history.png', 'parallel.svg', 'parallel.png', 'importance.svg', 'importance.png', 'study.db', 'study.json']) expect(fs.existsSync(path.join(work, 'study', f)), f).toBe(true);
    for (const t of rows) {
      const dir = path.join(work, 'study', 'trials', t.number);
      expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'checkpoint.safetensors'))).toBe(false); // finished trials keep no checkpoint
    }
    // the best trial, chosen on validation
    const best = rows.reduce((a, b) => (Number(b.val_accuracy) > Number(a.val_accuracy) ? b : a));
    const yaml = fs.readFileSync(path.join(work, 'study', 'best.yaml'), 'utf8');
    expect(yaml).toContain(`trial ${best.number}, val_accuracy ${best.val_accuracy}`);
    expect(yaml).toMatch(new RegExp(`^seed: ${9 + Number(best.number)}$`, 'm')); // trial n trains with seed + n
    expect(yaml).toMatch(/^ {2}splitSeed: 5$/m); // every trial on the base's split
    const again = nn(['train', '--config', path.join('study', 'best.yaml'), '--out', 'again', '--json']);
    expect(again.status, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout.trim().split('\n').pop()!);
    expect(result.val.accuracy).toBe(Number(best.val_accuracy));
    expect(result.test.accuracy).toBe(Number(best.test_accuracy));
    // and the best trial's model is a model like any other
    const ev = nn(['eval', '--model', path.join('study', 'trials', best.number), '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).accuracy).toBe(Number(best.test_accuracy));
  }, SLOW);

  it('nn tune status: the trials best first, as a table and as JSON', () => {
    const r = nn(['tune', 'status', 'study']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^study tune \(.*study\.db\): 4 trials \(4 complete\)$/);
    expect(lines[1]).toMatch(/^trial\s+state\s+val_accuracy\s+best epoch\s+epochs\s+seconds\s+params/);
    const j = JSON.parse(nn(['tune', 'status', 'study', '--json']).stdout);
    const values = j.trials.map((t: { val_accuracy: number }) => t.val_accuracy);
    expect(values).toEqual([...values].sort((a: number, b: number) => b - a));
    expect(lines[2].split(/\s+/)[0]).toBe(String(j.trials[0].number));
  }, SLOW);

  it('running the same command again keeps the finished study as it is', () => {
    const before = fs.readFileSync(path.join(work, 'study', 'trials.csv'), 'utf8');
    const r = nn(['tune', '--config', 'tune.yaml', '--out', 'study']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/study tune: 4 trials \(4 complete\)/);
    expect(fs.readFileSync(path.join(work, 'study', 'trials.csv'), 'utf8')).toBe(before);
  }, SLOW);

  it('a changed search space is refused, naming what differs', () => {
    fs.writeFileSync(path.join(work, 'tune-changed.yaml'), 'name: tune\n' + TUNE.replace('high: 48', 'high: 64'));
    const r = nn(['tune', '--config', 'tune-changed.yaml', '--out', 'study']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: .*study\.db: study tune was started with another search: the search space's model\.layers\.0\.units was .*"high":48.*now .*"high":64/);
  }, SLOW);
});

describe('nn tune: params are a function of (seed, trial number), not of the workers', () => {
  it('random search gives every trial the same params with 1 and with 3 workers, and those the definition gives', () => {
    for (const [dir, w] of [['w1', '1'], ['w3', '3']]) {
      const r = nn(['tune', '--config', 'tune.yaml', '--out', dir, '--workers', w, '--trials', '4', '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toBe('');
    }
    const pick = (rows: Array<Record<string, string>>) => rows.map((t) => PARAMS.map((p) => Number(t[p])));
    expect(pick(csv('w3'))).toEqual(pick(csv('w1')));
    const spec = loadTuneFile(path.join(work, 'tune.yaml'));
    const sampler = new RandomSampler(spec.base, spec.space, spec.seed);
    expect(pick(csv('w1'))).toEqual([0, 1, 2, 3].map((n) => PARAMS.map((p) => sampler.propose(n)[p] as number)));
  }, SLOW);
});

describe('nn tune: robust to dying trials, a dying study and Ctrl-C', () => {
  it('kill -9 of a trial: it runs again with its params, and the study ends with exactly its trials, all finished', async () => {
    fs.writeFileSync(path.join(work, 'slow.yaml'), TUNE.replace('trials: 6', 'trials: 4').replace('base: base.yaml', 'base: base-slow.yaml'));
    fs.writeFileSync(path.join(work, 'base-slow.yaml'), BASE.replace('epochs: 2', 'epochs: 6').replace('subset: 0.02', 'subset: 0.05'));
    let killed = 0;
    const { done } = start(['tune', '--config', 'slow.yaml', '--out', 'k9'], () => {});
    // kill a trial's process in mid-training: it has a checkpoint (an epoch done) and no model yet
    const trialDir = (n: number) => path.join(work, 'k9', 'trials', String(n));
    while (!killed) {
      await new Promise((r) => setTimeout(r, 50));
      for (let n = 0; n < 4 && !killed; n++) {
        const pids = trialPids('k9', n);
        if (pids.length !== 1 || !fs.existsSync(path.join(trialDir(n), 'checkpoint.safetensors')) || fs.existsSync(path.join(trialDir(n), 'model.safetensors'))) continue;
        try {
          process.kill(pids[0], 'SIGKILL');
          killed = pids[0];
        } catch {
          // (it ended in between: try again)
        }
      }
    }
    const r = await done;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/trial \d+\s+died \(killed by SIGKILL\): runs again/);
    const rows = csv('k9');
    expect(rows.map((t) => t.number)).toEqual(['0', '1', '2', '3']);
    expect(rows.every((t) => t.state === 'complete')).toBe(true);
    expect(rows.filter((t) => t.attempts === '2')).toHaveLength(1);
  }, SLOW);

  it('kill -9 of the study, then the same command: it completes, no trial lost or run twice', async () => {
    const { p, done } = start(['tune', '--config', 'slow.yaml', '--out', 'k9c']);
    // kill it once a trial has finished and others run
    while (!fs.existsSync(path.join(work, 'k9c', 'trials.csv')) || csv('k9c').filter((t) => t.state === 'complete').length < 1) await new Promise((r) => setTimeout(r, 100));
    p.kill('SIGKILL');
    await done;
    const before = csv('k9c').filter((t) => t.state === 'complete');
    const r = nn(['tune', '--config', 'slow.yaml', '--out', 'k9c']);
    expect(r.status, r.stderr).toBe(0);
    const rows = csv('k9c');
    expect(rows.map((t) => t.number)).toEqual(['0', '1', '2', '3']);
    expect(rows.every((t) => t.state === 'complete')).toBe(true);
    for (const b of before) expect(rows.find((t) => t.number === b.number)).toEqual(b); // finished ones untouched
    expect(rows.every((t) => Number(t.attempts) <= 2)).toBe(true);
    expect(trialPids('k9c')).toEqual([]); // the first run's trials did not outlive it
  }, SLOW);

  it('Ctrl-C: exit 130, the trials under way interrupted, the command that continues; --resume finishes the study', async () => {
    const { p, done } = start(['tune', '--config', 'slow.yaml', '--out', 'int'], (out, proc) => {
      if (/trial \d+\s+complete/.test(out) && !proc.killed) proc.kill('SIGINT');
    });
    const r = await done;
    expect(p.killed).toBe(true);
    expect(r.code, r.err).toBe(130);
    expect(r.out).toContain(`stopped by SIGINT: go on with: nn tune --resume ${path.join('int')}`);
    const states = csv('int').map((t) => t.state);
    expect(states).toContain('interrupted');
    expect(states).not.toContain('running');
    const again = nn(['tune', '--resume', 'int']);
    expect(again.status, again.stderr).toBe(0);
    expect(csv('int').map((t) => t.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
  }, SLOW);
});

describe('nn tune: trials that fail on their own', () => {
  it('a diverging trial and a combination nn train refuses are failed with their reasons, not retried; --json says so', () => {
    fs.writeFileSync(
      path.join(work, 'fails.yaml'),
      `base: base.yaml
method: grid
workers: 2
space:
  training.loss: { type: choice, values: [mse, cross_entropy] }
  model.layers.2.activation: { type: choice, values: [softmax, sigmoid] }
  training.optimizer: { type: choice, values: [ {type: adam, learningRate: 0.003}, {type: sgd, learningRate: 100000.0} ] }
`,
    );
    const r = nn(['tune', '--config', 'fails.yaml', '--out', 'fails', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const trials = records.filter((x) => x.type === 'trial');
    const study = records[records.length - 1];
    // cross_entropy with a sigmoid output cannot train (2 trials); cross_entropy and SGD at 1e5 diverges (1)
    expect(study).toMatchObject({ type: 'study', study: 'fails', trials: 8, states: { complete: 5, failed: 3, pruned: 0, interrupted: 0, waiting: 0, running: 0 } });
    expect(trials.map((t) => t.number).sort((a: number, b: number) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const t of trials.filter((x) => x.params['training.loss'] === 'cross_entropy' && x.params['model.layers.2.activation'] === 'sigmoid')) {
      expect(t.state).toBe('failed');
      expect(t.reason).toBe(`trial ${t.number}: model.layers[2].activation: training.loss cross_entropy needs a softmax output layer; got sigmoid`);
      expect(fs.existsSync(path.join(work, 'fails', 'trials', String(t.number)))).toBe(false); // no folder for it
    }
    const diverged = trials.find((x) => x.params['training.loss'] === 'cross_entropy' && x.params['model.layers.2.activation'] === 'softmax' && x.params['training.optimizer'].type === 'sgd');
    expect(diverged).toMatchObject({ state: 'failed', testAccuracy: null });
    expect(diverged.reason).toMatch(/^training diverged: training loss became NaN at epoch 1, step \d+: the learning rate is probably too high/);
    const status = JSON.parse(nn(['tune', 'status', 'fails', '--json']).stdout);
    expect(status.trials.every((t: { attempts: number; state: string }) => t.attempts <= 1)).toBe(true); // none retried
    expect(status.trials.filter((t: { state: string }) => t.state === 'complete')).toHaveLength(5);
  }, SLOW);

  it('a changed base config is refused, naming the key that differs', () => {
    fs.writeFileSync(path.join(work, 'base-b.yaml'), BASE);
    fs.writeFileSync(path.join(work, 'tune-b.yaml'), TUNE.replace('base: base.yaml', 'base: base-b.yaml').replace('trials: 4', 'trials: 1'));
    expect(nn(['tune', '--config', 'tune-b.yaml', '--out', 'study-b', '--quiet']).status).toBe(0);
    fs.writeFileSync(path.join(work, 'base-b.yaml'), BASE.replace('epochs: 2', 'epochs: 3'));
    const r = nn(['tune', '--config', 'tune-b.yaml', '--out', 'study-b']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/study tune-b was started with another search: the base config's training\.epochs was 2, now 3; /);
  }, SLOW);
});

describe('nn tune: bad input', () => {
  it('a bad tune file: one line naming the file and key, exit 2, nothing written', () => {
    fs.writeFileSync(path.join(work, 'bad.yaml'), TUNE.replace('low: 8, high: 48', 'low: 48, high: 8'));
    const r = nn(['tune', '--config', 'bad.yaml', '--out', 'bad-study']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: bad.yaml: space.model.layers.0.units: low 48 > high 8; expected low <= high\n');
    expect(fs.existsSync(path.join(work, 'bad-study'))).toBe(false);
  });

  it('no tune file, or both --config and --resume: one line, exit 2', () => {
    expect(nn(['tune']).stderr).toBe('error: expected --config FILE (a tune file, e.g. configs/tune.yaml) or --resume DIR\n');
    const r = nn(['tune', '--resume', 'nowhere']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: nowhere: no such study folder\n');
  });
});
