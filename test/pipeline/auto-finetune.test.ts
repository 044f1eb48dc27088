/** When the automatic search tries LP-FT on its chosen cut, and why it does not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  estimateSeconds,
  fineTuneSkipReason,
  FINETUNE_MIN_PER_CLASS,
  withForwardRate,
  type TrialContext,
} from '../../src/pipeline/auto-finetune.js';
import { resolveTrainOptions } from '../../src/pipeline/options.js';

const context = (p: Partial<TrialContext> = {}): TrialContext => ({
  options: resolveTrainOptions({ data: 'mnist' }),
  dataset: { kind: 'image', name: 'd', labels: [], examples: [], warnings: [] },
  winner: { model: 'mobilenet', tensor: 'block_12_add@2x2', head: 'linear' },
  backboneId: 'mobilenet',
  counts: { train: 1000, validation: 100 },
  numClasses: 10,
  extractRate: 200,
  budgetLeft: 300,
  ...p,
});

test('LP-FT is tried on a linear probe of a backbone cut with enough data, validation and budget', () => {
  assert.equal(fineTuneSkipReason(context()), undefined);
  // 1,100 images for the activations, then 5 epochs × 1,000 images at ~3 forward passes each, at 200 images/s.
  assert.equal(estimateSeconds(context()), 1100 / 200 + (5 * 1000 * 3) / 200);
});

test('each reason not to fine-tune is named', () => {
  const why = (p: Partial<TrialContext>) => fineTuneSkipReason(context(p));
  assert.match(why({ winner: { model: 'pixels', tensor: 'pixels', head: 'linear' } })!, /raw pixels won/);
  assert.match(why({ winner: { model: 'mobilenet', tensor: 't', head: 'knn' } })!, /best head is knn/);
  assert.match(why({ counts: { train: 1000, validation: 0 } })!, /no validation split/);
  const few = (FINETUNE_MIN_PER_CLASS - 1) * 10;
  assert.match(why({ counts: { train: few, validation: 50 } })!, /examples per class/);
  assert.match(why({ budgetLeft: 10 })!, /time budget \(about 81 s needed, 10 s left\)/);
});

test('a run whose features were all cached measures the forward rate instead of assuming one', async () => {
  let calls = 0;
  const measure = (c: TrialContext) => {
    calls++;
    assert.equal(c.extractRate, 0);
    return Promise.resolve(250);
  };
  const extracted = await withForwardRate(context(), measure);
  assert.equal(calls, 0, 'a run that extracted has its own rate');
  assert.equal(extracted.extractRate, 200);
  const cached = await withForwardRate(context({ extractRate: 0 }), measure);
  assert.equal(calls, 1);
  assert.equal(cached.extractRate, 250);
  assert.ok(cached.budgetLeft <= 300, 'the measurement comes out of the budget');
  assert.equal(estimateSeconds(cached), 1100 / 250 + (5 * 1000 * 3) / 250);
  assert.match(fineTuneSkipReason(context({ extractRate: 0 }))!, /speed is unknown/);
});
