/**
 * Every hot buffer (parameters, gradients, optimizer state, activations,
 * batches) lives in one shared WebAssembly memory, handed out by a bump
 * allocator. The WebAssembly kernels then work on them in place (a pointer is
 * just the view's byteOffset), nothing is copied per step, and worker threads
 * see the same bytes. Shared memory also never detaches its buffer when it
 * grows, so earlier views stay valid. It asks for huge pages (hugepages.ts)
 * and grows 2 MiB at a time, so that what it holds fills whole huge pages.
 */
import { adviseHugePages, HUGE_PAGE_BYTES } from './hugepages';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB of address space, reserved lazily
/** The most the shared memory can ever hold: every hot buffer of a run must fit in it. */
export const MEMORY_LIMIT_BYTES = MAX_PAGES * PAGE;
// The WebAssembly module's own statics and stack live below this.
export const RESERVED_BYTES = 1 << 20;
const ALIGN = 64; // a cache line

export const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
/** Whether the memory asked for huge pages, and if not, why (shown by the bench). */
export const hugePages = adviseHugePages(memory, MEMORY_LIMIT_BYTES);
const GROW_PAGES = HUGE_PAGE_BYTES / PAGE;
let top = RESERVED_BYTES;
// The buffers this memory has exposed: views over any of them are ours.
const ours = new WeakSet<ArrayBufferLike>([memory.buffer]);

function reserve(bytes: number): number {
  const at = (top + ALIGN - 1) & ~(ALIGN - 1);
  const end = at + bytes;
  const have = memory.buffer.byteLength;
  if (end > have) {
    const need = Math.ceil((end - have) / PAGE);
    memory.grow(Math.max(need, Math.min(MAX_PAGES - have / PAGE, GROW_PAGES * Math.ceil(need / GROW_PAGES))));
    ours.add(memory.buffer);
  }
  top = end;
  return at;
}

export function allocF32(n: number): Float32Array {
  const at = reserve(n * 4); // first: it may grow the memory, and memory.buffer must be read after
  return new Float32Array(memory.buffer, at, n);
}

export function allocU8(n: number): Uint8Array {
  const at = reserve(n);
  return new Uint8Array(memory.buffer, at, n);
}

export function allocU32(n: number): Uint32Array {
  const at = reserve(n * 4);
  return new Uint32Array(memory.buffer, at, n);
}

/** True when the view lies in the shared memory, so a kernel can take its address. */
export function inMemory(a: ArrayBufferView): boolean {
  return ours.has(a.buffer);
}

/** Bytes handed out so far (for the benchmark's memory figures). */
export function bytesInUse(): number {
  return top - RESERVED_BYTES;
}

export function allocI8(n: number): Int8Array {
  const at = reserve(n);
  return new Int8Array(memory.buffer, at, n);
}
