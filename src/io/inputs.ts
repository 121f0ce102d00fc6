/**
 * What `nn predict` was asked to classify, as a list of image files: a file
 * named on the command line is taken as it is (its bytes decide whether it is
 * an image); a folder stands for every PNG or JPEG under it, subfolders
 * included; a pattern with * ? or [...] ('digits/*.png', 'scans/**\/*.jpg',
 * quoted so that we expand it rather than the shell) stands for what it
 * matches. Folders and patterns take image files by their extension, in
 * sorted order (byte order of the names, folder by folder), so a run's output
 * order never depends on the file system.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageInput {
  /** As printed: the argument itself, or the folder/pattern's base joined with the rest. */
  path: string;
  /** Where --save-input puts its 28x28 picture, relative to that folder: the name, or the path below a folder argument. */
  saveAs: string;
}

const isImageName = (name: string) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const GLOB = /[*?[]/;

/** Every image the arguments name, in order; a missing path, an empty folder or a pattern matching nothing is an error. */
export function listImages(args: string[]): ImageInput[] {
  const out: ImageInput[] = [];
  for (const arg of args) {
    const stat = statOrNull(arg);
    if (stat?.isDirectory()) {
      const found = walk(arg, new Set());
      if (!found.length) throw new UserError(`${arg}: no PNG or JPEG files in this folder or below it (expected ${IMAGE_EXTENSIONS.join(', ')} files)`);
      for (const p of found) out.push({ path: p, saveAs: saveName(path.relative(arg, p)) });
    } else if (stat) {
      out.push({ path: arg, saveAs: saveName(path.basename(arg)) });
    } else if (GLOB.test(arg)) {
      const found = expand(arg);
      if (!found.length) throw new UserError(`${arg}: no PNG or JPEG files match this pattern`);
      for (const p of found) out.push({ path: p, saveAs: saveName(path.basename(p)) });
    } else {
      throw new UserError(fsMessage(arg));
    }
  }
  return out;
}

/** digit-4.png -> digit-4.28x28.png, keeping the folders of a path below a folder argument. */
function saveName(rel: string): string {
  const p = path.parse(rel);
  return path.join(p.dir, `${p.name}.28x28.png`);
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserError(fsMessage(p, e));
  }
}

function fsMessage(p: string, e?: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return `${p}: permission denied`;
  if (code) return `${p}: cannot read (${code})`;
  return `${p}: file or folder not found`;
}

/** Image files under dir, sorted folder by folder; a folder reached twice (a link loop) is walked once. */
function walk(dir: string, seen: Set<string>): string[] {
  let real: string;
  let names: string[];
  try {
    real = fs.realpathSync(dir);
    names = fs.readdirSync(dir).sort(byName);
  } catch (e) {
    throw new UserError(fsMessage(dir, e));
  }
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  for (const name of names) {
    const p = path.join(dir, name);
    const stat = statOrNull(p); // follows links; a dangling one is skipped
    if (stat?.isDirectory()) out.push(...walk(p, seen));
    else if (stat?.isFile() && isImageName(name)) out.push(p);
  }
  return out;
}

/** The files a pattern matches: each path segment is matched on its own; ** stands for any number of folders. */
function expand(pattern: string): string[] {
  const parts = pattern.split(/[\\/]+/);
  const absolute = path.isAbsolute(pattern);
  const start = absolute ? path.parse(pattern).root : '.';
  const segs = absolute ? parts.slice(1) : parts;
  const out: string[] = [];
  const visit = (dir: string, shown: string, i: number, seen: Set<string>): void => {
    const seg = segs[i];
    const last = i === segs.length - 1;
    const join = (name: string) => (shown === '' ? name : shown === '/' ? `/${name}` : `${shown}/${name}`);
    if (seg === '**') {
      if (last) return void out.push(...walk(dir, new Set()).map((p) => join(path.relative(dir, p))));
      let real: string;
      try {
        real = fs.realpathSync(dir);
      } catch {
        return;
      }
      if (seen.has(real)) return;
      seen.add(real);
      visit(dir, shown, i + 1, seen); // ** as no folder at all
      for (const name of listDir(dir)) if (statOrNull(path.join(dir, name))?.isDirectory()) visit(path.join(dir, name), join(name), i, seen);
      return;
    }
    if (!GLOB.test(seg)) {
      const p = path.join(dir, seg);
      const stat = statOrNull(p);
      if (last) {
        if (stat?.isFile() && isImageName(seg)) out.push(join(seg));
      } else if (stat?.isDirectory()) visit(p, join(seg), i + 1, seen);
      return;
    }
    const re = segmentRegExp(seg);
    for (const name of listDir(dir)) {
      if (!re.test(name) || (name.startsWith('.') && !seg.startsWith('.'))) continue; // hidden files only when asked for, as shells do
      const p = path.join(dir, name);
      const stat = statOrNull(p);
      if (last) {
        if (stat?.isDirectory()) out.push(...walk(p, new Set()).map((q) => join(path.join(name, path.relative(p, q)))));
        else if (stat?.isFile() && isImageName(name)) out.push(join(name));
      } else if (stat?.isDirectory()) visit(p, join(name), i + 1, seen);
    }
  };
  visit(start, absolute ? start.replace(/[\\/]$/, '') || '/' : '', 0, new Set());
  return out;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort(byName);
  } catch {
    return [];
  }
}

/** One path segment of a pattern: * any run of characters, ? one, [abc] [a-z] [!x] one of a set. */
function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = seg.slice(i + 1, end);
      if (set.startsWith('!')) set = '^' + set.slice(1);
      re += `[${set.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
