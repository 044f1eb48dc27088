/**
 * Stratified train/validation/test splits and k-shot sampling, deterministic for a seed.
 * Every function keeps `labels` unchanged and examples in the dataset's own order within each part,
 * so results are stable and comparable across runs; shuffle per epoch in the trainer.
 */
import { GraftError } from '../errors.js';
import { contentKey, duplicateGroups } from './duplicates.js';
import { deriveSeed, mulberry32, shuffled } from './random.js';
import type { Dataset, DataWarning } from './types.js';
import { WarningCollector, mergeWarnings } from './warnings.js';

/**
 * The split every training path (image and text, feature extraction and fine-tuning, `rank`) uses unless told
 * otherwise: 10% of each class for validation (early stopping, LP-FT's probe guard, best-checkpoint choice) and
 * a separate 10% for the test the result is reported on, so selection never sees the examples that score it.
 */
export const SPLIT_DEFAULTS = { validation: 0.1, test: 0.1, seed: 0 } as const;

export interface SplitOptions {
  /** Fraction of each class for validation. Default 0.1. */
  readonly validation?: number;
  /** Fraction of each class for test. Default 0.1 (0 for no test part). */
  readonly test?: number;
  /** Default 0. */
  readonly seed?: number;
}

export interface DatasetSplit<D extends Dataset> {
  readonly train: D;
  readonly validation: D;
  readonly test: D;
  /** Problems met while splitting (e.g. SINGLETON_CLASS); also appended to `train.warnings`. */
  readonly warnings: readonly DataWarning[];
}

/** Example indices grouped by label, in dataset order. */
export function indicesByClass(ds: Dataset): number[][] {
  const groups: number[][] = ds.labels.map(() => []);
  ds.examples.forEach((e, i) => groups[e.label]?.push(i));
  return groups;
}

/** Number of examples per label. */
export function classCounts(ds: Dataset): number[] {
  return indicesByClass(ds).map((g) => g.length);
}

/** A dataset with only the examples at `indices` (kept in dataset order), same labels. */
export function subset<D extends Dataset>(
  ds: D,
  indices: Iterable<number>,
  warnings: readonly DataWarning[] = ds.warnings,
): D {
  const keep = [...new Set(indices)].sort((a, b) => a - b);
  return { ...ds, examples: keep.map((i) => ds.examples[i]!), warnings } as D;
}

function checkFraction(name: string, v: number): void {
  if (!(v >= 0 && v < 1))
    throw new GraftError('BAD_OPTION', `${name} must be a fraction in [0, 1), got ${v}`);
}

/** Indices grouped into units of identical content (see duplicates.ts), in order of first appearance. */
function unitsOf(ds: Dataset, indices: readonly number[]): number[][] {
  const byKey = new Map<string, number[]>();
  const units: number[][] = [];
  for (const i of indices) {
    const key = contentKey(ds, ds.examples[i]!);
    const unit = key === undefined ? undefined : byKey.get(key);
    if (unit) unit.push(i);
    else {
      const fresh = [i];
      units.push(fresh);
      if (key !== undefined) byKey.set(key, fresh);
    }
  }
  return units;
}

/**
 * Splits each class separately: of n examples, round(n * test) go to test and round(n * validation) to
 * validation, but train always keeps at least one (test gives way first, then validation). A class with a
 * single example goes to train with a SINGLETON_CLASS warning. Identical copies stay together in one part, and
 * copies under different labels all stay in train, so no copy of a training example is evaluated on. When no
 * example at all is held out (classes of 4 or fewer, or both fractions 0) a NO_HELD_OUT warning says so.
 */
export function stratifiedSplit<D extends Dataset>(ds: D, options: SplitOptions = {}): DatasetSplit<D> {
  const val = options.validation ?? SPLIT_DEFAULTS.validation;
  const test = options.test ?? SPLIT_DEFAULTS.test;
  const seed = options.seed ?? SPLIT_DEFAULTS.seed;
  checkFraction('validation', val);
  checkFraction('test', test);
  if (val + test >= 1)
    throw new GraftError('BAD_OPTION', `validation + test must be below 1, got ${val + test}`);
  const warn = new WarningCollector('skip');
  const parts: [number[], number[], number[]] = [[], [], []];
  const conflicted = new Set<number>();
  for (const g of duplicateGroups(ds))
    if (new Set(g.map((i) => ds.examples[i]!.label)).size > 1) for (const i of g) conflicted.add(i);
  indicesByClass(ds).forEach((group, c) => {
    const n = group.length;
    if (n === 0) return;
    if (n === 1) warn.note('SINGLETON_CLASS', ds.labels[c]!);
    const units = unitsOf(
      ds,
      group.filter((i) => !conflicted.has(i)),
    );
    const order = shuffled(units, mulberry32(deriveSeed(seed, 'split', ds.labels[c]!)));
    let nTest = Math.round(n * test);
    let nVal = Math.round(n * val);
    while (nTest + nVal > n - 1 && nTest > 0) nTest--;
    while (nTest + nVal > n - 1 && nVal > 0) nVal--;
    let inTest = 0;
    let inVal = 0;
    for (const unit of order) {
      if (inTest + unit.length <= nTest) {
        parts[2].push(...unit);
        inTest += unit.length;
      } else if (inVal + unit.length <= nVal) {
        parts[1].push(...unit);
        inVal += unit.length;
      } else parts[0].push(...unit);
    }
    parts[0].push(...group.filter((i) => conflicted.has(i)));
  });
  if (parts[1].length === 0 && parts[2].length === 0 && ds.examples.length > 0) {
    const why = val + test === 0 ? 'validation and test fractions are 0' : 'too few examples per class';
    for (const label of ds.labels) warn.note('NO_HELD_OUT', `${label} (${why})`);
  }
  const warnings = warn.toArray();
  return {
    train: subset(ds, parts[0], mergeWarnings(ds.warnings, warnings)),
    validation: subset(ds, parts[1], []),
    test: subset(ds, parts[2], []),
    warnings,
  };
}

export interface ShotOptions {
  /**
   * What to do when a class has fewer than k examples: 'error' (default) throws GraftError('BAD_OPTION')
   * naming the class; 'all' takes every example of that class and adds a TOO_FEW_SHOTS warning.
   */
  readonly onTooFew?: 'error' | 'all';
}

/**
 * k examples per class, chosen by a seeded shuffle of each class. For one seed, the shots for k are a subset of
 * the shots for any larger k, so k-shot curves are nested. Labels (and their order) are unchanged.
 */
export function sampleShots<D extends Dataset>(ds: D, k: number, seed = 0, options: ShotOptions = {}): D {
  if (!(Number.isInteger(k) && k > 0))
    throw new GraftError('BAD_OPTION', `shots must be a positive integer, got ${k}`);
  const warn = new WarningCollector('skip');
  const keep: number[] = [];
  indicesByClass(ds).forEach((group, c) => {
    if (group.length < k) {
      if (options.onTooFew !== 'all') {
        throw new GraftError(
          'BAD_OPTION',
          `class '${ds.labels[c]}' has ${group.length} example(s), fewer than ${k} shots ` +
            `(ask for fewer shots, or allow taking all with onTooFew: 'all')`,
          { label: ds.labels[c], available: group.length, shots: k },
        );
      }
      warn.note('TOO_FEW_SHOTS', `${ds.labels[c]} (${group.length} < ${k})`);
    }
    keep.push(...shuffled(group, mulberry32(deriveSeed(seed, 'shots', ds.labels[c]!))).slice(0, k));
  });
  return subset(ds, keep, mergeWarnings(ds.warnings, warn.toArray()));
}
