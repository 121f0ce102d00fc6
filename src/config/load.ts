/**
 * Reads a config file (YAML or JSON by extension), applies command-line
 * overrides, validates it and fills in defaults. Every problem becomes one
 * UserError line naming the file and the key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { configSchema, type Config } from './schema';
import { UserError } from '../util/errors';

export interface LoadedConfig {
  config: Config;
  name: string; // the file's base name, for the default run folder
  file: string;
}

export function readRawConfig(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'is a folder; expected a config file' : (e as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return parseJson(text, file);
  if (ext === '.yaml' || ext === '.yml') return parseYaml(text, file);
  throw new UserError(`${file}: unknown config format ${ext || '(no extension)'}; expected .yaml, .yml or .json`);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where = lineCol(text, m ? Number(m[1]) : jsonErrorOffset(text));
    throw new UserError(`${file}${where}: JSON syntax error: ${msg.replace(/ in JSON at position \d+.*$|, (\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '')}`);
  }
}

function parseYaml(text: string, file: string): unknown {
  const YAML = require('yaml') as typeof import('yaml'); // loaded for YAML files only: a JSON config (every trial of nn tune) starts 70 ms sooner
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `:${pos.line}:${pos.col}` : err.pos ? lineCol(text, err.pos[0]) : '';
    throw new UserError(`${file}${where}: YAML syntax error: ${err.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS(); // aliases expand here: a bomb of them is refused by the library's alias limit
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new UserError(`${file}: YAML error: ${msg}${/alias/i.test(msg) ? '; expected aliases (*name) that expand to a modest size' : ''}`);
  }
}

/**
 * Where JSON.parse gave up, for the messages that carry no position (Node 20's
 * "Unexpected token" and "Unexpected end"): the shortest prefix that fails for
 * another reason than ending early contains the bad character at its end.
 */
function jsonErrorOffset(text: string): number {
  const failsBeforeEnd = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      const msg = (e as Error).message;
      const at = /position (\d+)/.exec(msg);
      // a prefix cut inside a string or a number also fails, at its very end: that is ending early too
      return !/Unexpected end of JSON input|Unterminated string/.test(msg) && !(at && Number(at[1]) >= k - 1);
    }
  };
  if (!failsBeforeEnd(text.length)) return text.trimEnd().length;
  let lo = 0;
  let hi = text.length; // failsBeforeEnd(hi) holds
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (failsBeforeEnd(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `:${line}:${col}`;
}

/** Overrides such as { seed: 7, 'training.epochs': 3 } set keys by path before validation. */
export function applyOverrides(raw: unknown, overrides: Record<string, unknown>): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out = structuredClone(raw) as Record<string, unknown>;
  nextOverride: for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      if (node[p] === undefined) node[p] = {};
      if (typeof node[p] !== 'object' || node[p] === null) continue nextOverride; // leave the wrong value for validation to report
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

export function resolveConfig(raw: unknown, file: string): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${file}: expected a mapping of keys (seed, data, model, training) at the top level`);
  }
  const r = configSchema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data;
  throw new UserError(`${file}: ${formatIssue(r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0])}`); // a misspelt key first: it often causes the other issues ("rat" leaves "rate" missing)
}

export function loadConfig(file: string, overrides: Record<string, unknown> = {}): LoadedConfig {
  const raw = applyOverrides(readRawConfig(file), overrides);
  const config = resolveConfig(raw, file);
  return { config, name: path.basename(file, path.extname(file)), file };
}

// ---- messages ----

function formatPath(p: PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(top level)';
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const TYPE_WORDS: Record<string, string> = { number: 'a number', int: 'an integer', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list', tuple: 'a list' };

/** One issue as a line; `root` is the schema it came from (for the keys a misspelt one could have meant). */
export function formatIssue(issue: z.core.$ZodIssue, root: unknown = configSchema): string {
  const at = formatPath(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_union': {
      const i = issue as z.core.$ZodIssueInvalidUnion & { discriminator?: string; options?: unknown[] };
      if (i.discriminator && i.options) {
        const got = (input as Record<string, unknown> | undefined)?.[i.discriminator];
        const p = issue.path[issue.path.length - 1] === i.discriminator ? at : `${at}.${i.discriminator}`;
        return `${p}: expected one of ${i.options.join(', ')}; got ${show(got)}`;
      }
      // split: 'official' or a list; earlyStopping: false or a mapping
      const alts = i.errors.map((errs) => errs[0]).filter(Boolean);
      const deepest = alts.find((e) => e.path.length > 0);
      if (deepest) return formatIssue({ ...deepest, path: [...issue.path, ...deepest.path] } as z.core.$ZodIssue, root);
      const wanted = alts.map((e) => (e.code === 'invalid_value' ? e.values.map((v) => JSON.stringify(v)).join(' or ') : e.code === 'too_small' || e.code === 'too_big' ? `a list of ${e.code === 'too_small' ? e.minimum : e.maximum} items` : TYPE_WORDS[(e as { expected?: string }).expected ?? ''] ?? (e as { expected?: string }).expected)).join(' or ');
      return `${at}: expected ${wanted}; got ${show(input)}`;
    }
    case 'invalid_value': {
      const vals = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      return vals.length === 1 ? `${at}: expected ${vals[0]}; got ${show(input)}` : `${at}: expected one of ${vals.join(', ')}; got ${show(input)}`;
    }
    case 'invalid_type':
      if (input === undefined) return `${at}: missing; expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
      return `${at}: expected ${TYPE_WORDS[issue.expected] ?? issue.expected}; got ${show(input)}`;
    case 'too_small': {
      if (issue.origin === 'array') return `${at}: expected at least ${issue.minimum} item(s); got ${(input as unknown[]).length}`;
      if (issue.origin === 'string') return `${at}: expected a non-empty string`;
      return `${at}: expected a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}; got ${show(input)}`;
    }
    case 'too_big':
      if (issue.origin === 'array') return `${at}: expected at most ${issue.maximum} item(s); got ${(input as unknown[]).length}`;
      return `${at}: expected a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}; got ${show(input)}`;
    case 'unrecognized_keys': {
      const key = issue.keys[0];
      const where = issue.path.length ? `${at}.${key}` : key;
      const known = knownKeysAt(root, issue.path, input);
      const guess = suggest(key, known);
      return `${where}: unknown key${guess ? `; did you mean "${guess}"?` : known.length ? `; expected one of ${known.join(', ')}` : ''}`;
    }
    default:
      return `${at}: ${issue.message}`;
  }
}

