/**
 * The antialiased fit of a cropped digit into 20x20 (aspect ratio kept,
 * enlarging small crops, as MNIST did), done here rather than by sharp: a
 * sharp pipeline costs about 1 ms of a core per image, whatever its size,
 * which capped `nn predict` over a folder near 800 images a second on two
 * cores; this takes a few hundredths of that on a crop of a scan.
 *
 * Separable Lanczos-3, with the kernel stretched by the shrink factor when
 * shrinking (so every input pixel contributes: antialiasing), the usual
 * resampling of image libraries (Pillow's ANTIALIAS, libvips' reduce). Pixel
 * centres map as (x + 0.5) / scale - 0.5, and each output's weights are
 * normalized to sum to 1, so a flat image stays flat and scale 1 is the
 * identity.
 */
import type { GrayImage } from './image';

const LOBES = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LOBES || x >= LOBES) return 0;
  const px = Math.PI * x;
  return (LOBES * Math.sin(px) * Math.sin(px / LOBES)) / (px * px);
}

type Taps = Array<{ first: number; w: Float64Array }>;
// Crops of a folder of scans come in few sizes: their weights are computed once.
const cache = new Map<number, Taps>();

/** For each of `outN` outputs along an axis of `inN` inputs: the first input and the weights (summing to 1). */
function weights(inN: number, outN: number): Taps {
  const key = inN * 65536 + outN;
  let taps = cache.get(key);
  if (!taps) {
    taps = computeWeights(inN, outN);
    if (cache.size < 4096) cache.set(key, taps);
  }
  return taps;
}

function computeWeights(inN: number, outN: number): Taps {
  const scale = outN / inN;
  const stretch = Math.max(1, 1 / scale); // widen the kernel when shrinking
  const support = LOBES * stretch;
  const out = [];
  for (let o = 0; o < outN; o++) {
    const centre = (o + 0.5) / scale - 0.5;
    const first = Math.max(0, Math.ceil(centre - support));
    const last = Math.min(inN - 1, Math.floor(centre + support));
    const w = new Float64Array(last - first + 1);
    let sum = 0;
    for (let i = first; i <= last; i++) sum += w[i - first] = lanczos((i - centre) / stretch);
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    out.push({ first, w });
  }
  return out;
}

/** Fits img into size x size keeping its aspect ratio: the longer side becomes `size`. */
export function fitInside(img: GrayImage, size: number): GrayImage {
  const { data, width: W, height: H } = img;
  const s = size / Math.max(W, H);
  const ow = Math.max(1, Math.min(size, Math.round(W * s)));
  const oh = Math.max(1, Math.min(size, Math.round(H * s)));
  // rows first: (H, W) -> (H, ow), kept in float; then columns: -> (oh, ow), rounded
  const wx = weights(W, ow);
  const tmp = new Float64Array(H * ow);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < ow; x++) {
      const { first, w } = wx[x];
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * data[y * W + first + k];
      tmp[y * ow + x] = acc;
    }
  }
  const wy = weights(H, oh);
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const { first, w } = wy[y];
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * tmp[(first + k) * ow + x];
      out[y * ow + x] = Math.min(255, Math.max(0, Math.round(acc))); // Lanczos overshoots at edges
    }
  }
  return { data: out, width: ow, height: oh };
}
