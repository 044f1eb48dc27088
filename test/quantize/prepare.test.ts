/** Pre-processing keeps the function: Pad → Conv → BatchNormalization → Clip before and after, in ONNX Runtime. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Model } from '../../src/onnx/ir.js';
import { isZeroFloorActivation } from '../../src/quantize/ops.js';
import { prepareForQuantization } from '../../src/quantize/prepare.js';
import { Session } from '../../src/runtime/session.js';
import { float32, int64 } from '../../src/tensor.js';

const values = (n: number, seed: number, scale = 1) =>
  Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);

function model(): Model {
  const b = new GraphBuilder('pad_conv_bn');
  b.input('x', 'float32', ['batch', 2, 5, 5]);
  const pads = b.constant('pads', int64([8], [0, 0, 0, 0, 0, 0, 1, 1]));
  const padded = b.op('Pad', ['x', pads], { mode: attr.string('constant') });
  const w = b.constant('w', float32([3, 2, 3, 3], values(54, 1, 0.5)));
  const y = b.op('Conv', [padded, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 0, 0]) });
  const bn = b.op('BatchNormalization', [
    y,
    b.constant('gamma', float32([3], [1.5, 0.5, 2])),
    b.constant('beta', float32([3], [0.1, -0.2, 0.3])),
    b.constant('mean', float32([3], [0.05, -0.1, 0.2])),
    b.constant('var', float32([3], [0.5, 2, 0.01])),
  ]);
  b.node(
    'Clip',
    [bn, b.constant('lo', float32([], [0])), b.constant('hi', float32([], [6]))],
    {},
    {
      outputs: ['out'],
    },
  );
  b.output('out', 'float32', ['batch', 3, 5, 5]);
  return createModel(b.graph, 17);
}

test('BN, constant arithmetic and the zero Pad fold away without changing the output', async () => {
  const original = model();
  const { model: prepared, report } = await prepareForQuantization(original);
  assert.equal(report.foldedBatchNorms, 1);
  assert.equal(report.mergedPads, 1);
  assert.ok(report.foldedConstants > 0);
  const ops = prepared.graph.nodes.map((n) => n.opType);
  assert.deepEqual(ops, ['Conv', 'Clip']);
  const conv = prepared.graph.nodes[0]!;
  assert.ok(
    prepared.graph.initializers.has(conv.inputs[1]!) && prepared.graph.initializers.has(conv.inputs[2]!),
  );
  assert.equal(original.graph.nodes.length, 4, 'the original model is left as it was');

  const x = float32([2, 2, 5, 5], values(100, 7, 2));
  const run = async (m: Model) => {
    const s = await Session.create(m, { threads: 1 });
    const out = (await s.run({ x }))['out']!.data as Float32Array;
    await s.release();
    return out;
  };
  const a = await run(original);
  const b = await run(prepared);
  assert.ok(
    a.some((v) => v > 0 && v < 6),
    'the Clip is not saturated everywhere',
  );
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `${i}: ${a[i]} vs ${b[i]}`);
});

test('Constant nodes become initializers, so a ReLU6 exported by PyTorch (Clip bounds as Constant nodes) is absorbable', async () => {
  const b = new GraphBuilder('conv_relu6');
  b.input('x', 'float32', ['batch', 2, 5, 5]);
  const w = b.constant('w', float32([3, 2, 3, 3], values(54, 2, 0.5)));
  const y = b.op('Conv', ['x', w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  const lo = b.op('Constant', [], { value: attr.tensor(float32([], [0])) });
  const hi = b.op('Constant', [], { value: attr.tensor(float32([], [6])) });
  b.node('Clip', [y, lo, hi], {}, { outputs: ['out'] });
  b.output('out', 'float32', ['batch', 3, 5, 5]);
  const original = createModel(b.graph, 17);
  const clipBefore = original.graph.nodes.find((n) => n.opType === 'Clip')!;
  assert.equal(
    isZeroFloorActivation(clipBefore, original.graph),
    false,
    'not recognised from Constant nodes',
  );
  const { model: prepared } = await prepareForQuantization(original);
  assert.deepEqual(
    prepared.graph.nodes.map((n) => n.opType),
    ['Conv', 'Clip'],
  );
  const clip = prepared.graph.nodes[1]!;
  assert.ok(clip.inputs.slice(1).every((i) => prepared.graph.initializers.has(i)));
  assert.equal(isZeroFloorActivation(clip, prepared.graph), true);
});

/** Pool (3×3, stride 1, padded) → 1×1 Conv with bias → Relu; `countPad` sets count_include_pad. */
function poolThenPointwise(countPad: number): Model {
  const b = new GraphBuilder('pool_conv');
  b.input('x', 'float32', ['batch', 6, 5, 5]);
  const pooled = b.op('AveragePool', ['x'], {
    kernel_shape: attr.ints([3, 3]),
    strides: attr.ints([1, 1]),
    pads: attr.ints([1, 1, 1, 1]),
    ...(countPad ? { count_include_pad: attr.int(countPad) } : {}),
  });
  const w = b.constant('w', float32([2, 6, 1, 1], values(12, 3)));
  const bias = b.constant('bias', float32([2], [0.7, -0.4]));
  const y = b.op('Conv', [pooled, w, bias], { kernel_shape: attr.ints([1, 1]) });
  b.node('Relu', [y], {}, { outputs: ['out'] });
  b.output('out', 'float32', ['batch', 2, 5, 5]);
  return createModel(b.graph, 17);
}

test('an average pool moves after the pointwise Conv that reads it, with the same output; not where padding counts', async () => {
  const x = float32([2, 6, 5, 5], values(300, 9, 2));
  const run = async (m: Model) => {
    const s = await Session.create(m, { threads: 1 });
    const out = (await s.run({ x }))['out']!.data as Float32Array;
    await s.release();
    return out;
  };
  const original = poolThenPointwise(0);
  const { model: prepared, report } = await prepareForQuantization(original);
  assert.equal(report.movedPools, 1);
  assert.deepEqual(
    prepared.graph.nodes.map((n) => n.opType),
    ['Conv', 'AveragePool', 'Relu'],
  );
  const pool = prepared.graph.nodes[1]!;
  assert.equal(
    pool.inputs[0],
    prepared.graph.nodes[0]!.outputs[0],
    'the pool reads the Conv (2 channels, not 6)',
  );
  const a = await run(original);
  const b = await run(prepared);
  assert.ok(
    a.some((v) => v > 0) && a.some((v) => v === 0),
    'the Relu is active somewhere and not everywhere',
  );
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `${i}: ${a[i]} vs ${b[i]}`);

  // counting the padded zeros would average the bias with zeros at the border: left where it is
  const counted = await prepareForQuantization(poolThenPointwise(1));
  assert.equal(counted.report.movedPools, 0);
  assert.deepEqual(
    counted.model.graph.nodes.map((n) => n.opType),
    ['AveragePool', 'Conv', 'Relu'],
  );
});
