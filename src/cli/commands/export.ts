/** nn export: a trained model in a format other tools run (ONNX), float or int8. */
import * as path from 'node:path';
import { Command, Option } from 'commander';

export function exportCommand(): Command {
  return new Command('export')
    .description('write a trained model as ONNX, its normalization folded in: input float32 [N, 784] pixels 0..1, outputs probabilities and logits')
    .option('-m, --model <path>', 'model.safetensors (or model.int8.safetensors) or its run folder (default: the most recent run)')
    .addOption(new Option('-f, --format <format>', 'the format to write').choices(['onnx']).default('onnx'))
    .option('--int8', 'the int8 model (MatMulInteger): a float model is quantized first, as nn quantize does; an int8 model exports as int8 without it')
    .option('-o, --out <file>', 'where to write it (default: model.onnx, or model.int8.onnx, beside the model)')
    .action((opts: { model?: string; format: 'onnx'; int8?: boolean; out?: string }) => {
      const { resolveModelPath } = require('../../io/run') as typeof import('../../io/run');
      const { loadModel } = require('../../io/modelfile') as typeof import('../../io/modelfile');
      const { writeFileAtomic } = require('../../io/atomic') as typeof import('../../io/atomic');
      const { exportOnnx, OPSET } = require('../../export/onnx') as typeof import('../../export/onnx');
      const modelPath = resolveModelPath(opts.model);
      let saved = loadModel(modelPath);
      if (opts.int8 && !saved.quantization) saved = (require('../../quantize/quantize') as typeof import('../../quantize/quantize')).quantizeModel(saved);
      const int8 = saved.quantization !== undefined;
      const out = opts.out ?? path.join(path.dirname(modelPath), int8 ? 'model.int8.onnx' : 'model.onnx');
      const bytes = exportOnnx(saved, require('../../../package.json').version);
      writeFileAtomic(out, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      process.stdout.write(`wrote ${out} (${(bytes.length / 1024).toFixed(0)} kB, ONNX opset ${OPSET}${int8 ? ', int8: MatMulInteger' : ''}): input "input" float32 [N, ${saved.rows * saved.cols}], pixels 0..1 (x/255); outputs "probabilities" and "logits" [N, ${saved.model.outDim}]\n`);
    });
}
