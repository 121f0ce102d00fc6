import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-atomic-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes strings and bytes that read back unchanged', () => {
    const text = path.join(dir, 'a.txt');
    writeFileAtomic(text, 'héllo\nworld');
    expect(fs.readFileSync(text, 'utf8')).toBe('héllo\nworld');

    const bin = path.join(dir, 'b.bin');
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
    writeFileAtomic(bin, bytes);
    expect(Buffer.compare(fs.readFileSync(bin), Buffer.from(bytes))).toBe(0);
  });

  it('writes only the viewed part of a Uint8Array', () => {
    const file = path.join(dir, 'view.bin');
    writeFileAtomic(file, Uint8Array.from([9, 1, 2, 3, 9]).subarray(1, 4));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
  });

  it('overwrites with the new content, longer or shorter, and leaves no temp files', () => {
    const file = path.join(dir, 'state.json');
    writeFileAtomic(file, 'x'.repeat(1000));
    writeFileAtomic(file, 'short');
    expect(fs.readFileSync(file, 'utf8')).toBe('short');
    writeFileAtomic(file, '');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    writeFileAtomic(file, 'final');
    expect(fs.readFileSync(file, 'utf8')).toBe('final');
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('throws and leaves nothing behind when the folder does not exist', () => {
    const file = path.join(dir, 'missing', 'out.bin');
    expect(() => writeFileAtomic(file, 'data')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('removes the temp file and keeps the target when the rename fails', () => {
    // A non-empty folder cannot be replaced by a file, so the rename fails after the write.
    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'old');
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['occupied']);
    expect(fs.readFileSync(path.join(target, 'keep'), 'utf8')).toBe('old');
  });

  it('skips a temp name that is already taken instead of clobbering it', () => {
    const file = path.join(dir, 'f');
    // Temp names are `<path>.tmp-<pid>-<counter>` and this file has made only a few writes,
    // so occupying counters 0..49 guarantees the next candidate name is taken.
    writeFileAtomic(file, 'first');
    const stale: string[] = [];
    for (let i = 0; i < 50; i++) {
      const p = `${file}.tmp-${process.pid}-${i}`;
      if (!fs.existsSync(p)) {
        fs.writeFileSync(p, 'someone else');
        stale.push(p);
      }
    }
    writeFileAtomic(file, 'second');
    expect(fs.readFileSync(file, 'utf8')).toBe('second');
    for (const p of stale) expect(fs.readFileSync(p, 'utf8')).toBe('someone else');
  });
});
