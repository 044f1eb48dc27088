/** Finite-difference checks for Where, Pad, Slice, Gather, and the pointwise fine-tuning activations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, type GraphBuilder } from '../../src/onnx/builder.js';
import { checkGradients } from './fd.js';

const ints = (b: GraphBuilder, v: number[]): string =>
  b.constant('i', { dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v, BigInt) });

test('Where with broadcasting', async () => {
  await checkGradients({
    inputs: {
      c: {
        shape: [3, 4],
        dtype: 'bool',
        values: Array.from({ length: 12 }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0)),
      },
    },
    params: { a: { shape: [3, 4] }, b: { shape: [4] } },
    build: (b) => b.op('Where', ['c', 'a', 'b']),
  });
});

test('Pad (constant mode) with and without axes', async () => {
  await checkGradients({
    params: { x: { shape: [2, 3, 4] } },
    build: (b) => [
      b.op('Pad', ['x', ints(b, [0, 1, 2, 1, 0, 3])]),
      b.op('Pad', ['x', ints(b, [1, 2, 0, 1]), '', ints(b, [-1, 0])], {}),
    ],
    opset: 18,
  });
});

test('Slice: static bounds, negative indices, steps, symbolic dims, dynamic starts', async () => {
  await checkGradients({
    params: { x: { shape: [4, 5, 6] } },
    build: (b) => [
      b.op('Slice', ['x', ints(b, [1, -4]), ints(b, [3, 9999]), ints(b, [0, 2])]),
      b.op('Slice', ['x', ints(b, [-1, 0]), ints(b, [-5, 5]), ints(b, [1, 2]), ints(b, [-2, 3])]),
      b.op('Slice', ['x', ints(b, [1]), ints(b, [2])]),
    ],
  });
  await checkGradients({
    inputs: {
      d: { shape: [3, 5], declared: ['N', 'T'] },
      st: { shape: [1], dtype: 'int64', values: [1] },
    },
    params: { w: { shape: [1, 5] } },
    build: (b) => {
      const x = b.op('Mul', ['d', 'w']);
      return [
        b.op('Slice', [x, ints(b, [0, 2]), ints(b, [2, 4])]),
        b.op('Slice', [x, ints(b, [1]), ints(b, [Number.MAX_SAFE_INTEGER]), ints(b, [1])]),
        b.op('Slice', [x, 'st', ints(b, [4]), ints(b, [-1])]),
      ];
    },
  });
});

test('Gather: embeddings (axis 0, repeated and negative ids) and axis 1', async () => {
  const r = await checkGradients({
    inputs: { ids: { shape: [2, 3], dtype: 'int64', values: [0, 4, 2, 4, -1, 0] } },
    params: { table: { shape: [5, 3] } },
    build: (b) => b.op('Gather', ['table', 'ids']),
  });
  assert.ok(r.model.graph.nodes.some((n) => n.opType === 'ScatterND'));
  await checkGradients({
    inputs: { ids: { shape: [4], dtype: 'int64', values: [2, 0, 2, -1] } },
    params: { x: { shape: [3, 4, 2] } },
    build: (b) => b.op('Gather', ['x', 'ids'], { axis: attr.int(1) }),
  });
});

for (const [op, attrs, opset, dtype] of [
  ['Erf', {}, 17, 'float32'],
  ['HardSigmoid', { alpha: attr.float(0.25), beta: attr.float(0.4) }, 17, 'float32'],
  ['HardSwish', {}, 17, 'float32'],
  ['Gelu', {}, 20, 'float32'],
  ['Gelu', { approximate: attr.string('tanh') }, 20, 'float32'],
] as const) {
  test(`${op} ${JSON.stringify(attrs)} matches finite differences`, async () => {
    const values = Array.from({ length: 24 }, (_, i) => -4.15 + i * 0.37);
    await checkGradients({
      dtype,
      opset,
      params: { x: { shape: [4, 6], values } },
      build: (b) => b.op(op, ['x'], attrs),
    });
  });
}

test('Cast float->float and Split with a missing output gradient', async () => {
  await checkGradients({
    dtype: 'float32',
    params: { x: { shape: [3, 4] } },
    build: (b) => {
      const d = b.op('Cast', ['x'], { to: attr.int(11) });
      const back = b.op('Cast', [b.op('Mul', [d, d])], { to: attr.int(1) });
      const [p, , r] = b.node('Split', ['x', ints(b, [1, 2, 1])], { axis: attr.int(1) }, { outputs: 3 });
      return [back, b.op('Mul', [p!, r!])];
    },
  });
});
