/** The fine-tuning flags of `graft train` (used when --strategy is fine-tune, lp-ft or scratch). */
import type { Command } from 'commander';
import { GraftError } from '../../errors.js';
import type { FineTuneClassifierOptions } from '../../pipeline/finetune-options.js';
import type { TrainClassifierOptions } from '../../pipeline/options.js';
import { choice, number } from '../parse.js';

export interface FineTuneFlags {
  strategy?: string;
  unfreeze?: string;
  bnMode?: string;
  layerwiseLrDecay?: string;
  augment?: boolean;
  augmentViews?: string;
  augmentViewUse?: string;
  augmentFlip?: boolean;
  freezeEpochs?: string;
  clipGradNorm?: string;
  accumulateSteps?: string;
  saveSteps?: string;
  saveTotalLimit?: string;
  resume?: string | boolean;
}

export const STRATEGIES = ['auto', 'linear-probe', 'fine-tune', 'lp-ft', 'scratch'] as const;

export function addFineTuneFlags(cmd: Command): Command {
  return cmd
    .option(
      '--strategy <name>',
      'auto (default: features and head chosen by cross-validation) | linear-probe | fine-tune | lp-ft | scratch',
    )
    .option(
      '--unfreeze <spec>',
      "what trains when fine-tuning: 'all', 'last:N' blocks (text: layers), or an image model's tensor name (default images last:3, text all)",
    )
    .option(
      '--bn-mode <mode>',
      'frozen (running statistics) | train (batch statistics, running stats updated)',
    )
    .option('--layerwise-lr-decay <d>', 'discriminative learning rates: each earlier block gets lr × d')
    .option(
      '--augment',
      'fine-tuning: random crops keeping half the image or more, colour jitter on colour images only (bypasses the activation cache)',
    )
    .option(
      '--augment-views <k>',
      'feature extraction: fit the head also on k augmented views of each training image (cached; default 0)',
    )
    .option('--augment-view-use <how>', 'rows (extra training rows, default) | mean (averaged per image)')
    .option(
      '--augment-flip',
      'also flip images horizontally (half of them); only for data whose labels survive a mirror',
    )
    .option('--freeze-epochs <n>', 'LP-FT: head-only epochs before unfreezing')
    .option('--clip-grad-norm <n>', 'clip gradients to this global norm')
    .option('--accumulate-steps <n>', 'gradient accumulation steps')
    .option('--save-steps <n>', 'save a checkpoint every N optimizer steps (and at epoch ends)')
    .option('--save-total-limit <k>', 'keep only the newest K checkpoints (the best one is kept besides)')
    .option(
      '--resume [dir]',
      'resume from the newest intact <out>/checkpoints/checkpoint-<step>, or from [dir] (one checkpoint or a directory of them)',
    );
}

export function fineTuneOptions(f: FineTuneFlags): Partial<FineTuneClassifierOptions> {
  return {
    // `auto` is the default search over cached features (pipeline/train.ts), not a fine-tuning recipe.
    strategy: ((s) => (s === 'auto' ? undefined : s))(choice('strategy', f.strategy, STRATEGIES)),
    unfreeze: f.unfreeze,
    bnMode: choice('bn-mode', f.bnMode, ['frozen', 'train'] as const),
    layerwiseLrDecay: number('layerwise-lr-decay', f.layerwiseLrDecay, { min: 0 }),
    augment: f.augmentFlip && f.augment ? { flip: 0.5 } : f.augment,
    freezeEpochs: number('freeze-epochs', f.freezeEpochs, { integer: true, min: 0 }),
    clipGradNorm: number('clip-grad-norm', f.clipGradNorm, { min: 0 }),
    accumulateSteps: number('accumulate-steps', f.accumulateSteps, { integer: true, min: 1 }),
    saveSteps: number('save-steps', f.saveSteps, { integer: true, min: 1 }),
    saveTotalLimit: number('save-total-limit', f.saveTotalLimit, { integer: true, min: 1 }),
    resume: f.resume,
  };
}

/**
 * The feature-extraction augmentation flags (`--augment-views`). Which runs take them at all is decided with every
 * other flag (pipeline/option-scope.ts); here the flags that need one another are checked.
 */
export function viewOptions(
  f: FineTuneFlags,
): Partial<Pick<TrainClassifierOptions, 'augmentViews' | 'augmentViewUse' | 'viewAugment'>> {
  const views = number('augment-views', f.augmentViews, { integer: true, min: 0 });
  if (f.augmentViewUse !== undefined && !views)
    throw new GraftError('BAD_OPTION', '--augment-view-use needs --augment-views K (K >= 1)');
  if (f.augmentFlip && !f.augment && !views)
    throw new GraftError('BAD_OPTION', '--augment-flip needs --augment (fine-tuning) or --augment-views K');
  return {
    augmentViews: views,
    augmentViewUse: choice('augment-view-use', f.augmentViewUse, ['rows', 'mean'] as const),
    viewAugment: f.augmentFlip && views ? { flip: 0.5 } : undefined,
  };
}
