/**
 * A contact sheet of images in one PNG: each image enlarged, dark ink on white,
 * with a caption under it (for nn eval --errors: "truth → guess" of every
 * misclassified image). The pixels are laid out here; the captions are one SVG
 * layer that sharp draws over them.
 */
import sharp from 'sharp';
import { writeFileAtomic } from './atomic';

export interface SheetItem {
  pixels: Uint8Array; // side x side, 0 background .. 255 ink (MNIST's convention)
  caption: string;
}

const SCALE = 2;
const CAPTION = 16; // pixels under each image
const PAD = 6;

export async function writeContactSheet(file: string, items: SheetItem[], side: number, columns = 15): Promise<{ width: number; height: number }> {
  const cellW = side * SCALE + PAD;
  const cellH = side * SCALE + CAPTION + PAD;
  const cols = Math.max(1, Math.min(columns, items.length));
  const rows = Math.max(1, Math.ceil(items.length / cols));
  const width = cols * cellW + PAD;
  const height = rows * cellH + PAD;
  const canvas = new Uint8Array(width * height).fill(255);
  const texts: string[] = [];
  items.forEach((item, k) => {
    const x0 = PAD + (k % cols) * cellW;
    const y0 = PAD + Math.floor(k / cols) * cellH;
    for (let y = 0; y < side * SCALE; y++) {
      for (let x = 0; x < side * SCALE; x++) {
        canvas[(y0 + y) * width + x0 + x] = 255 - item.pixels[Math.floor(y / SCALE) * side + Math.floor(x / SCALE)];
      }
    }
    texts.push(`<text x="${x0 + (side * SCALE) / 2}" y="${y0 + side * SCALE + CAPTION - 4}" text-anchor="middle">${escapeXml(item.caption)}</text>`);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="DejaVu Sans, sans-serif" font-size="11" fill="#b00">${texts.join('')}</g></svg>`;
  const png = await sharp(Buffer.from(canvas), { raw: { width, height, channels: 1 } })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toBuffer();
  writeFileAtomic(file, png);
  return { width, height };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
