/**
 * Stratified k-fold cross-validation of a head on the training examples only: what every choice graft makes
 * (where to cut, which head, whether to transfer at all) is scored with, so no choice sees held-out data.
 */
import { deriveSeed, mulberry32, shuffled } from '../data/random.js';
import { GraftError } from '../errors.js';
import { accuracy } from '../eval/metrics.js';
import { selectRows, type FeatureMatrix } from '../features/matrix.js';
import { withViews, type MatrixViews } from '../features/view-matrix.js';
import { fitHead, type HeadOptions } from '../heads/fitted.js';

/** Stratified fold assignment: each class's examples are dealt round-robin over the folds after a shuffle. */
export function stratifiedFolds(labels: Int32Array, k: number, seed: number): number[] {
  const fold = new Array<number>(labels.length).fill(0);
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const rows = byClass.get(y);
    if (rows) rows.push(i);
    else byClass.set(y, [i]);
  });
  for (const [y, rows] of byClass) {
    shuffled(rows, mulberry32(deriveSeed(seed, 'fold', y))).forEach((r, j) => (fold[r] = j % k));
  }
  return fold;
}

/**
 * A stratified subsample of at most about `max` rows (each class in proportion, at least 2 of each), in row
 * order: what the search scores candidates on when the training split is large. All rows when it is small.
 */
export function searchRows(labels: Int32Array, max: number, seed: number): number[] {
  if (labels.length <= max) return [...labels.keys()];
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const rows = byClass.get(y);
    if (rows) rows.push(i);
    else byClass.set(y, [i]);
  });
  const keep: number[] = [];
  for (const [y, rows] of byClass) {
    const n = Math.min(rows.length, Math.max(2, Math.round((rows.length * max) / labels.length)));
    keep.push(...shuffled(rows, mulberry32(deriveSeed(seed, 'search', y))).slice(0, n));
  }
  return keep.sort((a, b) => a - b);
}

/** The number of folds the smallest class allows (at most `max`, at least 2). */
export function foldCount(labels: Int32Array, max = 5): number {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  const smallest = Math.min(...counts.values());
  if (smallest < 2) {
    throw new GraftError(
      'BAD_INPUT',
      'choosing features by cross-validation needs at least 2 examples per class',
    );
  }
  return Math.min(max, smallest);
}

/**
 * Mean held-out fold accuracy. With `views`, each fold's head also fits on the augmented views of its own
 * training images (folds are dealt over images, so a view never lands in the fold that scores its image); the
 * scored rows are never augmented.
 */
export async function crossValidate(
  data: FeatureMatrix,
  numClasses: number,
  options: HeadOptions,
  k: number,
  views?: MatrixViews,
): Promise<number> {
  const fold = stratifiedFolds(data.labels, k, options.seed);
  const rows = (f: number, inFold: boolean) => [...fold.keys()].filter((i) => (fold[i] === f) === inFold);
  let total = 0;
  for (let f = 0; f < k; f++) {
    const held = selectRows(data, rows(f, true));
    // A fresh head per fold: standardisation statistics must come from the fold's own training rows.
    const head = await fitHead(withViews(data, views, rows(f, false)), numClasses, {
      ...options,
      seed: deriveSeed(options.seed, 'cv', f),
    });
    try {
      total += accuracy(await head.predictProbs(held), held.labels);
    } finally {
      await head.release();
    }
  }
  return total / k;
}
