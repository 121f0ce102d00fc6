// A pruned dense layer's forward pass for one image at a time (nn predict, nn serve): only the
// non-zero weights of the non-zero inputs. The weights Wt (In, Out) are held by input row in blocks
// of 4 outputs that hold at least one non-zero weight (kernels/sparse.ts builds them): for input i,
// blocks rowptr[i] .. rowptr[i + 1], each a block index (u32) and its 4 weights (f32).
// Per output: c = bias, then c = c + x_i * w_io for each non-zero input i in ascending order: the
// dense kernel's sequence over the whole row, less steps that add x * 0 = 0 (a block skipped).

// @ts-nocheck: AssemblyScript, not TypeScript (excluded from tsc)

const F = 4;

/**
 * Y (B, Out) = act(X (B, In) · Wt + bias) for rows [r0, r1), through acc (OutP floats, OutP = Out
 * rounded up to 4: the blocks write whole); act 1: ReLU.
 */
export function sparse_forward(X: usize, rowptr: usize, blocks: usize, vals: usize, bias: usize, Y: usize, In: i32, Out: i32, acc: usize, r0: i32, r1: i32, act: i32): void {
  const zero = f32x4.splat(0);
  for (let b = r0; b < r1; b++) {
    const xrow = X + <usize>b * <usize>In * F;
    let k = 0;
    for (; k < Out; k++) store<f32>(acc + <usize>k * F, load<f32>(bias + <usize>k * F));
    // the non-zero inputs, 16 at a time by their bitmask (no branch per zero input)
    let i = 0;
    for (; i + 16 <= In; i += 16) {
      const xp = xrow + <usize>i * F;
      let m: u32 = i32x4.bitmask(f32x4.ne(v128.load(xp), zero))
        | (i32x4.bitmask(f32x4.ne(v128.load(xp, 16), zero)) << 4)
        | (i32x4.bitmask(f32x4.ne(v128.load(xp, 32), zero)) << 8)
        | (i32x4.bitmask(f32x4.ne(v128.load(xp, 48), zero)) << 12);
      while (m != 0) {
        const ii = i + <i32>ctz(m);
        m &= m - 1;
        add_row(acc, load<f32>(xrow + <usize>ii * F), ii, rowptr, blocks, vals);
      }
    }
    for (; i < In; i++) {
      const x = load<f32>(xrow + <usize>i * F);
      if (x != 0) add_row(acc, x, i, rowptr, blocks, vals);
    }
    const y = Y + <usize>b * <usize>Out * F;
    for (k = 0; k < Out; k++) {
      const v = load<f32>(acc + <usize>k * F);
      store<f32>(y + <usize>k * F, act == 1 ? (v > 0 ? v : 0) : v);
    }
  }
}

// acc[4 blk .. 4 blk + 4] += x * (the block's 4 weights), for input i's blocks
@inline function add_row(acc: usize, x: f32, i: i32, rowptr: usize, blocks: usize, vals: usize): void {
  const xv = f32x4.splat(x);
  const p1 = <usize>load<u32>(rowptr + <usize>i * 4, 4);
  for (let p = <usize>load<u32>(rowptr + <usize>i * 4); p < p1; p++) {
    const a = acc + (<usize>load<u32>(blocks + p * 4) << 4);
    v128.store(a, f32x4.add(v128.load(a), f32x4.mul(xv, v128.load(vals + p * 16))));
  }
}
