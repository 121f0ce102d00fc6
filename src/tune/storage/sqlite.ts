/**
 * The embedded database: SQLite (better-sqlite3) in a file of the study folder.
 * Chosen over PGlite (PostgreSQL in WebAssembly) by measuring both here: it opens
 * in about 10 ms (PGlite: 0.9 s, 5 s the first time), keeps every committed row
 * through a kill -9 (PGlite lost the rows written since it opened), and lets a
 * second process (nn tune status, another nn tune) read and write the same file
 * safely (two PGlite processes on one folder silently diverged). WAL mode lets
 * readers go on while a trial is recorded; writers wait up to busy_timeout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { UserError } from '../../util/errors';
import type { Db, Row } from './db';

/** Opens (or creates, unless `mustExist`) the database file. */
export function openSqlite(file: string, mustExist = false): Db {
  const Sqlite = require('better-sqlite3') as typeof Database;
  if (mustExist && !fs.existsSync(file)) throw new UserError(`${file}: no study database here; expected the folder of a study started by nn tune`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Sqlite(file, { fileMustExist: mustExist });
    db.pragma('busy_timeout = 30000');
    db.pragma('journal_mode = WAL');
  } catch (e) {
    throw new UserError(`${file}: cannot open the study database (${(e as Error).message})`);
  }
  db.pragma('synchronous = FULL'); // a trial recorded is on disk before the next step
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(translate(sql))));
    return s;
  };
  return {
    kind: 'sqlite',
    where: file,
    async query(sql: string, params: unknown[] = []): Promise<Row[]> {
      const s = prepare(sql);
      const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, typeof v === 'boolean' ? Number(v) : v]));
      const args = params.length ? [named] : [];
      if (s.reader) return s.all(...args) as Row[];
      s.run(...args);
      return [];
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      db.exec('BEGIN IMMEDIATE'); // takes the write lock now, so the reads inside see what the writes will change
      try {
        const out = await fn();
        db.exec('COMMIT');
        return out;
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    },
    async close(): Promise<void> {
      db.close();
    },
  };
}

/** PostgreSQL's words (db.ts) in SQLite's: the write lock BEGIN IMMEDIATE takes covers the row locks. */
function translate(sql: string): string {
  return sql
    .replace(/\$(\d+)/g, '@p$1')
    .replace(/\{now\}/g, "(unixepoch('subsec') * 1000.0)")
    .replace(/\{lock\}|\{skip\}/g, '');
}
