/**
 * nn quantize's work: a trained model to model.int8.safetensors in a folder that also holds the
 * run's config.json (so nn eval finds the model's data split), and both models measured on that
 * split's test images, the figures kept beside it in quantization.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { loadModel, saveQuantizedModel } from '../io/modelfile';
import { evaluateRun } from '../train/evaluate-run';
import { UserError } from '../util/errors';
import { quantizeModel } from './quantize';

export const INT8_FILE = 'model.int8.safetensors';
export const REPORT_FILE = 'quantization.json';

export interface QuantizeReport {
  from: string;
  to: string;
  floatBytes: number;
  int8Bytes: number;
  /** test accuracy of each on the run's test split (null when the run's config.json is not there) */
  floatAccuracy: number | null;
  int8Accuracy: number | null;
  samples: number;
  /** predictions of the test images that differ between the two */
  changed: number;
}

export function quantizeRun(modelPath: string, outDir?: string): QuantizeReport {
  const saved = loadModel(modelPath);
  if (saved.quantization) throw new UserError(`${modelPath}: is already an int8 model (nn quantize takes a float model.safetensors)`);
  const from = path.dirname(modelPath);
  const dir = outDir ?? from;
  const cfg = path.join(from, 'config.json');
  const hasConfig = fs.existsSync(cfg);
  fs.mkdirSync(dir, { recursive: true });
  if (path.resolve(dir) !== path.resolve(from) && hasConfig) {
    // the int8 model's folder needs the run's config.json for nn eval: the same one, never another run's
    const target = path.join(dir, 'config.json');
    const text = fs.readFileSync(cfg);
    if (fs.existsSync(target) && !fs.readFileSync(target).equals(text)) throw new UserError(`${target}: holds another run's config; choose an --out folder without one, or the model's own folder`);
    writeFileAtomic(target, text);
  }
  const to = path.join(dir, INT8_FILE);
  saveQuantizedModel(to, quantizeModel(saved));
  const report: QuantizeReport = { from: modelPath, to, floatBytes: fs.statSync(modelPath).size, int8Bytes: fs.statSync(to).size, floatAccuracy: null, int8Accuracy: null, samples: 0, changed: 0 };
  if (!hasConfig) return report;
  const f = evaluateRun(modelPath, 'test');
  const q = evaluateRun(to, 'test');
  report.floatAccuracy = f.evaluation.accuracy;
  report.int8Accuracy = q.evaluation.accuracy;
  report.samples = f.evaluation.samples;
  for (let k = 0; k < f.evaluation.guesses.length; k++) if (f.evaluation.guesses[k] !== q.evaluation.guesses[k]) report.changed++;
  writeFileAtomic(path.join(dir, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
  return report;
}
