import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { isGraftError } from '../../src/errors.js';
import { concatColumns, type FeatureMatrix } from '../../src/features/matrix.js';
import {
  bestCandidate,
  compareCandidates,
  concatenationCandidate,
  scoreCandidates,
  type CandidateScore,
} from '../../src/strategies/auto-select.js';
import type { HeadOptions } from '../../src/heads/fitted.js';
import { searchRows } from '../../src/strategies/select-features.js';

const HEAD: HeadOptions = {
  kind: 'linear',
  hidden: [16],
  dropout: 0,
  k: 3,
  epochs: 20,
  batchSize: 16,
  lr: 1e-2,
  optimizer: 'auto',
  weightDecay: 0,
  labelSmoothing: 0,
  standardize: true,
  seed: 0,
  patience: 0,
};

/** 3 classes, `perClass` rows each; `signal` scales how far apart the class means are (0: pure noise). */
function blobs(perClass: number, dim: number, signal: number, seed: number): FeatureMatrix {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const n = perClass * 3;
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let d = 0; d < dim; d++) data[i * dim + d] = gauss() + (d % 3 === i % 3 ? signal : 0);
  }
  return { data, dim, labels };
}

const score = (p: Partial<CandidateScore>): CandidateScore => ({
  model: 'm',
  tensor: 't',
  head: 'linear',
  dim: 10,
  cvAccuracy: 0.5,
  folds: 5,
  seconds: 1,
  ...p,
});

test('ties go to the simpler head, then to fewer dimensions; skipped candidates never win', () => {
  const a = score({ head: 'knn', cvAccuracy: 0.8 });
  const b = score({ head: 'linear', cvAccuracy: 0.8, dim: 100 });
  const c = score({ head: 'linear', cvAccuracy: 0.8, dim: 50 });
  const d = score({ head: 'mlp', cvAccuracy: NaN, skipped: 'time budget' });
  assert.equal(bestCandidate([a, b, c, d]), c);
  assert.ok(compareCandidates(score({ cvAccuracy: 0.9, head: 'knn' }), c) < 0, 'accuracy first');
  assert.throws(
    () => bestCandidate([d]),
    (e) => isGraftError(e, 'BAD_OPTION'),
  );
});

test('the informative source wins whichever it is; cheap heads are scored on every candidate', async () => {
  const informative = blobs(12, 6, 2.5, 1);
  const noise = { ...blobs(12, 6, 0, 2), labels: informative.labels };
  const scores = await scoreCandidates(
    [
      { model: 'backbone', tensor: 'noise', data: noise },
      { model: 'pixels', tensor: 'pixels_flat', data: informative },
    ],
    3,
    HEAD,
    { heads: ['linear', 'knn', 'ncm', 'mlp'] },
  );
  assert.equal(scores.filter((s) => s.head !== 'mlp').length, 6);
  const best = bestCandidate(scores);
  assert.equal(best.model, 'pixels');
  assert.ok(best.cvAccuracy > 0.8, `informative features separate well (${best.cvAccuracy})`);
  const noiseBest = Math.max(...scores.filter((s) => s.tensor === 'noise').map((s) => s.cvAccuracy));
  assert.ok(noiseBest < 0.7, `noise stays near chance (${noiseBest})`);
  // 12 examples per class is below the MLP's threshold: listed, with the reason, not silently dropped.
  const mlp = scores.filter((s) => s.head === 'mlp');
  assert.equal(mlp.length, 1);
  assert.match(mlp[0]!.skipped ?? '', /examples per class/);
});

test('the MLP is cross-validated on the best feature when there is enough data', async () => {
  const good = blobs(20, 4, 2, 3);
  const weak = { ...blobs(20, 4, 0.3, 4), labels: good.labels };
  const scores = await scoreCandidates(
    [
      { model: 'b', tensor: 'weak', data: weak },
      { model: 'b', tensor: 'good', data: good },
    ],
    3,
    HEAD,
    { heads: ['linear', 'mlp'] },
  );
  const mlp = scores.filter((s) => s.head === 'mlp');
  assert.deepEqual(
    mlp.map((s) => [s.tensor, s.skipped]),
    [['good', undefined]],
  );
});

test('a spent time budget lists the remaining candidates as skipped', async () => {
  const data = blobs(6, 3, 2, 5);
  const seen: CandidateScore[] = [];
  const scores = await scoreCandidates([{ model: 'b', tensor: 't', data }], 3, HEAD, {
    heads: ['linear', 'ncm'],
    budgetMs: 0,
    onScore: (s) => seen.push(s),
  });
  // The first candidate starts before any time has passed only if the clock did not move; either way every
  // candidate is reported, and those past the budget say so.
  assert.equal(seen.length, 2);
  assert.equal(scores.length, 2);
  assert.ok(scores.some((s) => s.skipped === 'time budget'));
});

