/**
 * Huge pages for the shared memory (src/kernels/hugepages.ts): asked for where Linux
 * lets a program ask, never required, and never a change to what is computed.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { adviseHugePages, HUGE_PAGE_BYTES } from '../../src/kernels/hugepages';
import { builtFile } from '../../src/kernels/wasm-module';
import { allocU8, hugePages, memory } from '../../src/kernels/memory';
import { tempDir } from '../helpers/tmp';

const REPO = path.resolve(__dirname, '../..');
const THP_FILE = '/sys/kernel/mm/transparent_hugepage/enabled';
// Linux with transparent huge pages that a program may ask for ("[always]" or "[madvise]").
const thpAskable = process.platform === 'linux' && fs.existsSync(THP_FILE) && !fs.readFileSync(THP_FILE, 'utf8').includes('[never]');

/** The VmFlags of the mapping of this process that holds `address` (from /proc/self/smaps). */
function vmFlagsAt(address: number): string[] {
  let inside = false;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = parseInt(range[1], 16) <= address && address < parseInt(range[2], 16);
    else if (inside && line.startsWith('VmFlags:')) return line.slice('VmFlags:'.length).trim().split(/\s+/);
  }
  throw new Error(`no mapping holds ${address.toString(16)}`);
}

describe('huge pages for the shared memory', () => {
  it.runIf(thpAskable)('are asked for over the whole reserved range when the addon is built, and the kernel records the request', () => {
    expect(builtFile('hugepages.node'), 'npm ci builds dist/kernels/hugepages.node').not.toBeNull();
    expect(hugePages).toMatchObject({ applied: true });
    const { start, length } = hugePages as { start: number; length: number };
    expect(start % HUGE_PAGE_BYTES).toBe(0);
    // the memory's 4 GiB reservation, less the part before its first 2 MiB boundary
    expect(length).toBeGreaterThan(4 * 1024 ** 3 - HUGE_PAGE_BYTES - 1);
    const base = start - (start % HUGE_PAGE_BYTES); // any address inside: the first advised page
    expect(vmFlagsAt(base)).toContain('hg'); // VM_HUGEPAGE: madvise(MADV_HUGEPAGE) took effect
  });

  it('grows the memory 2 MiB at a time, so that its end is a huge page boundary', () => {
    allocU8(3 * HUGE_PAGE_BYTES + 12345);
    expect(memory.buffer.byteLength % HUGE_PAGE_BYTES).toBe(0);
  });

  it('is skipped, with the reason, when the addon is missing or NN_HUGE_PAGES=0', () => {
    const before = process.env.NN_HUGE_PAGES;
    delete process.env.NN_HUGE_PAGES;
    const m = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
    const missing = adviseHugePages(m, 1024 * 65536, null);
    expect(missing.applied).toBe(false);
    expect(missing.reason).toMatch(process.platform === 'linux' ? /hugepages\.node was not built/ : /not Linux/);
    const broken = path.join(tempDir('nn-hp-'), 'hugepages.node');
    fs.writeFileSync(broken, 'not a shared object');
    if (process.platform === 'linux') expect(adviseHugePages(m, 1024 * 65536, broken).reason).toContain(broken);
    process.env.NN_HUGE_PAGES = '0';
    try {
      if (process.platform === 'linux') expect(adviseHugePages(m, 1024 * 65536).reason).toBe('NN_HUGE_PAGES=0');
    } finally {
      if (before === undefined) delete process.env.NN_HUGE_PAGES;
      else process.env.NN_HUGE_PAGES = before;
    }
  });

  it('changes no result: a run with them and one without write the same model, byte for byte', () => {
    const dir = tempDir('nn-hp-run-');
    const config = path.join(dir, 'tiny.yaml');
    fs.writeFileSync(config, 'model:\n  layers:\n    - { type: dense, units: 32, activation: relu }\n    - { type: dense, units: 10, activation: softmax }\ndata:\n  subset: 0.05\ntraining:\n  epochs: 2\n');
    const models = ['1', '0'].map((flag) => {
      const out = path.join(dir, `run-${flag}`);
      const r = spawnSync(process.execPath, [path.join(REPO, 'bin/nn'), 'train', '--config', config, '--out', out, '--threads', '1', '--no-charts'], {
        encoding: 'utf8',
        env: { ...process.env, NN_HUGE_PAGES: flag, NO_COLOR: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(out, 'model.safetensors'));
    });
    expect(models[0].length).toBeGreaterThan(100_000); // 784-32-10: 25,450 weights and biases
    expect(models[0].equals(models[1])).toBe(true);
  }, 30_000);
});
