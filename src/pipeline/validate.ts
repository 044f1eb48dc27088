/**
 * Option values checked where the defaults are merged (pipeline/options.ts, finetune-options.ts, train-text.ts):
 * a value that cannot work is refused with BAD_OPTION before any data is read or any session is made, for every
 * modality and recipe alike. Messages name the flag and the library option.
 */
import { resolveAugment } from '../augment/image.js';
import { GraftError } from '../errors.js';
import type { TrainClassifierOptions } from './options.js';

/** The training values every path has (text spells some of them through its Hugging Face-style arguments). */
export interface TrainingValues {
  dropout?: number;
  lr?: number;
  epochs?: number;
  batchSize?: number;
  valSplit?: number;
  testSplit?: number;
  seed?: number;
  k?: number;
  hidden?: readonly number[];
  weightDecay?: number;
  labelSmoothing?: number;
  patience?: number;
  shots?: number;
  budget?: number;
}

const bad = (flag: string, option: string, rule: string, got: unknown): GraftError =>
  new GraftError('BAD_OPTION', `--${flag} (${option}) must be ${rule}, got ${String(got)}`, {
    option,
  });

function positiveInteger(flag: string, option: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw bad(flag, option, 'an integer ≥ 1', v);
}

function fraction(flag: string, option: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && v < 1)) throw bad(flag, option, 'a fraction in [0, 1)', v);
}

/** Throws BAD_OPTION for the first value out of range; undefined values are not checked. */
export function validateTrainingValues(o: TrainingValues): void {
  if (o.dropout !== undefined && !(o.dropout >= 0 && o.dropout < 1))
    throw bad('dropout', 'dropout', 'in [0, 1)', o.dropout);
  if (o.lr !== undefined && !(o.lr > 0 && Number.isFinite(o.lr))) throw bad('lr', 'lr', 'a number > 0', o.lr);
  positiveInteger('epochs', 'epochs', o.epochs);
  positiveInteger('batch-size', 'batchSize', o.batchSize);
  positiveInteger('k', 'k', o.k);
  positiveInteger('shots', 'shots', o.shots);
  fraction('val-split', 'valSplit', o.valSplit);
  fraction('test-split', 'testSplit', o.testSplit);
  fraction('label-smoothing', 'labelSmoothing', o.labelSmoothing);
  if ((o.valSplit ?? 0) + (o.testSplit ?? 0) >= 1)
    throw new GraftError(
      'BAD_OPTION',
      `--val-split + --test-split must be below 1 (training needs examples), got ${o.valSplit} + ${o.testSplit}`,
      { option: 'valSplit' },
    );
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw bad('seed', 'seed', 'an integer', o.seed);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0))
    throw bad('weight-decay', 'weightDecay', '≥ 0', o.weightDecay);
  if (o.patience !== undefined && !(Number.isInteger(o.patience) && o.patience >= 0))
    throw bad('patience', 'patience', 'an integer ≥ 0', o.patience);
  if (o.budget !== undefined && !(o.budget > 0)) throw bad('budget', 'budget', 'a duration > 0', o.budget);
  if (o.hidden !== undefined && !o.hidden.every((h) => Number.isInteger(h) && h >= 1))
    throw bad('hidden', 'hidden', 'a list of integers ≥ 1', o.hidden.join(','));
}

/** Feature-level augmentation settings that cannot work, refused with what to use instead. */
export function validateViewOptions(
  o: Pick<TrainClassifierOptions, 'augmentViews' | 'augmentViewUse' | 'viewAugment'>,
): void {
  if (!(Number.isInteger(o.augmentViews) && o.augmentViews >= 0 && o.augmentViews <= 64))
    throw new GraftError(
      'BAD_OPTION',
      `--augment-views is a whole number of views from 0 to 64, got ${o.augmentViews}`,
    );
  if (o.augmentViewUse !== 'rows' && o.augmentViewUse !== 'mean')
    throw new GraftError(
      'BAD_OPTION',
      `--augment-view-use is rows or mean, got '${String(o.augmentViewUse)}'`,
    );
  if (o.viewAugment && o.augmentViews === 0)
    throw new GraftError(
      'BAD_OPTION',
      'augmentation settings for views were given without views: set augmentViews (--augment-views K)',
    );
  if (o.viewAugment) resolveAugment(o.viewAugment);
}

/**
 * `kGiven`: the caller chose k (rather than the default 5, which k-NN lowers to the data's size by itself); a
 * chosen k larger than the training split is refused whether k-NN is fixed or only a candidate of the search.
 */
export function validateHeadOptions(
  o: Pick<TrainClassifierOptions, 'head' | 'k'>,
  trainExamples: number,
  kGiven = o.head === 'knn',
): void {
  if (kGiven && (o.head === 'knn' || o.head === 'auto') && o.k > trainExamples)
    throw new GraftError(
      'BAD_OPTION',
      `--k ${o.k} is more neighbours than the ${trainExamples} training examples: use --k ${Math.max(1, Math.min(5, trainExamples))} or more data`,
    );
}
