/**
 * The study folder (runs/tune/<name>/ by default): study.json says which tune
 * file and storage the study runs from, so `nn tune --resume DIR` and `nn tune
 * status DIR` find it again; the embedded database, each trial's run folder
 * and the study's outputs live beside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { RUNS_DIR } from '../io/run';
import { UserError } from '../util/errors';
import { stripPassword } from './storage/db';
import { EMBEDDED_DB } from './storage';

export const STUDY_FILE = 'study.json';
const FORMAT = 1;

export interface StudyFile {
  format: number;
  name: string;
  file: string; // the tune file, absolute
  storage: string | null; // the PostgreSQL URL without its password (never stored), or null: study.db here
}

export function defaultStudyDir(name: string): string {
  return path.join(RUNS_DIR, 'tune', name);
}

/** Creates the folder (if needed) and records where the study comes from. */
export function prepareStudyDir(dir: string, name: string, file: string, storage: string | null): void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: is a file; expected a folder for the study (--out)`);
  const existing = fs.existsSync(path.join(dir, STUDY_FILE)) ? readStudyFile(dir) : null;
  if (existing && existing.name !== name) throw new UserError(`${dir}: holds study ${existing.name}, not ${name}; choose another --out`);
  fs.mkdirSync(dir, { recursive: true });
  const record: StudyFile = { format: FORMAT, name, file: path.resolve(file), storage: storage ? stripPassword(storage) : null };
  writeFileAtomic(path.join(dir, STUDY_FILE), JSON.stringify(record, null, 2) + '\n');
}

export function readStudyFile(dir: string): StudyFile {
  const file = path.join(dir, STUDY_FILE);
  if (!fs.existsSync(dir)) throw new UserError(`${dir}: no such study folder`);
  if (!fs.existsSync(file)) throw new UserError(`${dir}: no ${STUDY_FILE}; expected the folder of a study started by nn tune`);
  let s: StudyFile;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (s.format !== FORMAT || typeof s.name !== 'string' || typeof s.file !== 'string') throw new UserError(`${file}: not a study file of this version of nn (expected format ${FORMAT} with name and file)`);
  return s;
}

/** The storage of a study folder: --storage when given, else study.json's (whose password, never stored, comes from PGPASSWORD or ~/.pgpass). */
export function storageOf(s: StudyFile, given: string | undefined): string | null {
  return given ?? s.storage;
}

/** The most recent study folder under runs/tune/ (by its database or study.json), for status without a folder. */
export function latestStudyDir(): string {
  const root = path.join(RUNS_DIR, 'tune');
  const dirs = fs.existsSync(root) ? fs.readdirSync(root).map((d) => path.join(root, d)).filter((d) => fs.existsSync(path.join(d, STUDY_FILE))) : [];
  if (!dirs.length) throw new UserError('no study found in runs/tune/: start one with `nn tune --config configs/tune.yaml`, or name its folder');
  const stamp = (d: string) => Math.max(...[STUDY_FILE, EMBEDDED_DB, `${EMBEDDED_DB}-wal`].map((f) => (fs.existsSync(path.join(d, f)) ? fs.statSync(path.join(d, f)).mtimeMs : 0)));
  return dirs.sort((a, b) => stamp(b) - stamp(a))[0];
}
