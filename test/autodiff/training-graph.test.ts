/** The training-graph builder: contract, accumulation, constants, errors; and the losses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDistillationLoss,
  addMeanSquaredError,
  addSoftmaxCrossEntropy,
  buildTrainingGraph,
} from '../../src/autodiff/index.js';
import { isGraftError } from '../../src/errors.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { checkGradients, makeTensor } from './fd.js';

const f32 = (shape: number[], values: number[]) => makeTensor('float32', shape, values);

test('contract: params become inputs, outputs are loss, gradients, extras; frozen weights stay initializers', async () => {
  const b = new GraphBuilder('g');
  b.input('x', 'float32', ['N', 2]);
  b.initializer('w', f32([2, 2], [1, 2, 3, 4]));
  b.initializer('frozen', f32([2], [0.5, -0.5]));
  const y = b.op('Add', [b.op('MatMul', ['x', 'w']), 'frozen']);
  const loss = b.op('ReduceSum', [b.op('Mul', [y, y])], { keepdims: attr.int(0) });
  b.output(loss);
  const tg = buildTrainingGraph(createModel(b.graph), { params: ['w'], loss, extraOutputs: [y] });
  const g = tg.model.graph;
  assert.deepEqual(
    g.inputs.map((v) => v.name),
    ['x', 'w'],
  );
  assert.ok(g.initializers.has('frozen') && !g.initializers.has('w'));
  assert.deepEqual(
    g.outputs.map((v) => v.name),
    [loss, tg.gradients.w, y],
  );
  assert.equal(tg.loss, loss);
  assert.deepEqual(tg.params, ['w']);
  // The input model is untouched.
  assert.ok(b.graph.initializers.has('w'));
  const open = buildTrainingGraph(createModel(b.graph), { params: ['w'], loss, frozenAsInitializers: false });
  assert.deepEqual(
    open.model.graph.inputs.map((v) => v.name),
    ['x', 'w', 'frozen'],
  );
  const s = await Session.create(tg.model, { threads: 1 });
  const out = await s.run({ x: f32([1, 2], [1, 1]), w: f32([2, 2], [1, 2, 3, 4]) });
  // y = [4.5, 5.5]; dL/dw = x^T 2y
  assert.deepEqual(Array.from(out[tg.gradients.w!]!.data as Float32Array), [9, 11, 9, 11]);
  await s.release();
});

test('a param used twice accumulates, an unused param gets zeros, constant subgraphs are skipped', async () => {
  await checkGradients({
    inputs: { x: { shape: [3, 4], declared: ['N', 4] } },
    params: { w: { shape: [4, 4] }, unused: { shape: [2] } },
    build: (b) => {
      const h = b.op('Tanh', [b.op('MatMul', ['x', 'w'])]);
      const again = b.op('MatMul', [h, 'w']);
      // Shape arithmetic on an active value is a constant: Reshape(h, Shape(again)).
      const shaped = b.op('Reshape', [h, b.op('Shape', [again])]);
      return b.op('Mul', [again, shaped]);
    },
  });
});

test('an op without a rule on the path is UNSUPPORTED_OP naming the node; off the path it is fine', () => {
  const b = new GraphBuilder('g');
  b.initializer('w', f32([3], [1, 2, 3]));
  const t = b.op('TopK', ['w', b.constant('k', makeTensor('int64', [1], [2]))], {}, { name: 'my_topk' });
  const loss = b.op('ReduceSum', [t], { keepdims: attr.int(0) });
  assert.throws(
    () => buildTrainingGraph(createModel(b.graph), { params: ['w'], loss }),
    (e: unknown) => isGraftError(e, 'UNSUPPORTED_OP') && /TopK/.test(e.message) && /my_topk/.test(e.message),
  );
  const b2 = new GraphBuilder('g');
  b2.initializer('w', f32([3], [1, 2, 3]));
  b2.input('x', 'float32', [3]);
  const side = b2.op('TopK', ['x', b2.constant('k', makeTensor('int64', [1], [2]))]);
  const l2 = b2.op('ReduceSum', [b2.op('Mul', ['w', b2.op('ReduceMax', [side])])], { keepdims: attr.int(0) });
  assert.doesNotThrow(() => buildTrainingGraph(createModel(b2.graph), { params: ['w'], loss: l2 }));
});

test('bad options are BAD_OPTION', () => {
  const b = new GraphBuilder('g');
  b.input('x', 'float32', [2]);
  b.initializer('w', f32([2], [1, 2]));
  const loss = b.op('ReduceSum', [b.op('Mul', ['x', 'w'])], { keepdims: attr.int(0) });
  const m = createModel(b.graph);
  for (const opts of [
    { params: ['nope'], loss },
    { params: ['w'], loss: 'nope' },
    { params: ['w', 'w'], loss },
  ]) {
    assert.throws(
      () => buildTrainingGraph(m, opts),
      (e: unknown) => isGraftError(e, 'BAD_OPTION'),
    );
  }
});

test('softmax cross-entropy (smoothing, weights, sum) matches finite differences, fused and generic', async () => {
  for (const fused of [true, false]) {
    for (const options of [
      {},
      { labelSmoothing: 0.2, classWeights: [1, 3, 0.5, 2] },
      { reduction: 'sum' as const },
    ]) {
      await checkGradients({
        inputs: { labels: { shape: [5], declared: ['N'], dtype: 'int64', values: [0, 3, 1, 1, 2] } },
        params: { z: { shape: [5, 4] } },
        build: (b) => addSoftmaxCrossEntropy(b, 'z', 'labels', 4, options),
        training: { fused },
      });
    }
  }
});

test('the fused cross-entropy gradient replaces the generic chain', () => {
  const b = new GraphBuilder('g');
  b.initializer('z', f32([2, 3], [1, 2, 3, 4, 5, 6]));
  b.input('labels', 'int64', [2]);
  const loss = addSoftmaxCrossEntropy(b, 'z', 'labels', 3, { labelSmoothing: 0.1 });
  const m = createModel(b.graph);
  const fused = buildTrainingGraph(m, { params: ['z'], loss });
  const generic = buildTrainingGraph(m, { params: ['z'], loss, fused: false });
  assert.ok(fused.model.graph.nodes.length < generic.model.graph.nodes.length);
});

test('mean squared error and distillation losses match finite differences', async () => {
  await checkGradients({
    inputs: { t: { shape: [3, 2] } },
    params: { p: { shape: [3, 2] } },
    build: (b) => [addMeanSquaredError(b, 'p', 't'), addMeanSquaredError(b, 'p', 't', { reduction: 'sum' })],
  });
  await checkGradients({
    inputs: { probs: { shape: [2, 3], values: [0.2, 0.3, 0.5, 0, 0.9, 0.1] } },
    params: { s: { shape: [2, 3] } },
    build: (b) => addDistillationLoss(b, 's', 'probs', 2.5),
  });
});

test('distillation loss value is T^2 * batch-mean KL', async () => {
  const b = new GraphBuilder('g');
  b.input('s', 'float64', [1, 2]);
  b.input('p', 'float64', [1, 2]);
  const loss = addDistillationLoss(b, 's', 'p', 2);
  b.output(loss);
  const s = await Session.create(createModel(b.graph), { threads: 1 });
  const out = await s.run({
    s: makeTensor('float64', [1, 2], [0, 2]),
    p: makeTensor('float64', [1, 2], [0.25, 0.75]),
  });
  const q = [1 / (1 + Math.E), Math.E / (1 + Math.E)];
  const kl = 0.25 * Math.log(0.25 / q[0]!) + 0.75 * Math.log(0.75 / q[1]!);
  assert.ok(Math.abs(Number(out[loss]!.data[0]) - 4 * kl) < 1e-12);
  await s.release();
});
