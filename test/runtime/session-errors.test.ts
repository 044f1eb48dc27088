/** Session keeps graft's own errors as they are and turns ONNX Runtime's into RUNTIME_ERROR. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { float32 } from '../../src/tensor.js';

function identity() {
  const b = new GraphBuilder('id');
  b.input('x', 'float32', ['batch', 2]);
  b.op('Identity', ['x'], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['batch', 2]);
  return createModel(b.graph);
}

test('a GraftError raised inside a run reaches the caller unchanged', async () => {
  const own = new GraftError('CANCELLED', 'the caller gave up');
  const session = await Session.create(identity(), {
    recycle: () => {
      throw own;
    },
  });
  try {
    await assert.rejects(session.runRows([{ x: float32([1, 2]) }, { x: float32([1, 2]) }]), (e) => e === own);
  } finally {
    await session.release();
  }
});

test("ONNX Runtime's own failures are RUNTIME_ERROR", async () => {
  const session = await Session.create(identity(), { validate: false });
  try {
    await assert.rejects(
      session.run({ x: { dtype: 'float32', shape: [1, 3], data: new Float32Array(2) } }),
      (e) => e instanceof GraftError && e.code === 'RUNTIME_ERROR',
    );
  } finally {
    await session.release();
  }
});
