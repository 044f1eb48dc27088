/** The augmentation flags of `graft train`: refused wherever they would be ignored. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fineTuneOptions, viewOptions } from '../../src/cli/commands/finetune-flags.js';
import { isGraftError } from '../../src/errors.js';
import { refuseUnusedOptions } from '../../src/pipeline/option-scope.js';

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION' && pattern.test(e.message));

test('--augment-views and friends are refused where they cannot apply', () => {
  const tune = { modality: 'image', strategy: 'fine-tune' } as const;
  const frozen = { modality: 'image', strategy: 'auto' } as const;
  refused(() => refuseUnusedOptions(tune, { augmentViews: '2' }), /fine-tuning takes --augment/);
  refused(() => refuseUnusedOptions(frozen, { augment: true }), /--augment-views K/);
  refused(
    () => refuseUnusedOptions({ modality: 'text', strategy: 'fine-tune' }, { augment: true }),
    /^--augment: it augments images; text data/,
  );
  refuseUnusedOptions(tune, { augment: true });
  refuseUnusedOptions(frozen, { augmentViews: '2' });
  refused(() => viewOptions({ augmentViewUse: 'mean' }), /needs --augment-views/);
  refused(() => viewOptions({ augmentFlip: true }), /--augment-flip needs/);
  refused(() => viewOptions({ augmentViews: '2', augmentViewUse: 'median' }), /augment-view-use/);
  assert.deepEqual(viewOptions({ augmentViews: '3', augmentViewUse: 'mean', augmentFlip: true }), {
    augmentViews: 3,
    augmentViewUse: 'mean',
    viewAugment: { flip: 0.5 },
  });
  assert.deepEqual(fineTuneOptions({ augment: true, augmentFlip: true }).augment, { flip: 0.5 });
  assert.equal(fineTuneOptions({ augment: true }).augment, true);
});
