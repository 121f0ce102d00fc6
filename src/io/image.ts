/**
 * Turns a photo, scan or canvas export of one handwritten digit into the
 * 28x28 input `nn predict` classifies, following the recipe MNIST itself was
 * built with: ink bright on black, digit fitted into 20x20 with its aspect
 * ratio kept, then shifted so its centre of mass sits at the centre of 28x28.
 *
 * Plain grey PNGs are decoded here (png.ts), everything else by sharp; the
 * antialiased resize is ours (resize.ts); everything else is small pure
 * functions over 8-bit grey buffers so it can be tested without images.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors';
import { decodeGrayPng, encodeGrayPng } from './png';
import { fitInside } from './resize';

export interface DigitImage {
  /** 784 bytes, row-major 28x28, MNIST polarity: background 0, ink up to 255. */
  pixels: Uint8Array;
  /** True if the source had dark ink on light paper (and was inverted). */
  inverted: boolean;
}

/** One channel, 8 bits per pixel, row-major. */
export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Bigger inputs are refused: 40 MP covers any phone photo, and decoding is bounded to ~40 MB per channel. */
export const MAX_INPUT_PIXELS = 40_000_000;
export const DIGIT_SIZE = 28;
export const FIT_SIZE = 20;

/**
 * Below this contrast (grey levels between background and the strongest ink)
 * there is nothing we would call a digit: paper texture, JPEG noise and
 * lighting gradients stay well under it, while even a faint pencil stroke
 * clears it.
 */
export const MIN_INK_CONTRAST = 24;
/**
 * Pixels weaker than this fraction of the strongest ink count as background.
 * Relative rather than absolute so that shadows and smudges on a photo do not
 * stretch the bounding box, whatever the exposure; it only trims the faintest
 * antialiasing at stroke edges, which the 20x20 resize blurs back anyway.
 */
export const INK_FRACTION = 0.25;

// ---------------------------------------------------------------------------
// Pure image math (steps 3-6)

/**
 * Median of the one-pixel ring around the image: the paper, unless the digit covers most of the edge.
 * `flip` 255 reads every pixel as 255 - v (the inverted image, without making it).
 */
export function borderMedian(img: GrayImage, flip: 0 | 255 = 0): number {
  const { data, width: w, height: h } = img;
  const hist = new Uint32Array(256);
  let count = 0;
  const add = (i: number): void => {
    hist[data[i] ^ flip]++;
    count++;
  };
  for (let x = 0; x < w; x++) {
    add(x);
    if (h > 1) add((h - 1) * w + x);
  }
  for (let y = 1; y < h - 1; y++) {
    add(y * w);
    if (w > 1) add(y * w + w - 1);
  }
  return histogramMedian(hist, count);
}

function histogramMedian(hist: Uint32Array, count: number): number {
  const half = Math.ceil(count / 2);
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v];
    if (seen >= half) return v;
  }
  return 255;
}

/**
 * True when the ink is darker than the paper. Ink is what deviates from the
 * background, so we ask on which side of the border median the deviations
 * lie; unlike comparing the background with mid-grey, this also gets dim
 * photos (grey paper, black ink) and chalk on a grey board right. Only when
 * nothing deviates (a uniform image) does the absolute level decide.
 */
export function detectInverted(img: GrayImage): boolean {
  const bg = borderMedian(img);
  const data = img.data;
  let darker = 0;
  let lighter = 0;
  for (let i = 0; i < data.length; i++) {
    const d = data[i] - bg;
    if (d < 0) darker -= d;
    else lighter += d;
  }
  if (darker === lighter) return bg >= 128;
  return darker > lighter;
}

/**
 * Expects MNIST polarity (ink brighter than background), or, with `flip` 255,
 * the reverse, read as 255 - v without making an inverted copy. Subtracts the
 * background level, zeroes faint noise and crops to the bounding box of what
 * remains. Returns null when there is no ink at all.
 */
export function cropToInk(img: GrayImage, flip: 0 | 255 = 0): GrayImage | null {
  const { data, width: w, height: h } = img;
  const bg = borderMedian(img, flip);
  let top = 0; // the largest value; its ink is top - bg
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ^ flip;
    if (v > top) top = v;
  }
  const peak = top - bg;
  if (peak < MIN_INK_CONTRAST) return null;
  const threshold = Math.max(1, Math.ceil(peak * INK_FRACTION));
  const level = bg + threshold; // ink is v >= level

  // rows: the first and last with ink; columns: narrowed row by row
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1;
    for (let x = 0; x < w; x++) {
      if ((data[row + x] ^ flip) >= level) {
        first = x;
        break;
      }
    }
    if (first < 0) continue;
    let last = first;
    for (let x = w - 1; x > first; x--) {
      if ((data[row + x] ^ flip) >= level) {
        last = x;
        break;
      }
    }
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
    if (y0 === h) y0 = y;
    y1 = y;
  }
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const out = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    const src = (y + y0) * w + x0;
    const dst = y * cw;
    for (let x = 0; x < cw; x++) {
      const d = (data[src + x] ^ flip) - bg;
      out[dst + x] = d >= threshold ? d : 0;
    }
  }
  return { data: out, width: cw, height: ch };
}

