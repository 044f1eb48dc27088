/**
 * Reusable ArrayBuffers by size. A server allocating a fresh 600 KB input tensor per request makes V8 run a
 * full garbage collection every few dozen requests (external memory pressure), on the main thread and on its
 * helper threads, cores the forward pass needs. Buffers taken here come back through `give` once the session
 * is done with them (SessionOptions.recycle) and are handed out again.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private held = 0;

  /** `maxBytes`: what the pool keeps at most; buffers given beyond it are left to the garbage collector. */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** A buffer of exactly `bytes` bytes, contents unspecified. */
  take(bytes: number): ArrayBuffer {
    const reused = this.free.get(bytes)?.pop();
    if (reused) {
      this.held -= bytes;
      return reused;
    }
    // Not zero-filled: the caller writes every byte it reads.
    return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
  }

  /** Returns buffers for reuse (detached or empty ones are ignored). */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) {
      const bytes = b.byteLength;
      if (bytes === 0 || this.held + bytes > this.maxBytes) continue;
      let list = this.free.get(bytes);
      if (!list) this.free.set(bytes, (list = []));
      list.push(b);
      this.held += bytes;
    }
  }

  /** Bytes held for reuse now. */
  get heldBytes(): number {
    return this.held;
  }
}
