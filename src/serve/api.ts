/**
 * The HTTP API's handlers: each takes the request (and its URL) and returns
 * what goes back as JSON, or throws an HttpError. The contract:
 *   GET  /api/health                 {"status": "ok", "version"}
 *   GET  /api/model                  {"path", "layers", "parameters", "testAccuracy"}
 *   POST /api/predict[?top=K]        an image (image/png, image/jpeg) or JSON {"pixels": [784]} or {"image": base64}
 *                                    -> {"digit", "confidence", "probabilities", "input", "saliency"[, "top"]}
 *   POST /api/predict/batch          {"instances": [{"image": base64} | {"pixels": [784]}]} -> {"predictions": [...]}
 *   GET  /api/runs, /api/runs/<name>, /api/runs/<name>/misclassified, /api/runs/overlay?names=a,b
 *   GET  /api/studies, /api/studies/<name>
 */
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { evaluateRun, misclassified } from '../train/evaluate-run';
import { readBody } from './body';
import { overlaySpec, runCharts, toVega } from './charts';
import { HttpError, badRequest, notFound } from './http-error';
import type { PredictionAnswer, Predictor } from './predictor';
import type { RunsFolder } from './runs';
import type { StudiesFolder } from './studies';

export interface ApiContext {
  version: string;
  predictor: () => Predictor | null;
  runs: RunsFolder;
  studies: StudiesFolder;
}

/** Misclassified images shown on a run's page: the first this many. */
const MISCLASSIFIED_SHOWN = 200;
/** Evaluations of runs' test splits, kept while the model file stays the same. */
const evaluations = new Map<string, { mtime: number; answer: unknown }>();

export function health(ctx: ApiContext): unknown {
  return { status: 'ok', version: ctx.version };
}

export function model(ctx: ApiContext): unknown {
  return need(ctx).info;
}

export async function predict(ctx: ApiContext, req: IncomingMessage, url: URL): Promise<PredictionAnswer> {
  const p = need(ctx);
  const top = topOf(url);
  const type = contentType(req);
  const body = await readBody(req);
  if (type === 'image/png' || type === 'image/jpeg') return p.predict(await p.fromImage(body, 'request body'), top);
  if (type === 'application/json') {
    const json = parseJson(body);
    if (!isObject(json)) throw badRequest('bad_json', 'expected a JSON object {"pixels": [784 numbers]} or {"image": "<base64 PNG or JPEG>"}');
    return p.predict(await instance(p, json, 'body'), top);
  }
  throw new HttpError(415, 'unsupported_type', `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not taken here: send image/png, image/jpeg or application/json`);
}

export async function predictBatch(ctx: ApiContext, req: IncomingMessage, url: URL): Promise<unknown> {
  const p = need(ctx);
  const top = topOf(url);
  if (contentType(req) !== 'application/json') throw new HttpError(415, 'unsupported_type', 'send application/json: {"instances": [{"image": "<base64>"} | {"pixels": [784 numbers]}]}');
  const json = parseJson(await readBody(req));
  if (!isObject(json) || !Array.isArray(json.instances)) throw badRequest('bad_json', 'expected {"instances": [...]}, each {"image": "<base64 PNG or JPEG>"} or {"pixels": [784 numbers]}');
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < json.instances.length; i++) {
    const item = json.instances[i];
    if (!isObject(item)) throw badRequest('bad_json', `instances[${i}]: expected {"image": ...} or {"pixels": [...]}`);
    inputs.push(await instance(p, item, `instances[${i}]`));
  }
  return { predictions: inputs.map((x) => p.predict(x, top)) };
}

export function runsList(ctx: ApiContext): unknown {
  return { runs: ctx.runs.list() };
}

export function run(ctx: ApiContext, name: string): unknown {
  const d = ctx.runs.detail(name);
  if (!d) throw notFound(`run ${JSON.stringify(name)}`);
  return { ...d, charts: runCharts(d.history, d.confusion) };
}

export function runsOverlay(ctx: ApiContext, url: URL): unknown {
  const names = (url.searchParams.get('names') ?? '').split(',').filter(Boolean);
  if (!names.length) throw badRequest('bad_query', 'names: expected a comma-separated list of run names');
  const runs = names.map((name) => {
    const d = ctx.runs.detail(name);
    if (!d) throw notFound(`run ${JSON.stringify(name)}`);
    return { name, history: d.history };
  });
  return { chart: toVega(overlaySpec(runs)) };
}

/** The run's test images its model got wrong (evaluated once per model file, then kept). */
export function runMisclassified(ctx: ApiContext, name: string): unknown {
  const dir = ctx.runs.folderOf(name);
  const d = dir && ctx.runs.detail(name);
  if (!dir || !d) throw notFound(`run ${JSON.stringify(name)}`);
  if (!d.hasModel) throw new HttpError(409, 'no_model', `run ${name} has no model.safetensors yet (it is ${d.state})`);
  const file = `${dir}/model.safetensors`;
  const mtime = fs.statSync(file).mtimeMs;
  const kept = evaluations.get(dir);
  if (kept && kept.mtime === mtime) return kept.answer;
  const r = evaluateRun(file, 'test');
  const wrong = misclassified(r);
  const answer = {
    samples: r.evaluation.samples,
    accuracy: r.evaluation.accuracy,
    count: wrong.length,
    shown: Math.min(wrong.length, MISCLASSIFIED_SHOWN),
    items: wrong.slice(0, MISCLASSIFIED_SHOWN).map((m) => ({ index: m.index, label: m.label, guess: m.guess, pixels: Buffer.from(m.pixels).toString('base64') })),
  };
  evaluations.set(dir, { mtime, answer });
  return answer;
}

export async function studiesList(ctx: ApiContext): Promise<unknown> {
  return { studies: await ctx.studies.list() };
}

export async function study(ctx: ApiContext, name: string): Promise<unknown> {
  const d = await ctx.studies.detail(name);
  if (!d) throw notFound(`study ${JSON.stringify(name)}`);
  return d;
}

function need(ctx: ApiContext): Predictor {
  const p = ctx.predictor();
  if (!p) throw new HttpError(503, 'no_model', 'no trained model yet: train one with `nn train --config configs/mlp.yaml` (nn serve picks it up), or start nn serve with --model PATH');
  return p;
}

async function instance(p: Predictor, o: Record<string, unknown>, field: string): Promise<Uint8Array> {
  if ('pixels' in o) return p.fromPixels(o.pixels, `${field}.pixels`);
  if ('image' in o) {
    if (typeof o.image !== 'string') throw badRequest('bad_image', `${field}.image: expected a base64 string of a PNG or JPEG`);
    const b64 = o.image.replace(/^data:image\/[a-z]+;base64,/, '');
    if (!/^[A-Za-z0-9+/=\s_-]*$/.test(b64)) throw badRequest('bad_image', `${field}.image: not base64`);
    return p.fromImage(Buffer.from(b64, 'base64'), `${field}.image`);
  }
  throw badRequest('bad_json', `${field}: expected "pixels" (784 numbers 0..255) or "image" (base64 PNG or JPEG)`);
}

function topOf(url: URL): number {
  const t = url.searchParams.get('top');
  if (t === null) return 0;
  const k = Number(t);
  if (!Number.isInteger(k) || k < 1 || k > 10) throw badRequest('bad_query', `top: expected a whole number from 1 to 10, got ${JSON.stringify(t)}`);
  return k;
}

function contentType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest('bad_json', `the body is not valid JSON (${(e as Error).message})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
