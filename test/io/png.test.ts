/**
 * Our PNG reader against sharp's (libvips) on every kind it claims (grey,
 * grey-in-fact RGB and RGBA, grey + alpha, opaque), with noise so that the
 * encoder uses every row filter: the pixels must be identical. Every other kind
 * is left to sharp (null), and damage is an error, not a guess.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { crc32, decodeGrayPng, encodeGrayPng, PngError } from '../../src/io/png';

const LIMIT = 40_000_000;
const tooLarge = ({ width, height }: { width: number; height: number }) => new Error(`too large ${width}x${height}`);

/** w x h grey noise with smooth parts (so that Sub, Up, Average and Paeth all win some rows). */
function greyNoise(w: number, h: number, seed: number): Uint8Array {
  const px = new Uint8Array(w * h);
  let s = seed;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const x = i % w;
    const y = Math.floor(i / w);
    px[i] = (y % 3 === 0 ? x * 3 + y : s >>> 24) & 0xff;
  }
  return px;
}

async function png(px: Uint8Array, w: number, h: number, channels: 1 | 2 | 3 | 4, opts: sharp.PngOptions = {}): Promise<Buffer> {
  const wide = new Uint8Array(w * h * channels);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < channels; c++) wide[i * channels + c] = (channels === 2 || channels === 4) && c === channels - 1 ? 255 : px[i];
  const s = sharp(Buffer.from(wide), { raw: { width: w, height: h, channels: channels as 1 | 2 | 3 | 4 } });
  return (channels <= 2 ? s.toColourspace('b-w') : s).png(opts).toBuffer();
}

async function sharpGrey(bytes: Buffer): Promise<Buffer> {
  return (await sharp(bytes).flatten({ background: '#ffffff' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true })).data;
}

describe('decodeGrayPng', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    for (const [w, h] of [[1, 1], [7, 3], [112, 112], [333, 41]]) {
      it(`${channels} channel(s), ${w}x${h}: the same pixels as sharp`, async () => {
        const bytes = await png(greyNoise(w, h, w * 31 + h), w, h, channels, { adaptiveFiltering: true, compressionLevel: 9 });
        const own = decodeGrayPng(bytes, LIMIT, tooLarge);
        expect(own).not.toBeNull();
        expect(own!.width).toBe(w);
        expect(own!.height).toBe(h);
        expect(Buffer.from(own!.data).equals(await sharpGrey(bytes))).toBe(true);
      });
    }
  }

  it('leaves colour, transparency, 16 bits, palettes and interlacing to sharp', async () => {
    const colour = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const clear = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.5 } } }).png().toBuffer();
    const deep = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).toColourspace('grey16').png().toBuffer();
    const palette = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png({ palette: true }).toBuffer();
    const interlaced = await png(greyNoise(9, 9, 1), 9, 9, 1, { progressive: true });
    for (const b of [colour, clear, deep, palette, interlaced]) expect(decodeGrayPng(b, LIMIT, tooLarge)).toBeNull();
  });

  it('is not a PNG: null; damaged: PngError; too many pixels: the caller\'s error, before inflating', async () => {
    expect(decodeGrayPng(Buffer.from('GIF89a....'), LIMIT, tooLarge)).toBeNull();
    const good = await png(greyNoise(30, 30, 5), 30, 30, 1);
    const flipped = Buffer.from(good);
    flipped[good.length - 20] ^= 0xff; // inside IDAT: its CRC no longer matches
    expect(() => decodeGrayPng(flipped, LIMIT, tooLarge)).toThrow(PngError);
    expect(() => decodeGrayPng(good.subarray(0, good.length - 30), LIMIT, tooLarge)).toThrow(PngError);
    expect(() => decodeGrayPng(good, 899, tooLarge)).toThrow('too large 30x30');
  });
});

describe('encodeGrayPng', () => {
  it('writes a greyscale PNG sharp reads back as the same pixels, and that we read back too', async () => {
    const px = greyNoise(28, 28, 3);
    const bytes = encodeGrayPng(px, 28, 28);
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([28, 28, 1]);
    expect((await sharpGrey(bytes)).equals(Buffer.from(px))).toBe(true);
    expect(Buffer.from(decodeGrayPng(bytes, LIMIT, tooLarge)!.data).equals(Buffer.from(px))).toBe(true);
  });

  it('crc32 is the standard CRC-32 (check value of "123456789")', () => {
    expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  });
});
