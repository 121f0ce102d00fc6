/**
 * A run's checkpoint (checkpoint.safetensors in its folder), written after every
 * epoch: the training state (train/trainer.ts, TrainState) as tensors (weights,
 * optimizer moments, the shuffle order, early stopping's best weights) and JSON
 * metadata (epoch, generators, callbacks' counts, learning-rate scale, metrics so far), plus what
 * produced the run (provenance), which a resume must match. Written atomically:
 * a kill at any instant leaves the old checkpoint or the new one.
 */
import { createHash } from 'node:crypto';
import type { CallbackState } from '../train/callbacks';
import type { TrainState } from '../train/trainer';
import { UserError } from '../util/errors';
import { readSafetensorsFile, writeSafetensorsFile, type Tensor } from './safetensors';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const CHECKPOINT_FORMAT = 1;

/** What produced a run: a resume refuses to go on with anything else. */
export interface Provenance {
  configHash: string; // sha256 of the resolved config's JSON
  dataHash: string; // sha256 of the dataset's image and label bytes
  split: { train: number; val: number; test: number; seed: number };
  nn: string; // package version
  node: string;
}

export function sha256(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

// JSON has no NaN or Infinity (early stopping's "no best yet" is NaN): carry them as strings.
const encodeNumbers = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `__${v}` : v);
const decodeNumbers = (_k: string, v: unknown) => (v === '__NaN' ? NaN : v === '__Infinity' ? Infinity : v === '__-Infinity' ? -Infinity : v);

const vec = (data: Float32Array): Tensor => ({ shape: [data.length], data });

export function saveCheckpoint(file: string, s: TrainState, provenance: Provenance): void {
  const tensors: Array<[string, Tensor]> = [
    ['params', vec(s.params)],
    ['order', vec(Float32Array.from(s.order))], // indices below 2^24: exact in float32
  ];
  for (const [k, b] of Object.entries(s.optimizer.buffers)) tensors.push([`optimizer.${k}`, vec(b)]);
  const callbacks: Record<string, Record<string, number>> = {};
  for (const [name, cs] of Object.entries(s.callbacks)) {
    callbacks[name] = cs.values;
    for (const [k, t] of Object.entries(cs.tensors)) tensors.push([`callbacks.${name}.${k}`, vec(t)]);
  }
  const state = { epoch: s.epoch, optimizerSteps: s.optimizer.t, rng: s.rng, lrScale: s.lrScale, callbacks, history: s.history, warnings: s.warnings, warned: s.warned, trainSeconds: s.trainSeconds };
  writeSafetensorsFile(file, tensors, {
    format: String(CHECKPOINT_FORMAT),
    state: JSON.stringify(state, encodeNumbers),
    provenance: JSON.stringify(provenance),
  });
}

export function loadCheckpoint(file: string): { state: TrainState; provenance: Provenance } {
  const { tensors, metadata } = readSafetensorsFile(file);
  const bad = (what: string): never => {
    throw new UserError(`${file}: ${what}; expected a checkpoint written by nn train`);
  };
  if (metadata.format === undefined || metadata.state === undefined || metadata.provenance === undefined) bad('no checkpoint metadata');
  if (Number(metadata.format) > CHECKPOINT_FORMAT) throw new UserError(`${file}: checkpoint format ${metadata.format} is newer than this nn reads (${CHECKPOINT_FORMAT}); update nn`);
  let meta: Record<string, unknown>;
  let provenance: Provenance;
  try {
    meta = JSON.parse(metadata.state, decodeNumbers);
    provenance = JSON.parse(metadata.provenance);
  } catch {
    return bad('its metadata is not valid JSON');
  }
  const t = (name: string): Float32Array => tensors.get(name)?.data ?? bad(`no tensor ${name}`);
  const buffers: Record<string, Float32Array> = {};
  for (const [k, v] of tensors) if (k.startsWith('optimizer.')) buffers[k.slice('optimizer.'.length)] = v.data;
  const callbacks: Record<string, CallbackState> = {};
  for (const [name, values] of Object.entries(meta.callbacks as Record<string, Record<string, number>>)) {
    const cs: CallbackState = { values, tensors: {} };
    for (const [k, v] of tensors) if (k.startsWith(`callbacks.${name}.`)) cs.tensors[k.slice(`callbacks.${name}.`.length)] = v.data;
    callbacks[name] = cs;
  }
  const state: TrainState = {
    epoch: meta.epoch as number,
    params: t('params'),
    optimizer: { t: meta.optimizerSteps as number, buffers },
    order: Uint32Array.from(t('order')),
    rng: meta.rng as TrainState['rng'],
    lrScale: meta.lrScale as number,
    callbacks,
    history: meta.history as TrainState['history'],
    warnings: meta.warnings as string[],
    warned: meta.warned as string[],
    trainSeconds: meta.trainSeconds as number,
  };
  return { state, provenance };
}

/** The first difference between the run's provenance and the resume's, as a phrase, or null. */
export function provenanceDiff(saved: Provenance, now: Provenance): string | null {
  if (saved.configHash !== now.configHash) return 'the config differs from the one the run started with';
  if (saved.dataHash !== now.dataHash) return 'the data files differ from the ones the run started with';
  const a = saved.split, b = now.split;
  if (a.train !== b.train || a.val !== b.val || a.test !== b.test || a.seed !== b.seed) return `the split differs (${a.train}/${a.val}/${a.test}, seed ${a.seed} then; ${b.train}/${b.val}/${b.test}, seed ${b.seed} now)`;
  return null;
}
