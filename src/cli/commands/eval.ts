/** nn eval: measure a trained model on its run's test (or val/train) split. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { resolveModelPath } from '../../io/run';
import { perClassMetrics } from '../../train/metrics';
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
      // the run's config says which data and split the model was trained on
      const { evaluateRun, misclassified } = require('../../train/evaluate-run') as typeof import('../../train/evaluate-run');
      const run = evaluateRun(modelPath, opts.split);
      const e = run.evaluation;
      let sheet = '';
      if (opts.errors) {
        const { writeContactSheet } = require('../../io/contactsheet') as typeof import('../../io/contactsheet');
        const items = misclassified(run).map((m) => ({ pixels: m.pixels, caption: `${m.label} → ${m.guess}` }));
        fs.mkdirSync(opts.errors, { recursive: true });
        sheet = path.join(opts.errors, 'errors.png');
        await writeContactSheet(sheet, items, run.ds.rows);
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
