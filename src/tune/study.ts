/**
 * Running a study: up to `workers` trials at once on this machine, each a
 * child process (runner.ts), claimed from the study's database (storage/)
 * with params the sampler proposes; each epoch's metric is recorded and put to
 * the pruner; a trial that dies runs again; heartbeats tell other machines this
 * one is alive. Stops when the budget is used, at the timeout (no new trial
 * starts after it), or when asked (Ctrl-C): then the trials under way stop at
 * their next batch and are recorded as interrupted, so the next run of the
 * same command goes on with them. Never prints: it tells a listener.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CHECKPOINT_FILE } from '../io/checkpoint';
import { UserError } from '../util/errors';
import type { StopCause } from '../util/signals';
import { checkTrialConfig, trialConfig, type TuneSpec } from './file';
import { makePruner } from './pruners';
import { startTrial, type EpochRecord, type TrialProcess } from './runner';
import { makeSampler } from './samplers';
import { walkSpace, type Params } from './space';
import { openStore } from './storage';
import type { StudyStore, TrialRecord } from './storage/store';
import { bestOf, directionOf } from './trial';
import { writeStudyFiles } from './outputs';
import { definitionOf } from './definition';

export interface StudyEvents {
  trialStarted?(t: { number: number; params: Params; attempt: number; resumed: boolean }): void;
  trialEpoch?(t: { number: number; record: EpochRecord; value: number; pruned: string | null }): void;
  trialEnded?(t: TrialRecord, note: string | null): void; // note: died and runs again, interrupted...
  /** Something a user should know (a trial died and runs again, waiting for another machine). */
  notice?(message: string): void;
}

export interface StudyResult {
  trials: TrialRecord[];
  best: TrialRecord | null;
  stoppedBy: StopCause | null;
  timedOut: boolean;
  files: string[];
  seconds: number;
}

const POLL_MS = 1000; // how often an idle worker looks again for trials to take over

export class Study {
  private stopping: StopCause | null = null;
  private readonly running = new Map<number, TrialProcess>();
  private wake: (() => void) | null = null;
  private store: StudyStore | null = null;

  constructor(readonly spec: TuneSpec, readonly dir: string, readonly events: StudyEvents = {}) {}

  /** Ends the study soon: the trials under way stop at their next batch and are recorded as interrupted. */
  stop(cause: StopCause): void {
    if (this.stopping) return;
    this.stopping = cause;
    for (const t of this.running.values()) t.stop('interrupted');
    this.wake?.();
  }

  /** Ends the trials now (a second Ctrl-C). run() still records them as interrupted. */
  kill(): void {
    for (const t of this.running.values()) t.kill();
  }

