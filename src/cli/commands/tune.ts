/**
 * nn tune: a hyperparameter search around a config (tune/), and nn tune status.
 * Parses options, runs the study, shows it: on a terminal a live line per
 * running trial and the best so far; elsewhere a line per finished trial;
 * --json a JSON line per finished trial and one at the end.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../../util/errors';
import { exitCodeOf, watchStopRequests } from '../../util/signals';
import { paint } from '../color';
import { table } from '../format';
import { LiveBlock } from '../live';
import { intOption } from '../options';

interface TuneOptions {
  config?: string;
  resume?: string;
  out?: string;
  workers?: number;
  trials?: number;
  timeout?: string;
  storage?: string;
  json?: boolean;
  quiet?: boolean;
}

export function tuneCommand(): Command {
  const cmd = new Command('tune')
    .description('search for better hyperparameters: trials of nn train in parallel, pruned early, kept in a database')
    .option('-c, --config <file>', 'the tune file: a base config and a search space (see configs/tune.yaml)')
    .option('--resume <dir>', 'go on with the study in this folder (the same as running its command again)')
    .option('-o, --out <dir>', 'the study folder (default: runs/tune/<name>)')
    .addOption(new Option('--workers <n>', 'trials at once on this machine (default: the tune file, else one per core)').argParser(intOption('--workers', 1)))
    .addOption(new Option('--trials <n>', "the study's total number of trials, across all machines").argParser(intOption('--trials', 1)))
    .option('--timeout <duration>', 'no new trial starts after this long (e.g. 90s, 20m, 2h)')
    .option('--storage <url>', 'a PostgreSQL URL shared by several machines (default: a database in the study folder)')
    .option('--json', 'a JSON object per finished trial and one at the end, on stdout (JSON Lines)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: TuneOptions) => {
      if (!opts.config === !opts.resume) throw new UserError(opts.config ? '--config and --resume: expected one of them' : 'expected --config FILE (a tune file, e.g. configs/tune.yaml) or --resume DIR');
      if (opts.resume && opts.out) throw new UserError('--resume goes on in the study\'s own folder; drop --out');
      await runTune(opts);
    });
  cmd.addCommand(
    new Command('status')
      .description("a study's trials so far, best first")
      .argument('[dir]', 'the study folder (default: the most recent under runs/tune/)')
      .option('--storage <url>', 'the PostgreSQL URL of the study (with --study)')
      .option('--study <name>', 'the study in that database')
      .option('--json', 'print the trials as one JSON array')
      .action(async function (this: Command, dir: string | undefined) {
        // (tune's own --json and --storage take these when they follow `status`: read them from both)
        const opts = this.optsWithGlobals() as { storage?: string; study?: string; json?: boolean };
        const { studyStatus } = require('../../tune/status') as typeof import('../../tune/status');
        const { showValue } = require('../../tune/space') as typeof import('../../tune/space');
        const s = await studyStatus({ dir, storage: opts.storage, study: opts.study });
        if (opts.json) {
          const rows = s.trials.map((t) => ({ number: t.number, state: t.state, params: t.params, [s.metric]: t.value, testAccuracy: t.testAccuracy, bestEpoch: t.bestEpoch, epochs: t.epochs ?? lastEpoch(t), seconds: t.seconds, attempts: t.attempts, reason: t.reason }));
          process.stdout.write(JSON.stringify({ study: s.name, metric: s.metric, trials: rows }) + '\n');
          return;
        }
        const rows = [['trial', 'state', s.metric, 'best epoch', 'epochs', 'seconds', 'params']];
        for (const t of s.trials) {
          const last = t.reports.get(lastEpoch(t));
          rows.push([String(t.number), t.state, t.value !== null ? t.value.toFixed(4) : last !== undefined ? `(${last.toFixed(4)})` : '-', t.bestEpoch === null ? '-' : String(t.bestEpoch), String(t.epochs ?? lastEpoch(t)), t.seconds === null ? '-' : t.seconds.toFixed(1), paramsText(t.params, showValue)]);
        }
        const counts = countStates(s.trials);
        process.stdout.write(`study ${s.name} (${s.where}): ${s.trials.length} trials${counts ? ` (${counts})` : ''}\n` + table(rows, false) + '\n' + (s.trials.some((t) => t.value === null && t.reports.size) ? `(in parentheses: the ${s.metric} of the last epoch a trial reached)\n` : ''));
      }),
  );
  return cmd;
}

async function runTune(opts: TuneOptions): Promise<void> {
  const { loadTuneFile } = require('../../tune/file') as typeof import('../../tune/file');
  const folder = require('../../tune/folder') as typeof import('../../tune/folder');
  const { Study } = require('../../tune/study') as typeof import('../../tune/study');
  const { showValue } = require('../../tune/space') as typeof import('../../tune/space');
  const over = { trials: opts.trials, timeout: opts.timeout, workers: opts.workers, storage: opts.storage };
  let dir: string;
  let spec: import('../../tune/file').TuneSpec;
  if (opts.resume) {
    const s = folder.readStudyFile(opts.resume);
    spec = loadTuneFile(path.relative(process.cwd(), s.file) || s.file, { ...over, storage: folder.storageOf(s, opts.storage) ?? undefined });
    if (spec.name !== s.name) throw new UserError(`${s.file}: names study ${spec.name} now, but ${opts.resume} holds study ${s.name}`);
    dir = opts.resume;
  } else {
    spec = loadTuneFile(opts.config!, over);
    dir = opts.out ?? folder.defaultStudyDir(spec.name);
  }
  folder.prepareStudyDir(dir, spec.name, spec.file, spec.storage);

  const mode = opts.quiet ? 'quiet' : opts.json ? 'json' : process.stderr.isTTY && !process.env.CI ? 'live' : 'lines';
  const live = mode === 'live' ? new LiveBlock(process.stderr, process.stdout) : null;
  const say = (text: string) => mode !== 'quiet' && mode !== 'json' && (live ? live.log(text) : process.stdout.write(text + '\n'));
  const metric = spec.metric;
  const running = new Map<number, string>();
  let best: { number: number; value: number } | null = null;
  let finished = 0;
  const better = (v: number) => !best || (metric === 'val_accuracy' ? v > best.value : v < best.value);
  const redraw = () => live?.set([...[...running.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l), best ? `best so far: trial ${best.number}  ${metric} ${best.value.toFixed(4)}   (${finished} finished)` : `${finished} finished`]);

  say(`tuning ${spec.file} (${spec.method}, ${spec.trials ?? 'no limit of'} trials${spec.timeoutSeconds ? `, timeout ${spec.timeoutSeconds}s` : ''}, ${spec.workers} at once, pruner ${spec.pruner.type}) -> ${dir}`);
  const study = new Study(spec, dir, {
    trialStarted: ({ number, params, attempt, resumed }) => {
      running.set(number, `trial ${number}  starting${attempt > 1 ? ` (attempt ${attempt}${resumed ? ', from its checkpoint' : ''})` : ''}  ${paramsText(params, showValue)}`);
      redraw();
    },
    trialEpoch: ({ number, record, value, pruned }) => {
      running.set(number, `trial ${number}  epoch ${record.epoch}  ${metric} ${value.toFixed(4)}${pruned ? '  pruned' : ''}`);
      redraw();
    },
    trialEnded: (t, note) => {
      running.delete(t.number);
      if (t.state === 'complete' || t.state === 'pruned' || t.state === 'failed') finished++;
      if (t.state === 'complete' && t.value !== null && better(t.value)) best = { number: t.number, value: t.value };
      if (mode === 'json') {
        if (!note) process.stdout.write(JSON.stringify({ type: 'trial', number: t.number, state: t.state, [metric]: t.value, testAccuracy: t.testAccuracy, bestEpoch: t.bestEpoch, epochs: t.epochs, seconds: t.seconds, params: t.params, reason: t.reason }) + '\n');
      } else {
        say(trialLine(t, metric, note, showValue));
      }
      redraw();
    },
    notice: (m) => (mode === 'json' ? process.stderr.write(m + '\n') : say(m)),
  });
  const unwatch = watchStopRequests(
    (cause) => {
      const line = `${cause}: stopping the trials under way at their next batch (again to stop them at once)`;
      if (mode !== 'quiet') void (live ? live.log(line) : process.stderr.write(line + '\n'));
      study.stop(cause);
    },
    () => study.kill(),
  );
  let result: import('../../tune/study').StudyResult;
  try {
    result = await study.run();
  } finally {
    unwatch();
    live?.close();
  }
  const { trials, stoppedBy } = result;
  const counts = countStates(trials);
  const resumeCmd = `nn tune --resume ${dir}`;
  if (mode === 'json') {
    const b = result.best;
    process.stdout.write(
      JSON.stringify({ type: 'study', study: spec.name, dir, trials: trials.length, states: Object.fromEntries(['complete', 'pruned', 'failed', 'interrupted', 'waiting', 'running'].map((s) => [s, trials.filter((t) => t.state === s).length])), seconds: result.seconds, best: b && { number: b.number, [metric]: b.value, testAccuracy: b.testAccuracy, params: b.params, config: path.join(dir, 'best.yaml') }, stopped: stoppedBy, timedOut: result.timedOut, resume: stoppedBy ? resumeCmd : null }) + '\n',
    );
  } else if (mode !== 'quiet') {
    const b = result.best;
    const lines = [`study ${spec.name}: ${trials.length} trials (${counts}) in ${fmtDuration(result.seconds)}${result.timedOut ? `; timeout: no new trial after ${fmtDuration(spec.timeoutSeconds!)}` : ''}`];
    if (b) {
      lines.push(`best: trial ${b.number}  ${metric} ${b.value!.toFixed(4)}  test accuracy ${b.testAccuracy === null ? '-' : (100 * b.testAccuracy).toFixed(2) + '%'}  (weights of epoch ${b.bestEpoch ?? b.epochs} of ${b.epochs})`);
      lines.push(`  ${paramsText(b.params, showValue)}`);
    } else {
      lines.push('best: none yet (no trial has completed)');
    }
    lines.push(`wrote ${result.files.join(', ')}${result.files.some((f) => f.endsWith('.svg')) ? ' (and PNGs)' : ''}`);
    if (b) lines.push(`train it again: nn train --config ${path.join(dir, 'best.yaml')}`);
    if (stoppedBy) lines.push(`stopped by ${stoppedBy}: go on with: ${resumeCmd}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (stoppedBy) {
    process.exitCode = exitCodeOf(stoppedBy);
    return;
  }
  const failed = trials.filter((t) => t.state === 'failed');
  if (trials.length && failed.length === trials.length) throw new UserError(`every trial failed; the first: trial ${failed[0].number}: ${failed[0].reason}`, 1);
}

type Show = (v: unknown) => string;

/** The params of a trial, short: the last part of each path = value. */
function paramsText(params: Record<string, unknown>, show: Show): string {
  return Object.entries(params)
    .map(([p, v]) => `${p}=${show(v)}`)
    .join('  ');
}

