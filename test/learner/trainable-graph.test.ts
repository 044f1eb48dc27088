/**
 * TrainableGraph on a softmax regression with one buffer: gradients against the closed form
 * (Xᵀ(P − Y)/n, computed here in float64), the buffer's update rule, overrides, and input errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addSoftmaxCrossEntropy, buildTrainingGraph } from '../../src/autodiff/index.js';
import { GraftError } from '../../src/errors.js';
import { LABELS, TrainableGraph } from '../../src/learner/trainable-graph.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { float32 } from '../../src/tensor.js';

const D = 3;
const C = 2;

function graphs() {
  const b = new GraphBuilder('t');
  b.input('features', 'float32', ['batch', D]);
  b.initializer('w', float32([D, C]));
  b.initializer('b', float32([C]));
  b.input('running', 'float32', [D]);
  const logits = b.op('Gemm', ['features', 'w', 'b']);
  // running ← ½·running + ½·mean over the batch (a BN-style buffer the optimizer never touches)
  const half = b.constant('half', float32([], [0.5]));
  const mean = b.op('ReduceMean', ['features'], { axes: attr.ints([0]), keepdims: attr.int(0) });
  b.op('Add', [b.op('Mul', ['running', half]), b.op('Mul', [mean, half])], {}, { outputs: ['running:new'] });
  const labels = b.input(LABELS, 'int64', ['batch']);
  const loss = addSoftmaxCrossEntropy(b, logits, labels, C);
  b.output(loss, 'float32', []);
  const training = buildTrainingGraph(createModel(b.graph), {
    params: ['w', 'b'],
    loss,
    extraOutputs: ['running:new'],
  });
  const ib = new GraphBuilder('i');
  ib.input('features', 'float32', ['batch', D]);
  ib.input('w', 'float32', [D, C]);
  ib.input('b', 'float32', [C]);
  ib.op('Softmax', [ib.op('Gemm', ['features', 'w', 'b'])], { axis: attr.int(-1) }, { outputs: ['p'] });
  ib.output('p', 'float32', ['batch', C]);
  return { training, inference: createModel(ib.graph) };
}

const X = Float32Array.from([0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5, 0.1, 0.2, 0.3]);
const Y = Int32Array.from([0, 1, 1, 0]);
const N = Y.length;

test('TrainableGraph: gradients, buffer updates, overrides and inputs', async () => {
  const { training, inference } = graphs();
  const params = new Map([
    ['w', Float32Array.from([0.1, -0.2, 0.3, 0.05, -0.4, 0.2])],
    ['b', Float32Array.from([0.01, -0.02])],
    ['running', Float32Array.from([1, 2, 3])],
  ]);
  const w = params.get('w')!;
  const graph = await TrainableGraph.create({
    training,
    inference,
    probabilities: 'p',
    params,
    inputs: ['features'],
    buffers: [['running', 'running:new']],
  });
  try {
    const batch = { inputs: { features: float32([N, D], X) }, labels: Y };
    // closed form in float64
    const gw = new Float64Array(D * C);
    const gb = new Float64Array(C);
    let loss = 0;
    for (let i = 0; i < N; i++) {
      const z = [0, 1].map(
        (k) => params.get('b')![k]! + [0, 1, 2].reduce((s, j) => s + X[i * D + j]! * w[j * C + k]!, 0),
      );
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e[0]! + e[1]!;
      loss -= Math.log(e[Y[i]!]! / sum) / N;
      for (let k = 0; k < C; k++) {
        const r = (e[k]! / sum - (Y[i] === k ? 1 : 0)) / N;
        gb[k]! += r;
        for (let j = 0; j < D; j++) gw[j * C + k]! += X[i * D + j]! * r;
      }
    }
    const probsBefore = await graph.predictProbs(batch.inputs);
    const out = await graph.computeGradients(batch);
    assert.ok(Math.abs(out.loss - loss) < 1e-6, `loss ${out.loss} vs ${loss}`);
    assert.deepEqual([...out.gradients.keys()].sort(), ['b', 'w']);
    out.gradients.get('w')!.forEach((g, i) => assert.ok(Math.abs(g - gw[i]!) < 1e-6, `dw[${i}]`));
    out.gradients.get('b')!.forEach((g, i) => assert.ok(Math.abs(g - gb[i]!) < 1e-6, `db[${i}]`));
    // the buffer moved half-way to the batch mean, in the caller's own array
    const running = params.get('running')!;
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += X[i * D + j]!;
      assert.ok(Math.abs(running[j]! - (0.5 * (j + 1) + (0.5 * s) / N)) < 1e-6);
    }
    // parameters are fed at run time: changing one changes the next prediction without a rebuild
    w.fill(0);
    params.get('b')!.fill(0);
    const flat = await graph.predictProbs(batch.inputs);
    assert.ok(flat.every((p) => Math.abs(p - 0.5) < 1e-7));
    assert.notDeepEqual([...probsBefore], [...flat]);
    // overrides replace values for one run and write nothing back
    const before = Float32Array.from(running);
    const r = await graph.runTraining(batch, ['running:new'], new Map([['running', new Float32Array(D)]]));
    const fresh = r['running:new']!.data as Float32Array;
    assert.ok(Math.abs(fresh[0]! - (0.5 * (0.5 + 1.5 - 2 + 0.1)) / N) < 1e-6);
    assert.deepEqual([...running], [...before]);
    // a single-input graph takes a batch's only tensor; two unnamed ones are refused
    await graph.predictProbs({ x: float32([1, D]) });
    await assert.rejects(
      graph.predictProbs({ x: float32([1, D]), y: float32([1, D]) }),
      (e: unknown) => e instanceof GraftError && e.code === 'BAD_INPUT' && /'features'/.test(e.message),
    );
  } finally {
    await graph.release();
  }
});
