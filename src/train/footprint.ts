/**
 * How much memory a run needs, from its config alone, checked before anything
 * is allocated or written. Every hot buffer lives in one WebAssembly memory
 * (kernels/memory.ts), which can never hold more than 4 GiB: a network that
 * does not fit fails here, naming the key to change, instead of in
 * WebAssembly.Memory.grow() half-way through with a run folder half written.
 */
import type { Config, LayerConfig, BlockLayerConfig } from '../config/schema';
import { MEMORY_LIMIT_BYTES } from '../kernels/memory';
import { UserError } from '../util/errors';

export interface Footprint {
  bytes: number; // the WebAssembly memory the run needs, about
  parameters: number;
  /** The config key whose value makes most of it, and what it contributes. */
  culprit: { key: string; value: number | string; bytes: number };
}

const F = 4; // bytes in a float32
const EVAL_ROWS = 500; // evaluate.ts's batch
const FULL_BATCH_CHUNK = 1000; // trainer.ts's chunk for batchSize: full

// State kept per trainable value beside the value itself: its gradient, then the optimizer's moments.
function optimizerBuffers(cfg: Config): number {
  const o = cfg.training.optimizer;
  switch (o.type) {
    case 'adam':
      return 2;
    case 'sgd':
    case 'momentum':
      return o.momentum > 0 ? 1 : 0;
    default:
      return 1; // rmsprop, adagrad
  }
}

/** The memory a run of `cfg` needs over `images` images of D pixels. */
export function trainingFootprint(cfg: Config, D: number, images: number): Footprint {
  const perValue = (2 + optimizerBuffers(cfg)) * F; // value, gradient, optimizer state
  const batchRows = cfg.training.batchSize === 'full' ? FULL_BATCH_CHUNK : cfg.training.batchSize;
  // Buffers are kept per batch size seen: the training batch, the last short one, and evaluation's.
  const rowsFor = (batch: number) => 2 * batch + 2 * EVAL_ROWS;
  const rows = rowsFor(batchRows);
  let parameters = 0;
  let floatsPerRow = D; // the gathered batch
  let heaviest = { key: 'model.layers', value: 0 as number | string, bytes: 0 };
  const walk = (l: LayerConfig | BlockLayerConfig, key: string, width: number): number => {
    switch (l.type) {
      case 'dense': {
        const p = width * l.units + l.units;
        parameters += p;
        floatsPerRow += width + 2 * l.units; // output, input gradient, partial sums
        const bytes = p * perValue + rows * (width + 2 * l.units) * F;
        if (bytes > heaviest.bytes) heaviest = { key: `${key}.units`, value: l.units, bytes };
        return l.units;
      }
      case 'dropout':
        floatsPerRow += 3 * width; // mask, output, gradient
        return width;
      case 'batchnorm':
        parameters += 4 * width;
        floatsPerRow += 3 * width;
        return width;
      case 'residual': {
        let w = width;
        l.layers.forEach((b, j) => (w = walk(b, `${key}.layers[${j}]`, w)));
        floatsPerRow += 2 * width;
        return width;
      }
    }
  };
  let width = D;
  cfg.model.layers.forEach((l, i) => (width = walk(l, `model.layers[${i}]`, width)));
  const fixed = images * D + parameters * perValue;
  const bytes = fixed + rows * floatsPerRow * F;
  // The batch size is to blame when a batch of one would fit; else the heaviest layer is.
  const batchIsTheCause = fixed + rowsFor(1) * floatsPerRow * F <= MEMORY_LIMIT_BYTES;
  const culprit = batchIsTheCause ? { key: 'training.batchSize', value: cfg.training.batchSize, bytes: bytes - fixed } : heaviest;
  return { bytes, parameters, culprit };
}

/** Throws a UserError naming the key when a run of `cfg` cannot fit in memory. */
export function checkFootprint(cfg: Config, file: string, D: number, images: number): void {
  const f = trainingFootprint(cfg, D, images);
  if (f.bytes <= MEMORY_LIMIT_BYTES) return;
  const what = f.culprit.key === 'training.batchSize' ? `batches of ${f.culprit.value} samples` : `${f.culprit.value} units`;
  throw new UserError(
    `${file}: ${f.culprit.key}: ${what} make the network need about ${formatBytes(f.bytes)} of memory to train ` +
      `(${f.parameters.toExponential(2)} parameters with their gradients and optimizer state, and the activations of a batch); ` +
      `the limit is ${formatBytes(MEMORY_LIMIT_BYTES)} (WebAssembly memory): expected a smaller value`,
  );
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n < 10 ? n.toFixed(1) : Math.round(n)} ${units[u]}`;
}
