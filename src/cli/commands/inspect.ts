/** nn inspect: what a trained network looks like inside (weights, activations, dead units), as pictures and a summary. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description("a trained model's insides: the first layer's weights as pictures, weight and activation histograms, dead units, a summary")
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .option('-o, --out <dir>', 'where to write the pictures (default: inspect/ in the model\'s folder)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { model?: string; out?: string; json?: boolean }) => {
      const { resolveModelPath } = require('../../io/run') as typeof import('../../io/run');
      const { loadModel } = require('../../io/modelfile') as typeof import('../../io/modelfile');
      const { inspectModel } = require('../../inspect/inspect') as typeof import('../../inspect/inspect');
      const { writeInspectPictures } = require('../../inspect/pictures') as typeof import('../../inspect/pictures');
      const modelPath = resolveModelPath(opts.model);
      const report = inspectModel(modelPath, loadModel(modelPath));
      const dir = opts.out ?? path.join(path.dirname(modelPath), 'inspect');
      fs.mkdirSync(dir, { recursive: true });
      const files = await writeInspectPictures(dir, report);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ model: report.model, parameters: report.parameters, images: report.images, layers: report.layers.map(({ weights, activations, ...rest }) => rest), files }) + '\n');
        return;
      }
      const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);
      const table = [
        ['layer', 'kind', 'parameters', 'zero weights', 'weight norm', `dead units (${report.images} test images)`],
        ...report.layers.map((l) => [l.name, l.kind, l.parameters.toLocaleString('en-US'), pct(l.zeroWeights), l.weightNorm === null ? '-' : l.weightNorm.toFixed(2), l.deadUnits === null ? '-' : `${pct(l.deadUnits)} of ${l.units}`]),
      ];
      const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
      let text = `model: ${report.model}, ${report.parameters.toLocaleString('en-US')} parameters\n`;
      for (const r of table) text += r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd() + '\n';
      text += `wrote ${files.join(', ')}\n`;
      process.stdout.write(text);
    });
}
