/** Frozen BatchNormalization folded into its Conv before differentiating (src/autodiff/fold-bn.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, type GraphBuilder } from '../../src/onnx/builder.js';
import { checkGradients, makeTensor, randomValues, rng } from './fd.js';

/** Conv(x, w, cb) -> BN(scale, bias, constant running stats) -> ReLU6 -> 1×1 Conv; `tap` also reads the Conv. */
function build(b: GraphBuilder, tap: boolean): string[] {
  const r = rng(7);
  const c = (name: string, kind: 'normal' | 'positive') =>
    b.constant(name, makeTensor('float32', [4], randomValues({ shape: [4], kind }, r)));
  const y = b.op('Conv', ['x', 'w', 'cb'], { pads: attr.ints([1, 1, 1, 1]) });
  const bn = b.op('BatchNormalization', [y, 'scale', 'bias', c('mean', 'normal'), c('var', 'positive')], {
    epsilon: attr.float(1e-3),
  });
  const z = b.op('Clip', [
    bn,
    b.constant('lo', makeTensor('float32', [], [0])),
    b.constant('hi', makeTensor('float32', [], [1.5])),
  ]);
  const out = b.op('Conv', [z, 'v']);
  return tap ? [out, b.op('Mul', [y, y])] : [out];
}

const params = {
  x: { shape: [2, 3, 5, 5] },
  w: { shape: [4, 3, 3, 3] },
  cb: { shape: [4] },
  scale: { shape: [4] },
  bias: { shape: [4] },
  v: { shape: [2, 4, 1, 1] },
};

test('Conv -> frozen BN folds (no BN node left) and matches finite differences and the unfolded graph', async () => {
  const folded = await checkGradients({ dtype: 'float32', params, build: (b) => build(b, false) });
  assert.ok(folded.maxError < 1e-2, `max rel error ${folded.maxError}`);
  assert.ok(!folded.model.graph.nodes.some((n) => n.opType === 'BatchNormalization'));
  const plain = await checkGradients({
    dtype: 'float32',
    params,
    build: (b) => build(b, false),
    training: { foldBatchNorm: false },
  });
  assert.ok(plain.model.graph.nodes.some((n) => n.opType === 'BatchNormalization'));
  assert.ok(plain.maxError < 1e-2);
  console.log(`# folded ${folded.maxError.toExponential(1)}, unfolded ${plain.maxError.toExponential(1)}`);
});

test('a Conv whose output has another reader is not folded', async () => {
  const r = await checkGradients({ dtype: 'float32', params, build: (b) => build(b, true) });
  assert.ok(r.maxError < 1e-2);
  assert.ok(r.model.graph.nodes.some((n) => n.opType === 'BatchNormalization'));
});
