/** Finite-difference checks for BatchNormalization, LayerNormalization, AveragePool and MaxPool. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr } from '../../src/onnx/builder.js';
import type { Attribute } from '../../src/onnx/ir.js';
import { checkGradients } from './fd.js';

test('BatchNormalization inference mode: dX, dScale, dBias (and running stats)', async () => {
  await checkGradients({
    params: {
      x: { shape: [2, 3, 4, 2] },
      scale: { shape: [3] },
      bias: { shape: [3] },
      mean: { shape: [3] },
      var: { shape: [3], kind: 'positive' },
    },
    build: (b) =>
      b.op('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], { epsilon: attr.float(1e-3) }),
  });
});

test('BatchNormalization training mode (batch statistics), 4-D and 2-D inputs', async () => {
  for (const shape of [
    [3, 2, 3, 2],
    [5, 3],
  ]) {
    await checkGradients({
      inputs: { mean: { shape: [shape[1]!] }, var: { shape: [shape[1]!], kind: 'positive' } },
      params: { x: { shape }, scale: { shape: [shape[1]!] }, bias: { shape: [shape[1]!] } },
      build: (b) => {
        const [y] = b.node(
          'BatchNormalization',
          ['x', 'scale', 'bias', 'mean', 'var'],
          { training_mode: attr.int(1) },
          { outputs: 3 },
        );
        return b.op('Mul', [y!, b.op('Tanh', [y!])]);
      },
    });
  }
});

test('LayerNormalization over the last axis and over the last two axes', async () => {
  for (const [axis, sshape] of [
    [-1, [4]],
    [1, [3, 4]],
  ] as const) {
    await checkGradients({
      params: { x: { shape: [2, 3, 4] }, scale: { shape: [...sshape] }, bias: { shape: [...sshape] } },
      build: (b) => {
        const y = b.op('LayerNormalization', ['x', 'scale', 'bias'], {
          axis: attr.int(axis),
          epsilon: attr.float(1e-4),
        });
        return b.op('Mul', [y, b.op('Tanh', [y])]); // (Mul+Sigmoid would be fused to a float-only QuickGelu)
      },
    });
  }
});

const avgCases: [string, number[], Record<string, Attribute>][] = [
  ['2x2 stride 2', [2, 3, 4, 6], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }],
  [
    '3x3 stride 2 pads, count_include_pad=0',
    [1, 2, 5, 6],
    { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) },
  ],
  [
    '3x3 pads, count_include_pad=1',
    [1, 2, 5, 5],
    { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 0, 1, 1]), count_include_pad: attr.int(1) },
  ],
  [
    'ceil_mode',
    [1, 2, 5, 5],
    { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) },
  ],
  ['1-D', [2, 2, 7], { kernel_shape: attr.ints([3]), strides: attr.ints([2]) }],
  ['whole input (global average: Expand adjoint)', [2, 3, 4, 5], { kernel_shape: attr.ints([4, 5]) }],
];
for (const [name, shape, attrs] of avgCases) {
  test(`AveragePool ${name} matches finite differences`, async () => {
    await checkGradients({
      dtype: 'float32',
      params: { x: { shape } },
      build: (b) => b.op('AveragePool', ['x'], attrs),
    });
  });
}

const maxCases: [string, Record<string, Attribute>, number?][] = [
  ['2x2 stride 2', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }],
  [
    '3x3 stride 2 pad 1 (overlapping)',
    { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) },
  ],
  ['2x2 stride 2, opset 13', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, 13],
];
for (const [name, attrs, opset] of maxCases) {
  test(`MaxPool ${name} matches finite differences`, async () => {
    // Distinct, well-separated values so that the arg-max does not move under the FD step.
    const values = Array.from({ length: 2 * 2 * 6 * 6 }, (_, i) => ((i * 37) % 144) / 10);
    const r = await checkGradients({
      dtype: 'float32',
      opset,
      params: { x: { shape: [2, 2, 6, 6], values } },
      build: (b) => b.op('MaxPool', ['x'], attrs),
    });
    assert.ok(r.model.graph.nodes.some((n) => n.opType === 'ScatterElements'));
  });
}
