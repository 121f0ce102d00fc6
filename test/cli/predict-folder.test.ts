/**
 * nn predict over folders and patterns, end to end through `node bin/nn`: a
 * folder of 20 real MNIST test digits (the generator the bench uses) gives
 * exactly what each image gives alone, in sorted order; bad files are named,
 * skipped and end the run with exit 2; listing errors stop it before anything.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDigitFolder } from '../../src/bench/digit-folder';
import { tempDir } from '../helpers/tmp';

const REPO = path.resolve(__dirname, '../..');
const BIN = path.join(REPO, 'bin/nn');
const N = 20;

let work: string;
let files: string[]; // the digits, relative to work, sorted

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function nn(args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Result): Result {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stderr).toBe('');
  return r;
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

beforeAll(async () => {
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: REPO, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p . failed:\n${tsc.stdout}${tsc.stderr}`);
  work = tempDir('nn-predict-folder-');
  fs.writeFileSync(
    path.join(work, 'tiny.json'),
    JSON.stringify({ data: { subset: 0.05 }, model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs: 1 } }),
  );
  const train = nn(['train', '--config', 'tiny.json', '--out', 'run', '--no-charts', '--quiet']);
  if (train.status !== 0) throw new Error(`nn train failed: ${train.stderr}`);
  files = (await writeDigitFolder(path.join(work, 'digits'), N)).map((f) => path.relative(work, f));
}, 120_000);

describe('nn predict over a folder', () => {
  it('gives each image exactly what it gets alone, in sorted order', () => {
    const folder = lines(ok(nn(['predict', '--model', 'run', '--jsonl', 'digits'])).stdout).map((l) => JSON.parse(l));
    expect(folder.map((r) => r.image)).toEqual([...files].sort());
    for (const [i, f] of files.entries()) {
      const alone = JSON.parse(ok(nn(['predict', '--model', 'run', '--jsonl', f])).stdout);
      expect(folder[i]).toEqual(alone);
    }
    // the model is no oracle, but a broken pipeline would be at chance (0.1)
    const right = folder.filter((r) => r.digit === Number(/-(\d)\.png$/.exec(r.image)![1])).length;
    expect(right / N).toBeGreaterThanOrEqual(0.6);
  }, 60_000);

  it('text, --json and --jsonl say the same, in the same order', () => {
    const jsonl = lines(ok(nn(['predict', '--model', 'run', '--jsonl', 'digits'])).stdout).map((l) => JSON.parse(l));
    const json = JSON.parse(ok(nn(['predict', '--model', 'run', '--json', 'digits'])).stdout);
    expect(json).toEqual(jsonl);
    const text = lines(ok(nn(['predict', '--model', 'run', 'digits'])).stdout);
    expect(text).toEqual(jsonl.map((r) => `${r.image}: ${r.digit} (${(100 * r.confidence).toFixed(1)}%)`));
  });

  it('expands a quoted pattern itself, in sorted order, and takes files in the order given', () => {
    const all = lines(ok(nn(['predict', '--model', 'run', 'digits'])).stdout);
    expect(lines(ok(nn(['predict', '--model', 'run', 'digits/*.png'])).stdout)).toEqual(all);
    expect(lines(ok(nn(['predict', '--model', 'run', 'digits/0[0-4]-*.png'])).stdout)).toEqual(all.slice(0, 5));
    const reversed = [...files].reverse();
    expect(lines(ok(nn(['predict', '--model', 'run', ...reversed])).stdout)).toEqual([...all].reverse());
  });

  it('searches subfolders, skips files that are not named as images, and mirrors the folders with --save-input', () => {
    const nested = path.join(work, 'nested');
    fs.mkdirSync(path.join(nested, 'b'), { recursive: true });
    fs.mkdirSync(path.join(nested, 'a'), { recursive: true });
    fs.copyFileSync(path.join(work, files[0]), path.join(nested, 'b', 'x.png'));
    fs.copyFileSync(path.join(work, files[1]), path.join(nested, 'a', 'x.png'));
    fs.copyFileSync(path.join(work, files[2]), path.join(nested, 'z.PNG'));
    fs.writeFileSync(path.join(nested, 'notes.txt'), 'not an image\n');
    const r = ok(nn(['predict', '--model', 'run', '--save-input', 'seen', 'nested']));
    expect(lines(r.stdout).map((l) => l.split(':')[0])).toEqual(['nested/a/x.png', 'nested/b/x.png', 'nested/z.PNG']);
    for (const f of ['a/x.28x28.png', 'b/x.28x28.png', 'z.28x28.png']) expect(fs.existsSync(path.join(work, 'seen', f)), f).toBe(true);
  });
});

describe('nn predict: bad input', () => {
  it('a bad file among good ones: named in its place, skipped, the rest classified, exit 2', () => {
    const mixed = path.join(work, 'mixed');
    fs.mkdirSync(mixed);
    for (const f of files.slice(0, 3)) fs.copyFileSync(path.join(work, f), path.join(mixed, path.basename(f)));
    fs.writeFileSync(path.join(mixed, '01-bad.png'), 'hello, not a picture\n');
    const r = nn(['predict', '--model', 'run', '--save-input', 'seen-mixed', 'mixed']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('    at ');
    expect(lines(r.stderr)).toEqual([
      'error: mixed/01-bad.png: not an image (expected PNG or JPEG) (skipped)',
      'error: 1 of 4 images could not be classified (each is named above); the other 3 were',
    ]);
    expect(lines(r.stdout)).toHaveLength(3);
    expect(fs.readdirSync(path.join(work, 'seen-mixed')).sort()).toEqual(files.slice(0, 3).map((f) => path.basename(f, '.png') + '.28x28.png').sort());
  });

  it('an empty folder, a folder with no images, a pattern matching nothing, a missing path: one line, exit 2, nothing written', () => {
    fs.mkdirSync(path.join(work, 'empty'));
    fs.mkdirSync(path.join(work, 'texts'));
    fs.writeFileSync(path.join(work, 'texts', 'a.txt'), 'x');
    const cases: Array<[string[], string]> = [
      [['empty'], 'error: empty: no PNG or JPEG files in this folder or below it (expected .png, .jpg, .jpeg files)'],
      [['texts'], 'error: texts: no PNG or JPEG files in this folder or below it (expected .png, .jpg, .jpeg files)'],
      [['digits/*.jpg'], 'error: digits/*.jpg: no PNG or JPEG files match this pattern'],
      [['digits', 'nope'], 'error: nope: file or folder not found'],
    ];
    for (const [args, message] of cases) {
      const r = nn(['predict', '--model', 'run', '--save-input', 'seen-none', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([message]);
      expect(fs.existsSync(path.join(work, 'seen-none'))).toBe(false);
    }
  });

  it('--save-input refuses two images that would be saved under one name, before writing anything', () => {
    fs.copyFileSync(path.join(work, files[3]), path.join(work, 'twin.png'));
    fs.mkdirSync(path.join(work, 'other'), { recursive: true });
    fs.copyFileSync(path.join(work, files[4]), path.join(work, 'other', 'twin.png'));
    const r = nn(['predict', '--model', 'run', '--save-input', 'seen-twins', 'twin.png', 'other/twin.png']);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([`error: --save-input: twin.png and other/twin.png would both be saved as ${path.join('seen-twins', 'twin.28x28.png')}; save them in separate runs`]);
    expect(fs.existsSync(path.join(work, 'seen-twins'))).toBe(false);
  });

  it('--json and --jsonl together are refused', () => {
    const r = nn(['predict', '--model', 'run', '--json', '--jsonl', 'digits']);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
  });
});
