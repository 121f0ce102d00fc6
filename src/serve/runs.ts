/**
 * The runs under a folder (nn train's runs/ by default), as the runs pages and
 * /api/runs show them. A run is a folder holding config.json; its name is the
 * folder's name, and a name from a request is only ever looked up in this
 * listing, never joined into a path (so `..` and encoded slashes find nothing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type RunState = 'finished' | 'stopped' | 'training' | 'unfinished';

export interface RunSummary {
  name: string;
  state: RunState;
  /** "784-128-64-10 relu, dropout 0.2", optimizer, learning rate, batch size */
  summary: string;
  epochs: number;
  bestEpoch: number | null;
  valAccuracy: number | null;
  testAccuracy: number | null;
  updated: number; // ms since the epoch, the newest of its files
}

export interface EpochRow {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  lr: number;
  seconds: number;
}

export interface RunDetail extends RunSummary {
  config: unknown;
  history: EpochRow[];
  stopReason: string | null;
  warnings: string[];
  confusion: number[][] | null;
  perClass: Array<{ digit: number; precision: number; recall: number; f1: number; support: number }> | null;
  hasModel: boolean;
}

/** A run whose files stopped changing this long ago, without metrics.json, is no longer training. */
const TRAINING_QUIET_MS = 10 * 60 * 1000;
const FILES = ['config.json', 'metrics.csv', 'metrics.json', 'checkpoint.safetensors', 'model.safetensors'];

export class RunsFolder {
  constructor(readonly dir: string) {}

  /** The run folders, newest first. */
  list(): RunSummary[] {
    return this.names()
      .map((name) => this.summary(name))
      .filter((r): r is RunSummary => r !== null)
      .sort((a, b) => b.updated - a.updated);
  }

  /** The folder of a listed run, or null. */
  folderOf(name: string): string | null {
    return this.names().includes(name) ? path.join(this.dir, name) : null;
  }

  detail(name: string): RunDetail | null {
    const dir = this.folderOf(name);
    const s = dir && this.summary(name);
    if (!dir || !s) return null;
    const metrics = readJson(path.join(dir, 'metrics.json')) as MetricsJson | null;
    return {
      ...s,
      config: readJson(path.join(dir, 'config.json')),
      history: metrics?.epochs?.map(row) ?? readCsv(path.join(dir, 'metrics.csv')),
      stopReason: metrics?.stopReason ?? null,
      warnings: metrics?.warnings ?? [],
      confusion: metrics?.test?.confusion ?? null,
      perClass: metrics?.test?.perClass ?? null,
      hasModel: fs.existsSync(path.join(dir, 'model.safetensors')),
    };
  }

  /** Folder names holding a run's config (the study folders of nn tune, runs/tune/, are not runs). */
  private names(): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && fs.existsSync(path.join(this.dir, e.name, 'config.json'))).map((e) => e.name);
  }

  private summary(name: string): RunSummary | null {
    const dir = path.join(this.dir, name);
    const config = readJson(path.join(dir, 'config.json')) as ConfigJson | null;
    if (!config) return null;
    const metrics = readJson(path.join(dir, 'metrics.json')) as MetricsJson | null;
    const updated = Math.max(...FILES.map((f) => mtime(path.join(dir, f))));
    const history = metrics?.epochs?.map(row) ?? readCsv(path.join(dir, 'metrics.csv'));
    const hasModel = fs.existsSync(path.join(dir, 'model.safetensors'));
    const state: RunState = metrics ? (hasModel && !/interrupted/.test(metrics.stopReason ?? '') ? 'finished' : 'stopped') : Date.now() - updated < TRAINING_QUIET_MS ? 'training' : 'unfinished';
    const best = metrics?.bestEpoch ?? null;
    const bestRow = best ? history.find((h) => h.epoch === best) : history.length ? history.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a)) : null;
    return {
      name,
      state,
      summary: describe(config),
      epochs: history.length,
      bestEpoch: best ?? bestRow?.epoch ?? null,
      valAccuracy: metrics?.val?.accuracy ?? bestRow?.val_accuracy ?? null,
      testAccuracy: metrics?.test?.accuracy ?? null,
      updated,
    };
  }
}

interface ConfigJson {
  model?: { layers?: Array<{ type: string; units?: number; activation?: string; rate?: number }> };
  training?: { batchSize?: number; epochs?: number; optimizer?: { type?: string; learningRate?: number } };
  data?: { augment?: unknown };
}

interface MetricsJson {
  epochs?: Array<Record<string, number>>;
  bestEpoch?: number | null;
  stopReason?: string;
  warnings?: string[];
  val?: { accuracy?: number } | null;
  test?: { accuracy?: number; confusion?: number[][]; perClass?: RunDetail['perClass'] } | null;
}

/** "784-128-64-10 relu, dropout 0.2; adam 0.001, batch 64" from a resolved config. */
function describe(c: ConfigJson): string {
  const layers = c.model?.layers ?? [];
  const dense = layers.filter((l) => l.type === 'dense');
  const widths = ['784', ...dense.map((l) => String(l.units))].join('-');
  const acts = [...new Set(dense.slice(0, -1).map((l) => l.activation))].join('/');
  const extras = [...new Set(layers.filter((l) => l.type !== 'dense').map((l) => (l.type === 'dropout' ? `dropout ${l.rate}` : l.type)))];
  const opt = c.training?.optimizer;
  const train = [opt?.type && `${opt.type} ${opt.learningRate}`, c.training?.batchSize && `batch ${c.training.batchSize}`, c.data?.augment ? 'augmented' : ''].filter(Boolean).join(', ');
  return `${widths}${acts ? ` ${acts}` : ''}${extras.length ? `, ${extras.join(', ')}` : ''}${train ? `; ${train}` : ''}`;
}

function row(e: Record<string, number>): EpochRow {
  return { epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, val_loss: e.val_loss, val_accuracy: e.val_accuracy, lr: e.lr, seconds: e.seconds };
}

/** metrics.csv (written after every epoch while a run trains): its rows. */
export function readCsv(file: string): EpochRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const [head, ...lines] = text.trim().split('\n');
  const cols = (head ?? '').split(',');
  return lines
    .filter((l) => l.trim())
    .map((l) => {
      const v = l.split(',').map(Number);
      const e: Record<string, number> = {};
      cols.forEach((c, i) => (e[c] = v[i]));
      return row(e);
    });
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
