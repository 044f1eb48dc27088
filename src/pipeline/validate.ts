/** Option checks that need the data: values that cannot work are refused before any work is done. */
import { resolveAugment } from '../augment/image.js';
import { GraftError } from '../errors.js';
import type { TrainClassifierOptions } from './options.js';

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
  o: Pick<TrainClassifierOptions, 'head' | 'k' | 'dropout'>,
  trainExamples: number,
  kGiven = o.head === 'knn',
): void {
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw new GraftError('BAD_OPTION', `--dropout must be in [0, 1), got ${o.dropout}`);
  if (kGiven && (o.head === 'knn' || o.head === 'auto') && o.k > trainExamples)
    throw new GraftError(
      'BAD_OPTION',
      `--k ${o.k} is more neighbours than the ${trainExamples} training examples: use --k ${Math.max(1, Math.min(5, trainExamples))} or more data`,
    );
}
