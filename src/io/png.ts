/**
 * The one kind of PNG `nn predict` decodes itself: grey in fact (grey, or RGB
 * with R = G = B in every pixel), opaque, 8 bits, not interlaced: scans, the
 * samples and MNIST exports. Handing each to sharp costs about 1 ms of a core
 * (libvips sets up a pipeline per image) where this takes a tenth of that, and
 * it spares loading sharp at all (60-90 ms of start-up) when every input is of
 * this kind. Its pixels are exactly those sharp gives (tested). Anything else
 * (colour, transparency, 16 bits, palettes, interlacing, an ICC profile or an
 * EXIF orientation) is left to sharp: decodeGrayPng says null. It also writes
 * the 28x28 greyscale PNGs of --save-input.
 */
import * as zlib from 'node:zlib';
import type { GrayImage } from './image';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A chunk or the data in it is wrong: the caller names the file. */
export class PngError extends Error {}

/** Width and height from the header, without decoding (checked against the pixel limit first). */
export interface PngSize {
  width: number;
  height: number;
}

/** Bytes per pixel of the 8-bit colour types read here: grey, RGB, grey + alpha, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * The grey pixels of an opaque grey-in-fact 8-bit non-interlaced PNG, or null
 * for any other kind (sharp's job). `limit` (pixels) is checked before anything is inflated;
 * over it, `tooLarge` is thrown by the caller's function.
 */
export function decodeGrayPng(bytes: Uint8Array, limit: number, tooLarge: (size: PngSize) => Error): GrayImage | null {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at < bytes.length && !ended; ) {
    if (at + 12 > bytes.length) throw new PngError('a chunk runs past the end of the file');
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) throw new PngError(`chunk ${type} runs past the end of the file`);
    if (crc32(bytes, at + 4, end) !== view.getUint32(end)) throw new PngError(`chunk ${type} fails its CRC check`);
    const data = bytes.subarray(at + 8, end);
    if (at === 8) {
      if (type !== 'IHDR' || length !== 13) throw new PngError('the first chunk is not IHDR');
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      if (width === 0 || height === 0) throw new PngError('the image has no size');
      if (width * height > limit) throw tooLarge({ width, height });
      const [depth, colour, , , interlace] = data.subarray(8);
      channels = CHANNELS[colour] ?? 0;
      if (depth !== 8 || !channels || interlace !== 0) return null;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    else if (type === 'tRNS' || type === 'iCCP' || type === 'eXIf') return null; // transparency, a colour profile, a rotation: sharp
    at = end + 4;
  }
  if (!ended) throw new PngError('the file ends before IEND');
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new PngError(`the compressed data is bad (${(e as Error).message})`);
  }
  const stride = width * channels + 1; // each row starts with its filter byte
  if (raw.length < stride * height) throw new PngError('the image data is truncated');
  const px = unfilter(raw, width * channels, height, channels);
  if (channels === 1) return { data: px, width, height };
  const gray = toGray(px, width * height, channels);
  return gray && { data: gray.data, width, height };
}

/** The grey channel when every pixel is grey (R = G = B) and opaque; else null (sharp converts colour). */
function toGray(px: Uint8Array, n: number, channels: number): GrayImage | null {
  const out = new Uint8Array(n);
  const alpha = channels === 2 || channels === 4;
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    const v = px[j];
    if (channels >= 3 && (px[j + 1] !== v || px[j + 2] !== v)) return null;
    if (alpha && px[j + channels - 1] !== 255) return null;
    out[i] = v;
  }
  return { data: out, width: 0, height: 0 };
}

/** Undoes PNG's per-row filters over rows of w bytes, `bpp` bytes a pixel: the reverse of what the encoder subtracted. */
function unfilter(raw: Uint8Array, w: number, h: number, bpp: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (w + 1)];
    const src = y * (w + 1) + 1;
    const row = y * w;
    const up = row - w; // the row above in out (unused on row 0)
    switch (f) {
      case 0:
        out.set(raw.subarray(src, src + w), row);
        break;
      case 1: // Sub: the pixel to the left
        for (let x = 0; x < w; x++) out[row + x] = raw[src + x] + (x >= bpp ? out[row + x - bpp] : 0);
        break;
      case 2: // Up: the pixel above
        for (let x = 0; x < w; x++) out[row + x] = raw[src + x] + (y > 0 ? out[up + x] : 0);
        break;
      case 3: // Average of left and above
        for (let x = 0; x < w; x++) out[row + x] = raw[src + x] + (((x >= bpp ? out[row + x - bpp] : 0) + (y > 0 ? out[up + x] : 0)) >> 1);
        break;
      case 4: // Paeth: whichever of left, above, upper-left is nearest left + above - upper-left
        for (let x = 0; x < w; x++) {
          const a = x >= bpp ? out[row + x - bpp] : 0;
          const b = y > 0 ? out[up + x] : 0;
          const c = x >= bpp && y > 0 ? out[up + x - bpp] : 0;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          out[row + x] = raw[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new PngError(`row ${y} has an unknown filter type ${f}`);
    }
  }
  return out;
}

/** An 8-bit greyscale PNG of the pixels (row-major), each row unfiltered: small images, read by people. */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Buffer {
  return encodePng(pixels, width, height, 1);
}

/** An 8-bit RGB PNG of the pixels (row-major, 3 bytes a pixel), each row unfiltered. */
export function encodeRgbPng(pixels: Uint8Array, width: number, height: number): Buffer {
  return encodePng(pixels, width, height, 3);
}

function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const w = width * channels;
  const raw = Buffer.alloc((w + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bits per sample
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: grey, or RGB; compression, filter, interlace 0
  return Buffer.concat([Buffer.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

let table: Uint32Array | null = null;

/** CRC-32 (ISO 3309, as PNG uses) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
