/**
 * The study's database, embedded (SQLite) and on a PostgreSQL server: a study is created
 * once and joined only with the same search; trials are claimed within the budget, never
 * twice; a trial that died or was interrupted comes back with its params; a trial whose
 * worker is gone is handed over; only the worker that owns a trial records its end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as os from 'node:os';
import type { StudyDefinition } from '../../src/tune/file';
import { openDb } from '../../src/tune/storage';
import { StudyStore, type Worker } from '../../src/tune/storage/store';
import { freshDatabase, pgSkipReason } from '../helpers/postgres';
import { tempDir } from '../helpers/tmp';

const definition = {
  base: { seed: 1, model: { layers: [{ type: 'dense', units: 10, activation: 'softmax' }] } },
  space: [{ path: 'model.layers.0.units', spec: { type: 'int', low: 1, high: 9, log: false, step: 1 }, when: [] }],
  metric: 'val_accuracy',
  method: 'random',
  seed: 3,
  startupTrials: 10,
  pruner: { type: 'none', minEpochs: 1, reductionFactor: 3, minTrials: 5 },
} as unknown as StudyDefinition;

const worker = (name: string, pid = process.pid, host = os.hostname()): Worker => ({ owner: `${host}/${pid}/${name}`, host, pid });
const propose = (n: number) => ({ params: { 'model.layers.0.units': n + 1 }, config: { n } });

function suite(kind: string, location: () => Promise<{ storage: string | null; dir: string }>) {
  let where: { storage: string | null; dir: string };
  const open = async (name: string, me: Worker, def: StudyDefinition | null = definition) => StudyStore.open(await openDb(where.storage, where.dir, def === null), name, def, me);
  beforeAll(async () => {
    where = await location();
  });

  it(`${kind}: creates a study once, joins it with the same search, refuses another naming the difference`, async () => {
    const a = await open('s1', worker('a'));
    expect(a.created).toBe(true);
    const b = await open('s1', worker('b'));
    expect(b.created).toBe(false);
    const other = { ...definition, space: [{ ...definition.space[0], spec: { type: 'int', low: 1, high: 20, log: false, step: 1 } }] } as StudyDefinition;
    await expect(open('s1', worker('c'), other)).rejects.toThrow(/study s1 was started with another search: the search space's model\.layers\.0\.units was .*"high":9.* now .*"high":20/);
    await expect(open('s1', worker('c'), { ...definition, seed: 4 })).rejects.toThrow(/seed was 3, now 4/);
    await expect(open('nothing', worker('c'), null)).rejects.toThrow(/no study named nothing/);
    await a.store.close();
    await b.store.close();
  });

  it(`${kind}: claims within the budget (running trials count), then waits, then is done`, async () => {
    const { store } = await open('s2', worker('a'));
    const claims = [await store.claim(3, propose), await store.claim(3, propose), await store.claim(3, propose)];
    expect(claims.map((c) => (c.kind === 'run' ? c.number : c.kind))).toEqual([0, 1, 2]);
    expect(await store.claim(3, propose)).toEqual({ kind: 'wait' });
    for (const n of [0, 1, 2]) expect(await store.finish(n, { state: 'complete', value: n / 10 })).toBe(true);
    expect(await store.claim(3, propose)).toEqual({ kind: 'done' });
    expect(await store.claim(4, propose)).toMatchObject({ kind: 'run', number: 3 }); // a larger budget goes on
    await store.close();
  });

  it(`${kind}: a trial that died runs again with its params, up to the retry limit, then fails; an interrupted one runs again`, async () => {
    const { store } = await open('s3', worker('a'));
    await store.claim(2, propose);
    expect(await store.release(0, 'died', 'died: killed by SIGKILL', 1)).toBe('waiting');
    const again = await store.claim(2, propose);
    expect(again).toEqual({ kind: 'run', number: 0, params: { 'model.layers.0.units': 1 }, config: { n: 0 }, attempt: 2 });
    expect(await store.release(0, 'died', 'died: killed by SIGKILL', 1)).toBe('failed');
    const t0 = (await store.trials())[0];
    expect(t0).toMatchObject({ state: 'failed', attempts: 2, reason: 'died: killed by SIGKILL (after 2 attempts)' });
    await store.claim(2, propose);
    expect(await store.release(1, 'interrupted', 'interrupted by SIGINT', 1)).toBe('interrupted');
    expect(await store.claim(2, propose)).toMatchObject({ kind: 'run', number: 1, attempt: 2 });
    await store.close();
  });

  it(`${kind}: a config that cannot run is recorded as failed at once, with its reason`, async () => {
    const { store } = await open('s4', worker('a'));
    const c = await store.claim(5, (n) => ({ params: { x: n }, config: {}, error: 'trial 0: model.layers[0].units: too big' }));
    expect(c).toEqual({ kind: 'failed', number: 0, params: { x: 0 }, reason: 'trial 0: model.layers[0].units: too big' });
    expect((await store.trials())[0]).toMatchObject({ state: 'failed', attempts: 0 });
    await store.close();
  });

  it(`${kind}: only the owner records a trial's end; a gone worker's trials are handed over`, async () => {
    const a = (await open('s5', worker('a'))).store;
    const b = (await open('s5', worker('b', 999999999))).store; // a pid no process has
    await b.claim(10, propose); // 0, b's
    await a.claim(10, propose); // 1, a's
    expect(await a.finish(0, { state: 'complete', value: 1 })).toBe(false); // not a's
    // b's process is gone (same host, dead pid): handed back at once
    expect(await a.recoverStale(3_600_000, 2, (pid) => pid === process.pid)).toEqual([0]);
    expect(await b.finish(0, { state: 'complete', value: 1 })).toBe(false); // b no longer owns it
    expect(await a.claim(10, propose)).toMatchObject({ kind: 'run', number: 0, attempt: 2 });
    // no heartbeat for longer than the grace period: handed back too, whatever the host says
    const c = (await open('s5', worker('c', process.pid, 'elsewhere'))).store;
    await c.claim(10, propose); // 2
    await new Promise((r) => setTimeout(r, 30));
    expect(await a.recoverStale(10, 2, () => true)).toEqual([2]);
    await c.heartbeat();
    for (const s of [a, b, c]) await s.close();
  });

  it(`${kind}: reports per epoch, overwritten when an epoch runs again`, async () => {
    const { store } = await open('s6', worker('a'));
    await store.claim(2, propose);
    await store.claim(2, propose);
    await store.report(0, 1, 0.5);
    await store.report(1, 1, 0.7);
    await store.report(0, 1, 0.55);
    await store.report(0, 2, NaN);
    expect((await store.reportsAt(1)).sort((p, q) => p.number - q.number)).toEqual([{ number: 0, value: 0.55 }, { number: 1, value: 0.7 }]);
    const t = await store.trials();
    expect([...t[0].reports]).toEqual([[1, 0.55], [2, NaN]]);
    await store.close();
  });
}

describe('embedded study database (SQLite)', () => {
  let dir: string;
  suite('sqlite', async () => {
    dir = tempDir('nn-store-');
    return { storage: null, dir };
  });
});

const skip = pgSkipReason();
describe.skipIf(Boolean(skip))(`PostgreSQL study database${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let db: { url: string; drop: () => Promise<void> };
  suite('postgres', async () => {
    db = await freshDatabase();
    return { storage: db.url, dir: os.tmpdir() };
  });
  afterAll(() => db.drop());

  it('postgres: three workers claiming at once, each on its own connection, never get the same trial and stop at the budget', async () => {
    const stores = await Promise.all(['a', 'b', 'c'].map(async (w) => (await StudyStore.open(await openDb(db.url, os.tmpdir()), 'race', definition, worker(w))).store));
    const got: number[][] = [[], [], []];
    await Promise.all(
      stores.map(async (s, i) => {
        for (;;) {
          const c = await s.claim(30, propose);
          if (c.kind !== 'run') break;
          got[i].push(c.number);
          await s.finish(c.number, { state: 'complete', value: Math.random() });
        }
      }),
    );
    const all = got.flat().sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(got.filter((g) => g.length > 0).length).toBeGreaterThan(1); // they really took turns
    for (const s of stores) await s.close();
  });
});