test('a large training split is scored on a stratified subsample, the same rows for every candidate', () => {
  // 1,000 rows of class 0, 200 of class 1, 10 of class 2.
  const labels = Int32Array.from({ length: 1210 }, (_, i) => (i < 1000 ? 0 : i < 1200 ? 1 : 2));
  const rows = searchRows(labels, 121, 7);
  const count = (y: number) => rows.filter((r) => labels[r] === y).length;
  assert.deepEqual([count(0), count(1), count(2)], [100, 20, 2]);
  assert.deepEqual(
    rows,
    [...rows].sort((a, b) => a - b),
  );
  assert.equal(new Set(rows).size, rows.length);
  assert.deepEqual(searchRows(labels, 121, 7), rows);
  assert.notDeepEqual(searchRows(labels, 121, 8), rows);
  assert.deepEqual(searchRows(labels, 5000, 7), [...labels.keys()]);
});

test('the search reports the rows it scored on and skips the MLP on features too wide for it', async () => {
  const data = blobs(30, 8, 2, 9);
  const scores = await scoreCandidates([{ model: 'b', tensor: 'wide', data }], 3, HEAD, {
    heads: ['linear', 'mlp'],
    maxRows: 45,
    mlpMaxDim: 4,
  });
  const linear = scores.find((s) => s.head === 'linear')!;
  assert.equal(linear.rows, 45);
  assert.ok(linear.cvAccuracy > 0.8, `linear ${linear.cvAccuracy}`);
  assert.equal(scores.find((s) => s.head === 'mlp')!.skipped, '8 dimensions; MLPs are tried on up to 4');
});

test('the concatenation candidate joins the two best single features, shallow to deep', () => {
  const scores = [
    score({ tensor: 'deep', cvAccuracy: 0.8 }),
    score({ tensor: 'deep', head: 'knn', cvAccuracy: 0.85 }),
    score({ tensor: 'mid', cvAccuracy: 0.9 }),
    score({ tensor: 'early', cvAccuracy: 0.82 }),
    score({ tensor: 'late', cvAccuracy: 0.99, skipped: 'time budget' }),
    score({ model: 'pixels', tensor: 'pixels', cvAccuracy: 0.95 }),
  ];
  assert.equal(concatenationCandidate(scores, 'm', ['early', 'mid', 'late', 'deep']), 'mid+deep');
  assert.equal(concatenationCandidate(scores.slice(0, 2), 'm', ['deep']), undefined);
});

test('features that each separate one class cross-validate better side by side than alone', async () => {
  // Class 0 shows only in `a`, class 1 only in `b`: alone, each confuses the other two classes.
  const rand = mulberry32(7);
  const n = 90;
  const one = (signalClass: number): FeatureMatrix => {
    const data = Float32Array.from({ length: n * 4 }, (_, i) => rand() - 0.5);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    for (let i = 0; i < n; i++)
      if (labels[i] === signalClass) for (let d = 0; d < 4; d++) data[i * 4 + d]! += 2;
    return { data, dim: 4, labels };
  };
  const a = one(0);
  const b = one(1);
  const both = concatColumns([a, b]);
  assert.deepEqual(Array.from(both.data.subarray(0, 8)), [
    ...a.data.subarray(0, 4),
    ...b.data.subarray(0, 4),
  ]);
  // The concatenation is a follow-up: built from the cheap heads' scores, then the MLP goes to the best of all.
  const scores = await scoreCandidates(
    [
      { model: 'm', tensor: 'a', data: a },
      { model: 'm', tensor: 'b', data: b },
    ],
    3,
    HEAD,
    {
      heads: ['linear', 'mlp'],
      mlpMinPerClass: 0,
      followUps: (cheap) => {
        assert.deepEqual(
          cheap.map((s) => s.tensor),
          ['a', 'b'],
        );
        const pair = concatenationCandidate(cheap, 'm', ['a', 'b']);
        return pair ? [{ model: 'm', tensor: pair, data: both }] : [];
      },
    },
  );
  assert.deepEqual(
    scores.map((s) => `${s.head} ${s.tensor}`),
    ['linear a', 'linear b', 'linear a+b', 'mlp a+b'],
  );
  const cv = (t: string) => scores.find((s) => s.tensor === t && s.head === 'linear')!.cvAccuracy;
  assert.ok(cv('a') < 0.8 && cv('b') < 0.8, `alone: ${cv('a')}, ${cv('b')}`);
  assert.ok(cv('a+b') > 0.95, `side by side: ${cv('a+b')}`);
  assert.equal(bestCandidate(scores).tensor, 'a+b');
});
