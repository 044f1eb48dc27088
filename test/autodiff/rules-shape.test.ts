/** Finite-difference checks for data movement, reductions and dropout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTrainingGraph } from '../../src/autodiff/index.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { checkGradients } from './fd.js';

const ints = (b: GraphBuilder, v: number[]): string =>
  b.constant('i', { dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v, BigInt) });

test('Flatten, Reshape, Squeeze, Unsqueeze, Identity, Transpose', async () => {
  await checkGradients({
    params: { x: { shape: [2, 3, 4] } },
    build: (b) => [
      b.op('Flatten', ['x'], { axis: attr.int(2) }),
      b.op('Reshape', ['x', ints(b, [4, -1])]),
      b.op('Unsqueeze', ['x', ints(b, [0, -1])]),
      b.op('Squeeze', [b.op('Unsqueeze', ['x', ints(b, [1])]), ints(b, [1])]),
      b.op('Transpose', ['x'], { perm: attr.ints([2, 0, 1]) }),
      b.op('Transpose', ['x']),
    ],
  });
});

test('Squeeze/Unsqueeze/ReduceSum in opset 11 (axes as attributes)', async () => {
  await checkGradients({
    opset: 11,
    declareOutputShapes: true,
    params: { x: { shape: [2, 3, 4] } },
    build: (b) => [
      b.op('Unsqueeze', ['x'], { axes: attr.ints([1]) }),
      b.op('ReduceSum', ['x'], { axes: attr.ints([1]), keepdims: attr.int(0) }),
      b.op('ReduceMean', ['x'], { axes: attr.ints([-1]) }),
    ],
  });
});

test('Concat and Split (static extents and a symbolic batch dim)', async () => {
  await checkGradients({
    inputs: { d: { shape: [2, 3], declared: ['N', 3] } },
    params: { a: { shape: [2, 2] }, c: { shape: [2, 5] } },
    build: (b) => {
      const cat = b.op('Concat', ['a', 'd', 'c'], { axis: attr.int(-1) });
      const [p, q] = b.node(
        'Split',
        [b.op('Tanh', [cat]), ints(b, [4, 6])],
        { axis: attr.int(1) },
        { outputs: 2 },
      );
      return [cat, b.op('Mul', [p!, p!])].concat(q ? [] : []);
    },
  });
  await checkGradients({
    inputs: { d: { shape: [3, 2], declared: ['N', 2] } },
    params: { a: { shape: [1, 2] } },
    build: (b) => b.op('Concat', ['a', 'd', 'a'], { axis: attr.int(0) }),
  });
});

test('ReduceSum and ReduceMean: axes, keepdims, all axes, noop', async () => {
  await checkGradients({
    params: { x: { shape: [2, 3, 4] } },
    build: (b) => [
      b.op('ReduceSum', ['x', ints(b, [1])], { keepdims: attr.int(0) }),
      b.op('ReduceSum', ['x', ints(b, [0, -1])]),
      b.op('ReduceSum', ['x'], { keepdims: attr.int(0) }),
      b.op('ReduceSum', ['x', ints(b, [])], { noop_with_empty_axes: attr.int(1) }),
      b.op('ReduceMean', ['x'], { axes: attr.ints([2]), keepdims: attr.int(0) }),
      b.op('ReduceMean', ['x']),
    ],
  });
  await checkGradients({
    opset: 18,
    params: { x: { shape: [2, 3, 4] } },
    build: (b) => [b.op('ReduceMean', ['x', ints(b, [0, 2])], { keepdims: attr.int(0) })],
  });
});

test('GlobalAveragePool and Expand', async () => {
  await checkGradients({
    dtype: 'float32', // ONNX Runtime has no float64 GlobalAveragePool
    params: { x: { shape: [2, 3, 4, 5] }, v: { shape: [3, 1] } },
    build: (b) => [b.op('GlobalAveragePool', ['x']), b.op('Expand', ['v', ints(b, [2, 3, 4])])],
  });
});

test('Dropout (training mode) backward uses the forward mask and the 1/(1-p) scale', async () => {
  const b = new GraphBuilder('drop');
  b.initializer('x', {
    dtype: 'float32',
    shape: [4, 50],
    data: Float32Array.from({ length: 200 }, (_, i) => i / 7),
  });
  const ratio = b.constant('r', { dtype: 'float32', shape: [], data: Float32Array.of(0.25) });
  const on = b.constant('t', { dtype: 'bool', shape: [], data: Uint8Array.of(1) });
  const y = b.op('Dropout', ['x', ratio, on], { seed: attr.int(7) });
  const loss = b.op('ReduceSum', [b.op('Mul', [y, y])], { keepdims: attr.int(0) });
  const tg = buildTrainingGraph(createModel(b.graph), { params: ['x'], loss, extraOutputs: [y] });
  const s = await Session.create(tg.model, { threads: 1 });
  const out = await s.run({ x: b.graph.initializers.get('x')! });
  const yv = out[y]!.data as Float32Array;
  const gx = out[tg.gradients.x!]!.data as Float32Array;
  let dropped = 0;
  for (let i = 0; i < 200; i++) {
    const x = i / 7;
    const kept = yv[i] !== 0 || x === 0;
    if (!kept) dropped++;
    // y = x * mask / (1 - p); dL/dx = 2 y * mask / (1 - p)
    const want = kept ? (2 * yv[i]!) / 0.75 : 0;
    assert.ok(
      Math.abs(gx[i]! - want) <= 1e-4 * Math.max(1, Math.abs(want)),
      `element ${i}: ${gx[i]} vs ${want}`,
    );
  }
  assert.ok(dropped > 20 && dropped < 80, `about a quarter dropped, got ${dropped}`);
  await s.release();
});

test('Dropout in inference mode is the identity for gradients', async () => {
  await checkGradients({ params: { x: { shape: [3, 4] } }, build: (b) => b.op('Dropout', ['x']) });
});
