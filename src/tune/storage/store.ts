/**
 * A study in a database (embedded SQLite or PostgreSQL: db.ts): its definition,
 * its trials and what each reported per epoch. There is no coordinator process
 * to lose: each nn tune process claims trials in a transaction, so no two
 * workers, on one machine or many, run the same trial; the budget counts every
 * trial the study holds, running ones included; a trial whose worker stops
 * sending heartbeats is handed to another, with the same params.
 */
import { UserError } from '../../util/errors';
import type { StudyDefinition } from '../file';
import type { Params } from '../space';
import type { TrialState, TrialView } from '../trial';
import { definitionDiff } from '../definition';
import type { Db, Row } from './db';

const FORMAT = 1; // the tables' layout; a study written by another layout is refused

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS nn_studies (
    name TEXT PRIMARY KEY,
    format INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS nn_trials (
    study TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    config TEXT NOT NULL,
    value DOUBLE PRECISION,
    test_accuracy DOUBLE PRECISION,
    best_epoch INTEGER,
    epochs INTEGER,
    seconds DOUBLE PRECISION,
    reason TEXT,
    attempts INTEGER NOT NULL,
    owner TEXT,
    host TEXT,
    pid INTEGER,
    trial_pid INTEGER,
    heartbeat_at DOUBLE PRECISION,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    PRIMARY KEY (study, number)
  )`,
  `CREATE TABLE IF NOT EXISTS nn_reports (
    study TEXT NOT NULL,
    number INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (study, number, epoch)
  )`,
];

/** Who runs a trial: this nn tune process, on this machine. */
export interface Worker {
  owner: string; // unique per process: host/pid/random
  host: string;
  pid: number;
}

/** A trial as the study records it. */
export interface TrialRecord extends TrialView {
  config: unknown; // the complete resolved config it trains on
  testAccuracy: number | null;
  bestEpoch: number | null;
  epochs: number | null;
  seconds: number | null;
  reason: string | null; // why it failed, died or was pruned
  attempts: number; // times it started
  host: string | null;
  startedAt: number | null; // ms since 1970, the database's clock
  finishedAt: number | null;
}

/** What a worker may do next. */
export type Claim =
  | { kind: 'run'; number: number; params: Params; config: unknown; attempt: number }
  | { kind: 'failed'; number: number; params: Params; reason: string } // its config cannot run: recorded as failed, no process
  | { kind: 'wait' } // nothing to claim now, but trials run elsewhere (and may die)
  | { kind: 'done' }; // the budget is used and no trial is running or waiting

/** A new trial's params and config, or why it cannot run; null when there is nothing left to try. */
export type Proposal = { params: Params; config: unknown; error?: string } | null;

/** What a finished trial leaves. */
export interface Outcome {
  state: 'complete' | 'pruned' | 'failed';
  value?: number | null;
  testAccuracy?: number | null;
  bestEpoch?: number | null;
  epochs?: number | null;
  seconds?: number | null;
  reason?: string | null;
}

export class StudyStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly db: Db, readonly study: string, readonly me: Worker) {}

  /**
   * Opens the study `name`: creates it with `definition`, or joins it when it exists
   * with the same definition (a different one is refused, naming what differs).
   * Without a definition (status), the study must exist.
   */
  static async open(db: Db, name: string, definition: StudyDefinition | null, me: Worker): Promise<{ store: StudyStore; definition: StudyDefinition; created: boolean }> {
    const store = new StudyStore(db, name, me);
    const r = await store.serial(() =>
      db.transaction(async () => {
        if (definition) {
          if (db.kind === 'postgres') await db.query('SELECT pg_advisory_xact_lock(74260917)'); // two machines creating the tables at once
          for (const sql of SCHEMA) await db.query(sql);
        }
        const rows = definition || (await tablesExist(db)) ? await db.query('SELECT format, definition FROM nn_studies WHERE name = $1', [name]) : [];
        if (!rows.length) {
          if (!definition) throw new UserError(`${db.where}: no study named ${name} in this database`);
          await db.query('INSERT INTO nn_studies (name, format, definition, created_at) VALUES ($1, $2, $3, {now})', [name, FORMAT, JSON.stringify(definition)]);
          return { definition, created: true };
        }
        if (Number(rows[0].format) !== FORMAT) throw new UserError(`${db.where}: study ${name} was written by another version of nn (format ${rows[0].format}, expected ${FORMAT})`);
        const stored = JSON.parse(String(rows[0].definition)) as StudyDefinition;
        if (definition) {
          const diff = definitionDiff(stored, definition);
          if (diff) throw new UserError(`${db.where}: study ${name} was started with another search: ${diff}; give the study another name (name: in the tune file) or put the tune file back as it was`);
        }
        return { definition: stored, created: false };
      }),
    );
    return { store, ...r };
  }

  /** One operation at a time on the connection: a transaction must not interleave with another. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Claims a trial for this worker: one that waits to run again (died, interrupted) first;
   * else, within the budget, a new one that `propose` draws given every trial so far.
   */
  claim(budget: number | null, propose: (n: number, trials: TrialRecord[]) => Proposal): Promise<Claim> {
    const { db, study, me } = this;
    return this.serial(() =>
      db.transaction(async () => {
        const waiting = await db.query(`SELECT number, params, config, attempts FROM nn_trials WHERE study = $1 AND state IN ('waiting', 'interrupted') ORDER BY number LIMIT 1 {skip}`, [study]);
        if (waiting.length) {
          const w = waiting[0];
          await db.query(`UPDATE nn_trials SET state = 'running', owner = $3, host = $4, pid = $5, trial_pid = NULL, heartbeat_at = {now}, started_at = {now}, attempts = attempts + 1, reason = NULL WHERE study = $1 AND number = $2`, [study, w.number, me.owner, me.host, me.pid]);
          return { kind: 'run', number: Number(w.number), params: JSON.parse(String(w.params)), config: JSON.parse(String(w.config)), attempt: Number(w.attempts) + 1 };
        }
        await db.query('SELECT name FROM nn_studies WHERE name = $1 {lock}', [study]); // one new trial at a time, across machines
        const [{ n, open }] = await db.query(`SELECT CAST(COUNT(*) AS INTEGER) AS n, CAST(COALESCE(SUM(CASE WHEN state IN ('running', 'waiting', 'interrupted') THEN 1 ELSE 0 END), 0) AS INTEGER) AS open FROM nn_trials WHERE study = $1`, [study]);
        const count = Number(n);
        const idle = (): Claim => (Number(open) > 0 ? { kind: 'wait' } : { kind: 'done' });
        if (budget !== null && count >= budget) return idle();
        const proposal = propose(count, await this.loadTrials());
        if (!proposal) return idle();
        const failed = proposal.error !== undefined;
        await db.query(
          `INSERT INTO nn_trials (study, number, state, params, config, attempts, owner, host, pid, heartbeat_at, started_at, reason, finished_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {now}, {now}, $10, ${failed ? '{now}' : 'NULL'})`,
          [study, count, failed ? 'failed' : 'running', JSON.stringify(proposal.params), JSON.stringify(proposal.config), failed ? 0 : 1, failed ? null : me.owner, me.host, me.pid, proposal.error ?? null],
        );
        if (failed) return { kind: 'failed', number: count, params: proposal.params, reason: proposal.error! };
        return { kind: 'run', number: count, params: proposal.params, config: proposal.config, attempt: 1 };
      }),
    );
  }

  /** Records the process that runs trial n (so a restart on this machine can tell whether it still runs). */
  started(n: number, trialPid: number): Promise<void> {
    return this.serial(async () => void (await this.db.query('UPDATE nn_trials SET trial_pid = $3 WHERE study = $1 AND number = $2 AND owner = $4', [this.study, n, trialPid, this.me.owner])));
  }

  /** Every running trial of this worker is alive. */
  heartbeat(): Promise<void> {
    return this.serial(async () => void (await this.db.query(`UPDATE nn_trials SET heartbeat_at = {now} WHERE study = $1 AND owner = $2 AND state = 'running'`, [this.study, this.me.owner])));
  }

  report(n: number, epoch: number, value: number): Promise<void> {
    return this.serial(async () => {
      await this.db.query('INSERT INTO nn_reports (study, number, epoch, value) VALUES ($1, $2, $3, $4) ON CONFLICT (study, number, epoch) DO UPDATE SET value = excluded.value', [this.study, n, epoch, value]);
    });
  }

  /** Every trial's report at `epoch` (NaN where the metric was not finite). */
  reportsAt(epoch: number): Promise<Array<{ number: number; value: number }>> {
    return this.serial(async () => (await this.db.query('SELECT number, value FROM nn_reports WHERE study = $1 AND epoch = $2', [this.study, epoch])).map((r) => ({ number: Number(r.number), value: num(r.value) ?? NaN })));
  }

  /** Records how trial n ended (only while this worker still owns it: a trial handed to another is theirs). */
  finish(n: number, o: Outcome): Promise<boolean> {
    return this.serial(async () => {
      const rows = await this.db.query(
        `UPDATE nn_trials SET state = $3, value = $4, test_accuracy = $5, best_epoch = $6, epochs = $7, seconds = $8, reason = $9, finished_at = {now}, owner = NULL
         WHERE study = $1 AND number = $2 AND owner = $10 RETURNING number`,
        [this.study, n, o.state, o.value ?? null, o.testAccuracy ?? null, o.bestEpoch ?? null, o.epochs ?? null, o.seconds ?? null, o.reason ?? null, this.me.owner],
      );
      return rows.length > 0;
    });
  }

  /**
   * Gives trial n back: `interrupted` (stopped by the user: runs again on resume) or
   * `died` (its process or machine went away: runs again, up to `retries` times, then fails).
   */
  release(n: number, how: 'interrupted' | 'died', reason: string, retries: number): Promise<TrialState | null> {
    return this.serial(async () => {
      const rows = await this.db.query(
        `UPDATE nn_trials SET state = CASE WHEN $3 = 'died' AND attempts > $4 THEN 'failed' WHEN $3 = 'died' THEN 'waiting' ELSE 'interrupted' END,
           reason = CASE WHEN $3 = 'died' AND attempts > $4 THEN $5 || ' (after ' || attempts || ' attempts)' ELSE $5 END,
           finished_at = CASE WHEN $3 = 'died' AND attempts > $4 THEN {now} ELSE NULL END, owner = NULL
         WHERE study = $1 AND number = $2 AND owner = $6 RETURNING state`,
        [this.study, n, how, retries, reason, this.me.owner],
      );
      return rows.length ? (String(rows[0].state) as TrialState) : null;
    });
  }

  /**
   * Hands back the running trials whose worker is gone: no heartbeat for `staleMs`, or, on
   * this machine, neither the worker's process nor the trial's alive. Returns their numbers.
   */
  recoverStale(staleMs: number, retries: number, alive: (pid: number) => boolean): Promise<number[]> {
    const { db, study, me } = this;
    return this.serial(() =>
      db.transaction(async () => {
        const rows = await db.query(`SELECT number, host, pid, trial_pid, owner, ({now} - heartbeat_at) AS age FROM nn_trials WHERE study = $1 AND state = 'running' AND owner <> $2 {skip}`, [study, me.owner]);
        const gone = rows.filter((r) => Number(r.age) > staleMs || (r.host === me.host && !alive(Number(r.pid)) && !(r.trial_pid !== null && alive(Number(r.trial_pid)))));
        for (const r of gone) {
          const why = Number(r.age) > staleMs ? `its worker ${r.owner} sent no heartbeat for ${Math.round(Number(r.age) / 1000)} s` : `its worker ${r.owner} is gone`;
          await db.query(
            `UPDATE nn_trials SET state = CASE WHEN attempts > $3 THEN 'failed' ELSE 'waiting' END,
               reason = CASE WHEN attempts > $3 THEN $4 || ' (after ' || attempts || ' attempts)' ELSE $4 END,
               finished_at = CASE WHEN attempts > $3 THEN {now} ELSE NULL END, owner = NULL
             WHERE study = $1 AND number = $2`,
            [study, r.number, retries, `died: ${why}`],
          );
        }
        return gone.map((r) => Number(r.number));
      }),
    );
  }

  /** Every trial, by number, with its reports. */
  trials(): Promise<TrialRecord[]> {
    return this.serial(() => this.loadTrials());
  }

  private async loadTrials(): Promise<TrialRecord[]> {
    const rows = await this.db.query('SELECT * FROM nn_trials WHERE study = $1 ORDER BY number', [this.study]);
    const reports = await this.db.query('SELECT number, epoch, value FROM nn_reports WHERE study = $1', [this.study]);
    const byTrial = new Map<number, Map<number, number>>();
    for (const r of reports) {
      const n = Number(r.number);
      if (!byTrial.has(n)) byTrial.set(n, new Map());
      byTrial.get(n)!.set(Number(r.epoch), num(r.value) ?? NaN);
    }
    return rows.map((r) => toRecord(r, byTrial.get(Number(r.number)) ?? new Map()));
  }

  close(): Promise<void> {
    return this.serial(() => this.db.close());
  }
}

async function tablesExist(db: Db): Promise<boolean> {
  const sql = db.kind === 'sqlite' ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'nn_studies'" : "SELECT to_regclass('nn_studies') IS NOT NULL AS name";
  const rows = await db.query(sql);
  return rows.length > 0 && Boolean(rows[0].name);
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function toRecord(r: Row, reports: Map<number, number>): TrialRecord {
  return {
    number: Number(r.number),
    state: String(r.state) as TrialState,
    params: JSON.parse(String(r.params)),
    config: JSON.parse(String(r.config)),
    value: num(r.value),
    reports,
    testAccuracy: num(r.test_accuracy),
    bestEpoch: num(r.best_epoch),
    epochs: num(r.epochs),
    seconds: num(r.seconds),
    reason: r.reason === null || r.reason === undefined ? null : String(r.reason),
    attempts: Number(r.attempts),
    host: r.host === null || r.host === undefined ? null : String(r.host),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
  };
}
