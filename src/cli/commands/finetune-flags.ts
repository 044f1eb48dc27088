/** The fine-tuning flags of `graft train` (used when --strategy is fine-tune, lp-ft or scratch). */
import type { Command } from 'commander';
import { GraftError } from '../../errors.js';
import type { FineTuneClassifierOptions } from '../../pipeline/finetune-options.js';
import { choice, number } from '../parse.js';

export interface FineTuneFlags {
  strategy?: string;
  unfreeze?: string;
  bnMode?: string;
  layerwiseLrDecay?: string;
  augment?: boolean;
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
      "what trains when fine-tuning: 'all', 'last:N' blocks, or a tensor name (default last:3)",
    )
    .option(
      '--bn-mode <mode>',
      'frozen (running statistics) | train (batch statistics, running stats updated)',
    )
    .option('--layerwise-lr-decay <d>', 'discriminative learning rates: each earlier block gets lr × d')
    .option(
      '--augment',
      'random resized crop, flip and colour jitter on training images (bypasses the activation cache)',
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

/**
 * Checkpoint flags on a run that trains a head on cached features (no fine-tuning): refused, since such a run
 * writes no checkpoints.
 */
export function refuseCheckpointFlags(f: FineTuneFlags): void {
  const given = (
    [
      ['--resume', f.resume],
      ['--save-steps', f.saveSteps],
      ['--save-total-limit', f.saveTotalLimit],
    ] as const
  ).filter(([, v]) => v !== undefined && v !== false);
  if (given.length)
    throw new GraftError(
      'BAD_OPTION',
      `${given.map(([flag]) => flag).join(', ')}: a head on cached features writes no checkpoints (it trains in seconds); use --strategy fine-tune, lp-ft or scratch to checkpoint and resume`,
    );
}

export function fineTuneOptions(f: FineTuneFlags): Partial<FineTuneClassifierOptions> {
  return {
    // `auto` is the default search over cached features (pipeline/train.ts), not a fine-tuning recipe.
    strategy: ((s) => (s === 'auto' ? undefined : s))(choice('strategy', f.strategy, STRATEGIES)),
    unfreeze: f.unfreeze,
    bnMode: choice('bn-mode', f.bnMode, ['frozen', 'train'] as const),
    layerwiseLrDecay: number('layerwise-lr-decay', f.layerwiseLrDecay, { min: 0 }),
    augment: f.augment,
    freezeEpochs: number('freeze-epochs', f.freezeEpochs, { integer: true, min: 0 }),
    clipGradNorm: number('clip-grad-norm', f.clipGradNorm, { min: 0 }),
    accumulateSteps: number('accumulate-steps', f.accumulateSteps, { integer: true, min: 1 }),
    saveSteps: number('save-steps', f.saveSteps, { integer: true, min: 1 }),
    saveTotalLimit: number('save-total-limit', f.saveTotalLimit, { integer: true, min: 1 }),
    resume: f.resume,
  };
}
