/**
 * The tune file: a search around a base config. Read, checked and resolved
 * before anything runs; every problem is one UserError naming the file, the
 * key and what was expected (exit 2, nothing written).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { formatIssue, loadConfig, readRawConfig, resolveConfig } from '../config/load';
import type { Config } from '../config/schema';
import { checkFootprint } from '../train/footprint';
import { UserError } from '../util/errors';
import { Rng } from '../util/rng';
import { gridPoints, hasPath, lineOf, orderParams, walkSpace, type Param, type ParamSpec } from './space';

export const METRICS = ['val_accuracy', 'val_loss'] as const;
export type Metric = (typeof METRICS)[number];
export const METHODS = ['grid', 'random', 'tpe'] as const;
export type Method = (typeof METHODS)[number];
export const PRUNERS = ['asha', 'median', 'none'] as const;

export interface PrunerSpec {
  type: (typeof PRUNERS)[number];
  minEpochs: number; // asha: the first rung; median: no stop before this epoch
  reductionFactor: number; // asha: the share that goes on at each rung is 1 / this
  minTrials: number; // median: earlier trials needed at an epoch before it stops any
}

/** What fixes a study: a study goes on only with the same of each. */
export interface StudyDefinition {
  base: Config; // resolved, with data.splitSeed set: every trial is judged on one split
  space: Param[]; // in the order the params apply
  metric: Metric;
  method: Method;
  seed: number;
  startupTrials: number;
  pruner: PrunerSpec;
}

export interface TuneSpec extends StudyDefinition {
  file: string;
  name: string;
  baseFile: string;
  trials: number | null; // the study's total; null: until the timeout
  timeoutSeconds: number | null;
  workers: number;
  storage: string | null; // a postgresql:// URL, or null for the embedded database in the study folder
  retries: number; // how often a trial whose process died runs again
  staleAfterSeconds: number; // a running trial without a heartbeat for this long is taken as dead
}

const duration = z.union([z.number().positive(), z.string().regex(/^\s*\d+(\.\d+)?\s*[smh]?\s*$/, 'expected a duration such as 90s, 20m or 2h')]);
const num = z.number();
const when = z.record(z.string(), z.union([z.array(z.unknown()).min(1), z.string(), z.number(), z.boolean()])).optional();
const numeric = { low: num, high: num, log: z.boolean().default(false), step: z.number().positive().optional(), when };
const paramSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('float'), ...numeric }),
  z.strictObject({ type: z.literal('int'), ...numeric }),
  z.strictObject({ type: z.literal('choice'), values: z.array(z.unknown()).min(1), when }),
]);

const tuneSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, dots, dashes and underscores').optional(),
  base: z.string().min(1),
  metric: z.enum(METRICS).default('val_accuracy'),
  method: z.enum(METHODS).default('tpe'),
  trials: z.number().int().min(1).optional(),
  timeout: duration.optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
  workers: z.number().int().min(1).max(64).optional(),
  startupTrials: z.number().int().min(0).default(10),
  pruner: z
    .union([
      z.enum(PRUNERS),
      z.strictObject({
        type: z.enum(PRUNERS),
        minEpochs: z.number().int().min(1).default(1),
        reductionFactor: z.number().int().min(2).default(3),
        minTrials: z.number().int().min(1).default(5),
      }),
    ])
    .default('none'),
  storage: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL (or leave it out for the embedded database)').optional(),
  retries: z.number().int().min(0).default(2),
  staleAfter: duration.default(60),
  space: z.record(z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'expected a dotted path such as model.layers.0.units'), paramSchema).refine((s) => Object.keys(s).length > 0, 'expected at least one param'),
});

/** Keys a trial may not vary: every trial of a study is trained and judged on the same images. */
const FIXED = ['data.split', 'data.splitSeed', 'data.subset', 'data.dir'];

/** 90, '90s', '20m', '2h' -> seconds. */
export function parseDuration(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/.exec(v)!;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600 }[m[2] as '' | 's' | 'm' | 'h'];
}

export interface CommandOverrides {
  trials?: number;
  timeout?: string;
  workers?: number;
  storage?: string;
}

