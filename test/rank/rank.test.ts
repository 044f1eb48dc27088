/** rank(): every candidate scored on the training split, best first, for image and text data. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TextDataset } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { byRank, rank } from '../../src/rank/rank.js';
import { kendallTau } from '../../src/rank/kendall.js';
import { stratifiedSubsample } from '../../src/rank/score.js';
import { colourFolder } from '../pipeline/fixtures.js';

test('rank on images: pixels scored like a backbone, on the training split only', async () => {
  const data = await colourFolder(8, 21);
  const r = await rank({ data, models: ['pixels'], cacheDir: false, valSplit: 0.25, testSplit: 0.25 });
  assert.equal(r.kind, 'image');
  assert.equal(r.counts.train, 12); // 3 classes × 8, half held out
  assert.equal(r.candidates.length, 1);
  const c = r.candidates[0]!;
  assert.deepEqual([c.model, c.feature, c.dim, c.examples], ['pixels', 'pixels_flat', 32 * 32 * 3, 12]);
  assert.ok(c.knnAccuracy >= 0 && c.knnAccuracy <= 1 && Number.isFinite(c.logme));
  await assert.rejects(
    rank({ data, models: ['tfidf'], cacheDir: false }),
    (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
  );
});

test('rank on text: the tf-idf variants, ordered by k-NN accuracy then LogME', async () => {
  const words = [
    ['goal', 'team', 'match', 'league'],
    ['oven', 'flour', 'recipe', 'butter'],
  ];
  const examples = Array.from({ length: 40 }, (_, i) => ({
    id: `t${i}`,
    label: i % 2,
    source: `${words[i % 2]![i % 4]} ${words[i % 2]![(i + 1) % 4]} and the ${i % 3 ? 'day' : 'night'} n${i}`,
  }));
  const data: TextDataset = {
    kind: 'text',
    name: 'topics',
    labels: ['sport', 'food'],
    examples,
    warnings: [],
  };
  const r = await rank({ data });
  assert.equal(r.counts.train, 32); // the one default split: 10% validation + 10% test held out
  assert.equal(r.candidates.length, 3);
  for (let i = 1; i < r.candidates.length; i++)
    assert.ok(byRank(r.candidates[i - 1]!, r.candidates[i]!) <= 0);
  assert.equal(r.candidates[0]!.knnAccuracy, 1);
  await assert.rejects(
    rank({ data, cacheDir: '/tmp/unused-cache' }),
    (e: unknown) => isGraftError(e, 'BAD_OPTION') && /reads no feature cache/.test(e.message),
  );
});

test('stratifiedSubsample keeps each class its share', () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ label: i < 80 ? 0 : 1, i }));
  const s = stratifiedSubsample(items, 50, 1);
  assert.equal(s.filter((x) => x.label === 0).length, 40);
  assert.equal(s.filter((x) => x.label === 1).length, 10);
});

test('kendallTau: hand-counted pairs, with and without ties', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [40, 30, 20, 10]), -1);
  // [1,2,3] vs [1,3,2]: pairs (1,2)+ (1,3)+ (2,3)− → (2 − 1) / 3.
  assert.ok(Math.abs(kendallTau([1, 2, 3], [1, 3, 2]) - 1 / 3) < 1e-12);
  // [1,1,2] vs [1,2,3]: one tie in a; C = 2, D = 0, τ-b = 2 / √(3 · 2).
  assert.ok(Math.abs(kendallTau([1, 1, 2], [1, 2, 3]) - 2 / Math.sqrt(6)) < 1e-12);
});
