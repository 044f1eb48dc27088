/** Finite-difference checks for Conv (float32: ONNX Runtime's Conv/ConvTranspose kernels are float-only). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr } from '../../src/onnx/builder.js';
import type { Attribute, Dim } from '../../src/onnx/ir.js';
import { checkGradients, type ParamSpec } from './fd.js';

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  attrs: Record<string, Attribute>;
  declared?: Dim[];
}

const cases: ConvCase[] = [
  {
    name: '3x3 pad 1',
    x: [2, 3, 5, 5],
    w: [4, 3, 3, 3],
    bias: true,
    attrs: { pads: attr.ints([1, 1, 1, 1]) },
  },
  {
    name: 'stride 2, asymmetric pads, dilation 2 (output_padding needed)',
    x: [2, 2, 8, 7],
    w: [3, 2, 3, 2],
    bias: true,
    attrs: { strides: attr.ints([2, 2]), pads: attr.ints([0, 1, 1, 0]), dilations: attr.ints([2, 1]) },
  },
  {
    name: 'groups=2',
    x: [2, 4, 5, 5],
    w: [6, 2, 3, 3],
    bias: true,
    attrs: { group: attr.int(2), pads: attr.ints([1, 1, 1, 1]) },
  },
  {
    name: 'depthwise stride 2',
    x: [2, 4, 7, 7],
    w: [4, 1, 3, 3],
    attrs: { group: attr.int(4), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) },
  },
  {
    name: 'depthwise stride 1 pad 1 (flipped-kernel Conv dX)',
    x: [2, 4, 6, 5],
    w: [4, 1, 3, 3],
    bias: true,
    attrs: { group: attr.int(4), pads: attr.ints([1, 1, 1, 1]) },
  },
  {
    name: 'depthwise stride 1 dilation 2, asymmetric pads',
    x: [1, 3, 7, 7],
    w: [3, 1, 3, 2],
    attrs: { group: attr.int(3), dilations: attr.ints([2, 1]), pads: attr.ints([2, 0, 1, 1]) },
  },
  {
    name: 'pointwise 1x1, many positions (MatMul per image dW)',
    x: [3, 5, 4, 3],
    w: [6, 5, 1, 1],
    bias: true,
    attrs: {},
  },
  { name: 'pointwise 1x1, many channels (Gemm dW)', x: [2, 20, 2, 2], w: [24, 20, 1, 1], attrs: {} },
  { name: 'pointwise 1-D (Gemm dW)', x: [2, 3, 7], w: [4, 3, 1], attrs: {} },
  { name: 'depthwise multiplier 2', x: [1, 3, 5, 5], w: [6, 1, 3, 3], attrs: { group: attr.int(3) } },
  {
    name: 'SAME_UPPER stride 2',
    x: [1, 2, 6, 5],
    w: [3, 2, 3, 3],
    attrs: { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2, 2]) },
  },
  { name: 'SAME_LOWER', x: [1, 2, 5, 5], w: [2, 2, 2, 2], attrs: { auto_pad: attr.string('SAME_LOWER') } },
  {
    name: 'VALID 1x1 stride 2',
    x: [2, 3, 5, 5],
    w: [4, 3, 1, 1],
    attrs: { auto_pad: attr.string('VALID'), strides: attr.ints([2, 2]) },
  },
  {
    name: '1-D',
    x: [2, 3, 9],
    w: [2, 3, 3],
    bias: true,
    attrs: { strides: attr.ints([2]), pads: attr.ints([1, 0]) },
  },
  {
    name: 'symbolic batch and spatial dims (dynamic crop)',
    x: [2, 2, 8, 7],
    w: [3, 2, 3, 3],
    bias: true,
    attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 0, 0, 1]) },
    declared: ['N', 2, 'H', 'W'],
  },
  {
    name: 'grouped with symbolic dims',
    x: [2, 4, 6, 5],
    w: [4, 2, 3, 3],
    attrs: { group: attr.int(2), strides: attr.ints([2, 1]), pads: attr.ints([1, 1, 1, 1]) },
    declared: ['N', 4, 'H', 'W'],
  },
];

for (const c of cases) {
  test(`Conv ${c.name}: dX, dW, dB match finite differences`, async () => {
    // With symbolic dims x is a data input scaled by a param, so dX still flows (through the dynamic crop).
    const params: Record<string, ParamSpec> = { w: { shape: c.w } };
    if (c.bias) params.bias = { shape: [c.w[0]!] };
    if (c.declared) params.p = { shape: [1, c.x[1]!, ...c.x.slice(2).map(() => 1)] };
    else params.x = { shape: c.x };
    const r = await checkGradients({
      dtype: 'float32',
      inputs: c.declared ? { x: { shape: c.x, declared: c.declared } } : undefined,
      params,
      build: (b) => {
        const x = c.declared ? b.op('Mul', ['x', 'p']) : 'x';
        const out = b.op('Conv', [x, 'w', ...(c.bias ? ['bias'] : [])], c.attrs);
        return c.declared ? b.op('Mul', [out, out]) : out;
      },
    });
    assert.ok(r.maxError < 1e-2);
    console.log(`# Conv ${c.name}: max rel error ${r.maxError.toExponential(1)} (float32)`);
  });
}

test('Conv with a data input as x emits no dX', async () => {
  const r = await checkGradients({
    dtype: 'float32',
    inputs: { x: { shape: [1, 2, 4, 4] } },
    params: { w: { shape: [2, 2, 3, 3] } },
    build: (b) => b.op('Conv', ['x', 'w']),
  });
  assert.ok(!r.model.graph.nodes.some((n) => n.opType === 'ConvTranspose'));
});

test('depthwise stride 1 and pointwise Conv use the fast formulations', async () => {
  const r = await checkGradients({
    dtype: 'float32',
    params: { x: { shape: [2, 4, 5, 5] }, w: { shape: [4, 1, 3, 3] }, v: { shape: [3, 4, 1, 1] } },
    build: (b) => {
      const d = b.op('Conv', ['x', 'w'], { group: attr.int(4), pads: attr.ints([1, 1, 1, 1]) });
      return b.op('Conv', [d, 'v']);
    },
  });
  assert.ok(r.maxError < 1e-2);
  const ops = r.model.graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('MatMul') && !ops.includes('Gemm'), 'v: 12 weights, 25 positions: MatMul per image');
  assert.equal(ops.filter((o) => o === 'ConvTranspose').length, 0);
  // the pointwise dX: a Conv whose weight is v with its channel axes swapped
  const nodes = r.model.graph.nodes;
  const vt = nodes.find((n) => n.opType === 'Transpose' && n.inputs[0] === 'v');
  assert.ok(vt && nodes.some((n) => n.opType === 'Conv' && n.inputs[1] === vt.outputs[0]));
});

test('a pointwise Conv with more weights than channels × positions takes dW as one Gemm', async () => {
  const r = await checkGradients({
    dtype: 'float32',
    params: { x: { shape: [2, 20, 2, 2] }, v: { shape: [24, 20, 1, 1] } },
    build: (b) => b.op('Conv', ['x', 'v']),
  });
  assert.ok(r.maxError < 1e-2);
  const ops = r.model.graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('Gemm') && !ops.includes('MatMul'));
});
