/**
 * Running nn as a user does, for end-to-end tests: dist/ built from the sources
 * (bin/nn runs it), then `node bin/nn ...` in a folder, with colours off.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const BIN = path.join(REPO, 'bin/nn');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** tsc -p . : the command line runs what the tests test. */
export function buildDist(): void {
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: REPO, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p . failed:\n${tsc.stdout}${tsc.stderr}`);
}

export function runNn(cwd: string, args: string[], timeout = 120_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes `config` as <name>.json in cwd and trains it into `out` (no charts, quietly); throws if training fails. */
export function trainIn(cwd: string, name: string, config: unknown, out: string): void {
  fs.writeFileSync(path.join(cwd, `${name}.json`), JSON.stringify(config));
  const t = runNn(cwd, ['train', '--config', `${name}.json`, '--out', out, '--no-charts', '--quiet']);
  if (t.status !== 0) throw new Error(`nn train ${name}: ${t.stderr}`);
}
