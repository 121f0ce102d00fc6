/**
 * Transparent huge pages for the shared memory, where the images and every hot
 * buffer live. On these machines the first touch of a fresh 4 KiB page costs
 * about 11 µs (the hypervisor backs the page then), so a process that fills
 * 80 MB pays about 0.2 s before it computes anything; every trial of a search is
 * such a process. Linux here gives huge pages only where a program asks
 * (transparent_hugepage = madvise), and a 2 MiB page that another process freed
 * moments before comes back at about 0.4 µs per 4 KiB of it.
 *
 * The request is one madvise over the memory's reserved range, made by a small
 * addon of ours (native/hugepages.c, built by `npm ci`). It changes where the
 * bytes live, never what they are: without the addon, on another system, or
 * with NN_HUGE_PAGES=0, everything runs the same, only the first touches cost more.
 */
import { builtFile } from './wasm-module';

export const HUGE_PAGE_BYTES = 2 << 20;

export interface HugePages {
  applied: boolean;
  /** Why not, when not applied. */
  reason?: string;
  /** The advised range: its address and bytes (2 MiB-aligned). */
  start?: number;
  length?: number;
}

/** One word for provenance and the bench: `yes`, or `no: <why>`. */
export function describeHugePages(h: HugePages): string {
  return h.applied ? 'yes' : `no: ${h.reason}`;
}

interface Addon {
  advise(view: ArrayBufferView, bytes: number): { start: number; length: number };
}

export const ADDON_FILE = 'hugepages.node';

function loadAddon(file: string | null): Addon | string {
  if (!file) return `${ADDON_FILE} was not built (npm ci builds it with node-gyp)`;
  try {
    return require(file) as Addon;
  } catch (e) {
    return `${file}: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Asks for huge pages over `bytes` of `memory`'s address space (its maximum, reserved up front). */
export function adviseHugePages(memory: WebAssembly.Memory, bytes: number, file: string | null = builtFile(ADDON_FILE)): HugePages {
  if (process.platform !== 'linux') return { applied: false, reason: `not Linux (${process.platform})` };
  if (process.env.NN_HUGE_PAGES === '0') return { applied: false, reason: 'NN_HUGE_PAGES=0' };
  const addon = loadAddon(file);
  if (typeof addon === 'string') return { applied: false, reason: addon };
  try {
    const { start, length } = addon.advise(new Uint8Array(memory.buffer, 0, 1), bytes);
    return length > 0 ? { applied: true, start, length } : { applied: false, reason: 'the memory holds no whole 2 MiB page' };
  } catch (e) {
    return { applied: false, reason: `madvise: ${(e as Error).message}` };
  }
}
