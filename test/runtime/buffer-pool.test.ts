/** BufferPool hands out buffers of the exact size asked for, reuses what it is given, and keeps a bounded amount. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../src/runtime/buffer-pool.js';

describe('BufferPool', () => {
  it('reuses given buffers of the same size and allocates otherwise', () => {
    const pool = new BufferPool();
    const a = pool.take(1024);
    assert.equal(a.byteLength, 1024);
    pool.give([a]);
    assert.equal(pool.heldBytes, 1024);
    assert.equal(pool.take(2048) === a, false);
    assert.equal(pool.take(1024), a);
    assert.equal(pool.heldBytes, 0);
    assert.notEqual(pool.take(1024), a, 'a buffer is handed out once');
  });

  it('keeps at most maxBytes and ignores detached buffers', () => {
    const pool = new BufferPool(3000);
    pool.give([new ArrayBuffer(1000), new ArrayBuffer(1000), new ArrayBuffer(1000), new ArrayBuffer(1000)]);
    assert.equal(pool.heldBytes, 3000);
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    pool.give([detached]);
    assert.equal(pool.heldBytes, 3000);
  });
});
