/** The augmentation flags of `graft train`: refused wherever they would be ignored. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fineTuneOptions, viewOptions } from '../../src/cli/commands/finetune-flags.js';
import { isGraftError } from '../../src/errors.js';

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION' && pattern.test(e.message));

test('--augment-views and friends are refused where they cannot apply', () => {
  refused(() => viewOptions({ augmentViews: '2' }, true), /fine-tuning takes --augment/);
  refused(() => viewOptions({ augment: true }, false), /--augment-views K/);
  refused(() => viewOptions({ augmentViewUse: 'mean' }, false), /needs --augment-views/);
  refused(() => viewOptions({ augmentFlip: true }, false), /--augment-flip needs/);
  refused(() => viewOptions({ augmentViews: '2', augmentViewUse: 'median' }, false), /augment-view-use/);
  assert.deepEqual(viewOptions({ augmentViews: '3', augmentViewUse: 'mean', augmentFlip: true }, false), {
    augmentViews: 3,
    augmentViewUse: 'mean',
    viewAugment: { flip: 0.5 },
  });
  assert.deepEqual(fineTuneOptions({ augment: true, augmentFlip: true }).augment, { flip: 0.5 });
  assert.equal(fineTuneOptions({ augment: true }).augment, true);
});
