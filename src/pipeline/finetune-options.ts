/** Options of `fineTuneClassifier` (library) and `graft train --strategy …` (CLI), defaults in one place. */
import type { AugmentOptions } from '../augment/image.js';
import { GraftError } from '../errors.js';
import type { UnfreezeSpec } from '../strategies/finetune/cut.js';
import type { Strategy } from '../strategies/finetune/recipes.js';
import type { BnMode } from '../strategies/finetune/suffix-graph.js';
import { TRAIN_DEFAULTS, type TrainClassifierOptions } from './options.js';
import { validateTrainingValues } from './validate.js';

export interface FineTuneClassifierOptions extends TrainClassifierOptions {
  strategy: Strategy;
  /** 'all', 'last:N' (blocks), or a tensor name where the trainable suffix starts. */
  unfreeze: UnfreezeSpec;
  /** 'frozen': BN uses its running statistics (not updated); 'train': batch statistics, running stats updated. */
  bnMode: BnMode;
  /** Layer-wise learning-rate decay per block (e.g. 0.7); undefined: one rate for everything. */
  layerwiseLrDecay?: number;
  /** Augment training images (raw pixels, seeded); `true` uses the defaults. Bypasses the activation cache. */
  augment: AugmentOptions | boolean;
  /** LP-FT: head-only epochs before unfreezing. */
  freezeEpochs: number;
  /** LP-FT: the unfrozen phase runs at lr / ftLrDivisor. */
  ftLrDivisor: number;
  clipGradNorm?: number;
  accumulateSteps: number;
  /** Save a checkpoint every N optimizer steps (and at every epoch end). */
  saveSteps?: number;
  /** Checkpoints kept (the oldest are deleted); the best by val_accuracy is kept besides. */
  saveTotalLimit: number;
  /** Where checkpoint-<step>/ directories go (default `<out>/checkpoints`). */
  checkpointDir?: string;
  /**
   * Resume from a checkpoint: `true` (the newest intact one in checkpointDir), a checkpoint-<step> directory or a
   * directory of them. Nothing to resume from, or a checkpoint of a run with other options, is a BAD_OPTION.
   */
  resume?: boolean | string;
}

export const FINETUNE_DEFAULTS: Omit<FineTuneClassifierOptions, 'data'> = {
  ...TRAIN_DEFAULTS,
  features: 'auto',
  baseline: false,
  epochs: 5,
  // Pre-trained weights move little: Adam at 1e-4 (1e-5 after LP-FT's probe) keeps the features they learnt.
  lr: 1e-4,
  strategy: 'lp-ft',
  unfreeze: 'last:3',
  bnMode: 'frozen',
  augment: false,
  freezeEpochs: 1,
  ftLrDivisor: 10,
  accumulateSteps: 1,
  saveTotalLimit: 3,
};

export function resolveFineTuneOptions(
  options: Partial<FineTuneClassifierOptions> & Pick<FineTuneClassifierOptions, 'data'>,
): FineTuneClassifierOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...FINETUNE_DEFAULTS, ...defined } as FineTuneClassifierOptions;
  if (o.strategy === 'scratch' && options.bnMode === undefined) o.bnMode = 'train';
  validateTrainingValues(o);
  if (!(Number.isInteger(o.freezeEpochs) && o.freezeEpochs >= 0))
    throw new GraftError(
      'BAD_OPTION',
      `--freeze-epochs (freezeEpochs) must be an integer ≥ 0, got ${o.freezeEpochs}`,
    );
  if (!(o.ftLrDivisor > 0))
    throw new GraftError('BAD_OPTION', `ftLrDivisor must be > 0, got ${o.ftLrDivisor}`);
  if (!(Number.isInteger(o.accumulateSteps) && o.accumulateSteps >= 1))
    throw new GraftError(
      'BAD_OPTION',
      `--accumulate-steps (accumulateSteps) must be an integer ≥ 1, got ${o.accumulateSteps}`,
    );
  if (o.augmentViews > 0 || o.viewAugment)
    throw new GraftError(
      'BAD_OPTION',
      `augmented feature views (--augment-views) serve heads fitted on cached features; fine-tuning (--strategy ${o.strategy}) augments its images with --augment`,
    );
  return o;
}
