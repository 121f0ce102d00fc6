/**
 * A PostgreSQL server (the pg driver), which is how a study grows past one
 * machine: every machine's nn tune connects to the same database and claims
 * trials in transactions. One connection per process; the study serializes
 * its own transactions on it.
 */
import type * as PG from 'pg';
import { UserError } from '../../util/errors';
import { redactUrl, type Db, type Row } from './db';

export async function openPostgres(url: string): Promise<Db> {
  const pg = require('pg') as typeof PG;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'nn tune' });
  const where = redactUrl(url);
  let lost: Error | null = null;
  client.on('error', (e) => (lost = e)); // a dropped connection: the next query says so
  try {
    await client.connect();
  } catch (e) {
    throw new UserError(`${where}: cannot connect to the study's database (${(e as Error).message}); expected a running PostgreSQL server at --storage / storage`);
  }
  const run = async (sql: string, params: unknown[] = []): Promise<Row[]> => {
    if (lost) throw new UserError(`${where}: lost the connection to the study's database (${(lost as Error).message})`, 1);
    return (await client.query(translate(sql), params)).rows as Row[];
  };
  return {
    kind: 'postgres',
    where,
    query: run,
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      await run('BEGIN');
      try {
        const out = await fn();
        await run('COMMIT');
        return out;
      } catch (e) {
        if (!lost) await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    async close(): Promise<void> {
      await client.end().catch(() => {});
    },
  };
}

function translate(sql: string): string {
  return sql
    .replace(/\{now\}/g, '((extract(epoch from clock_timestamp()) * 1000)::double precision)')
    .replace(/\{lock\}/g, 'FOR UPDATE')
    .replace(/\{skip\}/g, 'FOR UPDATE SKIP LOCKED');
}
