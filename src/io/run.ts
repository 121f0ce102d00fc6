/**
 * The run folder: where a training run writes its files, and how later
 * commands find the most recent one. An earlier run is never silently
 * overwritten: the default folder gets a numbered sibling, an explicit one
 * needs --force.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { writeFileAtomic } from './atomic';

export const RUNS_DIR = 'runs';
const LATEST = '.latest';
const RUN_FILES = ['model.safetensors', 'metrics.json', 'metrics.csv', 'config.json', 'run.json', 'checkpoint.safetensors'];

function holdsRun(dir: string): boolean {
  return fs.existsSync(dir) && RUN_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

/** Picks (and creates) the folder a new run writes into. */
export function prepareRunDir(name: string, out: string | undefined, force: boolean): string {
  let dir: string;
  if (out) {
    dir = out;
    if (holdsRun(dir) && !force) throw new UserError(`${dir}: already holds a run; pass --force to overwrite it, or choose another --out`);
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: is a file; expected a folder for the run (--out)`);
  } else {
    dir = path.join(RUNS_DIR, name);
    if (!force) for (let k = 2; holdsRun(dir); k++) dir = path.join(RUNS_DIR, `${name}-${k}`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`${dir}: cannot create the run folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return dir;
}

/** Remembers `dir` as the most recent run, for eval and predict without --model. */
export function markLatest(dir: string): void {
  fs.mkdirSync(RUNS_DIR, { recursive: true });
  writeFileAtomic(path.join(RUNS_DIR, LATEST), path.resolve(dir) + '\n');
}

/** The model file of the most recent run: the one runs/.latest names, else the newest in runs/. */
export function latestModel(): string {
  const pointer = path.join(RUNS_DIR, LATEST);
  if (fs.existsSync(pointer)) {
    const file = path.join(fs.readFileSync(pointer, 'utf8').trim(), 'model.safetensors');
    if (fs.existsSync(file)) return shortPath(file);
  }
  const candidates = fs.existsSync(RUNS_DIR)
    ? fs
        .readdirSync(RUNS_DIR)
        .map((d) => path.join(RUNS_DIR, d, 'model.safetensors'))
        .filter((f) => fs.existsSync(f))
    : [];
  if (candidates.length) return candidates.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  throw new UserError('no trained model found in runs/: train one with `nn train --config configs/mlp.yaml`, or pass --model PATH');
}

/** --model may name a model file or a run folder. */
export function resolveModelPath(p: string | undefined): string {
  if (!p) return latestModel();
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const file = path.join(p, 'model.safetensors');
    if (!fs.existsSync(file)) throw new UserError(`${p}: no model.safetensors in this folder; expected a run folder (e.g. runs/mlp) or a model file`);
    return file;
  }
  return p;
}

function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
