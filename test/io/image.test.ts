import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_INPUT_PIXELS,
  borderMedian,
  centerByMass,
  centerOfMass,
  cropToInk,
  detectInverted,
  loadDigit,
  stretchToFull,
  writeGrayPng,
  type GrayImage,
} from '../../src/io/image';
import { UserError } from '../../src/util/errors';
import { tempDir } from '../helpers/tmp';

// ---------------------------------------------------------------------------
// helpers

let dir: string;
beforeAll(() => {
  dir = tempDir('nn-image-test-');
});
const tmp = (name: string): string => path.join(dir, name);

function gray(width: number, height: number, fill: number, ink: Array<[number, number, number]> = []): GrayImage {
  const data = new Uint8Array(width * height).fill(fill);
  for (const [x, y, v] of ink) data[y * width + x] = v;
  return { data, width, height };
}

/** A "2"-like stroke on a 100x100 viewBox, scaled (aspect kept) into the image. */
const TWO = 'M 32 34 Q 50 8 68 32 Q 72 48 34 80 L 72 80';

function strokeSvg(width: number, height: number, d: string, colour: string, strokeWidth = 9): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 100 100">` +
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${strokeWidth}" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
  );
}

interface DrawOptions {
  width?: number;
  height?: number;
  d?: string;
  paper?: string | { r: number; g: number; b: number; alpha: number };
  ink?: string;
  strokeWidth?: number;
  /** 1 grey, 3 RGB, 4 RGBA (the output really has that many channels). */
  channels?: 1 | 3 | 4;
}

/** An image with one stroke drawn on it, as a sharp pipeline ready to encode. */
async function drawing(o: DrawOptions = {}): Promise<sharp.Sharp> {
  const width = o.width ?? 200;
  const height = o.height ?? 200;
  const channels = o.channels ?? 3;
  const png = await sharp({
    create: { width, height, channels: channels === 4 ? 4 : 3, background: o.paper ?? '#ffffff' },
  })
    .composite([{ input: strokeSvg(width, height, o.d ?? TWO, o.ink ?? '#000000', o.strokeWidth) }])
    .png()
    .toBuffer();
  // composite always yields RGBA; drop what the caller did not ask for
  if (channels === 4) return sharp(png);
  if (channels === 1) return sharp(png).removeAlpha().toColourspace('b-w');
  return sharp(png).removeAlpha();
}

async function save(name: string, img: sharp.Sharp | Promise<sharp.Sharp>, format: 'png' | 'jpeg' = 'png'): Promise<string> {
  const p = tmp(name);
  const i = await img;
  await (format === 'png' ? i.png() : i.jpeg({ quality: 90 })).toFile(p);
  return p;
}

