/**
 * Training progress for people: on a terminal a live bar per epoch (batches,
 * running loss and accuracy, ETA); elsewhere (CI logs, pipes) one plain line
 * per epoch.
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, Callback, EpochLog } from '../train/callbacks';

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

export function progressCallback(epochs: number, out: NodeJS.WriteStream = process.stdout): Callback {
  const live = Boolean(process.stderr.isTTY) && !process.env.CI;
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
      out.write(epochLine(log, epochs) + '\n');
    },
    onTrainEnd() {
      bar?.stop();
    },
    onWarning(message) {
      process.stderr.write(`warning: ${message}\n`);
    },
  };
}
