/** Finite-difference checks (float64 graphs) for the head rules: arithmetic, activations, linalg, shapes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr } from '../../src/onnx/builder.js';
import { checkGradients } from './fd.js';

const unary = (op: string, kind: 'normal' | 'positive' | 'away' = 'away', attrs = {}): void => {
  test(`${op} gradient matches finite differences`, async () => {
    await checkGradients({ params: { x: { shape: [3, 4], kind } }, build: (b) => b.op(op, ['x'], attrs) });
  });
};

unary('Relu');
unary('LeakyRelu', 'away', { alpha: attr.float(0.1) });
unary('Sigmoid', 'normal');
unary('Tanh', 'normal');
unary('Exp', 'normal');
unary('Log', 'positive');
unary('Sqrt', 'positive');
unary('Neg', 'normal');
unary('Identity', 'normal');
unary('Softmax', 'normal', { axis: attr.int(1) });
unary('LogSoftmax', 'normal', { axis: attr.int(-1) });
unary('Softmax', 'normal', { axis: attr.int(0) });

test('Softmax/LogSoftmax in opset 11 (coerced to 2-D) match finite differences', async () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    await checkGradients({
      opset: 11,
      params: { x: { shape: [2, 3, 4] } },
      build: (b) => b.op(op, ['x'], { axis: attr.int(1) }),
    });
  }
});

test('Clip (ReLU6 and one-sided) matches finite differences', async () => {
  await checkGradients({
    params: { x: { shape: [4, 5], values: Array.from({ length: 20 }, (_, i) => -2.05 + i * 0.5) } },
    build: (b, dt) => {
      const lo = b.constant(
        'lo',
        dt === 'float64'
          ? { dtype: dt, shape: [], data: Float64Array.of(0) }
          : { dtype: dt, shape: [], data: Float32Array.of(0) },
      );
      const hi = b.constant('hi', { dtype: 'float64', shape: [], data: Float64Array.of(6) });
      return [b.op('Clip', ['x', lo, hi]), b.op('Clip', ['x', '', hi]), b.op('Clip', ['x', lo])];
    },
  });
});

const binaryShapes: [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[3, 4], [4]],
  [
    [3, 1],
    [1, 4],
  ],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [[], [2, 3]],
];
for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
  test(`${op} with broadcasting matches finite differences`, async () => {
    for (const [sa, sb] of binaryShapes) {
      await checkGradients({
        params: {
          a: { shape: sa, kind: 'away' },
          b: { shape: sb, kind: op === 'Div' ? 'positive' : 'normal' },
        },
        build: (b) => b.op(op, ['a', 'b']),
      });
    }
  });
}

test('broadcasting with a symbolic batch dim (dynamic reduction path)', async () => {
  await checkGradients({
    inputs: { x: { shape: [3, 1, 4], declared: ['N', 1, 4] } },
    params: { w: { shape: [5, 1] }, v: { shape: [1, 5, 4] } },
    build: (b) => {
      const t = b.op('Mul', ['x', 'w']); // [N,5,4], unknown N
      const u = b.op('Relu', [b.op('Sub', [t, 'v'])]);
      return b.op('Add', [u, b.op('Tanh', [u])]);
    },
  });
});

test('Pow with a constant exponent (and wrt the exponent) matches finite differences', async () => {
  await checkGradients({
    params: { x: { shape: [3, 4], kind: 'positive' } },
    build: (b, dt) => {
      const e3 = b.constant('e', {
        dtype: dt,
        shape: [],
        data: dt === 'float64' ? Float64Array.of(3) : Float32Array.of(3),
      });
      return [
        b.op('Pow', ['x', e3]),
        b.op('Pow', ['x', b.constant('h', { dtype: dt, shape: [], data: Float64Array.of(0.5) })]),
      ];
    },
  });
  await checkGradients({
    params: { x: { shape: [3, 4], kind: 'positive' }, p: { shape: [4] } },
    build: (b) => b.op('Pow', ['x', 'p']),
  });
});

test('Gemm with every transA/transB, alpha, beta and broadcast C', async () => {
  for (const ta of [0, 1]) {
    for (const tb of [0, 1]) {
      for (const cShape of [[5], [3, 5], [1, 5], [3, 1], []]) {
        await checkGradients({
          params: {
            a: { shape: ta ? [4, 3] : [3, 4] },
            w: { shape: tb ? [5, 4] : [4, 5] },
            c: { shape: cShape },
          },
          build: (b) =>
            b.op('Gemm', ['a', 'w', 'c'], {
              transA: attr.int(ta),
              transB: attr.int(tb),
              alpha: attr.float(0.7),
              beta: attr.float(1.3),
            }),
        });
      }
    }
  }
});

test('MatMul: 2-D, batched, broadcast batch, N-D x 2-D, and 1-D operands', async () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    [[4], [4, 5]],
    [[3, 4], [4]],
    [[4], [4]],
    [[2, 3, 4], [4]],
  ];
  for (const [sa, sb] of cases) {
    await checkGradients({
      params: { a: { shape: sa }, b: { shape: sb } },
      build: (b) => b.op('MatMul', ['a', 'b']),
    });
  }
});

test('broadcasting against values of unknown shape (dynamic reduction path)', async () => {
  for (const op of ['Add', 'Mul', 'Div']) {
    const r = await checkGradients({
      inputs: { x: { shape: [2, 3, 4] }, shp: { shape: [3], dtype: 'int64', values: [2, 3, 4] } },
      params: { w: { shape: [3, 1], kind: 'positive' }, v: { shape: [4], kind: 'positive' } },
      build: (b) => {
        const unknown = b.op('Reshape', ['x', 'shp']); // rank and dims unknown statically
        return b.op(op, [b.op(op, [unknown, 'w']), 'v']);
      },
    });
    assert.ok(r.model.graph.nodes.some((n) => n.opType === 'NonZero'));
  }
});
