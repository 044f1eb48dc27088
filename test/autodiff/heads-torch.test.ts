/**
 * Whole heads against PyTorch autograd (fixture from test/fixtures/torch/make_head_grads.py):
 * Flatten -> Gemm(1024) -> Relu -> Gemm(5) -> softmax cross-entropy (label smoothing 0.1, class weights),
 * and the linear head, each in float64 and float32, with the fused and the generic loss gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addSoftmaxCrossEntropy, buildTrainingGraph } from '../../src/autodiff/index.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor.js';
import { makeTensor, type FloatDType } from './fd.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface Fixture {
  x: Arr;
  labels: number[];
  numClasses: number;
  mlp: {
    labelSmoothing: number;
    classWeights: number[];
    params: Record<string, Arr>;
    loss: number;
    grads: Record<string, number[]>;
  };
  linear: { params: Record<string, Arr>; loss: number; grads: Record<string, number[]> };
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch/head_grads.json', import.meta.url), 'utf8'),
) as Fixture;

async function runHead(
  kind: 'mlp' | 'linear',
  dtype: FloatDType,
  fused: boolean,
): Promise<Record<string, number>> {
  const spec = fixture[kind];
  const b = new GraphBuilder(kind);
  b.input('x', dtype, ['N', ...fixture.x.shape.slice(1)]);
  b.input('labels', 'int64', ['N']);
  for (const [name, p] of Object.entries(spec.params))
    b.initializer(name, makeTensor(dtype, p.shape, p.data));
  const flat = b.op('Flatten', ['x']);
  let logits: string;
  let loss: string;
  if (kind === 'mlp') {
    const h = b.op('Relu', [b.op('Gemm', [flat, 'w1', 'b1'], { transB: attr.int(1) })]);
    logits = b.op('Gemm', [h, 'w2', 'b2'], { transB: attr.int(1) });
    loss = addSoftmaxCrossEntropy(b, logits, 'labels', fixture.numClasses, {
      labelSmoothing: fixture.mlp.labelSmoothing,
      classWeights: fixture.mlp.classWeights,
    });
  } else {
    logits = b.op('Gemm', [flat, 'w', 'b']);
    loss = addSoftmaxCrossEntropy(b, logits, 'labels', fixture.numClasses);
  }
  const params = Object.keys(spec.params);
  const tg = buildTrainingGraph(createModel(b.graph), { params, loss, extraOutputs: [logits], fused });
  assert.deepEqual(
    tg.model.graph.outputs.map((o) => o.name),
    [loss, ...params.map((p) => tg.gradients[p]!), logits],
  );
  const feeds: Record<string, Tensor> = {
    x: makeTensor(dtype, fixture.x.shape, fixture.x.data),
    labels: makeTensor('int64', [fixture.labels.length], fixture.labels),
  };
  for (const p of params) feeds[p] = makeTensor(dtype, spec.params[p]!.shape, spec.params[p]!.data);
  const s = await Session.create(tg.model, { threads: 1 });
  const out = await s.run(feeds);
  await s.release();
  const errors: Record<string, number> = {
    loss: Math.abs(Number(out[loss]!.data[0]) - spec.loss) / Math.abs(spec.loss),
  };
  for (const p of params) {
    const got = out[tg.gradients[p]!]!.data as Float64Array;
    const want = spec.grads[p]!;
    assert.equal(got.length, want.length);
    const scale = Math.max(...want.map(Math.abs));
    errors[p] = Math.max(...want.map((w, i) => Math.abs(w - got[i]!))) / scale;
  }
  return errors;
}

for (const kind of ['mlp', 'linear'] as const) {
  for (const fused of [true, false]) {
    test(`${kind} head matches PyTorch (${fused ? 'fused' : 'generic'} loss gradient)`, async () => {
      const e64 = await runHead(kind, 'float64', fused);
      for (const [k, v] of Object.entries(e64)) assert.ok(v <= 1e-8, `float64 ${k}: rel error ${v}`);
      const e32 = await runHead(kind, 'float32', fused);
      for (const [k, v] of Object.entries(e32)) assert.ok(v <= 1e-5, `float32 ${k}: rel error ${v}`);
      const fmt = (e: Record<string, number>): string => Math.max(...Object.values(e)).toExponential(1);
      console.log(`# ${kind} ${fused ? 'fused' : 'generic'}: max rel error f64 ${fmt(e64)}, f32 ${fmt(e32)}`);
    });
  }
}
