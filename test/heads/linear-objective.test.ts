/**
 * The linear head's one-pass objective (the optimizer addon's softmaxRegression, linearSoftmaxObjective): loss and
 * gradients against a float64 evaluation of the definition and against ONNX Runtime running graft's training graph,
 * on shapes that leave short row tiles and groups, column tails, several column slices and every class-block width
 * (with AVX-512, 16 and 32 classes take the transposed-weight path, one and two vectors of classes, and the others
 * columns in lanes: logits blocks of 5 classes and 1–4, gradient blocks of 10 and 1–9); sums that do not depend on the
 * thread count; each instruction-set path; labels outside the classes refused; and L-BFGS fits that use it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/data/random.js';
import { fitStandardizer } from '../../src/features/matrix.js';
import { HeadModel } from '../../src/heads/head-model.js';
import { fusesLinearObjective, linearSoftmaxObjective } from '../../src/heads/linear-objective.js';
import { optimAddon } from '../../src/train/optim-addon.js';
import { addonObjective, ISA_CASE, linearCase, referenceObjective } from './linear-objective-case.js';

const addon = optimAddon();
const skip = addon ? false : 'the optimizer addon is not built';

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

describe('linear softmax objective (optimizer addon)', { skip }, () => {
  for (const [n, d, k] of [
    [1, 1, 2],
    [45, 37, 7],
    [64, 16, 3],
    [301, 300, 5],
    [50, 9, 11],
    [37, 300, 10],
    [100, 70, 20],
    [33, 40, 9],
    [40, 50, 16],
    [20, 600, 4],
    [30, 70, 32],
  ] as const)
    for (const smoothing of [0, 0.1])
      it(`matches the float64 definition: ${n} × ${d}, ${k} classes, smoothing ${smoothing}`, () => {
        const c = linearCase(n, d, k, n + d + k);
        const want = referenceObjective(c, smoothing);
        const got = addonObjective(c, smoothing, 2);
        assert.ok(
          Math.abs(got.loss - want.loss) <= 1e-6 * Math.max(1, want.loss),
          `${got.loss} vs ${want.loss}`,
        );
        assertClose(got.gradWeight, want.gradWeight, 2e-6, 'gradWeight');
        assertClose(got.gradBias, want.gradBias, 2e-6, 'gradBias');
      });

  it('gives the same bits on 1, 2 and 3 threads (rows split by the problem alone)', () => {
    const c = linearCase(1000, 70, 6, 3);
    const [one, two, three] = [1, 2, 3].map((t) => addonObjective(c, 0.05, t));
    for (const other of [two!, three!]) {
      assert.equal(other.loss, one!.loss);
      assert.deepEqual(Array.from(other.gradWeight), Array.from(one!.gradWeight));
      assert.deepEqual(Array.from(other.gradBias), Array.from(one!.gradBias));
    }
  });

  it('agrees on every instruction-set path (GRAFT_OPTIM_ISA)', () => {
    const { n, d, k, seed, smoothing } = ISA_CASE;
    const want = referenceObjective(linearCase(n, d, k, seed), smoothing);
    const script = fileURLToPath(new URL('./linear-objective-case.ts', import.meta.url));
    const seen = new Set<string>();
    for (const isa of ['scalar', 'avx2', '']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
        encoding: 'utf8',
        env: { ...process.env, GRAFT_OPTIM_ISA: isa },
      });
      const got = JSON.parse(out) as { isa: string; loss: number; gradWeight: number[]; gradBias: number[] };
      seen.add(got.isa);
      assert.ok(Math.abs(got.loss - want.loss) <= 1e-6, `${got.isa}: ${got.loss} vs ${want.loss}`);
      assertClose(got.gradWeight, want.gradWeight, 2e-6, `${got.isa} gradWeight`);
      assertClose(got.gradBias, want.gradBias, 2e-6, `${got.isa} gradBias`);
    }
    assert.ok(seen.has('scalar'), [...seen].join(', '));
  });

  it('equals ONNX Runtime running the head training graph on the standardised fixed batch', async () => {
    const n = 83;
    const dim = 29;
    const classes = 4;
    const u = mulberry32(21);
    const features = Float32Array.from({ length: n * dim }, (_, i) => 5 * u() + (i % dim));
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % classes);
    const standardize = fitStandardizer({ data: features, dim, labels });
    for (const labelSmoothing of [0, 0.2]) {
      const head = await HeadModel.create({
        spec: { kind: 'linear' },
        inputDim: dim,
        numClasses: classes,
        standardize,
        loss: { labelSmoothing },
        seed: 0,
        uniform: mulberry32(2),
        session: { threads: 1 },
        fixedBatch: { features, labels },
      });
      try {
        const graph = await head.fullBatchGradients();
        const objective = linearSoftmaxObjective(head.params, {
          features,
          dim,
          labels,
          numClasses: classes,
          standardize,
          labelSmoothing,
          threads: 2,
        })!;
        const fused = await objective();
        assert.ok(Math.abs(fused.loss - graph.loss) <= 1e-6, `loss ${fused.loss} vs ${graph.loss}`);
        for (const name of ['dense0/weight', 'dense0/bias'])
          assertClose(fused.gradients.get(name)!, graph.gradients.get(name)!, 1e-6, name);
      } finally {
        await head.release();
      }
    }
  });

  it('refuses a label outside the classes with BAD_INPUT', async () => {
    const c = linearCase(20, 5, 3, 1);
    c.labels[17] = 3;
    const params = new Map([
      ['dense0/weight', c.weight],
      ['dense0/bias', c.bias],
    ]);
    const objective = linearSoftmaxObjective(params, {
      features: c.x,
      dim: 5,
      labels: c.labels,
      numClasses: 3,
    })!;
    await assert.rejects(objective(), (e: Error & { code?: string }) => e.code === 'BAD_INPUT');
  });

  it('gives up its standardised rows on release: a later objective reuses them and gives its own results', async () => {
    const big = linearCase(300, 40, 4, 21);
    const small = linearCase(120, 40, 4, 22);
    const objectiveOf = (c: typeof big) => {
      const standardize = fitStandardizer({ data: c.x, dim: c.d, labels: c.labels });
      const params = new Map([
        ['dense0/weight', c.weight],
        ['dense0/bias', c.bias],
      ]);
      return linearSoftmaxObjective(params, {
        features: c.x,
        dim: c.d,
        labels: c.labels,
        numClasses: c.k,
        standardize,
        threads: 2,
      })!;
    };
    const fresh = objectiveOf(small);
    const want = await fresh();
    const wantWeight = Array.from(want.gradients.get('dense0/weight')!);
    const first = objectiveOf(big);
    await first();
    first.release();
    await assert.rejects(first(), (e: Error & { code?: string }) => e.code === 'RUNTIME_ERROR');
    const reused = objectiveOf(small);
    const got = await reused();
    assert.equal(got.loss, want.loss);
    assert.deepEqual(Array.from(got.gradients.get('dense0/weight')!), wantWeight);
    reused.release();
    fresh.release();
  });

  it('fuses only plain linear heads: dropout, class weights and summed losses keep the graph', () => {
    assert.equal(fusesLinearObjective({ kind: 'linear' }), true);
    assert.equal(fusesLinearObjective({ kind: 'linear' }, { labelSmoothing: 0.1 }), true);
    assert.equal(fusesLinearObjective({ kind: 'linear', dropout: 0.2 }), false);
    assert.equal(fusesLinearObjective({ kind: 'mlp', hidden: [8] }), false);
    assert.equal(fusesLinearObjective({ kind: 'linear' }, { classWeights: [1, 2] }), false);
    assert.equal(fusesLinearObjective({ kind: 'linear' }, { reduction: 'sum' }), false);
  });

  it('standardises with float32 (x - mean) / std and sums columns as fitStandardizer does', () => {
    const rows = 33;
    const cols = 70;
    const u = mulberry32(9);
    const x = Float32Array.from({ length: rows * cols }, () => 1000 + 10 * u());
    const s = fitStandardizer({ data: x, dim: cols, labels: new Int32Array(rows) });
    const out = new Float32Array(x.length);
    addon!.standardize(x, s.mean, s.std, out, 2);
    for (let i = 0; i < x.length; i++)
      assert.equal(out[i], Math.fround(Math.fround(x[i]! - s.mean[i % cols]!) / s.std[i % cols]!));
    const sums = addon!.shiftedColumnSums(x, cols, 3);
    for (const c of [0, 13, 69]) {
      let sum = 0;
      let sq = 0;
      for (let r = 0; r < rows; r++) {
        const d = x[r * cols + c]! - x[c]!;
        sum += d;
        sq += d * d;
      }
      assert.equal(sums[c], sum, `sum ${c}`);
      assert.equal(sums[cols + c], sq, `squares ${c}`);
    }
  });
});
