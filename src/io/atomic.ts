import * as fs from 'node:fs';
import * as nodePath from 'node:path';

/**
 * Crash-safe file replacement: the data goes to a temp file in the target's
 * folder (rename is only atomic within one filesystem), is fsynced, then
 * renamed over the target. A kill at any instant leaves either the old file
 * or the new one at `path`; at worst a stray temp file remains.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data; // parts: written one after the other
  const { fd, tmp } = createTempFile(path);
  let openFd: number | undefined = fd;
  try {
    for (const bytes of parts) writeAll(fd, bytes);
    // Without this, a crash after the rename can leave a renamed but empty file.
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    openFd = undefined;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (openFd !== undefined) closeQuietly(openFd);
    removeQuietly(tmp);
    throw err;
  }
  fsyncDirectory(nodePath.dirname(path));
}

let tempCounter = 0;
const MAX_TEMP_NAME_ATTEMPTS = 1000;

/**
 * 'wx' so we never write into a temp file someone else owns (worker threads
 * share process.pid but not this counter; a stale file may survive a crash).
 */
function createTempFile(path: string): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = `${path}.tmp-${process.pid}-${tempCounter++}`;
    try {
      return { fd: fs.openSync(tmp, 'wx'), tmp };
    } catch (err) {
      if (!hasCode(err, ['EEXIST']) || attempt >= MAX_TEMP_NAME_ATTEMPTS) throw err;
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  // writeSync may write less than asked (e.g. on some pipes or network filesystems).
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done);
  }
}

/**
 * Opening or fsyncing a directory is impossible on some platforms (Windows)
 * and filesystems; there the rename is as durable as the OS makes it.
 */
const DIR_FSYNC_UNSUPPORTED = ['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF', 'ENOSYS'];

/** Makes the rename itself durable: it lives in the directory entry, not the file. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!hasCode(err, DIR_FSYNC_UNSUPPORTED)) throw err;
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function hasCode(err: unknown, codes: readonly string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}

// The cleanup helpers must not mask the error that made cleanup necessary.
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already failing */
  }
}

function removeQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    /* already failing */
  }
}
