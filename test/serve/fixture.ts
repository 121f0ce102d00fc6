/**
 * What the serve tests share: a folder with a trained tiny model under runs/
 * (and, when asked, a small study under runs/tune/), made once per test file
 * through the real command line, and HTTP helpers that send exactly what is
 * given (raw Host and Origin headers included).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { buildDist, REPO, runNn, trainIn, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

export { BIN, REPO } from '../helpers/cli';
export const SAMPLES = path.join(REPO, 'data/samples');

export function nn(cwd: string, args: string[], timeout = 120_000): CliResult {
  return runNn(cwd, args, timeout);
}

/** Builds dist/ (the CLI runs from it), then a folder with runs/tiny trained on 5% of MNIST. */
export function workspace(prefix: string): string {
  buildDist();
  const work = tempDir(prefix);
  trainIn(work, 'tiny', tinyConfig(2), 'runs/tiny');
  return work;
}

export function tinyConfig(epochs: number): unknown {
  return { data: { subset: 0.05 }, model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs } };
}

/** A study of two random trials of the tiny network (runs/tune/tiny-study). */
export function makeStudy(work: string): void {
  fs.writeFileSync(
    path.join(work, 'study.yaml'),
    ['name: tiny-study', 'base: tiny.json', 'metric: val_accuracy', 'method: random', 'trials: 2', 'workers: 1', 'seed: 3', 'pruner: { type: none }', 'space:', '  model.layers.0.units: { type: int, low: 16, high: 48 }'].join('\n') + '\n',
  );
  const r = nn(work, ['tune', '--config', 'study.yaml', '--quiet'], 180_000);
  if (r.status !== 0) throw new Error(`nn tune failed: ${r.stderr}${r.stdout}`);
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request to the server on 127.0.0.1:port, headers exactly as given (Host defaults to 127.0.0.1:port). */
export function request(port: number, method: string, pathAndQuery: string, opts: { headers?: Record<string, string | number>; body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Host: `127.0.0.1:${port}`, ...opts.headers };
    if (opts.body !== undefined && headers['Content-Length'] === undefined && headers['Transfer-Encoding'] === undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = http.request({ host: '127.0.0.1', port, method, path: pathAndQuery, headers, agent: false, setHost: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON (a page)
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