  async run(): Promise<StudyResult> {
    const { spec } = this;
    const started = performance.now();
    const direction = directionOf(spec.metric);
    const me = { owner: `${os.hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`, host: os.hostname(), pid: process.pid };
    const { store } = await openStore(spec.storage, this.dir, spec.name, definitionOf(spec), me);
    this.store = store;
    const sampler = makeSampler(spec, direction);
    const pruner = makePruner(spec.pruner, direction);
    const deadline = spec.timeoutSeconds === null ? Infinity : Date.now() + spec.timeoutSeconds * 1000;
    const staleMs = spec.staleAfterSeconds * 1000;
    const beat = Math.max(250, staleMs / 4);
    const heartbeat = setInterval(() => void store.heartbeat().catch(() => {}), beat);
    let lastRecovery = -Infinity;
    let exhausted = false;
    let timedOut = false;
    const tasks = new Set<Promise<void>>();
    let failure: unknown = null; // what stopped a trial's bookkeeping (the database gone, say)

    const propose = (n: number, trials: TrialRecord[]) => {
      const params = sampler.propose(n, trials);
      if (!params) return null;
      const { config: walked } = walkSpace(spec.base, spec.space, (p) => params[p.path]);
      const raw = trialConfig(spec, walked, n);
      try {
        return { params, config: checkTrialConfig(raw, `trial ${n}`) };
      } catch (e) {
        if (e instanceof UserError) return { params, config: raw, error: e.message };
        throw e;
      }
    };

    const launch = (n: number, params: Params, config: unknown, attempt: number) => {
      const trialDir = path.join(this.dir, 'trials', String(n));
      let prunedWhy: string | null = null;
      let lastEpoch = 0;
      let reporting = Promise.resolve();
      const t0 = performance.now();
      const proc = startTrial(trialDir, config, spec.metric, (record, value) => {
        lastEpoch = record.epoch;
        // reports go in order; the pruner judges each against every trial's report at that epoch
        reporting = reporting.then(async () => {
          await store.report(n, record.epoch, value);
          const why = prunedWhy ? null : pruner.decide(n, record.epoch, value, await store.reportsAt(record.epoch));
          if (why && !this.stopping) {
            prunedWhy = why;
            proc.stop('pruned');
          }
          this.events.trialEpoch?.({ number: n, record, value, pruned: why });
        });
      });
      this.running.set(n, proc);
      void store.started(n, proc.pid).catch(() => {});
      this.events.trialStarted?.({ number: n, params, attempt, resumed: proc.resumed });
      const task = (async () => {
        const exit = await proc.done;
        await reporting.catch(() => {});
        this.running.delete(n);
        const seconds = (performance.now() - t0) / 1000;
        let note: string | null = null;
        let finished = true;
        if (exit.kind === 'complete') {
          await store.finish(n, { state: 'complete', value: exit.value, testAccuracy: exit.testAccuracy, bestEpoch: exit.bestEpoch, epochs: exit.epochs, seconds });
        } else if (exit.kind === 'stopped' && exit.why === 'pruned') {
          await store.finish(n, { state: 'pruned', epochs: lastEpoch, seconds, reason: prunedWhy });
        } else if (exit.kind === 'failed') {
          await store.finish(n, { state: 'failed', epochs: lastEpoch, seconds, reason: exit.reason });
        } else if (exit.kind === 'stopped') {
          await store.release(n, 'interrupted', `interrupted by ${this.stopping ?? 'a stop request'}`, spec.retries);
          note = 'interrupted: runs again when the study goes on';
          finished = false;
        } else {
          const state = await store.release(n, 'died', `died: ${exit.reason}`, spec.retries);
          finished = state === 'failed';
          note = finished ? `died (${exit.reason}) too often: failed` : `died (${exit.reason}): runs again`;
        }
        // a finished trial's checkpoint would only take room; one that runs again goes on from it
        if (finished) removeCheckpoint(trialDir);
        const all = await store.trials();
        const rec = all.find((t) => t.number === n);
        if (rec) this.events.trialEnded?.(rec, note);
        if (finished) await writeStudyFiles(this.dir, spec, all, false);
      })();
      tasks.add(task);
      task.then(
        () => {},
        (e: unknown) => (failure ??= e), // the database went away, say: the loop stops the study and reports it
      ).finally(() => {
        tasks.delete(task);
        this.wake?.();
      });
    };

    try {
      for (;;) {
        if (failure) throw failure;
        let waitingElsewhere = false;
        if (!this.stopping && Date.now() >= deadline) timedOut = true;
        if (!this.stopping && !timedOut && !exhausted) {
          if (performance.now() - lastRecovery >= beat) {
            lastRecovery = performance.now();
            const back = await store.recoverStale(staleMs, spec.retries, alive);
            if (back.length) this.events.notice?.(`trial${back.length > 1 ? 's' : ''} ${back.join(', ')}: ${back.length > 1 ? 'their' : 'its'} worker is gone; ${back.length > 1 ? 'they run' : 'it runs'} again`);
          }
          while (this.running.size < spec.workers && !this.stopping) {
            const c = await store.claim(spec.trials, propose);
            if (c.kind === 'run') launch(c.number, c.params, c.config, c.attempt);
            else if (c.kind === 'failed') {
              const rec = (await store.trials()).find((t) => t.number === c.number);
              if (rec) this.events.trialEnded?.(rec, null);
            } else {
              if (c.kind === 'done') exhausted = true;
              else waitingElsewhere = this.running.size === 0;
              break;
            }
          }
        }
        if (this.running.size === 0 && tasks.size === 0 && (this.stopping || timedOut || exhausted)) break;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // idle while another machine's trials run: look again soon (they may die and need a worker)
          if (waitingElsewhere || this.running.size === 0) setTimeout(resolve, POLL_MS);
        });
        this.wake = null;
      }
      await Promise.all(tasks);
      if (failure) throw failure;
    } catch (e) {
      // the study cannot go on (its database is gone, say): stop the trials, and say why
      for (const t of this.running.values()) t.stop('interrupted');
      await Promise.allSettled([...tasks]);
      await store.close().catch(() => {});
      throw e;
    } finally {
      clearInterval(heartbeat);
    }
    const trials = await store.trials();
    const files = await writeStudyFiles(this.dir, spec, trials, true);
    await store.close();
    return { trials, best: bestOf(trials, direction), stoppedBy: this.stopping, timedOut, files, seconds: (performance.now() - started) / 1000 };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeCheckpoint(dir: string): void {
  fs.rmSync(path.join(dir, CHECKPOINT_FILE), { force: true });
}