/** Scales intensities so the strongest ink is 255, as in MNIST, whatever the pen and exposure. */
export function stretchToFull(img: GrayImage): GrayImage {
  const src = img.data;
  let max = 0;
  for (let i = 0; i < src.length; i++) if (src[i] > max) max = src[i];
  const data = new Uint8Array(src.length);
  if (max > 0) {
    for (let i = 0; i < data.length; i++) data[i] = Math.round((src[i] * 255) / max);
  }
  return { data, width: img.width, height: img.height };
}

/** Intensity-weighted centre in pixel-index coordinates; the geometric centre if the image is black. */
export function centerOfMass(img: GrayImage): { x: number; y: number } {
  const { data, width: w, height: h } = img;
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x];
      sum += v;
      sx += v * x;
      sy += v * y;
    }
  }
  if (sum === 0) return { x: (w - 1) / 2, y: (h - 1) / 2 };
  return { x: sx / sum, y: sy / sum };
}

/**
 * Pastes the fitted digit into a black size x size canvas so its centre of
 * mass lands on (size/2, size/2), which is how MNIST positioned its digits;
 * the shift is clamped so no ink is cut off.
 */
export function centerByMass(img: GrayImage, size = DIGIT_SIZE): Uint8Array {
  const { data, width: w, height: h } = img;
  if (w > size || h > size) {
    throw new Error(`centerByMass: ${w}x${h} does not fit in ${size}x${size}`);
  }
  const com = centerOfMass(img);
  const ox = clamp(Math.round(size / 2 - com.x), 0, size - w);
  const oy = clamp(Math.round(size / 2 - com.y), 0, size - h);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < h; y++) {
    out.set(data.subarray(y * w, y * w + w), (y + oy) * size + ox);
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

// ---------------------------------------------------------------------------
// File I/O

type Sniffed = { kind: 'png' | 'jpeg' } | { kind: 'other'; format: string | null };

/**
 * Decide from the magic bytes, not the extension or sharp: sharp would happily
 * render an SVG or a PDF, and its own "unsupported format" text names nothing.
 */
export function sniffFormat(head: Uint8Array): Sniffed {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return { kind: 'png' };
  if (starts(0xff, 0xd8, 0xff)) return { kind: 'jpeg' };
  const ascii = Buffer.from(head).toString('latin1');
  if (ascii.startsWith('GIF8')) return { kind: 'other', format: 'GIF' };
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return { kind: 'other', format: 'WebP' };
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return { kind: 'other', format: 'TIFF' };
  if (ascii.startsWith('BM')) return { kind: 'other', format: 'BMP' };
  if (ascii.slice(4, 8) === 'ftyp' && /^(heic|heix|hevc|mif1|msf1|avif|avis)$/.test(ascii.slice(8, 12))) {
    return { kind: 'other', format: 'HEIF/AVIF' }; // what iPhones save by default
  }
  return { kind: 'other', format: null };
}

/**
 * The whole file, after existence, type, size and format checks, each with its
 * own one-line message. One open per image: over a folder of thousands, every
 * system call counts.
 */
function readInputFile(path: string): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new UserError(`${path}: is a directory (expected a PNG or JPEG file)`);
    if (stat.size === 0) throw new UserError(`${path}: file is empty (expected PNG or JPEG)`);
    const head = new Uint8Array(16);
    fs.readSync(fd, head, 0, head.length, 0);
    const sniffed = sniffFormat(head);
    if (sniffed.kind === 'other') {
      throw new UserError(
        sniffed.format
          ? `${path}: ${sniffed.format} images are not supported (expected PNG or JPEG)`
          : `${path}: not an image (expected PNG or JPEG)`,
      );
    }
    return fs.readFileSync(fd);
  } catch (err) {
    throw err instanceof UserError ? err : new UserError(fsErrorMessage(path, err));
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function fsErrorMessage(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${path}: file not found`;
  if (code === 'EACCES' || code === 'EPERM') return `${path}: permission denied`;
  if (code === 'ENOTDIR') return `${path}: file not found (a parent is not a directory)`;
  if (code === 'EISDIR') return `${path}: is a directory (expected a PNG or JPEG file)`;
  return `${path}: cannot read file (${code ?? firstLine(err)})`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}

function tooLarge(path: string, width: number, height: number): UserError {
  return new UserError(
    `${path}: image is ${width}x${height}, larger than the limit of ${MAX_INPUT_PIXELS} pixels`,
  );
}

/** sharp's errors are terse and name no file; translate the ones users hit. */
function decodeError(path: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const msg = firstLine(err);
  if (/pixel limit/i.test(msg)) {
    return new UserError(`${path}: image is larger than the limit of ${MAX_INPUT_PIXELS} pixels`);
  }
  if (/unsupported image format/i.test(msg)) return new UserError(`${path}: not an image (expected PNG or JPEG)`);
  return new UserError(`${path}: image data is corrupt or truncated (expected a valid PNG or JPEG): ${msg}`);
}

// sharp (and libvips behind it) loads only for an image decodeGrayPng leaves to it: 60-90 ms of start-up
let sharpModule: typeof import('sharp') | undefined;
function sharp(): typeof import('sharp') {
  return (sharpModule ??= require('sharp') as typeof import('sharp'));
}

/** The grey pixels of a plain grey PNG (png.ts), or null when the image needs sharp. */
function decodeOwn(path: string, bytes: Buffer): GrayImage | null {
  try {
    return decodeGrayPng(bytes, MAX_INPUT_PIXELS, ({ width, height }) => tooLarge(path, width, height));
  } catch (err) {
    throw decodeError(path, err);
  }
}

/** Decoded by sharp: oriented, alpha composited over white paper, 8-bit grey. */
async function decodeWithSharp(path: string, bytes: Buffer): Promise<GrayImage> {
  // The header only: no pixels are decoded, so the limit can be checked
  // against the real size and reported with it.
  const meta = await sharp()(bytes, { limitInputPixels: false }).metadata();
  if (!meta.width || !meta.height) throw new UserError(`${path}: image has no size (expected PNG or JPEG)`);
  if (meta.width * meta.height > MAX_INPUT_PIXELS) throw tooLarge(path, meta.width, meta.height);

  const { data, info } = await sharp()(bytes, {
    limitInputPixels: MAX_INPUT_PIXELS, // belt and braces: never decode more than that
    failOn: 'error', // refuse corrupt data, but not the harmless warnings (odd ICC chunks) common in exports
    autoOrient: true, // phone photos are stored sideways with an EXIF rotation
  })
    // A canvas export is transparent *black* around the strokes: it must become paper.
    .flatten({ background: '#ffffff' })
    .toColourspace('b-w')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`decodeGray: expected 1 channel, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export async function loadDigit(path: string): Promise<DigitImage> {
  return digitFromFileBytes(path, readInputFile(path));
}

/**
 * loadDigit for bytes that came some other way (an upload to nn serve): the same checks, messages
 * and pipeline, `name` standing for the file. An empty body or one that is not a PNG or JPEG is refused.
 */
export async function digitFromBytes(name: string, bytes: Buffer): Promise<DigitImage> {
  if (bytes.length === 0) throw new UserError(`${name}: is empty (expected PNG or JPEG)`);
  const sniffed = sniffFormat(bytes.subarray(0, 16));
  if (sniffed.kind === 'other') throw new UserError(`${name}: ${sniffed.format ? `${sniffed.format} images are not supported` : 'not an image'} (expected PNG or JPEG)`);
  return digitFromFileBytes(name, bytes);
}

async function digitFromFileBytes(path: string, bytes: Buffer): Promise<DigitImage> {
  let gray = decodeOwn(path, bytes);
  if (!gray) {
    try {
      gray = await decodeWithSharp(path, bytes);
    } catch (err) {
      throw decodeError(path, err);
    }
  }
  return digitFromGray(path, gray);
}

/** Steps 3-7 of the recipe on a decoded image; `path` names it in the message when there is no ink. */
export function digitFromGray(path: string, gray: GrayImage): DigitImage {
  const inverted = detectInverted(gray);
  const ink = cropToInk(gray, inverted ? 255 : 0);
  if (!ink) {
    throw new UserError(`${path}: no ink found: the image is blank or uniform, so there is no digit to classify`);
  }
  const fitted = stretchToFull(fitInside(ink, FIT_SIZE));
  return { pixels: centerByMass(fitted, DIGIT_SIZE), inverted };
}

/**
 * Writes an 8-bit greyscale PNG. Goes through a temporary file and a rename so
 * a reader never sees half a file and an interrupted run leaves the old one.
 */
export async function writeGrayPng(pixels: Uint8Array, width: number, height: number, path: string): Promise<void> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`writeGrayPng: bad size ${width}x${height}`);
  }
  if (pixels.length !== width * height) {
    throw new Error(`writeGrayPng: ${pixels.length} bytes do not make a ${width}x${height} image`);
  }
  const png = encodeGrayPng(pixels, width, height);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(writeErrorMessage(path, err));
  }
}

function writeErrorMessage(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${path}: cannot write: the directory does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return `${path}: cannot write: permission denied`;
  if (code === 'EISDIR') return `${path}: cannot write: is a directory`;
  if (code === 'ENOSPC') return `${path}: cannot write: no space left on device`;
  return `${path}: cannot write (${code ?? firstLine(err)})`;
}