type Def = Record<string, unknown> & { shape?: Record<string, unknown>; options?: unknown[] };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Strips default/prefault/optional wrappers; picks the union member that matches `input` (by its type). */
function unwrap(s: unknown, input?: unknown): Def | undefined {
  let def = defOf(s);
  while (def && def.innerType) def = defOf(def.innerType);
  if (def?.options) {
    const type = (input as Record<string, unknown> | undefined)?.type;
    const objects = def.options.map((o) => unwrap(o)).filter((d): d is Def => !!d?.shape);
    return objects.find((d) => (defOf(d.shape!.type)?.values as unknown[] | undefined)?.includes(type)) ?? objects[0];
  }
  return def;
}

/** The keys the strict object at `path` accepts (for "did you mean"). */
function knownKeysAt(root: unknown, path: PropertyKey[], input: unknown): string[] {
  let def = unwrap(root, path.length ? undefined : input);
  path.forEach((seg, i) => {
    const here = i === path.length - 1 ? input : undefined; // only the last object's input is known
    if (def?.shape) def = unwrap(def.shape[String(seg)], here);
    else if (def?.element) def = unwrap(def.element, here);
    else def = undefined;
  });
  return def?.shape ? Object.keys(def.shape) : [];
}

const ALIASES: Record<string, string> = { lr: 'learningRate', learning_rate: 'learningRate', batch_size: 'batchSize', batch: 'batchSize', optim: 'optimizer', early_stopping: 'earlyStopping', dropout: 'rate', neurons: 'units', size: 'units' };

/** The closest known key, if one is close enough to be a typo. */
export function suggest(key: string, candidates: string[]): string | null {
  if (ALIASES[key] && candidates.includes(ALIASES[key])) return ALIASES[key];
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of candidates) {
    const d = norm(k) === norm(key) ? 0 : editDistance(norm(key), norm(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
