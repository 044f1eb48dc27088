/**
 * graft's L-BFGS: the addon's two-loop recursion against the TypeScript one, bit for bit; and linear-head fits
 * (multinomial logistic regression, C = 1) against scikit-learn's coefficients, through both objectives: the
 * optimizer addon's one pass (what trainHead uses) and ONNX Runtime running the head's training graph.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { HEAD_TRAINING_DEFAULTS, trainHead } from '../../src/heads/fit-dense.js';
import { HeadModel } from '../../src/heads/head-model.js';
import { minimizeLbfgs, twoLoopTs } from '../../src/train/lbfgs.js';
import { optimAddon } from '../../src/train/optim-addon.js';

const reference = JSON.parse(
  readFileSync(new URL('../fixtures/sklearn/logreg.json', import.meta.url), 'utf8'),
) as { x: number[]; y: number[]; dim: number; classes: number; coef: number[]; intercept: number[] };
const train = {
  data: Float32Array.from(reference.x),
  dim: reference.dim,
  labels: Int32Array.from(reference.y),
};

/** Softmax does not change when every bias moves by the same amount, and the bias is not penalised: compare biases
 * up to that shift (centred). */
const centred = (b: ArrayLike<number>): Float32Array => {
  const mean = Array.from(b).reduce((a, v) => a + v, 0) / b.length;
  return Float32Array.from(b, (v) => v - mean);
};

function assertNear(got: Float32Array, want: readonly number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what}[${i}]: ${got[i]} vs scikit-learn ${want[i]}`);
}

describe('L-BFGS', () => {
  it('two-loop recursion: the addon gives the TypeScript bits', { skip: !optimAddon() }, () => {
    const u = mulberry32(5);
    const n = 1001;
    for (const m of [0, 1, 7]) {
      const S = Array.from({ length: m }, () => Float64Array.from({ length: n }, () => u() - 0.5));
      const Y = Array.from({ length: m }, () => Float64Array.from({ length: n }, () => u() - 0.3));
      const sy = Float64Array.from(S, (s, i) => s.reduce((a, v, j) => a + v * Y[i]![j]!, 0));
      const g = Float64Array.from({ length: n }, () => u() - 0.5);
      const ts = g.slice();
      const native = g.slice();
      twoLoopTs(ts, S, Y, sy, 0.7);
      optimAddon()!.lbfgsTwoLoop(native, S, Y, sy, 0.7);
      assert.deepEqual(Array.from(native), Array.from(ts), `${m} pairs`);
      if (m > 0)
        assert.notDeepEqual(
          Array.from(ts),
          Array.from(g).map((v) => v * 0.7),
        );
    }
  });

  it("trainHead's linear head reaches scikit-learn's LogisticRegression(C=1) solution", async () => {
    const fitted = await trainHead(train, reference.classes, {
      ...HEAD_TRAINING_DEFAULTS,
      standardize: false,
      session: { threads: 1 },
    });
    try {
      assertNear(fitted.model.params.get('dense0/weight')!, reference.coef, 2e-3, 'weight');
      assertNear(
        centred(fitted.model.params.get('dense0/bias')!),
        [...centred(reference.intercept)],
        1e-3,
        'bias',
      );
    } finally {
      await fitted.model.release();
    }
  });

  it("the graph's objective (ONNX Runtime) reaches the same solution", async () => {
    const head = await HeadModel.create({
      spec: { kind: 'linear' },
      inputDim: reference.dim,
      numClasses: reference.classes,
      seed: 0,
      uniform: mulberry32(1),
      session: { threads: 1 },
      fixedBatch: { features: train.data, labels: train.labels },
    });
    try {
      const r = await minimizeLbfgs(head.params, () => head.fullBatchGradients(), {
        maxIter: 200,
        l2: 1 / train.labels.length,
        penalized: new Set(['dense0/weight']),
      });
      assert.ok(r.converged, `${r.iterations} iterations`);
      assertNear(head.params.get('dense0/weight')!, reference.coef, 2e-3, 'weight');
      assertNear(centred(head.params.get('dense0/bias')!), [...centred(reference.intercept)], 2e-3, 'bias');
    } finally {
      await head.release();
    }
  });
});
