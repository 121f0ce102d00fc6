/**
 * The studies of nn tune under <runs>/tune/ (each folder with a study.json),
 * read from their databases (the embedded study.db, or the PostgreSQL server
 * study.json names) as /api/studies and the study page show them. A name from
 * a request is only looked up in this listing. Each study's database stays
 * open while the server runs, and is closed with it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { historySpec, parallelSpec } from '../tune/charts';
import type { StudyDefinition } from '../tune/file';
import { STUDY_FILE, readStudyFile, storageOf } from '../tune/folder';
import { openStore } from '../tune/storage';
import type { StudyStore, TrialRecord } from '../tune/storage/store';
import { bestFirst } from '../tune/status';
import { directionOf } from '../tune/trial';
import { toVega } from './charts';

export interface StudySummary {
  name: string;
  metric: string;
  storage: string; // "study.db" or the server
  trials: number;
  states: Record<string, number>;
  best: number | null;
}

export interface TrialRow {
  number: number;
  state: string;
  params: Record<string, unknown>;
  value: number | null;
  testAccuracy: number | null;
  epochs: number | null;
  seconds: number | null;
  reason: string | null;
  reports: Array<[number, number]>;
}

export interface StudyDetail extends StudySummary {
  direction: string;
  space: string[];
  rows: TrialRow[]; // best first
  charts: { history: unknown; parallel: unknown } | null; // Vega specs, null before any trial reports
}

interface Open {
  store: StudyStore;
  definition: StudyDefinition;
}

export class StudiesFolder {
  private readonly open = new Map<string, Promise<Open>>();

  constructor(readonly dir: string) {}

  /** Study folders (by name, the name in study.json). */
  names(): Array<{ name: string; dir: string }> {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.dir, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: Array<{ name: string; dir: string }> = [];
    for (const e of entries) {
      const dir = path.join(this.dir, e.name);
      if (!e.isDirectory() || !fs.existsSync(path.join(dir, STUDY_FILE))) continue;
      try {
        out.push({ name: readStudyFile(dir).name, dir });
      } catch {
        // a study.json of another version or a broken one: not listed
      }
    }
    return out;
  }

  async list(): Promise<StudySummary[]> {
    const out: StudySummary[] = [];
    for (const { name } of this.names()) {
      const s = await this.summary(name).catch(() => null);
      if (s) out.push(s);
    }
    return out;
  }

  /** The counts and best value of a study (no charts: for the listing and live events); null when not listed. */
  async summary(name: string): Promise<StudySummary | null> {
    const t = await this.trials(name);
    return t && summarize(name, t);
  }

  /** null when no listed study has this name. */
  async detail(name: string): Promise<StudyDetail | null> {
    const t = await this.trials(name);
    if (!t) return null;
    const { trials, definition } = t;
    const complete = trials.filter((x) => x.state === 'complete' && x.value !== null);
    return {
      ...summarize(name, t),
      direction: directionOf(definition.metric),
      space: definition.space.map((p) => p.path),
      rows: trials.map(row),
      charts: trials.some((x) => x.reports.size > 0)
        ? { history: toVega(historySpec(trials, definition.metric, directionOf(definition.metric))), parallel: complete.length ? toVega(parallelSpec(trials, definition.space, definition.metric)) : null }
        : null,
    };
  }

  /** A listed study's trials, best first, with its definition and where it is kept. */
  private async trials(name: string): Promise<StudyTrials | null> {
    const found = this.names().find((s) => s.name === name);
    if (!found) return null;
    const { store, definition } = await this.store(found.name, found.dir);
    return { trials: bestFirst(await store.trials(), definition.metric), definition, where: store.db.where };
  }

  /** A signature of the study's trials (states and reports), to notice changes cheaply. */
  async stamp(name: string): Promise<string> {
    const found = this.names().find((s) => s.name === name);
    if (!found) return '';
    const { store } = await this.store(found.name, found.dir);
    const trials = await store.trials();
    return trials.map((t) => `${t.number}:${t.state}:${t.reports.size}`).join(',');
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    for (const p of all) await p.then((o) => o.store.close()).catch(() => {});
  }

  private store(name: string, dir: string): Promise<Open> {
    let p = this.open.get(dir);
    if (!p) {
      const me = { owner: `${os.hostname()}/${process.pid}/serve`, host: os.hostname(), pid: process.pid };
      p = openStore(storageOf(readStudyFile(dir), undefined), dir, name, null, me);
      p.catch(() => this.open.delete(dir)); // try again next time
      this.open.set(dir, p);
    }
    return p;
  }
}

interface StudyTrials {
  trials: TrialRecord[]; // best first
  definition: StudyDefinition;
  where: string;
}

function summarize(name: string, { trials, definition, where }: StudyTrials): StudySummary {
  const states: Record<string, number> = {};
  for (const t of trials) states[t.state] = (states[t.state] ?? 0) + 1;
  const best = trials.find((t) => t.state === 'complete' && t.value !== null);
  return { name, metric: definition.metric, storage: where, trials: trials.length, states, best: best ? best.value : null };
}

function row(t: TrialRecord): TrialRow {
  return {
    number: t.number,
    state: t.state,
    params: t.params as Record<string, unknown>,
    value: t.value,
    testAccuracy: t.testAccuracy,
    epochs: t.epochs,
    seconds: t.seconds,
    reason: t.reason,
    reports: [...t.reports.entries()],
  };
}
