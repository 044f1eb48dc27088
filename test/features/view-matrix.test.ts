import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import type { FeatureMatrix } from '../../src/features/matrix.js';
import { withViews } from '../../src/features/view-matrix.js';
import { viewCacheKey } from '../../src/features/views.js';
import { crossValidate } from '../../src/strategies/select-features.js';

const m = (rows: number[][], labels: number[]): FeatureMatrix => ({
  data: Float32Array.from(rows.flat()),
  dim: rows[0]!.length,
  labels: Int32Array.from(labels),
});

test('views as rows: the picked images first, then each view of the same images, labels repeated', () => {
  const base = m(
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    [0, 1, 0],
  );
  const v1 = m(
    [
      [10, 20],
      [30, 40],
      [50, 60],
    ],
    [0, 1, 0],
  );
  const out = withViews(base, { matrices: [v1], use: 'rows' }, [2, 0]);
  assert.deepEqual([...out.data], [5, 6, 1, 2, 50, 60, 10, 20]);
  assert.deepEqual([...out.labels], [0, 0, 0, 0]);
});

test('views averaged: one row per image, the mean of the image and its views', () => {
  const base = m(
    [
      [1, 2],
      [3, 4],
    ],
    [0, 1],
  );
  const v1 = m(
    [
      [3, 0],
      [3, 8],
    ],
    [0, 1],
  );
  const v2 = m(
    [
      [5, 1],
      [0, 0],
    ],
    [0, 1],
  );
  const out = withViews(base, { matrices: [v1, v2], use: 'mean' });
  assert.deepEqual([...out.data], [3, 1, 2, 4]);
  assert.deepEqual([...out.labels], [0, 1]);
  assert.throws(() => withViews(base, { matrices: [m([[1, 2]], [0])], use: 'rows' }), /line up/);
});

test('cross-validation keeps an image and its views in one fold (no leak)', async () => {
  // Random features, random labels: nothing to learn, so 1-NN scores near chance — unless a fold trains on an
  // exact copy (a "view") of an image it scores, which 1-NN would then classify perfectly.
  const rng = mulberry32(4);
  const rows = Array.from({ length: 60 }, () => [rng(), rng(), rng()]);
  const labels = rows.map(() => (rng() < 0.5 ? 0 : 1));
  const base = m(rows, labels);
  const copy = m(rows, labels);
  const head = { kind: 'knn' as const, k: 1, seed: 0 } as Parameters<typeof crossValidate>[2];
  const cv = await crossValidate(base, 2, head, 5, { matrices: [copy], use: 'rows' });
  assert.ok(cv < 0.8, `CV ${cv}: views of scored images leaked into training folds`);
});

test('a view cache key changes with the view index, the seed and every setting', () => {
  const content = 'ab'.repeat(32);
  const key = (index: number, seed: number, scale: number, flip = 0) =>
    viewCacheKey(content, { index, seed, augment: { crop: { scale: [scale, 1] }, flip } });
  const keys = [key(1, 0, 0.5), key(2, 0, 0.5), key(1, 1, 0.5), key(1, 0, 0.6), key(1, 0, 0.5, 0.5)];
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(key(1, 0, 0.5), viewCacheKey(content, { index: 1, seed: 0, augment: {} }));
});