function inkBox(px: Uint8Array, size = 28): { x0: number; y0: number; w: number; h: number } {
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (px[y * size + x] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function diff(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

const digitStats = (px: Uint8Array) => ({
  length: px.length,
  max: Math.max(...px),
  box: inkBox(px),
  com: centerOfMass({ data: px, width: 28, height: 28 }),
});

/** MNIST shape: 784 bytes, full-scale ink, fitted into 20x20 (long side exactly 20), mass centred. */
function expectMnistShaped(px: Uint8Array): void {
  const s = digitStats(px);
  expect(s.length).toBe(784);
  expect(s.max).toBe(255);
  expect(s.box.w).toBeLessThanOrEqual(20);
  expect(s.box.h).toBeLessThanOrEqual(20);
  expect(Math.max(s.box.w, s.box.h)).toBeGreaterThanOrEqual(19);
  expect(Math.abs(s.com.x - 14)).toBeLessThanOrEqual(1);
  expect(Math.abs(s.com.y - 14)).toBeLessThanOrEqual(1);
}

async function expectUserError(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  if (typeof message === 'string') expect(msg).toBe(message);
  else expect(msg).toMatch(message);
}

// ---------------------------------------------------------------------------
// pure functions

describe('borderMedian', () => {
  it('reads the paper from the edge ring, ignoring the interior', () => {
    // 5x5: ring of 200 except one 0 corner, interior all 0 (ink)
    const img = gray(5, 5, 0);
    for (let i = 0; i < 5; i++) {
      img.data[i] = 200;
      img.data[20 + i] = 200;
      img.data[i * 5] = 200;
      img.data[i * 5 + 4] = 200;
    }
    img.data[0] = 0;
    expect(borderMedian(img)).toBe(200);
  });
});

describe('detectInverted', () => {
  it('sees dark ink on white paper', () => {
    expect(detectInverted(gray(10, 10, 255, [[4, 4, 0], [5, 5, 10]]))).toBe(true);
  });
  it('sees white ink on black', () => {
    expect(detectInverted(gray(10, 10, 0, [[4, 4, 255], [5, 5, 240]]))).toBe(false);
  });
  it('sees black ink on dim grey paper (an underexposed photo), where a mid-grey test would not', () => {
    expect(detectInverted(gray(10, 10, 110, [[4, 4, 20], [5, 5, 30], [6, 6, 25]]))).toBe(true);
  });
  it('sees chalk on a light-grey board as light ink', () => {
    expect(detectInverted(gray(10, 10, 150, [[4, 4, 250], [5, 5, 240]]))).toBe(false);
  });
  it('falls back to the level for a uniform image', () => {
    expect(detectInverted(gray(4, 4, 230))).toBe(true);
    expect(detectInverted(gray(4, 4, 20))).toBe(false);
  });
});

describe('cropToInk', () => {
  it('subtracts the background and crops to the ink bounding box', () => {
    const img = gray(8, 6, 40, [
      [2, 1, 240],
      [5, 4, 140],
    ]);
    const c = cropToInk(img);
    expect(c).not.toBeNull();
    expect([c!.width, c!.height]).toEqual([4, 4]);
    expect(c!.data[0]).toBe(200); // (2,1): 240 - 40
    expect(c!.data[3 * 4 + 3]).toBe(100); // (5,4): 140 - 40
    expect(c!.data[1]).toBe(0); // background
  });
  it('treats faint specks (under a quarter of the strongest ink) as background', () => {
    const img = gray(10, 10, 0, [
      [0, 0, 40], // faint smudge in a corner must not stretch the box
      [4, 4, 255],
      [5, 6, 200],
    ]);
    const c = cropToInk(img)!;
    expect([c.width, c.height]).toEqual([2, 3]);
    expect(Math.max(...c.data)).toBe(255);
  });
  it('returns null when there is no ink', () => {
    expect(cropToInk(gray(6, 6, 0))).toBeNull();
    expect(cropToInk(gray(6, 6, 255))).toBeNull();
    // noise within a few grey levels of the paper is not a digit
    expect(cropToInk(gray(6, 6, 30, [[2, 2, 45], [3, 3, 50]]))).toBeNull();
  });
});

/** cropToInk as first written: an inverted copy, then every pixel compared against the box's four sides. */
function cropToInkReference(img: GrayImage, flip: boolean): GrayImage | null {
  const data = flip ? img.data.map((v) => 255 - v) : img.data;
  const { width: w, height: h } = img;
  const bg = borderMedian({ data, width: w, height: h });
  let peak = 0;
  for (const v of data) if (v - bg > peak) peak = v - bg;
  if (peak < 24) return null;
  const threshold = Math.max(1, Math.ceil(peak * 0.25));
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x] - bg >= threshold) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  }
  const out = new Uint8Array((x1 - x0 + 1) * (y1 - y0 + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = data[y * w + x] - bg;
      out[(y - y0) * (x1 - x0 + 1) + x - x0] = d >= threshold ? d : 0;
    }
  }
  return { data: out, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

describe('cropToInk against the pixel-by-pixel reference', () => {
  it('gives the same crop, in both polarities, on 400 random images (the inverted one read through flip, not copied)', () => {
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    let crops = 0;
    for (let t = 0; t < 400; t++) {
      const w = 1 + rand(40);
      const h = 1 + rand(40);
      const img = gray(w, h, rand(256));
      const strokes = rand(6);
      for (let k = 0; k < strokes; k++) img.data[rand(w * h)] = rand(256);
      if (rand(4) === 0) for (let i = 0; i < img.data.length; i++) img.data[i] = rand(256); // noise everywhere
      for (const flip of [false, true]) {
        const want = cropToInkReference(img, flip);
        expect(cropToInk(img, flip ? 255 : 0)).toEqual(want);
        if (want) crops++;
      }
    }
    expect(crops).toBeGreaterThan(200); // most draws have ink, so the comparison covers real crops
  });
  it('keeps ink exactly at the threshold inside the box, in both polarities', () => {
    // paper 0, strongest ink 200: the threshold is 50, and the 50 at (1,3) is ink
    const img = gray(8, 8, 0, [[1, 3, 50], [5, 5, 200], [6, 1, 49]]);
    const c = cropToInk(img)!;
    expect([c.width, c.height]).toEqual([5, 3]);
    const dark = { ...img, data: img.data.map((v) => 255 - v) };
    expect(cropToInk(dark, 255)).toEqual(c);
  });
  it('reads the median of the inverted border through flip', () => {
    const img = gray(6, 5, 30, [[0, 0, 200], [5, 4, 90], [2, 0, 7]]);
    const inverted = { ...img, data: img.data.map((v) => 255 - v) };
    expect(borderMedian(img, 255)).toBe(borderMedian(inverted));
  });
});

describe('stretchToFull', () => {
  it('scales so the strongest ink is 255, keeping proportions', () => {
    const s = stretchToFull({ data: Uint8Array.from([0, 50, 100]), width: 3, height: 1 });
    expect([...s.data]).toEqual([0, 128, 255]);
  });
  it('leaves an all-black image black', () => {
    expect([...stretchToFull(gray(2, 2, 0)).data]).toEqual([0, 0, 0, 0]);
  });
});

describe('centerByMass', () => {
  it('puts a single bright pixel at (14,14)', () => {
    const out = centerByMass(gray(3, 3, 0, [[0, 0, 255]]));
    expect(out.length).toBe(784);
    expect(out[14 * 28 + 14]).toBe(255);
    expect(out.reduce((a, b) => a + b, 0)).toBe(255);
  });
  it('moves the centre of mass, not the box centre, to the middle', () => {
    // 10x4: heavy column at x=7, faint pixel at x=0, so the COM (x~6.9) is far from the box centre (4.5)
    const img = gray(10, 4, 0, [
      [7, 0, 255],
      [7, 1, 255],
      [7, 2, 255],
      [7, 3, 255],
      [0, 0, 10],
    ]);
    const out = centerByMass(img);
    const com = centerOfMass({ data: out, width: 28, height: 28 });
    expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(0.5);
    expect(out[14 * 28 + 14]).toBe(255); // the heavy column itself sits on the centre
  });
  it('clamps the shift so no ink falls off the canvas', () => {
    // COM at x=0 would want a shift of 14; a 20-wide image can only shift 8
    const img = gray(20, 20, 0, [[0, 10, 255], [19, 10, 1]]);
    const out = centerByMass(img);
    expect(out[(10 + 4) * 28 + 8]).toBe(255);
    expect(out[(10 + 4) * 28 + 27]).toBe(1);
  });
  it('refuses an image larger than the canvas', () => {
    expect(() => centerByMass(gray(29, 5, 0))).toThrow();
  });
});

// ---------------------------------------------------------------------------
// loadDigit on real files

describe('loadDigit', () => {
  it('gives the same digit for dark-on-light and light-on-dark, and reports the polarity', async () => {
    const darkPath = await save('dark-on-light.png', drawing());
    expect((await sharp(darkPath).metadata()).channels).toBe(3); // plain RGB
    const dark = await loadDigit(darkPath);
    const light = await loadDigit(await save('light-on-dark.png', drawing({ paper: '#000000', ink: '#ffffff' })));
    expect(dark.inverted).toBe(true);
    expect(light.inverted).toBe(false);
    expectMnistShaped(dark.pixels);
    expectMnistShaped(light.pixels);
    // The two renderings are exact complements, so only rounding may differ:
    // tolerance mean |diff| <= 0.1 and max |diff| <= 2 grey levels (measured: 0.01 and 1).
    const d = diff(dark.pixels, light.pixels);
    expect(d.mean).toBeLessThanOrEqual(0.1);
    expect(d.max).toBeLessThanOrEqual(2);
  });

  it('treats a transparent background (HTML canvas export) as white paper', async () => {
    const reference = await loadDigit(await save('ref.png', drawing()));
    const canvas = drawing({ channels: 4, paper: { r: 0, g: 0, b: 0, alpha: 0 } });
    const p = await save('canvas.png', canvas);
    const meta = await sharp(p).metadata();
    expect(meta.channels).toBe(4); // really RGBA, really transparent black around the strokes
    const got = await loadDigit(p);
    expect(got.inverted).toBe(true);
    expectMnistShaped(got.pixels);
    // same tolerance as dark/light: the flattened canvas is the white-paper drawing
    const d = diff(got.pixels, reference.pixels);
    expect(d.mean).toBeLessThanOrEqual(0.1);
    expect(d.max).toBeLessThanOrEqual(2);
  });

  it('keeps the aspect ratio: a tall "1" stays tall and thin, a dash stays wide', async () => {
    const one = await loadDigit(await save('one.png', drawing({ d: 'M 50 15 L 50 85', strokeWidth: 8 })));
    const oneBox = inkBox(one.pixels);
    expect(oneBox.h).toBe(20);
    expect(oneBox.w).toBeLessThanOrEqual(4);
    const dash = await loadDigit(await save('dash.png', drawing({ d: 'M 15 50 L 85 50', strokeWidth: 8 })));
    const dashBox = inkBox(dash.pixels);
    expect(dashBox.w).toBe(20);
    expect(dashBox.h).toBeLessThanOrEqual(4);
  });

  it('handles different sizes, formats and positions alike', async () => {
    const reference = (await loadDigit(await save('ref200.png', drawing()))).pixels;
    const small = await save('small-gray.png', drawing({ width: 50, height: 80, channels: 1 }));
    expect((await sharp(small).metadata()).channels).toBe(1);
    // big, off-centre in the top-left corner of a large sheet
    const corner = sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#ffffff' } }).composite([
      { input: await (await drawing({ width: 300, height: 300 })).png().toBuffer(), left: 20, top: 40 },
    ]);
    // Same drawing at another scale: stroke edges resample differently, the digit does not move.
    // Tolerance is mean |diff| per pixel; two different digits differ by ~38 (see the next test).
    // The 50x80 one is drawn only ~35 px tall, so its strokes come out visibly softer.
    const cases: Array<[string, string, number]> = [
      ['small', small, 8],
      ['big', await save('big.png', drawing({ width: 1000, height: 1000 })), 2],
      ['corner', await save('corner.png', corner), 2],
      ['jpeg', await save('photo.jpg', drawing({ width: 600, height: 400 }), 'jpeg'), 2],
    ];
    for (const [name, p, tolerance] of cases) {
      const got = await loadDigit(p);
      expect(got.inverted, name).toBe(true);
      expectMnistShaped(got.pixels);
      expect(diff(got.pixels, reference).mean, name).toBeLessThan(tolerance);
    }
  });

  it('gives a clearly different input for a different digit (so the tolerances above mean something)', async () => {
    const two = (await loadDigit(await save('two.png', drawing()))).pixels;
    const seven = (await loadDigit(await save('seven.png', drawing({ d: 'M 28 22 L 72 22 L 42 82' })))).pixels;
    expect(diff(two, seven).mean).toBeGreaterThan(25);
  });

  it('handles a dim, noisy photo: grey paper, dark ink, JPEG', async () => {
    const noise = Buffer.alloc(300 * 300);
    for (let i = 0; i < noise.length; i++) noise[i] = 100 + ((i * 7919) % 13); // paper 100..112
    const photo = sharp(noise, { raw: { width: 300, height: 300, channels: 1 } }).composite([
      { input: strokeSvg(300, 300, TWO, '#1e1e1e') },
    ]);
    const got = await loadDigit(await save('dim.jpg', photo, 'jpeg'));
    expect(got.inverted).toBe(true);
    expectMnistShaped(got.pixels);
    const reference = (await loadDigit(await save('ref-dim.png', drawing()))).pixels;
    expect(diff(got.pixels, reference).mean).toBeLessThan(6);
  });

  it('honours the EXIF orientation of phone photos', async () => {
    const upright = await (await drawing({ d: 'M 30 20 L 70 20 M 30 20 L 30 80', strokeWidth: 8 })).png().toBuffer();
    // Stored turned a quarter to the left, with a tag saying "turn right to display".
    const stored = sharp(upright).rotate(270);
    const tagged = await loadDigit(await save('tagged.jpg', stored.clone().withMetadata({ orientation: 6 }), 'jpeg'));
    const untagged = await loadDigit(await save('untagged.jpg', stored.clone(), 'jpeg'));
    const reference = await loadDigit(await save('upright.png', sharp(upright)));
    expect(diff(tagged.pixels, reference.pixels).mean).toBeLessThan(1);
    expect(diff(untagged.pixels, reference.pixels).mean).toBeGreaterThan(20);
  });

  it('refuses a blank image', async () => {
    for (const [name, colour] of [
      ['blank-white.png', '#ffffff'],
      ['blank-black.png', '#000000'],
      ['blank-grey.jpg', '#808080'],
    ]) {
      const p = await save(name, sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }), name.endsWith('.jpg') ? 'jpeg' : 'png');
      await expectUserError(loadDigit(p), `${p}: no ink found: the image is blank or uniform, so there is no digit to classify`);
    }
  });

  it('refuses a fully transparent canvas export as blank', async () => {
    const p = await save('transparent.png', sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }));
    await expectUserError(loadDigit(p), /no ink found/);
  });

  it('refuses a missing file', async () => {
    const p = tmp('photo.png');
    await expectUserError(loadDigit(p), `${p}: file not found`);
  });

  it('refuses an empty file', async () => {
    const p = tmp('empty.png');
    fs.writeFileSync(p, '');
    await expectUserError(loadDigit(p), `${p}: file is empty (expected PNG or JPEG)`);
  });

  it('refuses a text file, whatever its name', async () => {
    for (const name of ['notes.txt', 'notes.png']) {
      const p = tmp(name);
      fs.writeFileSync(p, 'this is not a picture of a digit\n');
      await expectUserError(loadDigit(p), `${p}: not an image (expected PNG or JPEG)`);
    }
  });

  it('refuses other image formats by name, including SVG which sharp would render', async () => {
    const p = tmp('d.gif');
    await (await drawing()).gif().toFile(p);
    await expectUserError(loadDigit(p), `${p}: GIF images are not supported (expected PNG or JPEG)`);
    const svg = tmp('d.svg');
    fs.writeFileSync(svg, strokeSvg(100, 100, TWO, '#000'));
    await expectUserError(loadDigit(svg), `${svg}: not an image (expected PNG or JPEG)`);
  });

  it('refuses a directory', async () => {
    await expectUserError(loadDigit(dir), /is a directory/);
  });

  it('refuses a truncated JPEG with one line naming the file', async () => {
    const whole = await (await drawing()).jpeg().toBuffer();
    const p = tmp('cut.jpg');
    fs.writeFileSync(p, whole.subarray(0, Math.floor(whole.length / 2)));
    await expectUserError(loadDigit(p), new RegExp(`^${escapeRe(p)}: image data is corrupt or truncated \\(expected a valid PNG or JPEG\\)`));
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------
// the pixel limit

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A real, decodable PNG of side x side 1-bit grey pixels: a few hundred KB on
 * disk and 50 MB to deflate here, but side*side bytes (400 MB at 20000) once
 * a decoder expands it to 8 bits.
 */
function hugePng(side: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(side / 8);
  const rows = Buffer.alloc(rowBytes * side, 0xff);
  for (let y = 0; y < side; y++) rows[y * rowBytes] = 0; // filter type: none
  const idat = zlib.deflateSync(rows, { level: 1 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Peak resident memory of this process so far, in MB (Linux only). */
function peakRssMb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

describe('pixel limit', () => {
  it('is a sane number', () => {
    expect(MAX_INPUT_PIXELS).toBeGreaterThanOrEqual(12_000_000); // a 12 MP phone photo must load
    expect(MAX_INPUT_PIXELS).toBeLessThan(20000 * 20000);
  });

  it('refuses a 20000x20000 image from its header, without decoding it', async () => {
    const p = tmp('huge.png');
    fs.writeFileSync(p, hugePng(20000));
    const meta = await sharp(p, { limitInputPixels: false }).metadata();
    expect([meta.width, meta.height]).toEqual([20000, 20000]); // a genuine, well-formed PNG

    const before = peakRssMb();
    await expectUserError(loadDigit(p), `${p}: image is 20000x20000, larger than the limit of ${MAX_INPUT_PIXELS} pixels`);
    const after = peakRssMb();
    if (before !== null && after !== null) {
      // Decoding would take at least 400 MB; reading the header takes nothing.
      expect(after - before).toBeLessThan(100);
    }
  }, 30_000);

  it('accepts an image just under the limit', async () => {
    // 12 MP: a typical phone photo
    const p = await save(
      'phone.jpg',
      sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#f0f0f0' } }).composite([
        { input: strokeSvg(1200, 1200, TWO, '#202020'), left: 1400, top: 900 },
      ]),
      'jpeg',
    );
    expectMnistShaped((await loadDigit(p)).pixels);
  }, 30_000);
});

// ---------------------------------------------------------------------------
// writeGrayPng

describe('writeGrayPng', () => {
  it('writes a one-channel PNG that reads back byte for byte, leaving no temp file', async () => {
    const px = new Uint8Array(28 * 28);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 256;
    const p = tmp('out.png');
    fs.writeFileSync(p, 'old contents');
    await writeGrayPng(px, 28, 28, p);
    expect((await sharp(p).metadata()).channels).toBe(1);
    const { data, info } = await sharp(p).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([28, 28, 1]);
    expect(Buffer.compare(data, Buffer.from(px))).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('out.png.tmp-'))).toEqual([]);
  });

  it('round-trips through loadDigit: a processed digit loads back as itself', async () => {
    const first = await loadDigit(await save('rt-src.png', drawing()));
    const p = tmp('rt.png');
    await writeGrayPng(first.pixels, 28, 28, p);
    const again = await loadDigit(p);
    expect(again.inverted).toBe(false); // MNIST polarity already
    expect(diff(again.pixels, first.pixels).mean).toBeLessThan(2);
  });

  it('refuses a buffer that does not match the size', async () => {
    await expect(writeGrayPng(new Uint8Array(10), 28, 28, tmp('bad.png'))).rejects.toThrow(/10 bytes/);
    expect(fs.existsSync(tmp('bad.png'))).toBe(false);
  });

  it('reports a missing directory in one line and cleans up', async () => {
    const p = path.join(dir, 'no-such-dir', 'x.png');
    await expectUserError(writeGrayPng(new Uint8Array(4), 2, 2, p), `${p}: cannot write: the directory does not exist`);
  });
});
