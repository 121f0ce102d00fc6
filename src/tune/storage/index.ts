/**
 * Where a study lives: the embedded database in its folder (study.db) by
 * default, or the PostgreSQL server a storage URL names.
 */
import * as path from 'node:path';
import type { StudyDefinition } from '../file';
import { openPostgres } from './postgres';
import { openSqlite } from './sqlite';
import { StudyStore, type Worker } from './store';
import type { Db } from './db';

export const EMBEDDED_DB = 'study.db';

export async function openDb(storage: string | null, dir: string, mustExist = false): Promise<Db> {
  return storage ? openPostgres(storage) : openSqlite(path.join(dir, EMBEDDED_DB), mustExist);
}

/** Creates or joins the study `name` (see StudyStore.open). */
export async function openStore(storage: string | null, dir: string, name: string, definition: StudyDefinition | null, me: Worker) {
  const db = await openDb(storage, dir, definition === null);
  try {
    return await StudyStore.open(db, name, definition, me);
  } catch (e) {
    await db.close();
    throw e;
  }
}