function trialLine(t: import('../../tune/storage/store').TrialRecord, metric: string, note: string | null, show: Show): string {
  const head = `trial ${String(t.number).padEnd(3)} `;
  const time = t.seconds === null ? '' : `  ${t.seconds.toFixed(1)}s`;
  if (note) return paint(`${head}${note}`, 33, process.stdout);
  switch (t.state) {
    case 'complete':
      return `${head}complete  ${metric} ${t.value!.toFixed(4)}  test ${t.testAccuracy === null ? '-' : t.testAccuracy.toFixed(4)}  epoch ${t.bestEpoch ?? t.epochs}/${t.epochs}${time}  ${paramsText(t.params, show)}`;
    case 'pruned':
      return `${head}pruned    after epoch ${t.epochs}${time}  ${paramsText(t.params, show)}`;
    case 'failed':
      return `${head}failed    ${t.reason}${time}`;
    default:
      return `${head}${t.state}${time}`;
  }
}

function lastEpoch(t: { reports: Map<number, number> }): number {
  return t.reports.size ? Math.max(...t.reports.keys()) : 0;
}

function countStates(trials: Array<{ state: string }>): string {
  const by = new Map<string, number>();
  for (const t of trials) by.set(t.state, (by.get(t.state) ?? 0) + 1);
  return [...by].map(([s, n]) => `${n} ${s}`).join(', ');
}

function fmtDuration(s: number): string {
  return s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`;
}
