/**
 * The PostgreSQL server of the tests: NN_TEST_PG_URL names one that .ci/run starts
 * (see .ci/postgres). Without it the PostgreSQL tests are skipped with a message,
 * unless NN_REQUIRE_PG is set (as in CI), where a missing server fails them.
 */
import { randomBytes } from 'node:crypto';
import type * as PG from 'pg';

export const PG_URL = process.env.NN_TEST_PG_URL ?? '';
export const PG_REQUIRED = Boolean(process.env.NN_REQUIRE_PG);

/** Why the PostgreSQL tests cannot run here, or '' when they can. */
export function pgSkipReason(): string {
  if (PG_URL) return '';
  if (PG_REQUIRED) throw new Error('NN_REQUIRE_PG is set but NN_TEST_PG_URL is not: start a server with `eval "$(.ci/postgres start)"`');
  return 'NN_TEST_PG_URL is not set: the PostgreSQL tests are skipped (.ci/run starts a server for them)';
}

/** A fresh database on the test server, and a function that drops it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const pg = require('pg') as typeof PG;
  const name = `nn_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
