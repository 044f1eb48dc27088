/** Sessions on a worker thread give what the same model gives on the main thread, rows stacked or not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { float32 } from '../../src/tensor.js';

/** y = softmax(x W + b), x [batch, 3]; W and b fixed. */
function model() {
  const b = new GraphBuilder('tiny');
  b.input('x', 'float32', ['batch', 3]);
  b.initializer('w', float32([3, 2], [0.5, -1, 2, 0.25, -0.75, 1.5]));
  b.initializer('b', float32([2], [0.1, -0.2]));
  b.op('Gemm', ['x', 'w', 'b'], {}, { outputs: ['z'] });
  b.op('Softmax', ['z'], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['batch', 2]);
  return createModel(b.graph, 17);
}

const rows = (n: number, seed: number) =>
  float32(
    [n, 3],
    Array.from({ length: n * 3 }, (_, i) => Math.sin(seed * 7 + i)),
  );

describe('Session with worker: true', () => {
  it('runs batches handed over while another runs one after another, each with its own rows', async () => {
    const m = model();
    const main = await Session.create(m, { threads: 1 });
    const worker = await Session.create(m, { threads: 1, worker: true });
    try {
      const batches = [0, 1, 2].map((b) => [rows(3, 10 + b), rows(2, 20 + b)]);
      const want = await Promise.all(
        batches.map(async (parts) => {
          const whole = float32(
            [5, 3],
            parts.flatMap((p) => Array.from(p.data)),
          );
          return Array.from((await main.run({ x: whole }, ['y']))['y']!.data as Float32Array);
        }),
      );
      // All three handed over at once: each stacks into the worker's reused buffer only after the previous ran.
      const got = await Promise.all(
        batches.map((parts) =>
          worker.runRows(
            parts.map((p) => ({ x: float32(p.shape, p.data) })),
            ['y'],
          ),
        ),
      );
      got.forEach((g, i) => assert.deepEqual(Array.from(g['y']!.data as Float32Array), want[i]));
    } finally {
      await main.release();
      await worker.release();
    }
  });

  it('gives the buffers runRows moved back through recycle once the run is done, on either thread', async () => {
    const m = model();
    for (const worker of [true, false]) {
      const returned: ArrayBuffer[] = [];
      const s = await Session.create(m, { threads: 1, worker, recycle: (b) => returned.push(...b) });
      try {
        const parts = [rows(2, 6), rows(3, 7)];
        const want = parts.map((p) => p.data.buffer.byteLength);
        const got = (
          await s.runRows(
            parts.map((p) => ({ x: float32(p.shape, p.data) })),
            ['y'],
          )
        )['y']!;
        assert.deepEqual(got.shape, [5, 2]);
        assert.deepEqual(
          returned.map((b) => b.byteLength),
          want,
          `worker ${worker}: both input buffers came back, usable`,
        );
        new Float32Array(returned[0]!).fill(1); // writable here again
        returned.length = 0;
        const x = rows(2, 8);
        await s.run({ x }, ['y']);
        assert.equal(
          returned.length,
          0,
          `worker ${worker}: run keeps the caller's buffers, nothing to recycle`,
        );
      } finally {
        await s.release();
      }
    }
  });

  it('runs, and stacks rows from several callers, exactly as the main-thread session', async () => {
    const m = model();
    const main = await Session.create(m, { threads: 1 });
    const worker = await Session.create(m, { threads: 1, worker: true });
    try {
      const x = rows(5, 1);
      const a = (await main.run({ x }, ['y']))['y']!;
      const b = (await worker.run({ x }, ['y']))['y']!;
      assert.deepEqual(b.shape, [5, 2]);
      assert.deepEqual(Array.from(b.data as Float32Array), Array.from(a.data as Float32Array));
      assert.equal(x.data.length, 15, 'run copies: the caller keeps its buffer');

      const parts = [rows(2, 2), rows(1, 3), rows(4, 4)];
      const whole = float32(
        [7, 3],
        parts.flatMap((p) => Array.from(p.data)),
      );
      const want = (await main.run({ x: whole }, ['y']))['y']!;
      // Twice: the second run reuses the worker's stacking buffer.
      for (let round = 0; round < 2; round++) {
        const fresh = parts.map((p) => ({ x: float32(p.shape, p.data) }));
        const got = (await worker.runRows(fresh, ['y']))['y']!;
        assert.deepEqual(got.shape, [7, 2]);
        assert.deepEqual(Array.from(got.data as Float32Array), Array.from(want.data as Float32Array));
        assert.equal(fresh[0]!.x.data.length, 0, 'runRows moves the parts to the worker');
      }
      const one = (await main.runRows([{ x: rows(3, 5) }], ['y']))['y']!;
      assert.deepEqual(one.shape, [3, 2]);
    } finally {
      await main.release();
      await worker.release();
    }
  });

  it('reports ONNX Runtime failures and bad feeds as GraftErrors, and keeps working', async () => {
    const worker = await Session.create(model(), { threads: 1, worker: true, validate: false });
    try {
      await assert.rejects(
        worker.run({ x: float32([2, 4], new Array(8).fill(1)) }, ['y']),
        (e: unknown) => isGraftError(e) && e.code === 'RUNTIME_ERROR',
      );
      const ok = await worker.run({ x: rows(1, 9) }, ['y']);
      assert.deepEqual(ok['y']!.shape, [1, 2]);
    } finally {
      await worker.release();
    }
    await assert.rejects(worker.run({ x: rows(1, 1) }, ['y']), /released/);
  });

  it('fails runs at once, not by hanging, once its worker thread has died', async () => {
    const worker = await Session.create(model(), { threads: 1, worker: true });
    // The worker is the session's only thread besides this one: end it from outside, as a crash would.
    const thread = (worker as unknown as { backend: { worker: { terminate(): Promise<number> } } }).backend;
    await thread.worker.terminate();
    await assert.rejects(
      worker.run({ x: rows(1, 2) }, ['y']),
      (e: unknown) => isGraftError(e) && /exited/.test(e.message),
    );
  });
});
