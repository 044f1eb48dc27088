/** Precise BN: running statistics reset to the row-weighted mean of each batch's statistics, computed here directly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { BackboneTrainable } from '../../src/strategies/finetune/backbone-trainable.js';
import { float32 } from '../../src/tensor.js';

/** x [batch, 2, 3, 3] → BatchNormalization → GlobalAveragePool → Flatten → feat [batch, 2]. */
function bnOnInput() {
  const b = new GraphBuilder('bn');
  b.input('x', 'float32', ['batch', 2, 3, 3]);
  b.initializer('gamma', float32([2], [1.5, 0.5]));
  b.initializer('beta', float32([2], [0.1, -0.2]));
  b.initializer('mean', float32([2], [7, -7]));
  b.initializer('var', float32([2], [9, 0.25]));
  const y = b.op('BatchNormalization', ['x', 'gamma', 'beta', 'mean', 'var'], { epsilon: attr.float(1e-3) });
  const p = b.op('GlobalAveragePool', [y]);
  b.node('Flatten', [p], {}, { outputs: ['feat'] });
  b.output('feat', 'float32');
  return createModel(b.graph, 17);
}

const trainable = (bnMode: 'train' | 'frozen') =>
  BackboneTrainable.create({
    backbone: bnOnInput(),
    inputName: 'x',
    inputShape: [2, 3, 3],
    featureTensor: 'feat',
    numClasses: 2,
    unfreeze: 'all',
    bnMode,
    seed: 0,
    session: { threads: 1 },
  });

test('recalibrateBatchNorm sets running mean/var to the row-weighted average of batch statistics', async () => {
  const model = await trainable('train');
  let s = 5;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 4 - 1;
  const batches = [4, 2].map((n, k) => ({
    inputs: {
      x: float32(
        [n, 2, 3, 3],
        Array.from({ length: n * 18 }, () => rand() * (k + 1) + k),
      ),
    },
    labels: Int32Array.from({ length: n }, (_, i) => i % 2),
  }));
  const want = { mean: [0, 0], var: [0, 0] };
  for (const { inputs } of batches) {
    const n = inputs.x.shape[0]!;
    for (let c = 0; c < 2; c++) {
      const v: number[] = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < 9; j++) v.push(inputs.x.data[i * 18 + c * 9 + j]!);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const pop = v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
      want.mean[c]! += (n * m) / 6;
      want.var[c]! += (n * pop) / 6;
    }
  }
  assert.equal(await model.recalibrateBatchNorm(batches), 1);
  const mean = model.params.get('mean')!;
  const variance = model.params.get('var')!;
  for (let c = 0; c < 2; c++) {
    assert.ok(Math.abs(mean[c]! - want.mean[c]!) < 1e-5, `mean[${c}] ${mean[c]} vs ${want.mean[c]}`);
    assert.ok(Math.abs(variance[c]! - want.var[c]!) < 1e-4, `var[${c}] ${variance[c]} vs ${want.var[c]}`);
  }
  const frozen = await trainable('frozen');
  assert.equal(await frozen.recalibrateBatchNorm(batches), 0, 'frozen BN has nothing to recalibrate');
  await Promise.all([model.release(), frozen.release()]);
});
