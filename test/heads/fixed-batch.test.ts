/**
 * A head's fixed batch (what L-BFGS evaluates) reads its features transposed for the weight gradient: the
 * transpose itself, the rewrite of the training graph, and gradients equal to those of the same batch fed
 * as an ordinary mini-batch (standardised in the graph), bit for bit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { fitStandardizer } from '../../src/features/matrix.js';
import { FEATURES_T, prepareFixedFeatures } from '../../src/heads/fixed-batch.js';
import { HeadModel } from '../../src/heads/head-model.js';

describe('fixed batch with transposed features', () => {
  it('standardises as float32 (x - mean) / std and transposes, for sides of any size', async () => {
    const rows = 37;
    const cols = 70;
    const u = mulberry32(3);
    const x = Float32Array.from({ length: rows * cols }, () => 10 * u() - 3);
    const standardizer = fitStandardizer({ data: x, dim: cols, labels: new Int32Array(rows) });
    const { x: s, xT } = await prepareFixedFeatures(x, cols, standardizer, true, { threads: 1 });
    assert.ok(xT);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const o = r * cols + c;
        const want = Math.fround(Math.fround(x[o]! - standardizer.mean[c]!) / standardizer.std[c]!);
        assert.equal(s[o], want, `standardised [${r}, ${c}]`);
        assert.equal(xT[c * rows + r], want, `transposed [${c}, ${r}]`);
      }
    const plain = await prepareFixedFeatures(x, cols, undefined, true, { threads: 1 });
    assert.equal(plain.x, x, 'no standardizer: the features as given');
    assert.equal(plain.xT![5 * rows + 2], x[2 * cols + 5]);
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
