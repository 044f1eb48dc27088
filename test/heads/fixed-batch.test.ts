/**
 * A head's fixed batch (what L-BFGS evaluates) reads its features transposed for the weight gradient: the
 * transpose itself, the rewrite of the training graph, and gradients equal to those of the same batch fed
 * as an ordinary mini-batch (standardised in the graph), bit for bit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { fitStandardizer } from '../../src/features/matrix.js';
import { FEATURES_T, transposeMatrix } from '../../src/heads/fixed-batch.js';
import { HeadModel } from '../../src/heads/head-model.js';

describe('fixed batch with transposed features', () => {
  it('transposes matrices whose sides are not multiples of the tile', () => {
    const rows = 37;
    const cols = 70;
    const x = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const t = transposeMatrix(x, rows, cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) assert.equal(t[c * rows + r], x[r * cols + c]);
  });

  it('gives the gradients of the same batch fed as a mini-batch, bit for bit', async () => {
    const n = 45;
    const dim = 33;
    const classes = 4;
    const u = mulberry32(7);
    const features = Float32Array.from({ length: n * dim }, () => 3 * u() - 1);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % classes);
    const standardize = fitStandardizer({ data: features, dim, labels });
    const options = {
      spec: { kind: 'linear' as const },
      inputDim: dim,
      numClasses: classes,
      standardize,
      seed: 0,
      session: { threads: 1 },
    };
    const fixed = await HeadModel.create({
      ...options,
      uniform: mulberry32(1),
      fixedBatch: { features, labels },
    });
    const plain = await HeadModel.create({ ...options, uniform: mulberry32(1) });
    try {
      const trainingInputs = (
        fixed as unknown as { graph: { trainingModel: { graph: { inputs: { name: string }[] } } } }
      ).graph.trainingModel.graph.inputs.map((v) => v.name);
      assert.ok(trainingInputs.includes(FEATURES_T));
      const a = await fixed.fullBatchGradients();
      const b = await plain.computeGradients({
        inputs: { features: { dtype: 'float32', shape: [n, dim], data: features } },
        labels,
      });
      assert.equal(a.loss, b.loss);
      assert.deepEqual([...a.gradients.keys()].sort(), [...b.gradients.keys()].sort());
      for (const [name, g] of a.gradients)
        assert.deepEqual(Array.from(g), Array.from(b.gradients.get(name)!), name);
    } finally {
      await fixed.release();
      await plain.release();
    }
  });
});
