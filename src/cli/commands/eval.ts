/** nn eval: measure a trained model on its run's test (or val/train) split. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { Normalizer } from '../../data/normalize';
import { loadModel } from '../../io/modelfile';
import { resolveModelPath } from '../../io/run';
import { makeLoss } from '../../nn/losses';
import { evaluate } from '../../train/evaluate';
import { perClassMetrics } from '../../train/metrics';
import { UserError } from '../../util/errors';
import { confusedPairs, evaluationReport } from '../format';

export function evalCommand(): Command {
  return new Command('eval')
    .description("measure a trained model: loss, accuracy, confusion matrix, per-class precision/recall/F1")
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .addOption(new Option('-s, --split <name>', 'which part of the data').choices(['test', 'val', 'train']).default('test'))
    .option('--json', 'print one JSON object instead of tables')
    .option('--errors <dir>', 'also write errors.png there: a contact sheet of every misclassified image, labelled truth → guess')
    .action(async (opts: { model?: string; split: 'test' | 'val' | 'train'; json?: boolean; errors?: string }) => {
      const modelPath = resolveModelPath(opts.model);
      const saved = loadModel(modelPath);
      // The run's config says which data and split the model was trained on.
      const cfgPath = path.join(path.dirname(modelPath), 'config.json');
      const { readRawConfig, resolveConfig } = require('../../config/load') as typeof import('../../config/load');
      const { prepareData } = require('../../train/pipeline') as typeof import('../../train/pipeline');
      if (!fs.existsSync(cfgPath)) throw new UserError(`${cfgPath}: not found; eval needs the run's config.json beside the model to rebuild its data split`);
      const config = resolveConfig(readRawConfig(cfgPath), cfgPath);
      const { ds, split } = prepareData(config);
      if (ds.rows !== saved.rows || ds.cols !== saved.cols) {
        throw new UserError(`${ds.dir}: images are ${ds.rows}x${ds.cols} but ${modelPath} expects ${saved.rows}x${saved.cols}`);
      }
      const loss = makeLoss(config.training.loss, saved.model.outputActivation);
      const indices = split[opts.split];
      const e = evaluate(saved.model, loss, ds, indices, new Normalizer(saved.normalization, ds.dim, saved.model.takesInputShift));
      let sheet = '';
      if (opts.errors) {
        const { writeContactSheet } = require('../../io/contactsheet') as typeof import('../../io/contactsheet');
        const items = [];
        for (let k = 0; k < indices.length; k++) {
          const i = indices[k];
          if (e.guesses[k] !== ds.labels[i]) items.push({ pixels: ds.images.subarray(i * ds.dim, (i + 1) * ds.dim), caption: `${ds.labels[i]} → ${e.guesses[k]}` });
        }
        fs.mkdirSync(opts.errors, { recursive: true });
        sheet = path.join(opts.errors, 'errors.png');
        await writeContactSheet(sheet, items, ds.rows);
        sheet = `wrote ${sheet}: the ${items.length} misclassified ${opts.split} images, labelled truth → guess\n`;
      }
      if (opts.json) {
        const perClass = perClassMetrics(e.confusion).map(({ digit, precision, recall, f1 }) => ({ digit, precision, recall, f1 }));
        const mostConfused = confusedPairs(e.confusion, 5);
        process.stdout.write(JSON.stringify({ split: opts.split, samples: e.samples, accuracy: e.accuracy, loss: e.loss, confusion: e.confusion, perClass, mostConfused }) + '\n');
        if (sheet) process.stderr.write(sheet);
        return;
      }
      process.stdout.write(`model: ${modelPath}\n` + evaluationReport(opts.split, e) + '\n' + sheet);
    });
}