export function loadTuneFile(file: string, over: CommandOverrides = {}): TuneSpec {
  const raw = readRawConfig(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: expected a mapping with base and space (see README.md, "nn tune")`);
  const r = tuneSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new UserError(`${file}: ${formatIssue(r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0], tuneSchema)}`);
  const t = r.data;
  const fail = (key: string, msg: string): never => {
    throw new UserError(`${file}: ${key}: ${msg}`);
  };

  const baseFile = path.resolve(path.dirname(file), t.base);
  const { config: loaded } = loadConfig(baseFile);
  const base: Config = { ...loaded, data: { ...loaded.data, splitSeed: loaded.data.splitSeed ?? loaded.seed } };

  const params: Param[] = Object.entries(t.space).map(([p, s]) => {
    const key = `space.${p}`;
    if (FIXED.some((f) => p === f || p.startsWith(f + '.'))) fail(key, `every trial is trained and judged on the same split, so ${p} cannot vary; expected another path`);
    let spec: ParamSpec;
    if (s.type === 'choice') {
      spec = { type: 'choice', values: s.values };
    } else {
      if (s.low > s.high) fail(key, `low ${s.low} > high ${s.high}; expected low <= high`);
      if (s.log && s.low <= 0) fail(key, `log needs low > 0; got low ${s.low}`);
      if (s.type === 'int') {
        if (!Number.isInteger(s.low) || !Number.isInteger(s.high)) fail(key, `expected whole numbers low and high for an int; got ${s.low}, ${s.high}`);
        if (s.step !== undefined && !Number.isInteger(s.step)) fail(`${key}.step`, `expected a whole number for an int; got ${s.step}`);
        if (s.log && (s.step ?? 1) !== 1) fail(key, 'log and step together: expected one of them (a log int takes every integer)');
        spec = { type: 'int', low: s.low, high: s.high, log: s.log, step: s.step ?? 1 };
      } else {
        if (s.log && s.step !== undefined) fail(key, 'log and step together: expected one of them');
        if (t.method === 'grid' && s.step === undefined) fail(key, 'a grid over a float needs a step; expected step (e.g. step: 0.1)');
        spec = { type: 'float', low: s.low, high: s.high, log: s.log, ...(s.step !== undefined ? { step: s.step } : {}) };
      }
    }
    const conds = Object.entries(s.when ?? {}).map(([wp, vals]) => ({ path: wp, values: Array.isArray(vals) ? vals : [vals] }));
    return { path: p, spec, when: conds };
  });
  const space = orderParams(params);

  // Every path must name something in the base config, or in a value of a shorter choice param.
  const reachable = (p: string) =>
    hasPath(base, p) ||
    space.some((q) => q.spec.type === 'choice' && p.startsWith(q.path + '.') && q.spec.values.some((v) => hasPath(v, p.slice(q.path.length + 1))));
  for (const p of space) {
    if (!reachable(p.path)) fail(`space.${p.path}`, `no such key in the base config ${t.base} (nor in the values of a choice above it); expected a dotted path to a key of the base, list items by index (e.g. model.layers.0.units)`);
    for (const w of p.when) {
      if (!reachable(w.path) && !space.some((q) => q.path === w.path)) fail(`space.${p.path}.when.${w.path}`, `no such key in the base config ${t.base} or in the space; expected a path whose value the condition tests`);
    }
  }

  const grid = t.method === 'grid' ? gridPoints(base, space).length : null;
  const trials = over.trials ?? t.trials ?? grid;
  const timeout = over.timeout ?? t.timeout;
  if (trials === null && timeout === undefined) fail('trials', 'expected a number of trials, or a timeout (random and tpe searches have no natural end)');
  if (over.timeout !== undefined && !duration.safeParse(over.timeout).success) throw new UserError(`--timeout: expected a duration such as 90s, 20m or 2h; got ${JSON.stringify(over.timeout)}`);
  if (over.storage !== undefined && !/^postgres(ql)?:\/\//.test(over.storage)) throw new UserError(`--storage: expected a postgresql:// URL; got ${JSON.stringify(over.storage)}`);
  const pruner = typeof t.pruner === 'string' ? { type: t.pruner, minEpochs: 1, reductionFactor: 3, minTrials: 5 } : t.pruner;
  const spec: TuneSpec = {
    file,
    name: t.name ?? path.basename(file, path.extname(file)),
    baseFile,
    base,
    space,
    metric: t.metric,
    method: t.method,
    seed: t.seed,
    startupTrials: t.startupTrials,
    pruner,
    trials: grid !== null && trials !== null ? Math.min(trials, grid) : trials,
    timeoutSeconds: timeout === undefined ? null : parseDuration(timeout),
    workers: over.workers ?? t.workers ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
    storage: over.storage ?? t.storage ?? null,
    retries: t.retries,
    staleAfterSeconds: parseDuration(t.staleAfter),
  };
  checkExtremes(spec);
  return spec;
}

/**
 * Each param at each of its extremes (low, high, every choice) must give a config
 * that nn train accepts, in the first of a few walks of the space where it applies
 * (the other params at their first value, then drawn at random), so that a value
 * no trial could run with stops the search before it starts.
 */
function checkExtremes(spec: TuneSpec): void {
  const rng = Rng.derive(spec.seed, 'tune-check');
  const first = (q: Param) => (q.spec.type === 'choice' ? q.spec.values[0] : q.spec.low);
  const any = (q: Param) => {
    if (q.spec.type === 'choice') return q.spec.values[rng.int(q.spec.values.length)];
    const line = lineOf(q.spec);
    return line.value(line.lo + rng.next() * (line.hi - line.lo));
  };
  for (const p of spec.space) {
    const extremes = p.spec.type === 'choice' ? p.spec.values : [p.spec.low, p.spec.high];
    for (const v of extremes) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const { config, params } = walkSpace(spec.base, spec.space, (q) => (q === p ? v : attempt === 0 ? first(q) : any(q)));
        if (!(p.path in params)) continue;
        checkTrialConfig(trialConfig(spec, config, 0), `${spec.file}: space.${p.path} = ${JSON.stringify(v)}`);
        break;
      }
    }
  }
}

/** The complete config trial n trains on: the walked config with the trial's seed, resolved. */
export function trialConfig(spec: StudyDefinition, walked: unknown, n: number): unknown {
  const c = structuredClone(walked) as Record<string, unknown>;
  if (!spec.space.some((p) => p.path === 'seed')) c.seed = spec.seed + n; // (a searched seed stays as drawn)
  return c;
}

/**
 * Checks a trial's config as nn train would (schema and memory, for MNIST's 70,000 images
 * of 784 pixels: the trial checks again against its real data); returns it resolved.
 */
export function checkTrialConfig(raw: unknown, label: string): Config {
  const config = resolveConfig(raw, label);
  checkFootprint(config, label, 784, 70000);
  return config;
}
