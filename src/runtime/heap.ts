/**
 * Keeping freed memory mapped (native/heap). glibc hands every block above its mmap threshold back to the kernel
 * when it is freed, so a training step that allocates and frees the same large activations every step pays a
 * page fault per 4 KB page each time: on these VMs that cost case (c)'s step a third of its time and 0.85 GB of
 * peak RSS (README, fine-tuning benchmarks). graft asks glibc to serve large blocks from the heap and keep freed
 * pages, once, before its first ONNX Runtime session. PyTorch's peers get the same from jemalloc with decay off.
 *
 * Process-wide and one-way: GRAFT_RETAIN_HEAP=0 leaves the allocator as it is (for an embedding process whose
 * other memory should go back to the kernel); without the addon (not built, or not glibc) nothing changes.
 */
import { GraftError } from '../errors.js';
import { loadAddon } from './addons.js';

interface HeapAddon {
  retainFreedMemory(): boolean;
}

let state: boolean | undefined;

/** Applies the setting once per process; returns whether the allocator now keeps freed memory. */
export function retainFreedMemory(): boolean {
  if (state === undefined) {
    const v = process.env['GRAFT_RETAIN_HEAP'];
    if (v !== undefined && v !== '' && v !== '0' && v !== '1')
      throw new GraftError(
        'BAD_OPTION',
        `GRAFT_RETAIN_HEAP=${v}: use 1 (keep freed memory, the default) or 0`,
      );
    state = false;
    // not built: the allocator keeps its defaults
    if (v !== '0') state = loadAddon<HeapAddon>('graft_heap', false).addon?.retainFreedMemory() ?? false;
  }
  return state;
}
