/**
 * Gradients of a tiny random CNN (Conv, depthwise Conv, BatchNormalization, ReLU6 as Clip, residual Add, global
 * average pool, Gemm) through BackboneTrainable's training graph, against PyTorch autograd (fixture made by
 * test/fixtures/torch/make_cnn_grads.py), with BN frozen (eval) and in training mode.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { BackboneTrainable } from '../../src/strategies/finetune/backbone-trainable.js';
import { float32 } from '../../src/tensor.js';

interface Fixture {
  input: number[];
  input_shape: number[];
  labels: number[];
  weights: Record<string, { shape: number[]; values: number[] }>;
  frozen: { loss: number; grads: Record<string, number[]>; running: Record<string, number[]> };
  train: { loss: number; grads: Record<string, number[]>; running: Record<string, number[]> };
}

const fx = JSON.parse(
  readFileSync(new URL('../fixtures/torch/cnn_grads.json', import.meta.url), 'utf8'),
) as Fixture;

function tinyCnn() {
  const b = new GraphBuilder('tiny');
  b.input('x', 'float32', ['batch', 3, 8, 8]);
  for (const [k, w] of Object.entries(fx.weights)) {
    if (!k.startsWith('fc.')) b.initializer(k, float32(w.shape, w.values));
  }
  const conv = (x: string, w: string, bias: string | undefined, k: number, group: number) =>
    b.op('Conv', bias ? [x, w, bias] : [x, w], {
      kernel_shape: attr.ints([k, k]),
      pads: attr.ints(k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0]),
      group: attr.int(group),
    });
  const bn = (x: string, p: string) =>
    b.op('BatchNormalization', [x, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`], {
      epsilon: attr.float(1e-3),
    });
  const lo = b.constant('lo', float32([], [0]));
  const hi = b.constant('hi', float32([], [6]));
  const relu6 = (x: string) => b.op('Clip', [x, lo, hi]);
  const a = relu6(bn(conv('x', 'conv1.weight', undefined, 3, 1), 'bn1'));
  const c = relu6(bn(conv(a, 'dw.weight', undefined, 3, 4), 'bn2'));
  const d = bn(conv(c, 'pw.weight', 'pw.bias', 1, 1), 'bn3');
  b.node('Add', [d, a], {}, { outputs: ['feat'] });
  b.output('feat', 'float32');
  return createModel(b.graph, 17);
}

/** max |a - b| / max(1e-3, max |b|) */
function relErr(a: ArrayLike<number>, b: readonly number[]): number {
  let num = 0;
  let den = 1e-3;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

for (const mode of ['frozen', 'train'] as const) {
  test(`tiny CNN gradients match PyTorch (BN ${mode})`, async (t) => {
    const model = await BackboneTrainable.create({
      backbone: tinyCnn(),
      inputName: 'x',
      inputShape: [3, 8, 8],
      featureTensor: 'feat',
      numClasses: 3,
      unfreeze: 'all',
      bnMode: mode,
      seed: 0,
      session: { threads: 1 },
    });
    // torch Linear: y = x Wᵀ + b, W [out, in]; graft's head has the same layout (Gemm transB).
    model.params.get('head/dense0/weight')!.set(fx.weights['fc.weight']!.values);
    model.params.get('head/dense0/bias')!.set(fx.weights['fc.bias']!.values);
    const ref = fx[mode];
    const { loss, gradients } = await model.computeGradients({
      inputs: { x: float32(fx.input_shape, fx.input) },
      labels: Int32Array.from(fx.labels),
    });
    assert.ok(Math.abs(loss - ref.loss) < 1e-5, `loss ${loss} vs ${ref.loss}`);
    const errors: Record<string, number> = {};
    for (const [name, g] of Object.entries(ref.grads)) {
      if (name.startsWith('fc.')) continue;
      errors[name] = relErr(gradients.get(name)!, g);
    }
    errors['fc.weight'] = relErr(gradients.get('head/dense0/weight')!, ref.grads['fc.weight']!);
    errors['fc.bias'] = relErr(gradients.get('head/dense0/bias')!, ref.grads['fc.bias']!);
    const worst = Math.max(...Object.values(errors));
    t.diagnostic(`max relative gradient error ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `max relative gradient error ${worst}: ${JSON.stringify(errors)}`);
    assert.equal(Object.keys(errors).length, 12);
    if (mode === 'train') {
      // running mean: exact ONNX/torch momentum semantics; running var: ONNX uses the population variance
      // where torch uses the unbiased one (n = 4·8·8 = 256 per channel), so allow n/(n-1) of the update.
      for (const p of ['bn1', 'bn2', 'bn3']) {
        assert.ok(relErr(model.params.get(`${p}.running_mean`)!, ref.running[`${p}.running_mean`]!) < 1e-5);
        assert.ok(relErr(model.params.get(`${p}.running_var`)!, ref.running[`${p}.running_var`]!) < 2e-3);
      }
    }
    await model.release();
  });
}
