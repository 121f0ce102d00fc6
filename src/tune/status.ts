/** A study's trials so far, for `nn tune status`: from its folder, or from a database URL and a study name. */
import * as os from 'node:os';
import { UserError } from '../util/errors';
import type { Metric } from './file';
import { latestStudyDir, readStudyFile, storageOf } from './folder';
import { openStore } from './storage';
import type { TrialRecord } from './storage/store';
import { better, directionOf } from './trial';

export interface StudyStatus {
  name: string;
  metric: Metric;
  where: string;
  trials: TrialRecord[]; // best first
}

export async function studyStatus(opts: { dir?: string; storage?: string; study?: string }): Promise<StudyStatus> {
  let dir = opts.dir ?? '';
  let name = opts.study;
  let storage = opts.storage ?? null;
  if (!opts.storage || opts.dir) {
    dir = opts.dir ?? latestStudyDir();
    const s = readStudyFile(dir);
    if (name && name !== s.name) throw new UserError(`${dir}: holds study ${s.name}, not ${name}`);
    name = s.name;
    storage = storageOf(s, opts.storage);
  } else if (!name) {
    throw new UserError('--storage needs --study NAME: which study of that database');
  }
  const me = { owner: `${os.hostname()}/${process.pid}/status`, host: os.hostname(), pid: process.pid };
  const { store, definition } = await openStore(storage, dir, name!, null, me);
  try {
    const trials = await store.trials();
    return { name: name!, metric: definition.metric, where: store.db.where, trials: bestFirst(trials, definition.metric) };
  } finally {
    await store.close();
  }
}

const RANK: Record<string, number> = { complete: 0, running: 1, waiting: 2, interrupted: 3, pruned: 4, failed: 5 };

/** Complete trials by their metric, best first; then running, waiting, interrupted, pruned (by the last epoch they reached) and failed ones. */
export function bestFirst(trials: TrialRecord[], metric: Metric): TrialRecord[] {
  const dir = directionOf(metric);
  const last = (t: TrialRecord) => (t.reports.size ? Math.max(...t.reports.keys()) : 0);
  return [...trials].sort((a, b) => {
    if (RANK[a.state] !== RANK[b.state]) return RANK[a.state] - RANK[b.state];
    if (a.state === 'complete') return better(a.value ?? NaN, b.value ?? NaN, dir) ? -1 : better(b.value ?? NaN, a.value ?? NaN, dir) ? 1 : a.number - b.number;
    if (a.state === 'pruned' && last(a) !== last(b)) return last(b) - last(a);
    return a.number - b.number;
  });
}
