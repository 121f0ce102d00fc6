/**
 * A picture of an explanation, for people: the 28x28 input on the left and the
 * same input with its attributions over it on the right, each pixel drawn as a
 * 10x10 block. Ink that counted for the class is red to yellow as it counts
 * more, ink that counted against it blue, and the input shows through in grey.
 */
export const SCALE = 10;

export interface RgbImage {
  data: Uint8Array; // width x height x 3
  width: number;
  height: number;
}

/** pixels: side x side, 0..255 (ink bright); map: the same, -1..1 (attributions over their largest magnitude). */
export function explanationImage(pixels: Uint8Array, map: ArrayLike<number>, side: number, scale = SCALE): RgbImage {
  const cell = side * scale;
  const gap = scale;
  const width = 2 * cell + gap;
  const height = cell;
  const data = new Uint8Array(width * height * 3).fill(255); // the gap is white
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = pixels[y * side + x];
      const s = map[y * side + x];
      const base = 0.35 * v;
      const heat: [number, number, number] =
        s >= 0 ? [Math.max(base, 255 * Math.min(1, 2 * s)), Math.max(base, 255 * Math.max(0, 2 * s - 1)), base] : [base, Math.max(base, 0.4 * 255 * -s), Math.max(base, 255 * -s)];
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const row = (y * scale + dy) * width;
          data.set([v, v, v], (row + x * scale + dx) * 3);
          data.set(heat.map(Math.round), (row + cell + gap + x * scale + dx) * 3);
        }
      }
    }
  }
  return { data, width, height };
}
