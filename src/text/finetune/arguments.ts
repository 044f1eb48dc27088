/**
 * TextTrainingArguments: Hugging Face TrainingArguments' names (camelCased) and meanings, with HF's defaults,
 * merged and checked in one place, and mapped onto graft's Trainer (AdamW without decay on biases and
 * LayerNorm weights, linear warmup + linear decay to 0, global-norm clipping).
 */
import { SPLIT_DEFAULTS } from '../../data/split.js';
import { GraftError } from '../../errors.js';
import type { FitOptions } from '../../train/options.js';

export type IntervalStrategy = 'no' | 'steps' | 'epoch';

export interface TextTrainingArguments {
  /** Where the exported model goes, and its checkpoints (checkpoints/checkpoint-<step>/). */
  outputDir: string;
  numTrainEpochs: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  learningRate: number;
  /** Fraction of the total steps used for linear warmup (ignored when warmupSteps > 0). */
  warmupRatio: number;
  warmupSteps: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  /** Gradient clipping by global norm; 0 disables. */
  maxGradNorm: number;
  gradientAccumulationSteps: number;
  evaluationStrategy: IntervalStrategy;
  /** Default: loggingSteps. */
  evalSteps?: number;
  loggingSteps: number;
  saveStrategy: IntervalStrategy;
  saveSteps: number;
  /** Keep at most this many checkpoints (the best one is never deleted); undefined keeps all. */
  saveTotalLimit?: number;
  loadBestModelAtEnd: boolean;
  /** 'loss', 'accuracy', 'f1' (macro) or 'balanced_accuracy', with or without the 'eval_' prefix. */
  metricForBestModel?: string;
  /** Default: false for metrics ending in 'loss', else true. */
  greaterIsBetter?: boolean;
  seed: number;
  /** Tokens per text, special tokens included (longer texts are truncated). */
  maxSeqLength: number;
  /**
   * Continue from a checkpoint: `true` for the newest intact one in outputDir/checkpoints, a checkpoint-<step>
   * directory, or a directory of them. Nothing to resume from is a BAD_OPTION.
   */
  resumeFromCheckpoint?: string | boolean;
}

/**
 * Hugging Face's defaults (transformers 4.x), except maxSeqLength, which HF leaves to the tokenizer, and the seed,
 * which is graft's one default for every modality (data/split.ts) rather than HF's 42.
 */
export const TEXT_TRAINING_DEFAULTS: Omit<TextTrainingArguments, 'outputDir'> = {
  numTrainEpochs: 3,
  perDeviceTrainBatchSize: 8,
  perDeviceEvalBatchSize: 8,
  learningRate: 5e-5,
  warmupRatio: 0,
  warmupSteps: 0,
  weightDecay: 0,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  maxGradNorm: 1,
  gradientAccumulationSteps: 1,
  evaluationStrategy: 'no',
  loggingSteps: 500,
  saveStrategy: 'steps',
  saveSteps: 500,
  loadBestModelAtEnd: false,
  seed: SPLIT_DEFAULTS.seed,
  maxSeqLength: 128,
};

export interface ResolvedTextTrainingArguments extends TextTrainingArguments {
  evalSteps: number;
  metricForBestModel: string;
  greaterIsBetter: boolean;
}

const positiveInt = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1)
    throw new GraftError('BAD_OPTION', `${name} must be a positive integer, got ${v}`, { [name]: v });
};

