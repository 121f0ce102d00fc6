/** nn quantize: a trained model's dense weights to int8, written beside it (or into --out) and measured against the float model. */
import { Command } from 'commander';

export function quantizeCommand(): Command {
  return new Command('quantize')
    .description("quantize a trained model to int8 (weights per output unit, activations per row as they come): writes model.int8.safetensors, which eval, predict, serve and export take")
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .option('-o, --out <dir>', "the folder to write model.int8.safetensors into (default: the model's own; another gets a copy of the run's config.json)")
    .option('--json', 'print one JSON object')
    .action((opts: { model?: string; out?: string; json?: boolean }) => {
      const { resolveModelPath } = require('../../io/run') as typeof import('../../io/run');
      const { quantizeRun } = require('../../quantize/run') as typeof import('../../quantize/run');
      const r = quantizeRun(resolveModelPath(opts.model), opts.out);
      if (opts.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
      const pct = (a: number | null) => (a === null ? '-' : `${(100 * a).toFixed(2)}%`);
      process.stdout.write(`wrote ${r.to}: ${kb(r.int8Bytes)}, ${((100 * r.int8Bytes) / r.floatBytes).toFixed(1)}% of the float model's ${kb(r.floatBytes)}\n`);
      if (r.floatAccuracy !== null) process.stdout.write(`test accuracy on ${r.samples} images: int8 ${pct(r.int8Accuracy)}, float ${pct(r.floatAccuracy)}; ${r.changed} predictions differ\n`);
      else process.stdout.write(`(no config.json beside ${r.from}: not measured)\n`);
    });
}
