/**
 * nn serve's study page data from a study kept on a real PostgreSQL server (as
 * several machines share one): study.json names the server, and the trials come
 * from it. Runs where NN_TEST_PG_URL names a server (.ci/run starts one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Serving } from '../../src/serve/server';
import { freshDatabase, pgSkipReason } from '../helpers/postgres';
import { nn, request, workspace } from './fixture';

const skip = pgSkipReason();

describe.skipIf(Boolean(skip))(`nn serve, a study on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let db: { url: string; drop: () => Promise<void> };
  let server: Serving;
  beforeAll(async () => {
    db = await freshDatabase();
    const work = workspace('nn-serve-pg-');
    fs.writeFileSync(path.join(work, 'pg-study.yaml'), 'base: tiny.json\nmethod: random\ntrials: 2\nworkers: 1\nseed: 5\nspace:\n  model.layers.0.units: { type: int, low: 16, high: 48 }\n');
    const r = nn(work, ['tune', '--config', 'pg-study.yaml', '--storage', db.url, '--quiet'], 180_000);
    if (r.status !== 0) throw new Error(`nn tune failed: ${r.stderr}`);
    server = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/tiny'), port: 0 });
  }, 240_000);
  afterAll(async () => {
    await server?.close(); // closes its connection to the server first: the database can then be dropped
    await db?.drop();
  });

  it('lists the study and gives its trials from the server', async () => {
    const list = await request(server.port, 'GET', '/api/studies');
    expect(list.json.studies).toEqual([expect.objectContaining({ name: 'pg-study', trials: 2, states: { complete: 2 } })]);
    expect(list.json.studies[0].storage).toMatch(/^postgresql:\/\/.*127\.0\.0\.1/);
    const s = await request(server.port, 'GET', '/api/studies/pg-study');
    expect(s.json.rows.map((t: { number: number }) => t.number).sort()).toEqual([0, 1]);
    expect(s.json.rows.every((t: { value: number }) => t.value > 0.3)).toBe(true);
  });
});