export function resolveTextTrainingArguments(
  args: Partial<TextTrainingArguments> & Pick<TextTrainingArguments, 'outputDir'>,
): ResolvedTextTrainingArguments {
  const defined = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  const a = { ...TEXT_TRAINING_DEFAULTS, ...defined } as TextTrainingArguments;
  if (typeof a.outputDir !== 'string' || a.outputDir === '')
    throw new GraftError('BAD_OPTION', 'outputDir is required');
  positiveInt('numTrainEpochs', a.numTrainEpochs);
  positiveInt('perDeviceTrainBatchSize', a.perDeviceTrainBatchSize);
  positiveInt('perDeviceEvalBatchSize', a.perDeviceEvalBatchSize);
  positiveInt('gradientAccumulationSteps', a.gradientAccumulationSteps);
  positiveInt('loggingSteps', a.loggingSteps);
  positiveInt('saveSteps', a.saveSteps);
  positiveInt('maxSeqLength', a.maxSeqLength);
  if (a.maxSeqLength < 3)
    throw new GraftError('BAD_OPTION', `maxSeqLength must be ≥ 3, got ${a.maxSeqLength}`);
  if (a.saveTotalLimit !== undefined) positiveInt('saveTotalLimit', a.saveTotalLimit);
  if (!(a.learningRate > 0))
    throw new GraftError('BAD_OPTION', `learningRate must be > 0, got ${a.learningRate}`);
  if (!(a.warmupRatio >= 0 && a.warmupRatio < 1))
    throw new GraftError('BAD_OPTION', `warmupRatio must be in [0, 1), got ${a.warmupRatio}`);
  if (!(Number.isInteger(a.warmupSteps) && a.warmupSteps >= 0))
    throw new GraftError('BAD_OPTION', `warmupSteps must be an integer ≥ 0, got ${a.warmupSteps}`);
  if (!(a.weightDecay >= 0))
    throw new GraftError('BAD_OPTION', `weightDecay must be ≥ 0, got ${a.weightDecay}`);
  for (const [k, v] of [
    ['evaluationStrategy', a.evaluationStrategy],
    ['saveStrategy', a.saveStrategy],
  ] as const)
    if (!['no', 'steps', 'epoch'].includes(v))
      throw new GraftError('BAD_OPTION', `${k} must be 'no', 'steps' or 'epoch', got '${v}'`);
  // Settings another setting overrides are refused rather than dropped.
  if (args.evalSteps !== undefined && a.evaluationStrategy !== 'steps')
    throw new GraftError(
      'BAD_OPTION',
      `evalSteps (--eval-steps) schedules evaluation every N steps, and evaluationStrategy is '${a.evaluationStrategy}': set evaluationStrategy 'steps' (--eval-strategy steps) or drop evalSteps`,
    );
  if (args.warmupRatio !== undefined && args.warmupRatio > 0 && a.warmupSteps > 0)
    throw new GraftError(
      'BAD_OPTION',
      'warmupSteps (--warmup-steps) overrides warmupRatio (--warmup-ratio): give one of them',
    );
  const evalSteps = a.evalSteps ?? a.loggingSteps;
  positiveInt('evalSteps', evalSteps);
  const metric = a.metricForBestModel ?? 'loss';
  const greater = a.greaterIsBetter ?? !metric.endsWith('loss');
  if (a.loadBestModelAtEnd) {
    if (a.evaluationStrategy === 'no' || a.evaluationStrategy !== a.saveStrategy)
      throw new GraftError(
        'BAD_OPTION',
        `loadBestModelAtEnd needs evaluationStrategy and saveStrategy to match (got '${a.evaluationStrategy}' and '${a.saveStrategy}')`,
      );
    if (a.evaluationStrategy === 'steps' && a.saveSteps % evalSteps !== 0)
      throw new GraftError(
        'BAD_OPTION',
        `loadBestModelAtEnd needs saveSteps (${a.saveSteps}) to be a multiple of evalSteps (${evalSteps})`,
      );
  }
  return {
    ...a,
    evalSteps,
    metricForBestModel: metric.startsWith('eval_') ? metric : `eval_${metric}`,
    greaterIsBetter: greater,
  };
}

/** Steps warmup lasts: warmupSteps when > 0, else ceil(warmupRatio × total) (HF's get_warmup_steps). */
export function warmupStepsFor(a: TextTrainingArguments, totalSteps: number): number {
  return a.warmupSteps > 0 ? a.warmupSteps : Math.ceil(a.warmupRatio * totalSteps);
}

/** The graft Trainer options these arguments mean (callbacks and data added by the caller). */
export function fitOptionsFor(
  a: ResolvedTextTrainingArguments,
  noDecay: readonly string[],
  totalSteps: number,
): Partial<FitOptions> {
  const warmup = Math.min(warmupStepsFor(a, totalSteps), totalSteps - 1);
  return {
    epochs: a.numTrainEpochs,
    batchSize: a.perDeviceTrainBatchSize,
    accumulateSteps: a.gradientAccumulationSteps,
    optimizer: {
      kind: 'adamw',
      lr: a.learningRate,
      weightDecay: a.weightDecay,
      betas: [a.adamBeta1, a.adamBeta2],
      eps: a.adamEpsilon,
      groups: noDecay.length ? [{ params: [...noDecay], weightDecay: 0 }] : [],
    },
    schedule: { kind: 'linear', warmupSteps: warmup },
    ...(a.maxGradNorm > 0 ? { clipGradNorm: a.maxGradNorm } : {}),
    shuffle: true,
    seed: a.seed,
  };
}
