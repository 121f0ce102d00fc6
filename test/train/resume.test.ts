/**
 * Exact resume: 4 epochs straight, and 2 epochs, a checkpoint file, then a fresh
 * model resumed to 4, give the same weights byte for byte. The config uses every
 * source of state: dropout, augmentation, Adam, early stopping's snapshot and
 * reduce-on-plateau.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { loadCheckpoint, saveCheckpoint, type Provenance } from '../../src/io/checkpoint';
import { prepareData, runTraining } from '../../src/train/pipeline';
import type { Trainer } from '../../src/train/trainer';
import { tempDir } from '../helpers/tmp';

const raw = {
  data: { subset: 0.03, augment: { shift: 1, rotate: 5 } },
  model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10, activation: 'softmax' }] },
  training: { epochs: 4, earlyStopping: { patience: 10 }, reduceLROnPlateau: { patience: 0, minDelta: 10 }, schedule: { type: 'cosine' } },
};
const provenance: Provenance = { configHash: 'c', dataHash: 'd', split: { train: 1, val: 1, test: 1, seed: 42 }, nn: '0', node: 'v20' };
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('checkpoint and resume', () => {
  it('train 4 epochs straight = train 2, checkpoint to a file, resume to 4: identical weights and history', async () => {
    const cfg = resolveConfig(raw, 'test');
    const data = prepareData(cfg);
    const straight = await runTraining(cfg, data, []);

    const file = path.join(tempDir('nn-ckpt-'), 'checkpoint.safetensors');
    let trainer: Trainer | null = null;
    const first = await runTraining(cfg, data, [], {
      started: (t) => (trainer = t),
      onCheckpoint: (s) => {
        saveCheckpoint(file, s, provenance);
        if (s.epoch === 2) trainer!.requestStop('test');
      },
    });
    expect(first.fit.interrupted).toBe(true);
    expect(first.fit.history).toHaveLength(2);

    const { state, provenance: p } = loadCheckpoint(file);
    expect(p).toEqual(provenance);
    expect(state.epoch).toBe(2);
    const resumed = await runTraining(cfg, data, [], { resume: state });
    expect(resumed.fit.interrupted).toBe(false);
    expect(bytes(resumed.model.params.data).equals(bytes(straight.model.params.data))).toBe(true);
    expect(resumed.fit.history.map((h) => [h.loss, h.val_loss, h.lr])).toEqual(straight.fit.history.map((h) => [h.loss, h.val_loss, h.lr]));
    expect(resumed.bestEpoch).toBe(straight.bestEpoch);
  });
});
