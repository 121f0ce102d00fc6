/**
 * Training progress: on a terminal a live bar per epoch (batches, running loss
 * and accuracy, ETA); elsewhere (CI logs, pipes) one plain line per epoch; with
 * --json one JSON object per epoch (JSON Lines) for programs; with --quiet
 * nothing. Warnings go to stderr in every mode, --quiet included.
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, Callback, EpochLog } from '../train/callbacks';
import { paint } from './color';

export function epochLine(log: EpochLog, epochs: number): string {
  const w = String(epochs).length;
  return (
    `epoch ${String(log.epoch).padStart(w)}/${epochs}  loss ${log.loss.toFixed(4)}  acc ${pct(log.accuracy)}  ` +
    `val_loss ${log.val_loss.toFixed(4)}  val_acc ${pct(log.val_accuracy)}  ${log.seconds.toFixed(1)}s  ${Math.round(log.samplesPerSecond)} samples/s`
  );
}

export function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

export type ProgressMode = 'text' | 'json' | 'quiet';

/** A JSON Lines record of an epoch (diagnostics included). */
export function epochJson(log: EpochLog): string {
  return JSON.stringify({ type: 'epoch', ...log });
}

export function progressCallback(epochs: number, out: NodeJS.WriteStream = process.stdout, mode: ProgressMode = 'text'): Callback {
  const live = mode === 'text' && Boolean(process.stderr.isTTY) && !process.env.CI;
  let bar: cliProgress.SingleBar | null = null;
  return {
    onEpochBegin(epoch, batches) {
      if (!live) return;
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `epoch ${epoch}/${epochs} {bar} {value}/{total} | loss {loss} acc {acc} | ETA {eta_formatted}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { loss: '-', acc: '-' });
    },
    onBatchEnd(info: BatchInfo) {
      bar?.update(info.batch, { loss: info.loss.toFixed(4), acc: pct(info.accuracy) });
    },
    onEpochEnd(log) {
      bar?.stop();
      bar = null;
      if (mode === 'text') out.write(epochLine(log, epochs) + '\n');
      else if (mode === 'json') out.write(epochJson(log) + '\n');
    },
    onTrainEnd() {
      bar?.stop();
    },
    onWarning(message) {
      process.stderr.write(`${paint('warning:', 33)} ${message}\n`);
    },
  };
}

