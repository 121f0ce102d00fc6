/**
 * One study shared by two nn tune processes through a real PostgreSQL server, as two
 * machines would share it: each claims trials in transactions, so the study ends with
 * exactly its trials, none run by both; when one is killed halfway (kill -9), the other
 * takes over its trial and finishes the study.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshDatabase, pgSkipReason } from '../helpers/postgres';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '../../bin/nn');
const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
const skip = pgSkipReason();

describe.skipIf(Boolean(skip))(`nn tune on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let work: string;
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await freshDatabase();
    work = tempDir('nn-tune-pg-');
    fs.writeFileSync(
      path.join(work, 'base.yaml'),
      `data: { subset: 0.05 }\nmodel:\n  layers:\n    - { type: dense, units: 32, activation: relu }\n    - { type: dense, units: 10, activation: softmax }\ntraining: { epochs: 3 }\n`,
    );
    fs.writeFileSync(
      path.join(work, 'shared.yaml'),
      `base: base.yaml\nmethod: random\ntrials: 6\nworkers: 1\nstaleAfter: 5s\nspace:\n  training.optimizer.learningRate: { type: float, low: 1.0e-4, high: 1.0e-2, log: true }\n  model.layers.0.units: { type: int, low: 8, high: 64 }\n`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('two processes share the study: exactly its trials, none claimed twice; one killed halfway, the other finishes', async () => {
    const run = (out: string) => {
      const p = spawn(process.execPath, [BIN, 'tune', '--config', 'shared.yaml', '--storage', db.url, '--out', out], { cwd: work, env });
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.stderr.on('data', (d) => (text += d));
      return { p, out: () => text, done: new Promise<number | null>((resolve) => p.on('close', resolve)) };
    };
    const a = run('a');
    const b = run('b');
    // once a has finished a trial and runs another, kill it
    const aRuns = () => spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.includes(` ${path.join('a', 'trials')}${path.sep}`);
    for (let i = 0; i < 1200 && !(/trial \d+\s+complete/.test(a.out()) && aRuns()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(a.out()).toMatch(/trial \d+\s+complete/);
    a.p.kill('SIGKILL');
    await a.done;
    expect(await b.done, b.out()).toBe(0);
    expect(b.out()).toMatch(/study shared: 6 trials \(6 complete\)/);

    const status = spawnSync(process.execPath, [BIN, 'tune', 'status', '--storage', db.url, '--study', 'shared', '--json'], { cwd: work, env, encoding: 'utf8' });
    expect(status.status, status.stderr).toBe(0);
    const trials = JSON.parse(status.stdout).trials as Array<{ number: number; state: string; attempts: number; params: Record<string, unknown> }>;
    expect(trials.map((t) => t.number).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((t) => t.state === 'complete')).toBe(true);
    expect(new Set(trials.map((t) => JSON.stringify(t.params))).size).toBe(6);
    // a's finished trials ran once; the one it was running when killed ran again in b
    const ranIn = (out: string) => (fs.existsSync(path.join(work, out, 'trials')) ? fs.readdirSync(path.join(work, out, 'trials')).map(Number) : []);
    const inA = ranIn('a');
    const inB = ranIn('b');
    expect([...new Set([...inA, ...inB])].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
    const both = inA.filter((n) => inB.includes(n));
    expect(both).toHaveLength(1);
    for (const t of trials) expect(t.attempts, `trial ${t.number}`).toBe(both.includes(t.number) ? 2 : 1);
    expect(b.out()).toContain(`trial ${both[0]}: its worker is gone; it runs again`);
  }, 180_000);
});
