/**
 * Out-of-range option values are BAD_OPTION before any work, for both modalities and every recipe: the data path
 * given does not exist, so an error about it would mean the value was not checked first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { SPLIT_DEFAULTS } from '../../src/data/split.js';
import { TRAIN_DEFAULTS } from '../../src/pipeline/options.js';
import { TEXT_TRAINING_DEFAULTS } from '../../src/text/finetune/arguments.js';

const MISSING = '/nonexistent/graft-options-test';

const refused = (pattern: RegExp) => (e: unknown) => isGraftError(e, 'BAD_OPTION') && pattern.test(e.message);

const CASES: [string, Record<string, number>, RegExp][] = [
  ['dropout 2', { dropout: 2 }, /--dropout \(dropout\) must be in \[0, 1\), got 2/],
  ['dropout -0.1', { dropout: -0.1 }, /--dropout/],
  ['lr 0', { lr: 0 }, /--lr \(lr\) must be a number > 0, got 0/],
  ['lr -1', { lr: -1 }, /--lr/],
  ['epochs 0', { epochs: 0 }, /--epochs \(epochs\) must be an integer ≥ 1, got 0/],
  ['batch 0', { batchSize: 0 }, /--batch-size \(batchSize\) must be an integer ≥ 1, got 0/],
  ['splits sum to 1', { valSplit: 0.5, testSplit: 0.5 }, /--val-split \+ --test-split must be below 1/],
  ['val split 1', { valSplit: 1, testSplit: 0 }, /--val-split \(valSplit\) must be a fraction/],
];

for (const [name, values, pattern] of CASES) {
  test(`image, feature extraction: ${name} → BAD_OPTION before the data is read`, async () => {
    await assert.rejects(trainClassifier({ data: MISSING, ...values }), refused(pattern));
  });
  test(`image, fine-tuning: ${name} → BAD_OPTION before the data is read`, async () => {
    await assert.rejects(
      fineTuneClassifier({ data: MISSING, strategy: 'fine-tune', ...values }),
      refused(pattern),
    );
  });
  test(`text: ${name} → BAD_OPTION before the data is read`, async () => {
    const { lr, epochs, batchSize, ...rest } = values;
    for (const method of ['features', 'finetune'] as const)
      await assert.rejects(
        trainTextClassifier({
          data: MISSING,
          model: 'file:/nonexistent/encoder',
          method,
          ...rest,
          args: {
            outputDir: MISSING,
            learningRate: lr,
            numTrainEpochs: epochs,
            perDeviceTrainBatchSize: batchSize,
          },
        }),
        refused(pattern),
      );
  });
}

test('one set of defaults: seed and splits are the same for images and text', () => {
  assert.deepEqual(SPLIT_DEFAULTS, { validation: 0.1, test: 0.1, seed: 0 });
  assert.equal(TRAIN_DEFAULTS.seed, SPLIT_DEFAULTS.seed);
  assert.equal(TRAIN_DEFAULTS.valSplit, SPLIT_DEFAULTS.validation);
  assert.equal(TRAIN_DEFAULTS.testSplit, SPLIT_DEFAULTS.test);
  assert.equal(TEXT_TRAINING_DEFAULTS.seed, SPLIT_DEFAULTS.seed);
});
